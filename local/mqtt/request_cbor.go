package mqtt

import "math"

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
	pos := 0
	head := func() (major byte, arg uint64, good bool) {
		if pos >= len(payload) {
			return 0, 0, false
		}
		b := payload[pos]
		pos++
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
			return 0, 0, false
		}
		if len(payload)-pos < n {
			return 0, 0, false
		}
		for _, c := range payload[pos : pos+n] {
			arg = arg<<8 | uint64(c)
		}
		pos += n
		return major, arg, true
	}
	major, fields, good := head()
	if !good || major != 5 || fields > 7 {
		return nil, false
	}
	h := &held{}
	var seen [256]bool
	for k := uint64(0); k < fields; k++ {
		if len(payload)-pos < 2 || payload[pos] != 0x61 {
			return nil, false
		}
		key := payload[pos+1]
		pos += 2
		if seen[key] {
			return nil, false
		}
		seen[key] = true
		major, arg, good := head()
		if !good {
			return nil, false
		}
		switch key {
		case 'c':
			if major != 3 || arg > uint64(len(payload)-pos) {
				return nil, false
			}
			h.c = string(payload[pos : pos+int(arg)])
			h.req.C = &h.c
			pos += int(arg)
		case 'b':
			if major != 2 || arg > uint64(len(payload)-pos) {
				return nil, false
			}
			h.req.B = payload[pos : pos+int(arg) : pos+int(arg)]
			pos += int(arg)
		case 's', 'f', 'l', 'o', 'n':
			if major != 0 || arg > math.MaxInt64 {
				return nil, false
			}
			v := int64(arg)
			switch key {
			case 's':
				h.s, h.req.S = v, &h.s
			case 'f':
				h.f, h.req.F = v, &h.f
			case 'l':
				h.l, h.req.L = v, &h.l
			case 'o':
				h.o, h.req.O = v, &h.o
			default:
				h.n, h.req.N = v, &h.n
			}
		default:
			return nil, false
		}
	}
	if pos != len(payload) {
		return nil, false
	}
	return &h.req, true
}
