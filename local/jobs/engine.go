// Package jobs is the job engine of otactl local: it moves jobs and their
// executions through time as AWS IoT does — scheduled starts and ends,
// maintenance windows, rollout rates, timeouts, retries and abort criteria —
// on top of the records and status rules of local/iot.
//
// The engine is driven by a Clock and never ticks idly: Tick does what is
// due now and NextAt says when something is next due, so a real timer
// (Run) or a simulation (Rehearse) can jump straight there. All it needs to
// resume after a restart is in the store: the jobs and executions of
// local/iot (status, timeouts) and its own small record per job (when the
// next rollout wave may go, whether the end time was applied).
package jobs

import (
	"container/heap"
	"context"
	"errors"
	"sync"
	"time"

	"github.com/otactl/otactl/local/iot"
	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/local/wire"
	"github.com/otactl/otactl/ota"
)

// tState holds the engine's own record per job (jobState).
const tState = "jobs.state"

// jobState is what the engine remembers of a job across restarts.
type jobState struct {
	// NextRolloutAt is the earliest time the next wave may go (one wave
	// per minute: that is what makes maximumPerMinute a per-minute cap).
	NextRolloutAt time.Time `json:"nextRolloutAt"`
	// Ended is set once schedulingConfig.endTime has been applied.
	Ended bool `json:"ended,omitempty"`
	Waves int  `json:"waves"`
	// Config is the configuration UpdateJob can change (member → JSON) as
	// the engine last applied it; a difference is an UpdateJob (updated.go).
	Config map[string]string `json:"config,omitempty"`
	// Base is the job's counts when its rollout configuration last
	// changed: an exponential rate counts from there.
	Base baseline `json:"base,omitempty"`
}

// Event is one entry of the engine's timeline (for otactl rehearse and logs).
type Event struct {
	At    time.Time `json:"at"`
	Kind  string    `json:"kind"`
	JobID string    `json:"jobId"`
	// Things is how many things the event concerns (a wave's size).
	Things int `json:"things,omitempty"`
	// Rate is the rollout rate per minute a wave went at.
	Rate int `json:"ratePerMinute,omitempty"`
	// Window is the opening of the maintenance window a wave went in.
	Window *time.Time `json:"window,omitempty"`
	Thing  string     `json:"thing,omitempty"`
	Detail string     `json:"detail,omitempty"`
}

// Event kinds.
const (
	EventStarted   = "started"   // a SCHEDULED job reached its startTime
	EventWave      = "wave"      // executions rolled out
	EventTimedOut  = "timed-out" // an execution timed out
	EventRetry     = "retry"     // a failed or timed-out execution was queued again
	EventAborted   = "aborted"   // abortConfig canceled the job
	EventEnded     = "ended"     // endTime reached: endBehavior applied
	EventCompleted = "completed" // every execution ended
	EventCanceled  = "canceled"  // the job was canceled
	EventUpdated   = "updated"   // UpdateJob changed the rollout, abort, timeout or retry configuration
)

// Engine runs the jobs of one iot.Service. Create it with New.
type Engine struct {
	svc   *iot.Service
	st    *store.Store
	clock Clock

	packages PackageShadows // where package versions go (packages.go)

	// OnEvent, if set before Start, receives the timeline as it happens
	// (called without the engine's lock held, from the goroutine that caused it).
	OnEvent func(Event)

	tickMu sync.Mutex // one Tick at a time

	mu       sync.Mutex
	jobs     map[string]time.Time      // active job → when it is next due (zero: on event only)
	marks    map[string]uint64         // job → how many times a change made it due
	retries  map[string]map[string]int // jobId/thing → failure type → retries spent
	failures map[string]string         // jobId/thing → the failure being retried
	timeouts timeoutHeap
	armed    map[string]time.Time // jobId/thing → the deadline its heap entry is for
	wake     chan struct{}
	stop     context.CancelFunc
	done     chan struct{}
}

// New builds an engine over svc and the store svc keeps its records in, and
// makes svc use clock, the engine's retry policy and deferred rollouts.
// Call Start (real time) or Load (simulation) before use.
func New(svc *iot.Service, st *store.Store, clock Clock, opts ...Option) *Engine {
	e := &Engine{svc: svc, st: st, clock: clock, jobs: map[string]time.Time{}, marks: map[string]uint64{}, retries: map[string]map[string]int{}, failures: map[string]string{}, armed: map[string]time.Time{}, wake: make(chan struct{}, 1)}
	for _, o := range opts {
		o(e)
	}
	if e.packages == nil {
		e.packages = newMemPackages()
	}
	svc.Now = clock.Now
	svc.RetryPolicy = e.retryPolicy
	svc.DeferRollout = defers
	svc.Subscribe(e.observe)
	return e
}

