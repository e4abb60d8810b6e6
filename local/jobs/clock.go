package jobs

import (
	"sync"
	"time"
)

// Clock is the engine's time source. The engine never sleeps on it: it
// computes the next moment something is due (Engine.NextAt) and either a
// real timer waits for it (Engine.Run) or a simulation jumps to it.
type Clock interface {
	Now() time.Time
}

// RealClock is the wall clock.
type RealClock struct{}

// Now is time.Now in UTC.
func (RealClock) Now() time.Time { return time.Now().UTC() }

// SimClock is a clock that only moves when told to.
type SimClock struct {
	mu sync.Mutex
	t  time.Time
}

// NewSimClock starts a simulated clock at t.
func NewSimClock(t time.Time) *SimClock { return &SimClock{t: t.UTC()} }

// Now is the simulated time.
func (c *SimClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set moves the clock to t (never backwards).
func (c *SimClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if t.After(c.t) {
		c.t = t.UTC()
	}
}

// Advance moves the clock forward by d.
func (c *SimClock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }
