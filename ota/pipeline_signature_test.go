package ota

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

// objectCloud serves one object from memory, as GetObject and (when
// ranged) GetObjectStart; it counts the reads of each kind.
type objectCloud struct {
	Cloud // nil: other methods are not called
	data  []byte
	full  int
}

func (c *objectCloud) GetObject(ctx context.Context, bucket, key, version string) (io.ReadCloser, error) {
	c.full++
	return io.NopCloser(bytes.NewReader(c.data)), nil
}

type rangedCloud struct {
	*objectCloud
	ranged int
}

func (c *rangedCloud) GetObjectStart(ctx context.Context, bucket, key, version string, n int64) (io.ReadCloser, string, error) {
	c.ranged++
	if int64(len(c.data)) <= n {
		return io.NopCloser(bytes.NewReader(c.data)), version, nil
	}
	// As awscloud's: past the window, an error rather than io.EOF.
	return io.NopCloser(io.MultiReader(bytes.NewReader(c.data[:n]), errReader{})), version, nil
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("object continues") }

// TestReadSignature: the signature comes from the object's first bytes
// when Signer's order puts it there, and from the whole object otherwise:
// a payload first, a number cut at the window's end, a Cloud without
// ranged reads.
func TestReadSignature(t *testing.T) {
	payload := strings.Repeat("QUJD", 3*signatureWindow) // longer than the window
	fields := `"rawPayloadSize":1048576,"signature":"MEUCIQ==","signatureAlgorithm":"SHA256withECDSA"`
	// The last field a number, cut by the window's end after "10485".
	lastNumber := `"signature":"MEUCIQ==","signatureAlgorithm":"SHA256withECDSA","rawPayloadSize":`
	pad := strings.Repeat("p", signatureWindow-len(`{"x":"",`+lastNumber+`10485`))
	for _, c := range []struct {
		name        string
		object      string
		ranged      bool
		fullReads   int
		rangedReads int
	}{
		{"signer's order", `{` + fields + `,"payload":"` + payload + `"}`, true, 0, 1},
		{"small object", `{` + fields + `}`, true, 0, 1},
		{"payload first", `{"payload":"` + payload + `",` + fields + `}`, true, 1, 1},
		{"number cut at the window's end", `{"x":"` + pad + `",` + lastNumber + `1048576,"payload":"` + payload + `"}`, true, 1, 1},
		{"no ranged reads", `{` + fields + `,"payload":"` + payload + `"}`, false, 1, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			oc := &objectCloud{data: []byte(c.object)}
			rc := &rangedCloud{objectCloud: oc}
			var cloud Cloud = oc
			if c.ranged {
				cloud = rc
			}
			r := &run{p: &Pipeline{Cloud: cloud}}
			got, err := r.readSignature(context.Background(), "b", "k", "v")
			if err != nil {
				t.Fatal(err)
			}
			want := SignedObject{RawPayloadSize: 1048576, Signature: "MEUCIQ==", SignatureAlgorithm: "SHA256withECDSA"}
			if got != want {
				t.Errorf("read %+v, want %+v", got, want)
			}
			if oc.full != c.fullReads || rc.ranged != c.rangedReads {
				t.Errorf("%d whole and %d ranged reads, want %d and %d", oc.full, rc.ranged, c.fullReads, c.rangedReads)
			}
		})
	}
}
