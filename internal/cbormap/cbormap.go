// Package cbormap reads the one CBOR shape the MQTT file-stream messages
// use — a map of 1-character text keys whose values are unsigned integers,
// text or byte strings of definite length — without reflection and
// without copying strings' bytes. Both ends of a stream decode one such
// message per window or block (the broker's get requests in local/mqtt, the
// simulated device's data blocks in device), on the same CPUs, so the
// general decoder's reflection shows in the fleet benchmark. Anything else
// (another type, a longer key, a duplicate, indefinite lengths, bytes after
// the map) is refused, and the callers then ask the general decoder, which
// also names the error.
package cbormap

// Major types of a Value.
const (
	Uint  byte = 0
	Bytes byte = 2
	Text  byte = 3
)

// Value is one map value: Uint's number, or the bytes of a Bytes or Text
// string (a slice of the message, its capacity cut to its length).
type Value struct {
	Major byte
	Uint  uint64
	Bytes []byte
}

// Reader walks a map's fields in order.
type Reader struct {
	raw  []byte
	pos  int
	left uint64
	seen [256]bool
	bad  bool
}

// New starts reading raw as a map of at most maxFields fields; ok is false
// when raw does not start with such a map.
func New(raw []byte, maxFields int) (r Reader, ok bool) {
	r.raw = raw
	major, n, good := r.head()
	if !good || major != 5 || n > uint64(maxFields) {
		return r, false
	}
	r.left = n
	return r, true
}

// Next returns the next field; more is false after the last one or at
// anything this package does not read (then Done is false).
func (r *Reader) Next() (key byte, v Value, more bool) {
	if r.left == 0 || r.bad {
		return 0, v, false
	}
	r.left--
	if len(r.raw)-r.pos < 2 || r.raw[r.pos] != 0x61 { // text string of length 1
		r.bad = true
		return 0, v, false
	}
	key = r.raw[r.pos+1]
	r.pos += 2
	if r.seen[key] {
		r.bad = true
		return 0, v, false
	}
	r.seen[key] = true
	major, arg, good := r.head()
	switch {
	case !good:
		r.bad = true
		return 0, v, false
	case major == Uint:
		return key, Value{Major: Uint, Uint: arg}, true
	case (major == Bytes || major == Text) && arg <= uint64(len(r.raw)-r.pos):
		end := r.pos + int(arg)
		v = Value{Major: major, Bytes: r.raw[r.pos:end:end]}
		r.pos = end
		return key, v, true
	}
	r.bad = true
	return 0, v, false
}

// Done reports whether every field was read and nothing follows the map.
func (r *Reader) Done() bool { return !r.bad && r.left == 0 && r.pos == len(r.raw) }

// head reads a data item's major type and argument (definite lengths only).
func (r *Reader) head() (major byte, arg uint64, ok bool) {
	if r.pos >= len(r.raw) {
		return 0, 0, false
	}
	b := r.raw[r.pos]
	r.pos++
	major, info := b>>5, b&0x1f
	var n int
	switch {
	case info < 24:
		return major, uint64(info), true
	case info == 24:
		n = 1
	case info == 25:
		n = 2
	case info == 26:
		n = 4
	case info == 27:
		n = 8
	default:
		return 0, 0, false // indefinite length or reserved
	}
	if len(r.raw)-r.pos < n {
		return 0, 0, false
	}
	for _, c := range r.raw[r.pos : r.pos+n] {
		arg = arg<<8 | uint64(c)
	}
	r.pos += n
	return major, arg, true
}
