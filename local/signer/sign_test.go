package signer

import (
	"bytes"
	"encoding/json"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// TestWriteSignedChunks writes signed objects whose payloads end around
// the read chunk (and base64 padding) boundaries, and reads them back as
// JSON: head first, then the whole payload.
func TestWriteSignedChunks(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, size := range []int{1, 2, 3, readChunk - 1, readChunk, readChunk + 1, 2*readChunk + 2, 3*readChunk + 4} {
		payload := make([]byte, size)
		for i := range payload {
			payload[i] = byte(rng.Uint32())
		}
		var out bytes.Buffer
		if err := writeSigned(&out, bytes.NewReader(payload), make([]byte, readChunk), int64(size), []byte("sig-der"), "SHA256withECDSA"); err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if !strings.HasPrefix(out.String(), `{"rawPayloadSize":`) {
			t.Fatalf("size %d: the signed object starts %.40q", size, out.String())
		}
		var doc struct {
			RawPayloadSize     int    `json:"rawPayloadSize"`
			Signature          []byte `json:"signature"`
			SignatureAlgorithm string `json:"signatureAlgorithm"`
			Payload            []byte `json:"payload"`
		}
		if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if doc.RawPayloadSize != size || string(doc.Signature) != "sig-der" || doc.SignatureAlgorithm != "SHA256withECDSA" || !bytes.Equal(doc.Payload, payload) {
			t.Fatalf("size %d: the signed object does not round-trip (payload %d bytes)", size, len(doc.Payload))
		}
	}
}

// TestWriteSignedSizeChanged: a source that is not the size the first
// pass read fails the job rather than writing a wrong rawPayloadSize.
func TestWriteSignedSizeChanged(t *testing.T) {
	for _, n := range []int{readChunk - 3, readChunk + 3} {
		err := writeSigned(io.Discard, bytes.NewReader(make([]byte, n)), make([]byte, readChunk), readChunk, []byte("s"), "SHA256withECDSA")
		if err == nil || !strings.Contains(err.Error(), "changed size") {
			t.Fatalf("%d bytes read for %d: %v", n, readChunk, err)
		}
	}
}
