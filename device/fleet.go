package device

import (
	"context"
	"crypto/tls"
	"fmt"
	"math"
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

// Fleet runs many agents at once, each on its own MQTT connection.
type Fleet struct {
	// Things are the devices' thing names.
	Things []string
	// Base is every device's configuration; ThingName is set per device.
	Base Config
	// TLSFor, when set, gives each device its TLS configuration (its own
	// client certificate); otherwise Base.TLS is used.
	TLSFor func(thing string) (*tls.Config, error)
	// FaultsFor, when set, gives each device its faults; otherwise Base.Faults.
	FaultsFor func(thing string) Faults
	// ConnectRate bounds how many devices start per second (0: all at once),
	// so that a large fleet does not storm the broker's accept queue.
	ConnectRate int
	// Progress is called about every ProgressEvery (default 250ms) and once at the end.
	Progress      func(Progress)
	ProgressEvery time.Duration
}

// Progress is a live view of a fleet run.
type Progress struct {
	Devices   int           `json:"devices"`
	Done      int           `json:"done"`
	Succeeded int           `json:"succeeded"`
	Failed    int           `json:"failed"`
	Bytes     int64         `json:"bytes"`
	Elapsed   time.Duration `json:"elapsedNs"`
}

// MBps is the payload rate so far in MB/s (10^6 bytes).
func (p Progress) MBps() float64 { return mbps(p.Bytes, p.Elapsed) }

func mbps(bytes int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(bytes) / 1e6 / d.Seconds()
}

// Report is a finished fleet run.
type Report struct {
	Devices []*Result `json:"devices"`
	Stats   Stats     `json:"stats"`
}

// Stats summarise a fleet run.
type Stats struct {
	Devices   int `json:"devices"`
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"` // every device that did not end SUCCEEDED
	// Retried is how many devices worked on more than one execution of a job.
	Retried    int            `json:"retried"`
	Executions int            `json:"executions"`
	Rerequests int            `json:"rerequests"`
	Reconnects int            `json:"reconnects"`
	Bytes      int64          `json:"bytes"`
	Elapsed    time.Duration  `json:"elapsedNs"`
	MBps       float64        `json:"mbps"`
	P50        time.Duration  `json:"p50Ns"`
	P99        time.Duration  `json:"p99Ns"`
	ByStatus   map[string]int `json:"byStatus"`
}

// AllSucceeded reports whether every device ended SUCCEEDED.
func (s Stats) AllSucceeded() bool { return s.Devices > 0 && s.Succeeded == s.Devices }

// Run starts every device and waits for all of them.
func (f *Fleet) Run(ctx context.Context) (*Report, error) {
	if len(f.Things) == 0 {
		return nil, fmt.Errorf("device: the fleet has no things")
	}
	seen := map[string]bool{}
	for _, t := range f.Things {
		if seen[t] {
			return nil, fmt.Errorf("device: thing %s is listed twice (one connection per client id)", t)
		}
		seen[t] = true
	}
	agents := make([]*Agent, len(f.Things))
	var bytes atomic.Int64
	for i, thing := range f.Things {
		cfg := f.Base
		cfg.ThingName = thing
		if f.TLSFor != nil {
			tc, err := f.TLSFor(thing)
			if err != nil {
				return nil, fmt.Errorf("device %s: %w", thing, err)
			}
			cfg.TLS = tc
		}
		if f.FaultsFor != nil {
			cfg.Faults = f.FaultsFor(thing)
		}
		onBytes := cfg.OnBytes
		cfg.OnBytes = func(n int) {
			bytes.Add(int64(n))
			if onBytes != nil {
				onBytes(n)
			}
		}
		a, err := NewAgent(cfg)
		if err != nil {
			return nil, err
		}
		agents[i] = a
	}
	start := time.Now()
	results := make([]*Result, len(agents))
	var mu sync.Mutex
	var done, ok, failed int
	snapshot := func() Progress {
		mu.Lock()
		defer mu.Unlock()
		return Progress{Devices: len(agents), Done: done, Succeeded: ok, Failed: failed, Bytes: bytes.Load(), Elapsed: time.Since(start)}
	}
	stopTicker := make(chan struct{})
	tickerDone := make(chan struct{})
	go func() {
		defer close(tickerDone)
		if f.Progress == nil {
			return
		}
		every := f.ProgressEvery
		if every <= 0 {
			every = 250 * time.Millisecond
		}
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-stopTicker:
				return
			case <-t.C:
				f.Progress(snapshot())
			}
		}
	}()
	var wg sync.WaitGroup
	for i, a := range agents {
		if f.ConnectRate > 0 && i > 0 && i%f.ConnectRate == 0 {
			if !sleep(ctx, time.Second) {
				break
			}
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := a.Run(ctx)
			mu.Lock()
			results[i] = r
			done++
			if r.Status == "SUCCEEDED" {
				ok++
			} else {
				failed++
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	close(stopTicker)
	<-tickerDone
	for i, r := range results {
		if r == nil { // never started: the context ended first
			results[i] = &Result{Thing: f.Things[i], Status: StatusError, Err: "not started: " + context.Cause(ctx).Error()}
		}
	}
	rep := &Report{Devices: results, Stats: Summarize(results, time.Since(start))}
	if f.Progress != nil {
		f.Progress(snapshot())
	}
	return rep, nil
}

// Summarize computes a fleet's statistics; completion percentiles are over
// the devices that succeeded.
func Summarize(results []*Result, elapsed time.Duration) Stats {
	s := Stats{Devices: len(results), Elapsed: elapsed, ByStatus: map[string]int{}}
	var times []time.Duration
	for _, r := range results {
		s.ByStatus[r.Status]++
		if r.Status == "SUCCEEDED" {
			s.Succeeded++
			times = append(times, r.Duration)
		} else {
			s.Failed++
		}
		if r.Executions > 1 {
			s.Retried++
		}
		s.Executions += r.Executions
		s.Rerequests += r.Rerequests
		s.Reconnects += r.Reconnects
		s.Bytes += r.Bytes
	}
	s.MBps = mbps(s.Bytes, elapsed)
	s.P50, s.P99 = Percentile(times, 50), Percentile(times, 99)
	return s
}

// Percentile is the nearest-rank p-th percentile (0 for no values).
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	rank := int(math.Ceil(p/100*float64(len(s)))) - 1
	return s[max(0, min(rank, len(s)-1))]
}
