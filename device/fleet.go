package device

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"math"
	"sort"
	"strings"
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
	Devices   int `json:"devices"`
	Done      int `json:"done"`
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"`
	// Connected devices have asked for their next job at least once;
	// Waiting of them have nothing to do yet (no job queued for them), and
	// Working are taking a job.
	Connected int           `json:"connected"`
	Waiting   int           `json:"waiting"`
	Working   int           `json:"working"`
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
	phases := make([]atomic.Int32, len(f.Things))
	var bytes atomic.Int64
	for i, thing := range f.Things {
		cfg := f.Base
		cfg.ThingName = thing
		if f.Progress != nil {
			cfg.Logger = slog.New(&phaseHandler{next: handlerOf(cfg.Logger), phase: &phases[i]})
		}
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
		p := Progress{Devices: len(agents), Done: done, Succeeded: ok, Failed: failed, Bytes: bytes.Load(), Elapsed: time.Since(start)}
		for i := range phases {
			if results[i] != nil {
				continue
			}
			switch phases[i].Load() {
			case phaseWaiting:
				p.Connected++
				p.Waiting++
			case phaseWorking:
				p.Connected++
				p.Working++
			}
		}
		return p
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
		if retried(r) {
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

// retried reports whether the device worked on one job more than once (a
// retry: the job's next execution); jobs of different updates are not
// retries.
func retried(r *Result) bool {
	seen := map[string]bool{}
	for _, j := range r.Jobs {
		if seen[j.JobID] {
			return true
		}
		seen[j.JobID] = true
	}
	return false
}

// A device's phase, as Progress counts it.
const (
	phaseStarting int32 = iota
	phaseWaiting        // connected, asked for its next job, none queued
	phaseWorking        // taking a job
)

// phaseHandler follows a device's phase through the agent's own story (its
// debug log), so that a fleet can say "connected, waiting for jobs" without
// the agent knowing about fleets; every record also goes to next.
type phaseHandler struct {
	next  slog.Handler
	phase *atomic.Int32
}

func handlerOf(l *slog.Logger) slog.Handler {
	if l == nil {
		return nil
	}
	return l.Handler()
}

func (h *phaseHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *phaseHandler) Handle(ctx context.Context, r slog.Record) error {
	switch r.Message {
	case "agent: next job":
		pending := false
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "pending" {
				pending = a.Value.Bool()
			}
			return true
		})
		if !pending {
			h.phase.Store(phaseWaiting)
		}
	case "agent: job":
		h.phase.Store(phaseWorking)
	}
	if h.next != nil && h.next.Enabled(ctx, r.Level) {
		return h.next.Handle(ctx, r)
	}
	return nil
}

func (h *phaseHandler) WithAttrs(as []slog.Attr) slog.Handler {
	n := *h
	if n.next != nil {
		n.next = n.next.WithAttrs(as)
	}
	return &n
}

func (h *phaseHandler) WithGroup(name string) slog.Handler {
	n := *h
	if n.next != nil {
		n.next = n.next.WithGroup(name)
	}
	return &n
}

// Problem is one reason devices did not succeed, and how many.
type Problem struct {
	Status string   `json:"status"`
	Reason string   `json:"reason"` // with the thing's name written <thing>
	Things []string `json:"things"`
}

// Problems groups the devices that did not succeed by status and reason,
// the thing's own name taken out of the reason, so that a hundred devices
// refused for one cause read as one line; the largest group first.
func (r *Report) Problems() []Problem {
	idx := map[string]int{}
	var out []Problem
	for _, d := range r.Devices {
		if d.Status == "SUCCEEDED" {
			continue
		}
		reason := d.Err
		if n := len(d.Jobs); n > 0 && reason == "" {
			reason = d.Jobs[n-1].Reason
		}
		reason = strings.ReplaceAll(reason, d.Thing, "<thing>")
		k := d.Status + "\x00" + reason
		i, ok := idx[k]
		if !ok {
			i = len(out)
			idx[k] = i
			out = append(out, Problem{Status: d.Status, Reason: reason})
		}
		out[i].Things = append(out[i].Things, d.Thing)
	}
	sort.SliceStable(out, func(a, b int) bool { return len(out[a].Things) > len(out[b].Things) })
	return out
}
