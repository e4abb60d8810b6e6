package jobs

import (
	"container/heap"
	"math/rand"
	"time"

	"github.com/otactl/otactl/local/iot"
)

// fleet is the simulated devices of a rehearsal. A device that learns of a
// pending execution starts it after a short delay (StartNextPendingJobExecution),
// then reports SUCCEEDED or FAILED after a while, or never reports (a hang,
// which only a timeout ends). Offline devices never start anything.
type fleet struct {
	svc          *iot.Service
	clock        *SimClock
	cfg          RehearsalConfig
	rng          *rand.Rand
	offline      map[string]bool
	offlineCount int
	things       int
	pending      []string // things told of a new pending execution
	actions      actionHeap
}

type action struct {
	at     time.Time
	thing  string
	jobID  string
	number int64  // execution number (finish)
	status string // "" = start; else the status to report
}

func newFleet(svc *iot.Service, clock *SimClock, cfg RehearsalConfig) *fleet {
	return &fleet{svc: svc, clock: clock, cfg: cfg, rng: rand.New(rand.NewSource(cfg.Seed)), offline: map[string]bool{}}
}

func (f *fleet) add(thing string) {
	f.things++
	if f.rng.Float64() < f.cfg.OfflineRate {
		f.offline[thing] = true
		f.offlineCount++
	}
}

// observe collects notifications (as notify-next would deliver them).
func (f *fleet) observe(ev iot.Event) {
	switch ev.Kind {
	case iot.ExecutionsCreated:
		f.pending = append(f.pending, ev.Things...)
	case iot.ExecutionChanged:
		if x := ev.Execution; x != nil && x.Status == iot.StatusQueued && x.VersionNumber == 1 {
			f.pending = append(f.pending, x.ThingName) // a retry
		}
	}
}

func (f *fleet) minutes(lo, hi int) time.Duration {
	return time.Duration(lo)*time.Minute + time.Duration(f.rng.Int63n(int64(hi-lo)*int64(time.Minute)/int64(time.Second)))*time.Second
}

func (f *fleet) notifyPending() {
	now := f.clock.Now()
	for len(f.pending) > 0 {
		things := f.pending
		f.pending = nil
		for _, t := range things {
			if !f.offline[t] {
				heap.Push(&f.actions, action{at: now.Add(f.minutes(0, 3)), thing: t})
			}
		}
	}
}

func (f *fleet) nextAt() time.Time {
	if len(f.actions) == 0 {
		return time.Time{}
	}
	return f.actions[0].at
}

func (f *fleet) idle() bool { return len(f.actions) == 0 && len(f.pending) == 0 }

// act performs every device action due at now.
func (f *fleet) act(now time.Time) {
	for len(f.actions) > 0 && !f.actions[0].at.After(now) {
		a := heap.Pop(&f.actions).(action)
		if a.status == "" {
			f.start(a, now)
			continue
		}
		// The execution may have been canceled or timed out meanwhile:
		// the rejection is what a real device would get.
		f.svc.UpdateExecution(a.thing, a.jobID, iot.ExecutionUpdate{Status: a.status, ExecutionNumber: a.number})
	}
}

func (f *fleet) start(a action, now time.Time) {
	x, err := f.svc.StartNextExecution(a.thing, map[string]string{"receive": "0/1"}, 0)
	if err != nil || x == nil {
		return
	}
	r := f.rng.Float64()
	switch {
	case r < f.cfg.TimeoutRate:
		return // hangs: only a timeout ends it
	case r < f.cfg.TimeoutRate+f.cfg.FailureRate:
		heap.Push(&f.actions, action{at: now.Add(f.minutes(2, 15)), thing: a.thing, jobID: x.JobID, number: x.ExecutionNumber, status: iot.StatusFailed})
	default:
		heap.Push(&f.actions, action{at: now.Add(f.minutes(5, 30)), thing: a.thing, jobID: x.JobID, number: x.ExecutionNumber, status: iot.StatusSucceeded})
	}
}

type actionHeap []action

func (h actionHeap) Len() int { return len(h) }
func (h actionHeap) Less(i, j int) bool {
	if !h[i].at.Equal(h[j].at) {
		return h[i].at.Before(h[j].at)
	}
	return h[i].thing < h[j].thing
}
func (h actionHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *actionHeap) Push(x any)   { *h = append(*h, x.(action)) }
func (h *actionHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