// Load rebuilds the engine's timers from the store: every SCHEDULED or
// IN_PROGRESS job is due now, and every IN_PROGRESS execution's timeout is
// armed. Deadlines that passed while otactl local was down fire at the next Tick.
func (e *Engine) Load() error {
	if err := e.loadRetries(); err != nil {
		return err
	}
	js, err := e.svc.Jobs("")
	if err != nil {
		return err
	}
	now := e.clock.Now()
	for _, j := range js {
		if j.Status != iot.JobScheduled && j.Status != iot.JobInProgress {
			continue
		}
		e.due(j.JobID, now)
		if j.Status != iot.JobInProgress {
			continue
		}
		xs, err := e.svc.Executions(j.JobID, "")
		if err != nil {
			return err
		}
		for i := range xs {
			e.armTimeout(&xs[i])
		}
	}
	return nil
}

// Start loads the engine and runs it on its clock in the background until Close.
func (e *Engine) Start() error {
	if err := e.Load(); err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.stop, e.done = cancel, make(chan struct{})
	go func() {
		defer close(e.done)
		e.Run(ctx)
	}()
	return nil
}

// Close stops a Start-ed engine.
func (e *Engine) Close() error {
	if e.stop != nil {
		e.stop()
		<-e.done
		e.stop = nil
	}
	return nil
}

// Run ticks whenever something is due or a change wakes it, until ctx ends.
func (e *Engine) Run(ctx context.Context) {
	for {
		e.Tick()
		var timer <-chan time.Time
		var t *time.Timer
		if next := e.NextAt(); !next.IsZero() {
			t = time.NewTimer(next.Sub(e.clock.Now()))
			timer = t.C
		}
		select {
		case <-ctx.Done():
		case <-timer:
		case <-e.wake:
		}
		if t != nil {
			t.Stop()
		}
		if ctx.Err() != nil {
			return
		}
	}
}

// NextAt is when something is next due (zero: nothing until a change).
func (e *Engine) NextAt() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	var next time.Time
	for _, at := range e.jobs {
		if !at.IsZero() && (next.IsZero() || at.Before(next)) {
			next = at
		}
	}
	if len(e.timeouts) > 0 && (next.IsZero() || e.timeouts[0].at.Before(next)) {
		next = e.timeouts[0].at
	}
	return next
}

// Tick does everything due at the clock's now: timeouts, then each due job.
func (e *Engine) Tick() {
	e.tickMu.Lock()
	defer e.tickMu.Unlock()
	now := e.clock.Now()
	for _, t := range e.dueTimeouts(now) {
		e.timeOut(t, now)
	}
	for _, id := range e.dueJobs(now) {
		e.mu.Lock()
		mark := e.marks[id]
		e.mu.Unlock()
		next, active := e.process(id, now)
		e.mu.Lock()
		switch {
		case !active:
			delete(e.jobs, id)
			delete(e.marks, id)
		case e.marks[id] != mark:
			// Changed while processing (by this Tick or a device): look
			// again at the next Tick, which then finds nothing new to do.
			e.jobs[id] = now
		default:
			e.jobs[id] = next
		}
		e.mu.Unlock()
	}
}

// due marks job id due at t (or sooner if already due sooner) and wakes Run.
func (e *Engine) due(id string, t time.Time) {
	e.mu.Lock()
	if cur, ok := e.jobs[id]; !ok || cur.IsZero() || t.Before(cur) {
		e.jobs[id] = t
	}
	e.marks[id]++
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

func (e *Engine) dueJobs(now time.Time) []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var ids []string
	for id, at := range e.jobs {
		if !at.IsZero() && !at.After(now) {
			ids = append(ids, id)
		}
	}
	return ids
}

func (e *Engine) emit(ev Event) {
	if e.OnEvent != nil {
		e.OnEvent(ev)
	}
}

