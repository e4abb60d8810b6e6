package device

import "math/bits"

// Bitmap is a set of block indexes: bit k is byte k/8, bit k%8, least
// significant bit first, as MQTT file streams number blocks in a get request.
type Bitmap []byte

// NewBitmap holds n blocks, none set.
func NewBitmap(n int) Bitmap { return make(Bitmap, (n+7)/8) }

// Set marks block i.
func (b Bitmap) Set(i int) { b[i/8] |= 1 << (i % 8) }

// Has reports whether block i is marked.
func (b Bitmap) Has(i int) bool { return i >= 0 && i/8 < len(b) && b[i/8]&(1<<(i%8)) != 0 }

// Count is the number of marked blocks.
func (b Bitmap) Count() int {
	n := 0
	for _, x := range b {
		n += bits.OnesCount8(x)
	}
	return n
}

// missingFrom returns the stream request for the blocks of [0, n) not in
// have: the offset o of the first missing block and a bitmap of at most
// maxBlocks bits in which bit k asks for block o+k. ok is false when
// nothing is missing.
func (b Bitmap) missingFrom(n, maxBlocks int) (o int, req Bitmap, ok bool) {
	o = -1
	for i := 0; i < n; i++ {
		if !b.Has(i) {
			o = i
			break
		}
	}
	if o < 0 {
		return 0, nil, false
	}
	span := min(n-o, maxBlocks)
	req = NewBitmap(span)
	for k := 0; k < span; k++ {
		if !b.Has(o + k) {
			req.Set(k)
		}
	}
	return o, req, true
}
