package mqtt

import (
	"errors"
	"io"
	"io/fs"
	"sync"
)

// A fleet downloading one image asks for the same object version tens of
// thousands of times; opening it each time (a store lookup, a JSON decode,
// an open and a close) cost ~10% of the broker's CPU. Object versions are
// immutable, so an open version is kept and shared: ReadAt is safe for
// concurrent use. A version is only kept when it names an exact version
// ("" is whatever is latest) and its Object is a file (it has Stat): each
// use checks, with one fstat, that the file still has a name. S3 removes a
// version's blob file when the version is deleted or overwritten (a "null"
// version), so a removed version is opened again, and not found.

// maxCachedObjects bounds the open files kept (a fleet streams a few).
const maxCachedObjects = 32

type objectCache struct {
	mu     sync.Mutex
	by     map[objectKey]*cachedObject
	closed bool
}

// cachedObject counts its users, plus one while the cache holds it; the
// last to let go closes it.
type cachedObject struct {
	obj  Object
	data []byte // the version mapped (objcache_unix.go), or nil
	refs int
}

type statter interface {
	Stat() (fs.FileInfo, error)
}

// sharedObject is a user's handle on a cached object: Close lets go.
type sharedObject struct {
	Object
	c    *objectCache
	e    *cachedObject
	once sync.Once
}

// ReadAt reads from the mapping when there is one.
func (s *sharedObject) ReadAt(p []byte, off int64) (int, error) {
	if s.e.data == nil {
		return s.Object.ReadAt(p, off)
	}
	return readMapped(s.e.data, p, off)
}

// mapped is the whole version in memory (nil when not mapped): blockReader
// copies blocks straight from it.
func (s *sharedObject) mapped() []byte { return s.e.data }

func readMapped(data, p []byte, off int64) (int, error) {
	if off < 0 || off >= int64(len(data)) {
		if off < 0 {
			return 0, errors.New("negative offset")
		}
		return 0, io.EOF
	}
	n := copy(p, data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (s *sharedObject) Close() error {
	s.once.Do(func() { s.c.release(s.e) })
	return nil
}

// objectKey names a version without building a string per request.
type objectKey struct{ bucket, key, version string }

func cacheKey(f StreamFile) objectKey { return objectKey{f.Bucket, f.Key, f.Version} }

// open returns the cached version of f while its file is current, or
// opens it with objects (and keeps it when it may be shared).
func (c *objectCache) open(objects Objects, f StreamFile) (Object, error) {
	if f.Version == "" {
		return objects.Open(f.Bucket, f.Key, f.Version)
	}
	k := cacheKey(f)
	c.mu.Lock()
	e := c.by[k]
	if e != nil {
		e.refs++
	}
	c.mu.Unlock()
	if e != nil {
		if current(e.obj) {
			return &sharedObject{Object: e.obj, c: c, e: e}, nil
		}
		c.drop(k, e)
		c.release(e)
	}
	obj, err := objects.Open(f.Bucket, f.Key, f.Version)
	if err != nil || !current(obj) {
		return obj, err
	}
	e = &cachedObject{obj: obj, data: mapObject(obj), refs: 2}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return obj, nil
	}
	if c.by == nil {
		c.by = map[objectKey]*cachedObject{}
	}
	var evicted *cachedObject
	if old := c.by[k]; old != nil {
		evicted = old // a concurrent opener's: ours is as good
	} else if len(c.by) >= maxCachedObjects {
		for ok, o := range c.by {
			delete(c.by, ok)
			evicted = o
			break
		}
	}
	c.by[k] = e
	c.mu.Unlock()
	if evicted != nil {
		c.release(evicted)
	}
	return &sharedObject{Object: obj, c: c, e: e}, nil
}

// drop removes e from the cache (if it is still there) and lets go of the
// cache's reference.
func (c *objectCache) drop(k objectKey, e *cachedObject) {
	c.mu.Lock()
	held := c.by[k] == e
	if held {
		delete(c.by, k)
	}
	c.mu.Unlock()
	if held {
		c.release(e)
	}
}

func (c *objectCache) release(e *cachedObject) {
	c.mu.Lock()
	e.refs--
	last := e.refs == 0
	c.mu.Unlock()
	if last {
		unmapObject(e.data)
		e.obj.Close()
	}
}

// close lets go of every cached object (open handles stay usable).
func (c *objectCache) close() {
	c.mu.Lock()
	by := c.by
	c.by, c.closed = nil, true
	c.mu.Unlock()
	for _, e := range by {
		c.release(e)
	}
}

// current reports whether obj is an open file that still has a name.
func current(obj Object) bool {
	if linked, ok := fdLinked(obj); ok {
		return linked // without a FileInfo per request
	}
	s, ok := obj.(statter)
	if !ok {
		return false
	}
	fi, err := s.Stat()
	return err == nil && linked(fi)
}