// observe follows the service's changes: new and changed jobs become due,
// timeouts are armed, retries and package versions recorded.
func (e *Engine) observe(ev iot.Event) {
	now := e.clock.Now()
	switch ev.Kind {
	case iot.JobChanged, iot.ExecutionsCreated:
		e.due(ev.JobID, now)
	case iot.JobDeleted:
		e.mu.Lock()
		delete(e.jobs, ev.JobID)
		delete(e.marks, ev.JobID)
		e.mu.Unlock()
		e.st.Delete(tState, ev.JobID)
		e.forgetRetries(ev.JobID)
	case iot.ExecutionChanged:
		x := ev.Execution
		if x == nil || x.Status == "" {
			return
		}
		e.armTimeout(x)
		switch {
		case x.Status == iot.StatusQueued && x.RetryAttempt > 0 && x.VersionNumber == 1:
			failure := e.saveRetries(x.JobID, x.ThingName)
			if failure == iot.StatusTimedOut { // the engine timed it out: say so first
				e.emit(Event{At: now, Kind: EventTimedOut, JobID: ev.JobID, Thing: x.ThingName,
					Detail: "execution " + itoa(int(x.ExecutionNumber-1))})
			}
			e.emit(Event{At: now, Kind: EventRetry, JobID: ev.JobID, Thing: x.ThingName,
				Detail: failure + " → execution " + itoa(int(x.ExecutionNumber)) + ", retry attempt " + itoa(x.RetryAttempt)})
		case x.Status == iot.StatusSucceeded:
			e.recordPackages(ev.JobID, x.ThingName)
		}
		if iot.Terminal(x.Status) {
			e.due(ev.JobID, now) // abort criteria, completion
		}
	}
}

// process does what is due for one job and returns when it is next due;
// active is false once the job needs the engine no more.
func (e *Engine) process(id string, now time.Time) (next time.Time, active bool) {
	j, err := e.svc.Job(id)
	if isNotFound(err) {
		return time.Time{}, false
	} else if err != nil {
		return now.Add(time.Minute), true // try again
	}
	sc := j.SchedulingConfig
	if j.Status == iot.JobScheduled {
		start, err := ota.ParseScheduleTime(sc.StartTime)
		if err == nil && now.Before(start) {
			return start, true
		}
		if j, err = e.svc.StartJob(id); err != nil {
			return now.Add(time.Minute), true
		}
		e.emit(Event{At: now, Kind: EventStarted, JobID: id})
	}
	if j.Status != iot.JobInProgress {
		e.finished(&j, now)
		return time.Time{}, false
	}
	st := e.loadState(id)
	var end time.Time
	if sc != nil && sc.EndTime != "" {
		end, _ = ota.ParseScheduleTime(sc.EndTime)
	}
	if !end.IsZero() && !st.Ended && !now.Before(end) {
		st.Ended = true
		e.saveState(id, st)
		if j, err = e.applyEnd(&j); err != nil {
			return now.Add(time.Minute), true
		}
		e.emit(Event{At: now, Kind: EventEnded, JobID: id, Detail: endBehavior(sc)})
		if j.Status != iot.JobInProgress {
			e.finished(&j, now)
			return time.Time{}, false
		}
	}
	e.noteUpdate(&j, &st, now)
	if c, hit := abortHit(&j); hit {
		if _, err := e.svc.CancelJob(id, false, AbortReasonCode, abortComment(c, &j)); err == nil {
			e.emit(Event{At: now, Kind: EventAborted, JobID: id, Detail: abortComment(c, &j)})
			return time.Time{}, false
		}
	}
	if !end.IsZero() && !st.Ended {
		next = end
	}
	if j.RolloutPending && !st.Ended {
		at := e.rollout(&j, &st, now)
		if !at.IsZero() && (next.IsZero() || at.Before(next)) {
			next = at
		}
	}
	return next, true
}

// rollout sends a wave if one may go now and returns when the next may.
func (e *Engine) rollout(j *iot.Job, st *jobState, now time.Time) time.Time {
	ws := windowsOf(j)
	from := now
	if st.NextRolloutAt.After(from) {
		from = st.NextRolloutAt
	}
	at := rolloutTime(ws, from)
	if at.IsZero() || at.After(now) {
		return at
	}
	rate := ratePerMinute(j, st.Base)
	things, err := e.svc.QueueExecutions(j.JobID, rate)
	if err != nil {
		return now.Add(time.Minute)
	}
	st.NextRolloutAt = now.Add(time.Minute)
	st.Waves++
	e.saveState(j.JobID, *st)
	ev := Event{At: now, Kind: EventWave, JobID: j.JobID, Things: len(things), Rate: rate}
	if w, _ := openWindow(ws, now); !w.IsZero() {
		ev.Window = &w
	}
	e.emit(ev)
	if cur, err := e.svc.Job(j.JobID); err == nil && !cur.RolloutPending {
		return time.Time{}
	}
	return rolloutTime(ws, st.NextRolloutAt)
}

