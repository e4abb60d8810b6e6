package store

import (
	"crypto/md5"
	"crypto/sha256"
	"hash"
	"io"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
)

// BlobOptions say what WriteBlobWith checks and computes besides the MD5
// every blob gets (S3's ETag).
type BlobOptions struct {
	WantMD5 []byte // the body's declared MD5: a mismatch is ErrBadDigest
	// SHA256 computes Blob.SHA256. Only a check of x-amz-content-sha256
	// needs it; at 1-2 GB/s it is a tenth of a large write's time.
	SHA256 bool
}

// Blob writes move in large pieces: the body is read into chunkSize
// buffers, which a second goroutine writes and a third hashes while the
// next one is read, so the file's last bytes are written (and its fsync
// begins) while hashing may still be going on: on two cores a write costs
// about the longer of hashing and syncing, not both. The kernel is asked
// to start writing back every writebackEvery bytes, so the final fsync
// waits for little. The first read takes firstChunk bytes, so a small body
// costs no large buffer. Memory per write is bounded (chunksInFlight+1
// chunks), whatever the size.
const (
	firstChunk     = 64 << 10
	chunkSize      = 1 << 20
	chunksInFlight = 3
	writebackEvery = 8 << 20
)

// chunkPool keeps large chunks between writes. A write takes at most
// chunksInFlight+1 of them whether or not the pool has any, so memory stays
// bounded when the pool is empty (as it often is under -race).
var chunkPool = sync.Pool{New: func() any { return new([chunkSize]byte) }}

// WriteBlobWith copies r into a new blob as WriteBlob does, computing what
// o asks for.
//
// The body is written under its final name: no record names the blob
// until the caller commits one after this returns, and the sweep at start
// (s3) removes a blob no record names, so a file a crash cut short is
// never seen. The file and its directory entry are synced before this
// returns; the directory is synced while the body is still being written.
func (s *Store) WriteBlobWith(r io.Reader, o BlobOptions) (Blob, error) {
	id := newID()
	path := s.blobPath(id)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return Blob{}, err
	}
	dirSynced := make(chan struct{})
	go func() {
		syncDir(filepath.Join(s.dir, "blobs"))
		close(dirSynced)
	}()
	m := md5.New()
	var h hash.Hash
	if o.SHA256 {
		h = sha256.New()
	}
	n, err := copyChunks(f, r, m, h)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	<-dirSynced
	sum := m.Sum(nil)
	if err == nil && o.WantMD5 != nil && string(o.WantMD5) != string(sum) {
		err = ErrBadDigest
	}
	if err != nil {
		os.Remove(path)
		return Blob{}, err
	}
	b := Blob{ID: id, Size: n, MD5: hexOf(m)}
	if h != nil {
		b.SHA256 = hexOf(h)
	}
	return b, nil
}

// copyChunks copies r to f and syncs f, hashing with m (and h when not
// nil): this goroutine reads, a second writes and then syncs, a third
// hashes what was written, so hashing overlaps writing and the sync.
func copyChunks(f *os.File, r io.Reader, m, h hash.Hash) (int64, error) {
	full := make(chan []byte, chunksInFlight-1)
	// Every chunk goes reader → writer → hasher → free; the queues hold
	// all chunksInFlight+1 of them, so neither the writer nor the hasher
	// ever waits to hand one on.
	hashq := make(chan []byte, chunksInFlight+2)
	free := make(chan []byte, chunksInFlight+1) // hashed chunks back to the reader
	werr := make(chan error, 1)
	hashed := make(chan struct{})
	var aborted atomic.Bool
	go func() {
		defer close(hashed)
		for b := range hashq {
			m.Write(b)
			if h != nil {
				h.Write(b)
			}
			if cap(b) == chunkSize {
				free <- b[:chunkSize]
			}
		}
	}()
	go func() {
		defer close(hashq)
		var off, synced int64
		var err error
		for b := range full {
			if err == nil {
				_, err = f.Write(b)
				off += int64(len(b))
				if err == nil && off-synced >= writebackEvery {
					startWriteback(f, synced, off-synced)
					synced = off
				}
			}
			hashq <- b
		}
		if err == nil && !aborted.Load() {
			err = f.Sync()
		}
		werr <- err
	}()
	allocated := 0
	next := func() []byte {
		if allocated == 0 {
			allocated++
			return make([]byte, firstChunk)
		}
		select {
		case b := <-free:
			return b
		default:
		}
		if allocated <= chunksInFlight+1 {
			allocated++
			return chunkPool.Get().(*[chunkSize]byte)[:]
		}
		return <-free
	}
	// Every large chunk is back in free once the hasher is done; the next
	// write reuses them rather than making garbage.
	defer func() {
		for range len(free) {
			chunkPool.Put((*[chunkSize]byte)(<-free))
		}
	}()
	var total int64
	var rerr error
	for {
		buf := next()
		n, err := io.ReadFull(r, buf)
		if n == 0 && cap(buf) == chunkSize {
			free <- buf[:chunkSize]
		}
		if n > 0 {
			total += int64(n)
			full <- buf[:n]
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			rerr = err
			break
		}
	}
	if rerr != nil {
		aborted.Store(true) // the blob is removed: no sync
	}
	close(full)
	if err := <-werr; rerr == nil {
		rerr = err
	}
	<-hashed
	return total, rerr
}
