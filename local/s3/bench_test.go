package s3_test

import (
	"bytes"
	"crypto/rand"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdks3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

const benchSize = 16 << 20

// BenchmarkPutObject16MiB puts a 16 MiB object through the SDK over
// loopback HTTP (the body is hashed by the SDK for SigV4, then streamed to
// a synced blob file by the server).
func BenchmarkPutObject16MiB(b *testing.B) {
	f := newFixture(b)
	f.bucket(b, "bench", "Enabled")
	payload := make([]byte, benchSize)
	rand.Read(payload)
	b.SetBytes(benchSize)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		_, err := f.client.PutObject(ctx, &sdks3.PutObjectInput{Bucket: aws.String("bench"), Key: aws.String("obj"),
			Body: bytes.NewReader(payload)})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGetObject16MiB reads a 16 MiB object through the SDK over
// loopback HTTP (served from the blob file).
func BenchmarkGetObject16MiB(b *testing.B) {
	f := newFixture(b)
	f.bucket(b, "bench", "")
	payload := make([]byte, benchSize)
	rand.Read(payload)
	f.client.PutObject(ctx, &sdks3.PutObjectInput{Bucket: aws.String("bench"), Key: aws.String("obj"), Body: bytes.NewReader(payload)})
	buf := make([]byte, 64<<10)
	b.SetBytes(benchSize)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, err := f.client.GetObject(ctx, &sdks3.GetObjectInput{Bucket: aws.String("bench"), Key: aws.String("obj")})
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.CopyBuffer(io.Discard, out.Body, buf)
		out.Body.Close()
		if err != nil || n != benchSize {
			b.Fatalf("read %d, %v", n, err)
		}
	}
}
