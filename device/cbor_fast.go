package device

import "math"

// decodeDataFast decodes the data/cbor messages brokers send, a map of
// 1-character text keys c (text), f, l, i (unsigned) and p (a byte string
// of definite length), without reflection and without copying the block:
// P is a slice of raw, which the caller owns (mqttwire hands every handler
// a fresh payload). A simulated fleet decodes a block per 4 KiB it
// downloads, on the same CPUs as the broker it measures. ok is false for
// anything else (another key or type, a duplicate, indefinite lengths,
// bytes after the map): DecodeData then asks the general decoder, which
// also gives the error.
func decodeDataFast(raw []byte) (d DataBlock, ok bool) {
	pos := 0
	// head reads a data item's major type and argument.
	head := func() (major byte, arg uint64, good bool) {
		if pos >= len(raw) {
			return 0, 0, false
		}
		b := raw[pos]
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
			return 0, 0, false // indefinite length or reserved
		}
		if len(raw)-pos < n {
			return 0, 0, false
		}
		for _, c := range raw[pos : pos+n] {
			arg = arg<<8 | uint64(c)
		}
		pos += n
		return major, arg, true
	}
	major, fields, good := head()
	if !good || major != 5 || fields > 5 {
		return d, false
	}
	var seen [256]bool
	for k := uint64(0); k < fields; k++ {
		if len(raw)-pos < 2 || raw[pos] != 0x61 {
			return d, false
		}
		key := raw[pos+1]
		pos += 2
		if seen[key] {
			return d, false
		}
		seen[key] = true
		major, arg, good := head()
		if !good {
			return d, false
		}
		switch {
		case key == 'c' && major == 3 && arg <= uint64(len(raw)-pos):
			d.C = string(raw[pos : pos+int(arg)])
			pos += int(arg)
		case key == 'p' && major == 2 && arg <= uint64(len(raw)-pos):
			d.P = raw[pos : pos+int(arg) : pos+int(arg)]
			pos += int(arg)
		case (key == 'f' || key == 'l' || key == 'i') && major == 0 && arg <= math.MaxInt:
			switch key {
			case 'f':
				d.F = int(arg)
			case 'l':
				d.L = int(arg)
			default:
				d.I = int(arg)
			}
		default:
			return d, false
		}
	}
	return d, pos == len(raw)
}
