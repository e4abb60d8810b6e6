package mqtt_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/otactl/otactl/local/mqtt"
)

func body(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

type block struct {
	C string `cbor:"c" json:"c"`
	F int    `cbor:"f" json:"f"`
	L int    `cbor:"l" json:"l"`
	I int    `cbor:"i" json:"i"`
	P []byte `cbor:"p" json:"p"`
}

func (d *device) cborMsg(topic string, v any) {
	d.t.Helper()
	raw, err := cbor.Marshal(v)
	if err != nil {
		d.t.Fatal(err)
	}
	d.pub(topic, raw)
}

func (d *device) block(format, topic string) block {
	d.t.Helper()
	var b block
	raw := d.next(topic)
	var err error
	if format == "cbor" {
		err = cbor.Unmarshal(raw, &b)
	} else {
		err = json.Unmarshal(raw, &b)
	}
	if err != nil {
		d.t.Fatalf("%s: %v", topic, err)
	}
	return b
}

func TestStreamDescribe(t *testing.T) {
	e := newEnv(t, mqtt.Config{})
	e.thing("dev-1")
	e.stream("s1", body(10000), body(300))
	d := connect(t, e, "dev-1")
	base := "$aws/things/dev-1/streams/s1/"

	d.pub(base+"describe/json", []byte(`{"c":"d1"}`))
	m := d.nextJSON(base + "description/json")
	want := map[string]any{"c": "d1", "s": 1.0, "d": "firmware s1", "r": []any{
		map[string]any{"f": 0.0, "z": 10000.0}, map[string]any{"f": 1.0, "z": 300.0}}}
	if g, _ := json.Marshal(m); string(g) != string(mustJSON(want)) {
		t.Errorf("description/json = %s", g)
	}

	d.cborMsg(base+"describe/cbor", map[string]any{"c": "d2"})
	var desc struct {
		C string `cbor:"c"`
		S int    `cbor:"s"`
		R []struct {
			F int `cbor:"f"`
			Z int `cbor:"z"`
		} `cbor:"r"`
	}
	if err := cbor.Unmarshal(d.next(base+"description/cbor"), &desc); err != nil {
		t.Fatal(err)
	}
	if desc.C != "d2" || desc.S != 1 || len(desc.R) != 2 || desc.R[0].Z != 10000 || desc.R[1].F != 1 {
		t.Errorf("description/cbor = %+v", desc)
	}
}

func mustJSON(v any) []byte { b, _ := json.Marshal(v); return b }

func TestStreamGet(t *testing.T) {
	e := newEnv(t, mqtt.Config{})
	e.thing("dev-1")
	file := body(10000)
	e.stream("s1", file)
	d := connect(t, e, "dev-1")
	base := "$aws/things/dev-1/streams/s1/"

	check := func(b block, i, l int) {
		t.Helper()
		end := min((i+1)*l, len(file))
		if b.I != i || b.F != 0 || b.L != end-i*l || !bytes.Equal(b.P, file[i*l:end]) {
			t.Fatalf("block %d: got i=%d l=%d len(p)=%d", i, b.I, b.L, len(b.P))
		}
	}

	// CBOR, as the FreeRTOS agent asks: a window of n blocks.
	d.cborMsg(base+"get/cbor", map[string]any{"c": "rdy", "f": 0, "l": 1024, "o": 0, "n": 3})
	for i := 0; i < 3; i++ {
		b := d.block("cbor", base+"data/cbor")
		check(b, i, 1024)
		if b.C != "rdy" {
			t.Errorf("client token %q", b.C)
		}
	}
	// JSON from an offset to the end: the last block is short, base64 payload.
	d.pub(base+"get/json", []byte(`{"f":0,"l":1024,"o":8}`))
	check(d.block("json", base+"data/json"), 8, 1024)
	raw := d.next(base + "data/json")
	check(func() block { var b block; json.Unmarshal(raw, &b); return b }(), 9, 1024)
	if !strings.Contains(string(raw), `"p":"`+base64.StdEncoding.EncodeToString(file[9216:])+`"`) {
		t.Errorf("JSON payload is not base64: %.80s", raw)
	}

	// A bitmap of missing blocks, LSB first: bits 0,2,5 of byte 0 and bit 1
	// of byte 1 ask for blocks o+0, o+2, o+5, o+9.
	d.cborMsg(base+"get/cbor", map[string]any{"f": 0, "l": 256, "o": 4, "b": []byte{0b00100101, 0b00000010}})
	for _, i := range []int{4, 6, 9, 13} {
		check(d.block("cbor", base+"data/cbor"), i, 256)
	}
	// n limits what the bitmap asks for; JSON carries the bitmap in hex.
	d.pub(base+"get/json", []byte(`{"f":0,"l":256,"o":4,"n":2,"b":"0x2502"}`))
	check(d.block("json", base+"data/json"), 4, 256)
	check(d.block("json", base+"data/json"), 6, 256)
	// Bits past the end of the file are ignored.
	d.cborMsg(base+"get/cbor", map[string]any{"f": 0, "l": 4096, "o": 2, "b": []byte{0xff}})
	check(d.block("cbor", base+"data/cbor"), 2, 4096)
	// The describe answer comes after any data of the requests before it.
	d.pub(base+"describe/json", nil)
	d.next(base + "description/json")

	if e.objs.maxRead > 4096 {
		t.Errorf("a read of %d bytes: reads must cover a request's blocks, not the file", e.objs.maxRead)
	}
}

// TestStream128KiB: a request asking for more than 128 KiB gets the first
// 128 KiB (as AWS: the request does not fail; the device asks again).
func TestStream128KiB(t *testing.T) {
	e := newEnv(t, mqtt.Config{})
	e.thing("dev-1")
	file := body(300 << 10)
	e.stream("big", file)
	d := connect(t, e, "dev-1")
	base := "$aws/things/dev-1/streams/big/"
	d.cborMsg(base+"get/cbor", map[string]any{"f": 0, "l": 4096, "o": 0, "n": 100})
	d.cborMsg(base+"get/cbor", map[string]any{"f": 0, "l": 131072, "o": 2}) // the last, short block
	d.pub(base+"describe/json", nil)
	got, total := 0, 0
	for {
		p := <-d.msgs
		if p.Topic == base+"description/json" {
			break
		}
		var b block
		if err := cbor.Unmarshal(p.Payload, &b); err != nil {
			t.Fatal(err)
		}
		got++
		total += len(b.P)
	}
	if got != 32+1 || total != 32*4096+(300<<10)-2*131072 {
		t.Fatalf("got %d blocks, %d bytes; want 33 blocks (32 × 4 KiB, then the last 128 KiB block)", got, total)
	}
}

func TestStreamRejections(t *testing.T) {
	e := newEnv(t, mqtt.Config{})
	e.thing("dev-1")
	e.stream("s1", body(10000))
	d := connect(t, e, "dev-1")
	base := "$aws/things/dev-1/streams/"
	cases := []struct {
		stream string
		req    map[string]any
		code   string
	}{
		{"s1", map[string]any{"c": "x", "f": 0, "l": 100}, "BlockSizeOutOfBounds"},
		{"s1", map[string]any{"c": "x", "f": 0, "l": 262144}, "BlockSizeOutOfBounds"},
		{"s1", map[string]any{"c": "x", "f": 0}, "BlockSizeOutOfBounds"},
		{"s1", map[string]any{"c": "x", "f": 0, "l": 256, "o": 99999}, "OffsetOutOfBounds"},
		{"s1", map[string]any{"c": "x", "f": 0, "l": 4096, "o": 3}, "OffsetOutOfBounds"},
		{"s1", map[string]any{"c": "x", "f": 0, "l": 256, "n": 100000}, "BlockCountLimitExceeded"},
		{"s1", map[string]any{"c": "x", "f": 0, "l": 256, "b": make([]byte, 12288)}, "BlockBitmapLimitExceeded"},
		{"s1", map[string]any{"c": "x", "s": 7, "f": 0, "l": 256}, "VersionMismatch"},
		{"s1", map[string]any{"c": "x", "f": 5, "l": 256}, "ResourceNotFound"},
		{"s1", map[string]any{"c": "x", "l": 256}, "InvalidRequest"},
		{"s1", map[string]any{"c": "x", "f": "zero", "l": 256}, "InvalidRequest"},
		{"nope", map[string]any{"c": "x", "f": 0, "l": 256}, "ResourceNotFound"},
	}
	for _, format := range []string{"cbor", "json"} {
		for _, c := range cases {
			if format == "json" {
				if bm, ok := c.req["b"].([]byte); ok {
					c.req["b"] = "0x" + strings.Repeat("00", len(bm))
				}
				d.pubJSON(base+c.stream+"/get/json", c.req)
			} else {
				d.cborMsg(base+c.stream+"/get/cbor", c.req)
			}
			var rej struct {
				O string `cbor:"o" json:"o"`
				M string `cbor:"m" json:"m"`
				C string `cbor:"c" json:"c"`
			}
			raw := d.next(base + c.stream + "/rejected/" + format)
			if format == "cbor" {
				cbor.Unmarshal(raw, &rej)
			} else {
				json.Unmarshal(raw, &rej)
			}
			if rej.O != c.code || rej.M == "" || rej.C != "x" {
				t.Errorf("%s %v: got %+v, want %s", format, c.req, rej, c.code)
			}
		}
	}
	// Undecodable requests, and a token too long to echo.
	d.pub(base+"s1/get/json", []byte(`{"f":`))
	if m := d.nextJSON(base + "s1/rejected/json"); m["o"] != "InvalidJson" {
		t.Errorf("bad JSON: %v", m)
	}
	d.pub(base+"s1/get/cbor", []byte{0xff, 0x00})
	var rej map[string]any
	cbor.Unmarshal(d.next(base+"s1/rejected/cbor"), &rej)
	if rej["o"] != "InvalidCbor" {
		t.Errorf("bad CBOR: %v", rej)
	}
	d.pubJSON(base+"s1/describe/json", map[string]any{"c": strings.Repeat("c", 65)})
	if m := d.nextJSON(base + "s1/rejected/json"); m["o"] != "InvalidRequest" || m["c"] != nil {
		t.Errorf("long token: %v", m)
	}
	d.pub(base+"s1/describe/xml", nil)
	if m := d.nextJSON(base + "s1/rejected/json"); m["o"] != "InvalidTopic" {
		t.Errorf("unknown format: %v", m)
	}
}