func endBehavior(sc *ota.SchedulingConfig) string {
	if sc.EndBehavior == "" {
		return "STOP_ROLLOUT" // AWS's default
	}
	return sc.EndBehavior
}

// applyEnd is schedulingConfig.endBehavior at endTime.
func (e *Engine) applyEnd(j *iot.Job) (iot.Job, error) {
	switch endBehavior(j.SchedulingConfig) {
	case "CANCEL":
		return e.svc.CancelJob(j.JobID, false, "", "")
	case "FORCE_CANCEL":
		return e.svc.CancelJob(j.JobID, true, "", "")
	}
	if !j.RolloutPending {
		return *j, nil
	}
	return e.svc.StopRollout(j.JobID)
}

// finished reports a job the engine is done with.
func (e *Engine) finished(j *iot.Job, now time.Time) {
	switch j.Status {
	case iot.JobCompleted:
		e.emit(Event{At: now, Kind: EventCompleted, JobID: j.JobID})
	case iot.JobCanceled:
		if j.ReasonCode != AbortReasonCode {
			e.emit(Event{At: now, Kind: EventCanceled, JobID: j.JobID, Detail: j.ReasonCode})
		}
	}
}

func (e *Engine) loadState(id string) jobState {
	var st jobState
	e.st.Get(tState, id, &st)
	return st
}

func (e *Engine) saveState(id string, st jobState) { e.st.Put(tState, id, st) }

func isNotFound(err error) bool {
	var we *wire.Error
	return errors.As(err, &we) && we.Code == "ResourceNotFoundException"
}

func itoa(n int) string {
	const digits = "0123456789"
	if n < 10 && n >= 0 {
		return digits[n : n+1]
	}
	neg := n < 0
	if neg {
		n = -n
	}
	var b []byte
	for n > 0 {
		b = append([]byte{digits[n%10]}, b...)
		n /= 10
	}
	if neg {
		b = append([]byte{'-'}, b...)
	}
	return string(b)
}

// timeouts: a heap of (deadline, execution); stale entries are checked
// against the record when they fire.

type timeout struct {
	at           time.Time
	jobID, thing string
}

type timeoutHeap []timeout

func (h timeoutHeap) Len() int           { return len(h) }
func (h timeoutHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h timeoutHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *timeoutHeap) Push(x any)        { *h = append(*h, x.(timeout)) }
func (h *timeoutHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

func (e *Engine) armTimeout(x *iot.Execution) {
	if iot.Terminal(x.Status) {
		return
	}
	at := x.TimeoutAt()
	if at.IsZero() {
		return
	}
	key := x.JobID + "/" + x.ThingName
	e.mu.Lock()
	if cur, ok := e.armed[key]; ok && cur.Equal(at) {
		e.mu.Unlock() // already armed (a progress update kept the deadline)
		return
	}
	e.armed[key] = at
	heap.Push(&e.timeouts, timeout{at: at, jobID: x.JobID, thing: x.ThingName})
	e.mu.Unlock()
	select {
	case e.wake <- struct{}{}:
	default:
	}
}

func (e *Engine) dueTimeouts(now time.Time) []timeout {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []timeout
	for len(e.timeouts) > 0 && !e.timeouts[0].at.After(now) {
		t := heap.Pop(&e.timeouts).(timeout)
		key := t.jobID + "/" + t.thing
		if cur, ok := e.armed[key]; !ok || !cur.Equal(t.at) {
			continue // superseded by a later deadline
		}
		delete(e.armed, key)
		out = append(out, t)
	}
	return out
}

var errStale = errors.New("stale timeout")

// timeOut moves an execution whose in-progress or step timeout has passed
// to TIMED_OUT (the retry policy may queue it again in the same change).
func (e *Engine) timeOut(t timeout, now time.Time) {
	x, err := e.svc.Transition(t.thing, t.jobID, func(_ *iot.Job, x *iot.Execution) error {
		at := x.TimeoutAt()
		if iot.Terminal(x.Status) || at.IsZero() || at.After(now) {
			return errStale
		}
		x.Status = iot.StatusTimedOut
		return nil
	})
	if err == nil && x.Status == iot.StatusTimedOut { // (a retry reported it already)
		e.emit(Event{At: now, Kind: EventTimedOut, JobID: t.jobID, Thing: t.thing,
			Detail: "execution " + itoa(int(x.ExecutionNumber))})
	}
}
