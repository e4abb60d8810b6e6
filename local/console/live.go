package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/otactl/otactl/local/iot"
	"github.com/otactl/otactl/local/jobs"
)

// Live state: local/iot's events mark jobs changed; a coalescer turns a
// burst of them (a wave of 1,000 executions) into one sample per job and
// one server-sent event, at most every coalesce interval. It also keeps,
// in memory since otactl local started, what the stored records do not:
// each job's engine timeline and each device's earlier attempts (a retry
// replaces the execution record).

const (
	coalesce      = 250 * time.Millisecond
	heartbeat     = 15 * time.Second
	maxSamples    = 2000 // per job; thinned by half beyond
	maxTimeline   = 5000 // events per job; the oldest go first
	maxStreams    = 64   // open event streams
	maxAttempts   = 20   // earlier attempts kept per execution
	streamBufSize = 1
)

// Attempt is an earlier attempt of an execution, closed by a retry.
type Attempt struct {
	ExecutionNumber int64
	Status          string // FAILED or TIMED_OUT (as the engine's retry said), else the last status seen
	StatusDetails   map[string]string
	StartedAt       time.Time
	EndedAt         time.Time
	retried         bool // Status is the failure the engine's retry named
}

type live struct {
	jobs Jobs
	now  func() time.Time

	mu        sync.Mutex
	dirty     map[string]bool
	samples   map[string][]jobs.Sample
	events    map[string][]jobs.Event
	last      map[string]iot.Execution // jobId/thing → latest execution seen
	attempts  map[string][]Attempt     // jobId/thing → earlier attempts
	failures  map[string]string        // jobId/thing → failure the engine retried
	streams   map[chan []string]bool
	stopped   bool
	kick      chan struct{}
	done      chan struct{}
	ended     chan struct{} // closed when the coalescer returns
	closeOnce sync.Once
}

func newLive(j Jobs, now func() time.Time) *live {
	l := &live{jobs: j, now: now, dirty: map[string]bool{}, samples: map[string][]jobs.Sample{},
		events: map[string][]jobs.Event{}, last: map[string]iot.Execution{}, attempts: map[string][]Attempt{},
		failures: map[string]string{}, streams: map[chan []string]bool{},
		kick: make(chan struct{}, 1), done: make(chan struct{}), ended: make(chan struct{})}
	go l.run()
	return l
}

