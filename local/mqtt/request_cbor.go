package mqtt

import (
	"math"

	"github.com/otactl/otactl/internal/cbormap"
)

// decodeGetCBOR decodes the stream requests devices send, a CBOR map of
// 1-character text keys: c (text), s, f, l, o, n (unsigned integers) and b
// (a byte string), without reflection and with one allocation: a fleet
// sends one per window of blocks. B is a slice of payload (the request is
// served before the packet is let go). ok is false for anything else
// (another key or type, negative numbers, a duplicate, indefinite lengths,
// bytes after the map): the general decoder then answers, with its error.
func decodeGetCBOR(payload []byte) (req *streamRequest, ok bool) {
	type held struct {
		req           streamRequest
		c             string
		s, f, l, o, n int64
	}
	r, ok := cbormap.New(payload, 7)
	if !ok {
		return nil, false
	}
	h := &held{}
	for {
		key, v, more := r.Next()
		if !more {
			if !r.Done() {
				return nil, false
			}
			return &h.req, true
		}
		switch key {
		case 'c':
			if v.Major != cbormap.Text {
				return nil, false
			}
			h.c = string(v.Bytes)
			h.req.C = &h.c
		case 'b':
			if v.Major != cbormap.Bytes {
				return nil, false
			}
			h.req.B = v.Bytes
		case 's', 'f', 'l', 'o', 'n':
			if v.Major != cbormap.Uint || v.Uint > math.MaxInt64 {
				return nil, false
			}
			n := int64(v.Uint)
			switch key {
			case 's':
				h.s, h.req.S = n, &h.s
			case 'f':
				h.f, h.req.F = n, &h.f
			case 'l':
				h.l, h.req.L = n, &h.l
			case 'o':
				h.o, h.req.O = n, &h.o
			default:
				h.n, h.req.N = n, &h.n
			}
		default:
			return nil, false
		}
	}
}
