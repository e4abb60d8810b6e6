package mqtt

import (
	"strconv"
	"strings"
	"sync"
)

// notifier publishes the two Jobs notifications of the AWS IoT Jobs
// developer guide ("Jobs notifications"):
//   - $aws/things/{thing}/jobs/notify (ListNotification) when the thing's
//     list of pending executions changes: one is queued, one moves to
//     IN_PROGRESS or QUEUED, one ends (terminal, canceled, removed). The
//     payload is {timestamp, jobs: {IN_PROGRESS: [...], QUEUED: [...]}}
//     with at most maxListed summaries; {} when nothing is pending.
//   - $aws/things/{thing}/jobs/notify-next (NextJobExecutionChanged) when
//     the execution $next names changes: another job, or the same job's
//     new attempt (a retry has a new executionNumber). Not sent when only
//     the next execution's details or status change. The payload is
//     {timestamp, execution} with the job document; just {timestamp} once
//     nothing is pending.
//
// Changes are queued and computed on one goroutine, so the control plane
// that reports them never waits for the broker, and a burst of changes to
// one thing costs one look-up. What was last announced is compared with
// what is pending now, so a burst that ends where it began sends nothing.
type notifier struct {
	b    *Broker
	mu   sync.Mutex
	set  map[string]bool
	q    []string
	wake chan struct{}
	done chan struct{}
	// last is what was last announced per thing; a thing not in it had
	// nothing pending as far as the broker knows.
	last map[string]announced
	// busy counts the Jobs requests of a thing being answered; changes to a
	// busy thing are held until the answer is out, so that a device sees
	// its update/accepted before the notify-next its update caused.
	busy map[string]int
	held map[string]bool
}

// announced is what a thing's devices were last told.
type announced struct {
	next    string // jobId#executionNumber of what $next names, "" = none
	pending string // the listed executions: status jobId#executionNumber, in order
}

// maxListed is how many executions a ListNotification carries at most.
const maxListed = 15

func executionKey(e Execution) string {
	return e.JobID + "#" + strconv.FormatInt(e.ExecutionNumber, 10)
}

// listed is what notify carries: IN_PROGRESS executions before QUEUED
// ones, each in queue order (PendingExecutions' order), at most maxListed.
func listed(pending []Execution) []Execution {
	out := make([]Execution, 0, min(len(pending), maxListed))
	for _, status := range []string{"IN_PROGRESS", "QUEUED"} {
		for _, e := range pending {
			if e.Status == status && len(out) < maxListed {
				out = append(out, e)
			}
		}
	}
	return out
}

func newNotifier(b *Broker) *notifier {
	return &notifier{b: b, set: map[string]bool{}, wake: make(chan struct{}, 1), done: make(chan struct{}), last: map[string]announced{},
		busy: map[string]int{}, held: map[string]bool{}}
}

// PendingChanged tells the broker that the thing's pending job executions may
// have changed (created, canceled, removed, finished, timed out ...). The
// wiring calls it from the control plane's change events.
func (b *Broker) PendingChanged(things ...string) {
	for _, t := range things {
		b.notifier.changed(t)
	}
}

func (n *notifier) changed(thing string) {
	n.mu.Lock()
	n.queueLocked(thing)
	n.mu.Unlock()
	n.poke()
}

func (n *notifier) queueLocked(thing string) {
	if n.busy[thing] > 0 {
		n.held[thing] = true
		return
	}
	if !n.set[thing] {
		n.set[thing] = true
		n.q = append(n.q, thing)
	}
}

func (n *notifier) poke() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// hold marks a request of thing in progress; release ends it and lets the
// changes it caused be announced.
func (n *notifier) hold(thing string) {
	n.mu.Lock()
	n.busy[thing]++
	n.mu.Unlock()
}

func (n *notifier) release(thing string) {
	n.mu.Lock()
	if n.busy[thing]--; n.busy[thing] <= 0 {
		delete(n.busy, thing)
		if n.held[thing] {
			delete(n.held, thing)
			n.queueLocked(thing)
		}
	}
	n.mu.Unlock()
	n.poke()
}

func (n *notifier) stop() {
	select {
	case <-n.done:
	default:
		close(n.done)
	}
}

func (n *notifier) run() {
	for {
		select {
		case <-n.done:
			return
		case <-n.wake:
		}
		for {
			n.mu.Lock()
			if len(n.q) == 0 {
				n.mu.Unlock()
				break
			}
			thing := n.q[0]
			n.q = n.q[1:]
			delete(n.set, thing)
			n.mu.Unlock()
			n.announce(thing)
		}
	}
}

func (n *notifier) announce(thing string) {
	jobs := n.b.deps.Jobs
	if jobs == nil {
		return
	}
	pending, err := jobs.PendingExecutions(thing)
	if err != nil {
		n.b.log.Warn("mqtt: pending executions", "thing", thing, "error", err)
		return
	}
	list := listed(pending)
	keys := make([]string, len(list))
	for i, e := range list {
		keys[i] = e.Status + " " + executionKey(e)
	}
	cur := announced{pending: strings.Join(keys, ",")}
	next := nextOf(pending)
	if next != nil {
		cur.next = executionKey(*next)
	}
	n.mu.Lock()
	before := n.last[thing]
	if cur == (announced{}) {
		delete(n.last, thing)
	} else {
		n.last[thing] = cur
	}
	n.mu.Unlock()
	base := thingPrefix + thing + "/jobs/"
	if cur.pending != before.pending {
		jobsByStatus := map[string][]jobSummaryJSON{}
		for _, e := range list {
			jobsByStatus[e.Status] = append(jobsByStatus[e.Status], summary(e))
		}
		n.b.publish(base+"notify", mustJSON(struct {
			Timestamp int64                       `json:"timestamp"`
			Jobs      map[string][]jobSummaryJSON `json:"jobs"`
		}{now(), jobsByStatus}))
	}
	if cur.next != before.next {
		msg := executionResponse{Timestamp: now()}
		if next != nil {
			if msg.Execution, err = n.b.execution(*next, true); err != nil {
				n.b.log.Warn("mqtt: notify-next document", "thing", thing, "error", err)
				return
			}
		}
		n.b.publish(base+"notify-next", mustJSON(msg))
	}
}
