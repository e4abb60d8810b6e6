package iot

import (
	"fmt"
	"sync"

	"github.com/otactl/otactl/local/store"
)

// Group commit for the writes a fleet's registration makes by the
// thousand (CreateThing, AddThingToThingGroup). Each is a durable
// transaction, and its cost is the disk sync: one at a time they are
// bounded by the disk's sync latency (~400 things/s here), whatever the
// CPU. Concurrent callers share one transaction and one sync instead: the
// first caller commits at once with whoever has queued (a lone caller
// waits for nobody, unlike bbolt's Batch with its 10 ms gathering delay),
// and the callers that arrive meanwhile go together in the next commit.
// As with store.Batch, fn may run more than once (when another caller's
// fn fails, the rest run again without it), so it must only assign to
// state outside the transaction, never accumulate.

type commitReq struct {
	fn   func(*store.Tx) error
	err  error
	done chan struct{} // closed when committed (or failed)
	lead chan struct{} // this caller commits the next group
}

type committer struct {
	mu      sync.Mutex
	queue   []*commitReq
	leading bool // a group is being committed
}

var committers sync.Map // *store.Store → *committer

// groupUpdate runs fn in a durable read-write transaction, possibly shared
// with concurrent callers; an error from fn fails its own call only.
func (s *Service) groupUpdate(fn func(*store.Tx) error) error {
	v, _ := committers.LoadOrStore(s.st, &committer{})
	return v.(*committer).run(s.st, fn)
}

func (c *committer) run(st *store.Store, fn func(*store.Tx) error) error {
	r := &commitReq{fn: fn, done: make(chan struct{}), lead: make(chan struct{}, 1)}
	c.mu.Lock()
	c.queue = append(c.queue, r)
	if !c.leading {
		c.leading = true
		r.lead <- struct{}{}
	}
	c.mu.Unlock()
	select {
	case <-r.done:
		return r.err
	case <-r.lead:
	}
	c.mu.Lock()
	group := c.queue
	c.queue = nil
	c.mu.Unlock()
	defer func() {
		// A panicking fn must not leave the group waiting, nor the
		// committer without a leader for good.
		if p := recover(); p != nil {
			for _, q := range group {
				select {
				case <-q.done:
				default:
					q.err = fmt.Errorf("internal error: %v", p)
					close(q.done)
				}
			}
			c.handOff()
			panic(p)
		}
	}()
	commitGroup(st, group)
	c.handOff()
	return r.err
}

// handOff makes the first caller queued meanwhile commit the next group.
func (c *committer) handOff() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queue) > 0 {
		c.queue[0].lead <- struct{}{}
	} else {
		c.leading = false
	}
}

// commitGroup runs every request's fn in one transaction; when one fails,
// that one gets its error and the others run again without it.
func commitGroup(st *store.Store, group []*commitReq) {
	for len(group) > 0 {
		failed, ferr := -1, error(nil)
		err := st.Update(func(tx *store.Tx) error {
			for i, r := range group {
				if err := r.fn(tx); err != nil {
					failed, ferr = i, err
					return err
				}
			}
			return nil
		})
		if failed < 0 {
			for _, r := range group {
				r.err = err // nil, or the commit's own failure
				close(r.done)
			}
			return
		}
		group[failed].err = ferr
		close(group[failed].done)
		group = append(group[:failed:failed], group[failed+1:]...)
	}
}
