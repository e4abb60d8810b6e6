package mqtt

import (
	"io"
	"sync"
)

// wantedBlocks lists the blocks a get request asks for, in order: from
// offset, or the bitmap's set bits (bit k, LSB first within each byte,
// asks for block offset+k), at most limit of them and none past the end.
func wantedBlocks(bitmap []byte, offset, blocks, limit int64) []int64 {
	return wantedBlocksInto(nil, bitmap, offset, blocks, limit)
}

// wantedBlocksInto is wantedBlocks appending to want.
func wantedBlocksInto(want []int64, bitmap []byte, offset, blocks, limit int64) []int64 {
	if bitmap == nil {
		for i := offset; i < blocks && int64(len(want)) < limit; i++ {
			want = append(want, i)
		}
		return want
	}
	for k := int64(0); k < int64(len(bitmap))*8 && int64(len(want)) < limit; k++ {
		if bitmap[k/8]&(1<<(k%8)) == 0 {
			continue
		}
		i := offset + k
		if i >= blocks {
			break
		}
		want = append(want, i)
	}
	return want
}

// readAhead bounds one read of a request's blocks.
const readAhead = 64 << 10

var readAheadPool = sync.Pool{New: func() any { b := make([]byte, readAhead); return &b }}

// blockReader reads a request's blocks with one read per window rather
// than one per block: a read covers the blocks from the one asked for to
// the request's last (end), at most readAhead bytes. Memory stays bounded
// by the request, whatever the file's size.
type blockReader struct {
	obj  Object
	end  int64
	bp   *[]byte
	data []byte // the bytes read, from at
	at   int64
}

func newBlockReader(obj Object, end int64) *blockReader {
	r := &blockReader{obj: obj, end: end}
	if m, ok := obj.(interface{ mapped() []byte }); ok && m.mapped() != nil {
		r.data = m.mapped() // the whole version: every read is a copy from it
	}
	return r
}

// read fills p from off; the last block of a file may end at EOF.
func (r *blockReader) read(p []byte, off int64) error {
	if off >= r.at && off+int64(len(p)) <= r.at+int64(len(r.data)) {
		copy(p, r.data[off-r.at:])
		return nil
	}
	ahead := min(r.end-off, readAhead)
	if ahead <= int64(len(p)) {
		return readBlock(r.obj, p, off) // one block: straight into p
	}
	if r.bp == nil {
		r.bp = readAheadPool.Get().(*[]byte)
	}
	n, err := r.obj.ReadAt((*r.bp)[:ahead], off)
	r.data, r.at = (*r.bp)[:n], off
	if n >= len(p) {
		copy(p, r.data)
		return nil
	}
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	return err
}

func (r *blockReader) release() {
	if r.bp != nil {
		readAheadPool.Put(r.bp)
		r.bp, r.data = nil, nil
	}
}

// readBlock fills p from off; the last block of a file may end at EOF.
func readBlock(obj Object, p []byte, off int64) error {
	n, err := obj.ReadAt(p, off)
	if n == len(p) {
		return nil
	}
	if err == nil {
		err = io.ErrUnexpectedEOF
	}
	return err
}
