package device

import (
	"bytes"
	"reflect"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// TestDecodeDataFastAgreesWithCBOR: the hand-written decoder gives what
// the general one gives for the shapes brokers send (with and without a
// token, every integer width), and declines (ok false) whatever it does
// not handle, so that DecodeData falls back to the general decoder.
func TestDecodeDataFastAgreesWithCBOR(t *testing.T) {
	big := bytes.Repeat([]byte{7}, 70000)
	for _, m := range []map[string]any{
		{"f": 0, "l": 3, "i": 0, "p": []byte("abc")},
		{"c": "tok", "f": 255, "l": 4096, "i": 98303, "p": big[:4096]},
		{"f": 1, "l": 70000, "i": 1 << 33, "p": big},
		{"p": []byte{}, "i": 23, "l": 0, "f": 24},
	} {
		raw, err := cbor.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var want DataBlock
		if err := cbor.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		got, ok := decodeDataFast(raw)
		if !ok || got.C != want.C || got.F != want.F || got.L != want.L || got.I != want.I || !bytes.Equal(got.P, want.P) {
			t.Errorf("%v: fast %+v ok %v, want %+v", m, got, ok, want)
		}
		// Through DecodeData too (it checks l against p).
		if blk, err := DecodeData(raw); err != nil || !reflect.DeepEqual(blk.I, want.I) {
			t.Errorf("DecodeData: %+v %v", blk, err)
		}
	}
	good, _ := cbor.Marshal(map[string]any{"f": 1, "l": 3, "i": 7, "p": []byte("abc")})
	for name, raw := range map[string][]byte{
		"trailing byte":   append(append([]byte(nil), good...), 0),
		"truncated":       good[:len(good)-1],
		"unknown key":     must(cbor.Marshal(map[string]any{"f": 1, "l": 3, "i": 7, "p": []byte("abc"), "x": 1})),
		"negative index":  must(cbor.Marshal(map[string]any{"f": 1, "l": 3, "i": -1, "p": []byte("abc")})),
		"text payload":    must(cbor.Marshal(map[string]any{"f": 1, "l": 3, "i": 7, "p": "abc"})),
		"duplicate key":   {0xa2, 0x61, 'f', 0x01, 0x61, 'f', 0x02},
		"indefinite map":  {0xbf, 0x61, 'f', 0x01, 0xff},
		"not a map":       {0x01},
		"empty":           {},
		"huge byte count": {0xa1, 0x61, 'p', 0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
	} {
		if d, ok := decodeDataFast(raw); ok {
			t.Errorf("%s: decoded %+v, want declined", name, d)
		}
	}
}

func must(raw []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return raw
}
