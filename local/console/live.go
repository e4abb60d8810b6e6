package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"

	"github.com/otactl/otactl/local/iot"
	"github.com/otactl/otactl/local/jobs"
)

// Live state: local/iot's events mark jobs changed; a coalescer turns a
// burst of them (a wave of 1,000 executions) into one sample per job and
// one server-sent event, at most every coalesce interval. It also keeps,
// in memory since otactl local started, what the stored records do not:
// each job's engine timeline. (Earlier attempts of a retried execution are
// stored by local/iot and read from there.)

const (
	coalesce      = 250 * time.Millisecond
	heartbeat     = 15 * time.Second
	maxSamples    = 2000 // per job; thinned by half beyond
	maxTimeline   = 5000 // events per job; the oldest go first
	maxStreams    = 64   // open event streams
	streamBufSize = 1
)

type live struct {
	jobs Jobs
	now  func() time.Time

	mu        sync.Mutex
	dirty     map[string]bool
	samples   map[string][]jobs.Sample
	events    map[string][]jobs.Event
	streams   map[chan []string]bool
	stopped   bool
	kick      chan struct{}
	done      chan struct{}
	ended     chan struct{} // closed when the coalescer returns
	closeOnce sync.Once
}

func newLive(j Jobs, now func() time.Time) *live {
	l := &live{jobs: j, now: now, dirty: map[string]bool{}, samples: map[string][]jobs.Sample{},
		events: map[string][]jobs.Event{}, streams: map[chan []string]bool{},
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
	}
	l.mu.Unlock()
	select {
	case l.kick <- struct{}{}:
	default:
	}
}

func (l *live) timeline(ev jobs.Event) {
	l.mu.Lock()
	evs := append(l.events[ev.JobID], ev)
	if len(evs) > maxTimeline {
		evs = evs[len(evs)-maxTimeline:]
	}
	l.events[ev.JobID] = evs
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
