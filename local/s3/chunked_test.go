package s3_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdks3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

// TestSDKChecksums puts objects the ways the Go SDK v2 sends them by
// default (config.LoadDefaultConfig sets WhenSupported): over HTTPS an
// aws-chunked body with a trailing CRC32 (seekable or not), over HTTP a
// CRC32 header. The stored bytes must be exactly the payload.
func TestSDKChecksums(t *testing.T) {
	f := newFixture(t)
	f.bucket(t, "bkt", "Enabled")
	var seen []http.Header
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Header.Clone())
		f.svc.ServeHTTP(w, r)
	}))
	defer tlsSrv.Close()
	payload := make([]byte, 3<<20+17) // several chunks
	rand.Read(payload)

	cfg := f.cfg
	cfg.BaseEndpoint = aws.String(tlsSrv.URL)
	cfg.HTTPClient = tlsSrv.Client()
	cfg.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenSupported
	c := sdks3.NewFromConfig(cfg, func(o *sdks3.Options) { o.UsePathStyle = true })
	bodies := map[string]func() io.Reader{
		"seekable":   func() io.Reader { return bytes.NewReader(payload) },
		"unseekable": func() io.Reader { return io.MultiReader(bytes.NewReader(payload)) },
	}
	for name, body := range bodies {
		seen = nil
		_, err := c.PutObject(ctx, &sdks3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String(name),
			Body: body(), ContentLength: aws.Int64(int64(len(payload))), ChecksumAlgorithm: "CRC32"})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		h := seen[len(seen)-1]
		if h.Get("Content-Encoding") != "aws-chunked" || h.Get("X-Amz-Trailer") != "x-amz-checksum-crc32" {
			t.Fatalf("%s: SDK did not send aws-chunked with a trailer: %v", name, h)
		}
		if got := f.get(t, "bkt", name, ""); got != string(payload) {
			t.Fatalf("%s: stored %d bytes, want the %d-byte payload", name, len(got), len(payload))
		}
	}

	// Plain HTTP: the checksum travels as a header and is verified too.
	cfg = f.cfg
	cfg.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenSupported
	c = sdks3.NewFromConfig(cfg, func(o *sdks3.Options) { o.UsePathStyle = true })
	if _, err := c.PutObject(ctx, &sdks3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("http"),
		Body: bytes.NewReader(payload), ChecksumAlgorithm: "CRC32"}); err != nil {
		t.Fatal(err)
	}
	if h := f.lastRequest(); h.Get("X-Amz-Checksum-Crc32") == "" {
		t.Fatalf("SDK sent no checksum header: %v", h)
	}
	status, body, _ := rawRequest(t, http.MethodPut, f.url+"/bkt/badsum", []byte("data"),
		map[string]string{"x-amz-checksum-crc32": "AAAAAA=="})
	if status != 400 || !strings.Contains(body, "<Code>BadDigest</Code>") {
		t.Fatalf("bad checksum header: %d %s", status, body)
	}
}

func chunk(data string, sig bool) string {
	ext := ""
	if sig {
		ext = ";chunk-signature=" + strings.Repeat("0", 64)
	}
	return fmt.Sprintf("%x%s\r\n%s\r\n", len(data), ext, data)
}

