package cbormap_test

import (
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/otactl/otactl/internal/cbormap"
)

func fields(t *testing.T, raw []byte, max int) (map[byte]cbormap.Value, bool) {
	t.Helper()
	r, ok := cbormap.New(raw, max)
	if !ok {
		return nil, false
	}
	out := map[byte]cbormap.Value{}
	for {
		k, v, more := r.Next()
		if !more {
			return out, r.Done()
		}
		out[k] = v
	}
}

func TestReadsTheStreamShape(t *testing.T) {
	raw, _ := cbor.Marshal(map[string]any{"c": "rdy", "f": 0, "l": 4096, "o": 300, "b": []byte{0xff, 1}})
	got, ok := fields(t, raw, 7)
	if !ok || string(got['c'].Bytes) != "rdy" || got['c'].Major != cbormap.Text || got['l'].Uint != 4096 ||
		got['o'].Uint != 300 || got['f'].Major != cbormap.Uint || string(got['b'].Bytes) != "\xff\x01" {
		t.Fatalf("%v %v", got, ok)
	}
	if b := got['b'].Bytes; cap(b) != len(b) {
		t.Errorf("a byte string's capacity reaches past it: %d > %d", cap(b), len(b))
	}
}

func TestRefuses(t *testing.T) {
	enc := func(v any) []byte { raw, _ := cbor.Marshal(v); return raw }
	for name, raw := range map[string][]byte{
		"not a map":         enc([]int{1}),
		"too many fields":   enc(map[string]int{"a": 1, "b": 2, "c": 3}),
		"longer key":        enc(map[string]int{"ab": 1}),
		"negative integer":  enc(map[string]int{"a": -1}),
		"nested map":        enc(map[string]any{"a": map[string]int{"b": 1}}),
		"trailing bytes":    append(enc(map[string]int{"a": 1}), 0),
		"duplicate key":     {0xa2, 0x61, 'a', 0x01, 0x61, 'a', 0x02},
		"indefinite string": {0xa1, 0x61, 'a', 0x5f, 0x41, 0x00, 0xff},
		"short string":      {0xa1, 0x61, 'a', 0x45, 0x00},
		"short argument":    {0xa1, 0x61, 'a', 0x19, 0x01},
		"empty":             {},
	} {
		if got, ok := fields(t, raw, 2); ok {
			t.Errorf("%s: read %v", name, got)
		}
	}
}

func BenchmarkDataBlock(b *testing.B) {
	raw, _ := cbor.Marshal(map[string]any{"c": "x", "f": 0, "l": 4096, "i": 7, "p": make([]byte, 4096)})
	b.ReportAllocs()
	for b.Loop() {
		r, _ := cbormap.New(raw, 5)
		for {
			if _, _, more := r.Next(); !more {
				break
			}
		}
		if !r.Done() {
			b.Fatal("not done")
		}
	}
}
