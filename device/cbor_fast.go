package device

import (
	"math"

	"github.com/otactl/otactl/internal/cbormap"
)

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
	r, ok := cbormap.New(raw, 5)
	if !ok {
		return d, false
	}
	for {
		key, v, more := r.Next()
		if !more {
			return d, r.Done()
		}
		switch {
		case key == 'c' && v.Major == cbormap.Text:
			d.C = string(v.Bytes)
		case key == 'p' && v.Major == cbormap.Bytes:
			d.P = v.Bytes
		case (key == 'f' || key == 'l' || key == 'i') && v.Major == cbormap.Uint && v.Uint <= math.MaxInt:
			switch key {
			case 'f':
				d.F = int(v.Uint)
			case 'l':
				d.L = int(v.Uint)
			default:
				d.I = int(v.Uint)
			}
		default:
			return d, false
		}
	}
}
