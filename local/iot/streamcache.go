package iot

import (
	"slices"
	"sync"
)

// Every block request of a device names its stream: a fleet's download
// looks the same few streams up tens of thousands of times. The Service is
// the only writer of stream records, so it keeps the ones read, and drops
// one on every write to it.

// maxCachedStreams bounds the cache: it is cleared when full.
const maxCachedStreams = 256

type streamCache struct {
	mu  sync.Mutex
	gen uint64 // moves on every write: a read older than it is not kept
	by  map[string]StreamInfo
}

// get returns a copy of the cached stream, and the generation a read from
// the store must still match to be kept.
func (c *streamCache) get(id string) (StreamInfo, bool, uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	si, ok := c.by[id]
	if ok {
		si.Files = slices.Clone(si.Files)
	}
	return si, ok, c.gen
}

// keep stores si, read from the store at generation gen, unless a write
// came since.
func (c *streamCache) keep(gen uint64, si StreamInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen {
		return
	}
	if c.by == nil || len(c.by) >= maxCachedStreams {
		c.by = map[string]StreamInfo{}
	}
	si.Files = slices.Clone(si.Files)
	c.by[si.StreamID] = si
}

// changed drops id; writers call it after their transaction ends.
func (c *streamCache) changed(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	delete(c.by, id)
}
