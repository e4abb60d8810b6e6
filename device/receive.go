package device

import (
	"fmt"
	"hash"
)

// receiver reassembles a file from blocks that may come in any order and
// more than once. It does not keep the file: blocks are hashed in order as
// soon as they can be, and only blocks that arrive ahead of the next one to
// hash wait in memory, so a thousand simulated devices cost little.
type receiver struct {
	size    int64
	block   int
	nblocks int
	have    Bitmap
	ahead   map[int][]byte
	next    int // next block to hash
	h       hash.Hash
	bytes   int64 // payload bytes accepted (new blocks only)
	keep    []byte
}

func newReceiver(size int64, block int, h hash.Hash, keep bool) *receiver {
	n := int((size + int64(block) - 1) / int64(block))
	r := &receiver{size: size, block: block, nblocks: n, have: NewBitmap(n), ahead: map[int][]byte{}, h: h}
	if keep {
		r.keep = make([]byte, size)
	}
	return r
}

// blockLen is the length block i must have: block size, except the last.
func (r *receiver) blockLen(i int) int {
	if i == r.nblocks-1 {
		return int(r.size - int64(i)*int64(r.block))
	}
	return r.block
}

// add takes block i; it reports whether the block was new.
func (r *receiver) add(i int, p []byte) (bool, error) {
	if i < 0 || i >= r.nblocks {
		return false, fmt.Errorf("block %d is outside the file's %d blocks", i, r.nblocks)
	}
	if len(p) != r.blockLen(i) {
		return false, fmt.Errorf("block %d has %d bytes, want %d", i, len(p), r.blockLen(i))
	}
	if r.have.Has(i) {
		return false, nil
	}
	r.have.Set(i)
	r.bytes += int64(len(p))
	if r.keep != nil {
		copy(r.keep[int64(i)*int64(r.block):], p)
	}
	if i != r.next {
		r.ahead[i] = append([]byte(nil), p...)
		return true, nil
	}
	r.h.Write(p)
	r.next++
	for {
		q, ok := r.ahead[r.next]
		if !ok {
			break
		}
		delete(r.ahead, r.next)
		r.h.Write(q)
		r.next++
	}
	return true, nil
}

func (r *receiver) received() int { return r.have.Count() }
func (r *receiver) done() bool    { return r.next == r.nblocks }
func (r *receiver) digest() []byte {
	return r.h.Sum(nil)
}