// TestAwsChunkedBodies sends hand-made aws-chunked bodies straight to the
// S3 service (no router, so signatures are parsed but not verified): signed
// chunks (STREAMING-AWS4-HMAC-SHA256-PAYLOAD), unsigned with a trailer, a
// wrong trailer checksum, a wrong decoded length, a truncated body, and
// each way the framing can break. Verified signatures are tested through
// the router in package local (s3auth_test.go).
func TestAwsChunkedBodies(t *testing.T) {
	f := newFixture(t)
	f.bucket(t, "bkt", "Enabled")
	sum := crc32.ChecksumIEEE([]byte("hello world"))
	good := base64.StdEncoding.EncodeToString([]byte{byte(sum >> 24), byte(sum >> 16), byte(sum >> 8), byte(sum)})
	cases := []struct {
		name, body string
		hdr        map[string]string
		status     int
		code       string
	}{
		{"signed", chunk("hello ", true) + chunk("world", true) + chunk("", true),
			map[string]string{"X-Amz-Content-Sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "X-Amz-Decoded-Content-Length": "11"}, 200, ""},
		{"trailer", chunk("hello ", false) + chunk("world", false) + "0\r\nx-amz-checksum-crc32:" + good + "\r\n\r\n",
			map[string]string{"X-Amz-Content-Sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "Content-Encoding": "aws-chunked",
				"X-Amz-Trailer": "x-amz-checksum-crc32", "X-Amz-Decoded-Content-Length": "11"}, 200, ""},
		{"badtrailer", chunk("hello ", false) + chunk("world", false) + "0\r\nx-amz-checksum-crc32:AAAAAA==\r\n\r\n",
			map[string]string{"X-Amz-Content-Sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "Content-Encoding": "aws-chunked",
				"X-Amz-Trailer": "x-amz-checksum-crc32", "X-Amz-Decoded-Content-Length": "11"}, 400, "BadDigest"},
		{"badlength", chunk("hello world", false) + "0\r\n\r\n",
			map[string]string{"Content-Encoding": "aws-chunked", "X-Amz-Decoded-Content-Length": "12"}, 400, "IncompleteBody"},
		{"truncated", chunk("hello world", false)[:8],
			map[string]string{"Content-Encoding": "aws-chunked"}, 400, "IncompleteBody"},
		{"garbage", "zz\r\nhello\r\n",
			map[string]string{"Content-Encoding": "aws-chunked"}, 400, "IncompleteBody"},
		// Strict framing, whether or not signatures are verified.
		{"unsignedchunk", chunk("hello ", true) + chunk("world", false) + chunk("", true),
			map[string]string{"X-Amz-Content-Sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"}, 400, "IncompleteBody"},
		{"shortsig", "b;chunk-signature=00\r\nhello world\r\n" + chunk("", true),
			map[string]string{"X-Amz-Content-Sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"}, 400, "IncompleteBody"},
		{"sigunsigned", chunk("hello world", true) + "0\r\nx-amz-checksum-crc32:" + good + "\r\n\r\n",
			map[string]string{"X-Amz-Content-Sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "X-Amz-Trailer": "x-amz-checksum-crc32"}, 400, "IncompleteBody"},
		{"after", chunk("hello world", false) + "0\r\n\r\nmore",
			map[string]string{"Content-Encoding": "aws-chunked"}, 400, "IncompleteBody"},
		{"noend", chunk("hello world", false) + "0\r\n",
			map[string]string{"Content-Encoding": "aws-chunked"}, 400, "IncompleteBody"},
		{"lf", "b\nhello world\n0\n\n",
			map[string]string{"Content-Encoding": "aws-chunked"}, 400, "IncompleteBody"},
		{"signedsize", "+b\r\nhello world\r\n0\r\n\r\n",
			map[string]string{"Content-Encoding": "aws-chunked"}, 400, "IncompleteBody"},
		{"undeclared", chunk("hello world", false) + "0\r\nx-amz-meta-evil:1\r\n\r\n",
			map[string]string{"X-Amz-Content-Sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER"}, 400, "IncompleteBody"},
		{"missingtrailer", chunk("hello world", false) + "0\r\n\r\n",
			map[string]string{"X-Amz-Content-Sha256": "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "X-Amz-Trailer": "x-amz-checksum-crc32"}, 400, "IncompleteBody"},
		{"notrailersig", chunk("hello world", true) + chunk("", true)[:len(chunk("", true))-2] + "x-amz-checksum-crc32:" + good + "\r\n\r\n",
			map[string]string{"X-Amz-Content-Sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", "X-Amz-Trailer": "x-amz-checksum-crc32"}, 400, "IncompleteBody"},
		{"trailersig", chunk("hello world", true) + chunk("", true)[:len(chunk("", true))-2] + "x-amz-checksum-crc32:" + good +
			"\r\nx-amz-trailer-signature:" + strings.Repeat("0", 64) + "\r\n\r\n",
			map[string]string{"X-Amz-Content-Sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER", "X-Amz-Trailer": "x-amz-checksum-crc32"}, 200, ""},
	}
	for _, c := range cases {
		status, body, _ := rawRequest(t, http.MethodPut, f.url+"/bkt/"+c.name, []byte(c.body), c.hdr)
		if status != c.status || (c.code != "" && !strings.Contains(body, "<Code>"+c.code+"</Code>")) {
			t.Errorf("%s: %d %s, want %d %s", c.name, status, body, c.status, c.code)
			continue
		}
		_, err := f.svc.HeadObject("bkt", c.name, "")
		if c.status == 200 {
			if got := f.get(t, "bkt", c.name, ""); got != "hello world" {
				t.Errorf("%s: stored %q", c.name, got)
			}
		} else if err == nil {
			t.Errorf("%s: a rejected body was stored", c.name)
		}
	}
}
