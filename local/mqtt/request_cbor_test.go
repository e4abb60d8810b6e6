package mqtt

import (
	"bytes"
	"testing"

	"github.com/fxamacker/cbor/v2"
)

// TestDecodeGetCBORAgreesWithCBOR: the hand-written request decoder gives
// what the general one gives for the requests devices send, and declines
// (ok false) what it does not handle, so that the general decoder answers.
func TestDecodeGetCBORAgreesWithCBOR(t *testing.T) {
	for _, m := range []map[string]any{
		{"f": 0, "l": 4096, "o": 0, "n": 8},
		{"c": "tok-1", "s": 1, "f": 3, "l": 256, "o": 98304, "n": 1 << 20, "b": []byte{0xff, 0x01}},
		{"f": 255, "l": 131072, "b": bytes.Repeat([]byte{0x80}, 300)},
		{},
	} {
		raw, err := cbor.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var want streamRequest
		if err := cbor.Unmarshal(raw, &want); err != nil {
			t.Fatal(err)
		}
		got, ok := decodeGetCBOR(raw)
		if !ok {
			t.Fatalf("%v: declined", m)
		}
		for name, pair := range map[string][2]*int64{"s": {got.S, want.S}, "f": {got.F, want.F}, "l": {got.L, want.L}, "o": {got.O, want.O}, "n": {got.N, want.N}} {
			if (pair[0] == nil) != (pair[1] == nil) || pair[0] != nil && *pair[0] != *pair[1] {
				t.Errorf("%v: %s = %v, want %v", m, name, pair[0], pair[1])
			}
		}
		if (got.C == nil) != (want.C == nil) || got.C != nil && *got.C != *want.C || !bytes.Equal(got.B, want.B) {
			t.Errorf("%v: c %v b %x, want %v %x", m, got.C, got.B, want.C, want.B)
		}
	}
	good, _ := cbor.Marshal(map[string]any{"f": 1, "l": 4096})
	for name, raw := range map[string][]byte{
		"trailing byte":   append(append([]byte(nil), good...), 0),
		"truncated":       good[:len(good)-1],
		"unknown key":     mustCBOR(t, map[string]any{"f": 1, "x": 1}),
		"negative offset": mustCBOR(t, map[string]any{"f": 1, "o": -1}),
		"text file id":    mustCBOR(t, map[string]any{"f": "1"}),
		"duplicate key":   {0xa2, 0x61, 'f', 0x01, 0x61, 'f', 0x02},
		"indefinite map":  {0xbf, 0x61, 'f', 0x01, 0xff},
		"not a map":       {0x01},
		"huge length":     {0xa1, 0x61, 'b', 0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
		"above int64":     {0xa1, 0x61, 'n', 0x1b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
	} {
		if r, ok := decodeGetCBOR(raw); ok {
			t.Errorf("%s: decoded %+v, want declined", name, r)
		}
	}
}

func mustCBOR(t *testing.T, v any) []byte {
	t.Helper()
	raw, err := cbor.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return raw
}
