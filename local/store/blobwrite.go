package store

import (
	"crypto/md5"
	"crypto/sha256"
	"hash"
	"io"
	"os"
	"path/filepath"
	"sync"
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
// buffers, hashed, and written by a second goroutine while the next one is
// read and hashed; the kernel is asked to start writing back every
// writebackEvery bytes, so the final fsync waits for little. The first
// read takes firstChunk bytes, so a small body costs no large buffer.
// Memory per write is bounded (chunksInFlight+1 chunks), whatever the size.
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
func (s *Store) WriteBlobWith(r io.Reader, o BlobOptions) (Blob, error) {
	id := newID()
	tmp, err := os.CreateTemp(filepath.Join(s.dir, "blobs", "tmp"), id+"-*")
	if err != nil {
		return Blob{}, err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	m := md5.New()
	var h hash.Hash
	if o.SHA256 {
		h = sha256.New()
	}
	n, err := copyChunks(tmp, r, m, h)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Blob{}, err
	}
	sum := m.Sum(nil)
	if o.WantMD5 != nil && string(o.WantMD5) != string(sum) {
		return Blob{}, ErrBadDigest
	}
	if err := os.Rename(tmp.Name(), s.blobPath(id)); err != nil {
		return Blob{}, err
	}
	syncDir(filepath.Join(s.dir, "blobs"))
	b := Blob{ID: id, Size: n, MD5: hexOf(m)}
	if h != nil {
		b.SHA256 = hexOf(h)
	}
	return b, nil
}

// copyChunks copies r to f, hashing with m (and h when not nil): this
// goroutine reads and hashes, another writes, so hashing and writing
// overlap on two cores.
func copyChunks(f *os.File, r io.Reader, m, h hash.Hash) (int64, error) {
	full := make(chan []byte, chunksInFlight-1)
	free := make(chan []byte, chunksInFlight+1) // written chunks back to the reader
	werr := make(chan error, 1)
	go func() {
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
			if cap(b) == chunkSize {
				free <- b[:chunkSize]
			}
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
	// Every large chunk is back in free once the writer is done; the next
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
			m.Write(buf[:n])
			if h != nil {
				h.Write(buf[:n])
			}
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
	close(full)
	if err := <-werr; rerr == nil {
		rerr = err
	}
	return total, rerr
}
