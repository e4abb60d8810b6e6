package signer

import (
	"bytes"
	"io"
	"testing"

	"github.com/otactl/otactl/local/acm"
	"github.com/otactl/otactl/local/store"
)

// discardObjects serves one in-memory source object and throws the signed
// object away, so the benchmark measures the signer itself.
type discardObjects struct{ data []byte }

func (d discardObjects) Versioning(string) (string, error) { return "Enabled", nil }
func (d discardObjects) Open(string, string, string) (io.ReadCloser, int64, error) {
	return io.NopCloser(bytes.NewReader(d.data)), int64(len(d.data)), nil
}
func (d discardObjects) Put(_, _ string, body io.Reader, _ string) error {
	_, err := io.Copy(io.Discard, body)
	return err
}

// BenchmarkSign16MiB signs a 16 MiB firmware: digest, ECDSA signature and
// the base64 signed object streamed out. Allocations stay flat with size.
func BenchmarkSign16MiB(b *testing.B) {
	st, err := store.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	certs := acm.New(st, testEnv)
	objs := discardObjects{data: make([]byte, 16<<20)}
	s := newService(st, testEnv, objs, certs, nil)
	defer s.Close()
	arn, err := s.generatedMaterial("bench", findPlatform("AmazonFreeRTOS-Default"))
	if err != nil {
		b.Fatal(err)
	}
	j := &job{ID: "bench-job", PlatformID: "AmazonFreeRTOS-Default", CertificateArn: arn,
		Source: s3Source{"src", "fw.bin", "v1"}, Destination: s3Destination{BucketName: "dst"}}
	b.SetBytes(int64(len(objs.data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := s.sign(j); err != nil {
			b.Fatal(err)
		}
	}
}