func (l *live) observe(ev iot.Event) {
	if ev.JobID == "" {
		return // policies: nothing the console shows live
	}
	l.mu.Lock()
	l.dirty[ev.JobID] = true
	if ev.Kind == iot.JobDeleted {
		delete(l.samples, ev.JobID)
		delete(l.events, ev.JobID)
		for _, th := range ev.Things {
			k := ev.JobID + "/" + th
			delete(l.last, k)
			delete(l.attempts, k)
			delete(l.failures, k)
		}
	}
	if x := ev.Execution; ev.Kind == iot.ExecutionChanged && x != nil {
		l.attempt(*x)
	}
	l.mu.Unlock()
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// attempt records x; when its execution number moved on, the attempt seen
// before is closed.
func (l *live) attempt(x iot.Execution) {
	k := x.JobID + "/" + x.ThingName
	if p, ok := l.last[k]; ok && x.ExecutionNumber > p.ExecutionNumber {
		a := Attempt{ExecutionNumber: p.ExecutionNumber, Status: p.Status, StatusDetails: p.StatusDetails,
			StartedAt: p.StartedAt, EndedAt: x.QueuedAt}
		if f, ok := l.failures[k]; ok {
			a.Status, a.retried = f, true
			delete(l.failures, k)
		}
		as := append(l.attempts[k], a)
		if len(as) > maxAttempts {
			as = as[len(as)-maxAttempts:]
		}
		l.attempts[k] = as
	}
	l.last[k] = x
}

func (l *live) timeline(ev jobs.Event) {
	l.mu.Lock()
	evs := append(l.events[ev.JobID], ev)
	if len(evs) > maxTimeline {
		evs = evs[len(evs)-maxTimeline:]
	}
	l.events[ev.JobID] = evs
	if ev.Kind == jobs.EventRetry && ev.Thing != "" {
		// "FAILED → execution 2, retry attempt 1": the failure that ended
		// the attempt the retry closes (the execution event may come first).
		failure, _, _ := strings.Cut(ev.Detail, " ")
		k := ev.JobID + "/" + ev.Thing
		if as := l.attempts[k]; len(as) > 0 && !as[len(as)-1].retried {
			as[len(as)-1].Status, as[len(as)-1].retried = failure, true
		} else {
			l.failures[k] = failure
		}
	}
	l.dirty[ev.JobID] = true
	l.mu.Unlock()
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

// run is the coalescer.
func (l *live) run() {
	defer close(l.ended)
	for {
		select {
		case <-l.done:
			return
		case <-l.kick:
		}
		select {
		case <-l.done:
			return
		case <-time.After(coalesce):
		}
		l.mu.Lock()
		ids := make([]string, 0, len(l.dirty))
		for id := range l.dirty {
			ids = append(ids, id)
		}
		l.dirty = map[string]bool{}
		l.mu.Unlock()
		sort.Strings(ids)
		for _, id := range ids {
			l.sample(id)
		}
		l.broadcast(ids)
	}
}

// sample keeps the job's counts now (one sample per second at most).
func (l *live) sample(id string) {
	j, err := l.jobs.Job(id)
	if err != nil {
		return
	}
	at := l.now().UTC()
	l.mu.Lock()
	defer l.mu.Unlock()
	ss := l.samples[id]
	if n := len(ss); n > 0 {
		if ss[n-1].Counts == j.Counts {
			return
		}
		if ss[n-1].At.Truncate(time.Second).Equal(at.Truncate(time.Second)) && n > 1 {
			ss[n-1] = jobs.Sample{At: at, Counts: j.Counts}
			return
		}
	}
	ss = append(ss, jobs.Sample{At: at, Counts: j.Counts})
	if len(ss) > maxSamples {
		thin := ss[:0]
		for i, s := range ss {
			if i%2 == 0 || i == len(ss)-1 {
				thin = append(thin, s)
			}
		}
		ss = thin
	}
	l.samples[id] = ss
}

// series returns the job's samples (with its counts now when none were
// taken yet) and timeline.
func (l *live) series(j iot.Job) ([]jobs.Sample, []jobs.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ss := append([]jobs.Sample(nil), l.samples[j.JobID]...)
	if len(ss) == 0 || ss[len(ss)-1].Counts != j.Counts {
		ss = append(ss, jobs.Sample{At: l.now().UTC(), Counts: j.Counts})
	}
	return ss, append([]jobs.Event(nil), l.events[j.JobID]...)
}

func (l *live) attemptsOf(jobID, thing string) []Attempt {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Attempt(nil), l.attempts[jobID+"/"+thing]...)
}

func (l *live) broadcast(ids []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for ch := range l.streams {
		select {
		case ch <- ids:
		default: // a change is already waiting to be sent: it says enough
		}
	}
}

// serveEvents is the server-sent event stream: "change" with the ids of
// the jobs that changed, at most every coalesce interval.
func (l *live) serveEvents(w http.ResponseWriter, r *http.Request) {
	fl, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	ch := make(chan []string, streamBufSize)
	l.mu.Lock()
	if l.stopped || len(l.streams) >= maxStreams {
		l.mu.Unlock()
		http.Error(w, "too many open console event streams", http.StatusServiceUnavailable)
		return
	}
	l.streams[ch] = true
	l.mu.Unlock()
	defer func() {
		l.mu.Lock()
		delete(l.streams, ch)
		l.mu.Unlock()
	}()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	fmt.Fprint(w, "retry: 1000\n: otactl console\n\n")
	fl.Flush()
	tick := time.NewTicker(heartbeat)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-l.done:
			return
		case <-tick.C:
			fmt.Fprint(w, ": ping\n\n")
		case ids := <-ch:
			b, _ := json.Marshal(map[string][]string{"jobs": ids})
			fmt.Fprintf(w, "event: change\ndata: %s\n\n", b)
		}
		fl.Flush()
	}
}

func (l *live) shutdown() { l.close() }

func (l *live) close() {
	l.closeOnce.Do(func() {
		l.mu.Lock()
		l.stopped = true
		l.mu.Unlock()
		close(l.done)
		<-l.ended
	})
}
