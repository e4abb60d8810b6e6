package device

import (
	"hash/fnv"
	"math/rand/v2"
	"time"
)

// Faults make a simulated device misbehave, deterministically for a seed.
type Faults struct {
	// DropRate is the fraction of received blocks (HTTP: range requests)
	// the device loses, so that it must ask again.
	DropRate float64
	// CorruptRate is the chance that a download gets one corrupted block:
	// the signature check then fails and the execution is FAILED.
	CorruptRate float64
	// FailFirst makes the first N executions the device gets fail their
	// self-test (FAILED), as a bad image would.
	FailFirst int
	// RejectSignature fails every signature check.
	RejectSignature bool
	// OfflineRate is the chance that a download loses its connection once,
	// part way, for OfflineFor; the device reconnects and resumes.
	OfflineRate float64
	OfflineFor  time.Duration
	// Slow is a delay per block received.
	Slow time.Duration
	// Seed makes the choices repeatable; the thing name is mixed in so that
	// devices of one fleet differ.
	Seed int64
}

// Active reports whether any fault is set.
func (f Faults) Active() bool {
	return f.DropRate > 0 || f.CorruptRate > 0 || f.FailFirst > 0 || f.RejectSignature ||
		f.OfflineRate > 0 || f.Slow > 0
}

// dice is a device's random source for its faults.
type dice struct{ r *rand.Rand }

func newDice(seed int64, thing string) *dice {
	h := fnv.New64a()
	h.Write([]byte(thing))
	return &dice{r: rand.New(rand.NewPCG(uint64(seed), h.Sum64()))}
}

// chance reports true with probability p.
func (d *dice) chance(p float64) bool { return p > 0 && d.r.Float64() < p }

// pick is a uniform integer in [0, n).
func (d *dice) pick(n int) int {
	if n <= 1 {
		return 0
	}
	return d.r.IntN(n)
}

// downloadFaults are the faults drawn for one download.
type downloadFaults struct {
	corruptBlock int // -1: none
	offlineAt    int // after this many new blocks; -1: never
}

func (d *dice) forDownload(f Faults, nblocks int) downloadFaults {
	df := downloadFaults{corruptBlock: -1, offlineAt: -1}
	if d.chance(f.CorruptRate) {
		df.corruptBlock = d.pick(nblocks)
	}
	if d.chance(f.OfflineRate) && nblocks > 1 {
		df.offlineAt = 1 + d.pick(nblocks-1)
	}
	return df
}
