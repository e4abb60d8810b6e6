package mqtt

import (
	"sort"
	"strings"
	"sync"
)

// notifier publishes $aws/things/{thing}/jobs/notify when the thing's list
// of pending executions changes, and notify-next when the next one (what
// $next names) changes. Changes are queued and computed on one goroutine,
// so the control plane that reports them never waits for the broker, and a
// burst of changes to one thing costs one look-up.
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

type announced struct {
	next    string // job id, "" = none
	pending string // sorted job ids (a status change is not an add or remove)
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

// PendingChangedAll is PendingChanged for every thing that had something
// pending (a change whose things are not known, such as a deleted job).
func (b *Broker) PendingChangedAll() { b.notifier.changedKnown() }

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
	var cur announced
	ids := make([]string, len(pending))
	for i, e := range pending {
		ids[i] = e.JobID
	}
	sort.Strings(ids)
	cur.pending = strings.Join(ids, ",")
	next := nextOf(pending)
	if next != nil {
		cur.next = next.JobID
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
		for _, e := range pending {
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

// changedKnown marks every thing that had something pending.
func (n *notifier) changedKnown() {
	n.mu.Lock()
	things := make([]string, 0, len(n.last))
	for t := range n.last {
		things = append(things, t)
	}
	n.mu.Unlock()
	for _, t := range things {
		n.changed(t)
	}
}
