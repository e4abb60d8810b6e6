package mqtt

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"
)

// fileObjects opens files as object versions (as local/s3 does with its
// blob files) and counts opens and closes.
type fileObjects struct {
	mu            sync.Mutex
	paths         map[string]string
	opens, closes int
}

type fileObject struct {
	*os.File
	size int64
	o    *fileObjects
}

func (f fileObject) Size() int64 { return f.size }

func (f fileObject) Close() error {
	f.o.mu.Lock()
	f.o.closes++
	f.o.mu.Unlock()
	return f.File.Close()
}

func (o *fileObjects) Open(bucket, key, version string) (Object, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	p, ok := o.paths[bucket+"/"+key+"/"+version]
	if !ok {
		return nil, ErrNotFound
	}
	f, err := os.Open(p)
	if err != nil {
		return nil, ErrNotFound
	}
	fi, _ := f.Stat()
	o.opens++
	return fileObject{File: f, size: fi.Size(), o: o}, nil
}

func (o *fileObjects) counts() (int, int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.opens, o.closes
}

func TestObjectCacheSharesAVersionUntilItsFileIsRemoved(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("objects are not kept open on this system")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "blob")
	if err := os.WriteFile(path, []byte("firmware"), 0o600); err != nil {
		t.Fatal(err)
	}
	objs := &fileObjects{paths: map[string]string{"b/k/v1": path, "b/k/": path}}
	var c objectCache
	f := StreamFile{Bucket: "b", Key: "k", Version: "v1"}

	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				o, err := c.open(objs, f)
				if err != nil {
					t.Error(err)
					return
				}
				p := make([]byte, 4)
				if _, err := o.ReadAt(p, 4); err != nil || string(p) != "ware" || o.Size() != 8 {
					t.Errorf("read %q, %v, size %d", p, err, o.Size())
				}
				o.Close()
				o.Close() // a second Close is harmless
			}
		}()
	}
	wg.Wait()
	if opens, closes := objs.counts(); opens > 8 || opens-closes != 1 {
		t.Fatalf("%d opens, %d closes: want the version opened once (or a few times in a race) and kept open", opens, closes)
	}

	// "" (the latest) is opened every time and never kept.
	for i := 0; i < 2; i++ {
		o, err := c.open(objs, StreamFile{Bucket: "b", Key: "k"})
		if err != nil {
			t.Fatal(err)
		}
		o.Close()
	}
	opens, closes := objs.counts()
	if opens-closes != 1 {
		t.Fatalf("latest kept open: %d opens, %d closes", opens, closes)
	}

	// A handle in use survives the version's removal; the next open finds
	// it gone, and the kept file is closed once its last user lets go.
	held, err := c.open(objs, f)
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(path)
	objs.mu.Lock()
	delete(objs.paths, "b/k/v1")
	objs.mu.Unlock()
	if _, err := c.open(objs, f); !errors.Is(err, ErrNotFound) {
		t.Fatalf("open after removal: %v, want ErrNotFound", err)
	}
	p := make([]byte, 8)
	if _, err := held.ReadAt(p, 0); err != nil || string(p) != "firmware" {
		t.Fatalf("held handle: %q %v", p, err)
	}
	held.Close()
	if opens, closes := objs.counts(); opens != closes {
		t.Fatalf("%d opens, %d closes after removal", opens, closes)
	}
}

func TestObjectCacheCloseLetsGoOfEverything(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("objects are not kept open on this system")
	}
	dir := t.TempDir()
	objs := &fileObjects{paths: map[string]string{}}
	for i := 0; i < maxCachedObjects+5; i++ {
		p := filepath.Join(dir, string(rune('a'+i)))
		os.WriteFile(p, []byte("x"), 0o600)
		objs.paths["b/"+string(rune('a'+i))+"/v"] = p
	}
	var c objectCache
	var held Object
	for i := 0; i < maxCachedObjects+5; i++ {
		o, err := c.open(objs, StreamFile{Bucket: "b", Key: string(rune('a' + i)), Version: "v"})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			held = o
			continue
		}
		o.Close()
	}
	if opens, closes := objs.counts(); opens-closes > maxCachedObjects+1 {
		t.Fatalf("%d files open: at most %d kept and the held one", opens-closes, maxCachedObjects)
	}
	c.close()
	if opens, closes := objs.counts(); opens-closes != 1 {
		t.Fatalf("after close: %d open, want only the held one", opens-closes)
	}
	held.Close()
	if opens, closes := objs.counts(); opens != closes {
		t.Fatalf("after the last user: %d open", opens-closes)
	}
	// After close nothing is kept.
	o, _ := c.open(objs, StreamFile{Bucket: "b", Key: "a", Version: "v"})
	o.Close()
	if opens, closes := objs.counts(); opens != closes {
		t.Fatalf("kept after close: %d open", opens-closes)
	}
}
