package s3

import (
	"io"
	"strings"
	"testing"

	"github.com/otactl/otactl/local/sigv4"
)

// FuzzChunked feeds arbitrary bodies to the aws-chunked decoder in each
// payload mode, with and without signature verification: it must end with
// data or an error, never panic or loop, never decode more than it was
// given, and never reach the end of a verified body whose signatures are
// not those of the secret (the fuzzer cannot forge HMAC-SHA256).
func FuzzChunked(f *testing.F) {
	f.Add("5\r\nhello\r\n0\r\n\r\n", int64(5), uint8(0), "")
	f.Add("5;chunk-signature=00\r\nhello\r\n0;chunk-signature=00\r\nx-amz-checksum-crc32:AAAA\r\n\r\n", int64(-1), uint8(1), "")
	f.Add("0;chunk-signature="+strings.Repeat("a", 64)+"\r\nx-amz-checksum-crc32:AAAA\r\nx-amz-trailer-signature:"+strings.Repeat("b", 64)+"\r\n\r\n", int64(0), uint8(2), "x-amz-checksum-crc32")
	f.Add("b\r\nhello world\r\n0\r\nx-amz-checksum-crc32:AAAA\r\n\r\n", int64(11), uint8(3), "x-amz-checksum-crc32")
	f.Add("ffffffffffffffff\r\n", int64(-1), uint8(0), "")
	f.Add("-1\r\n", int64(0), uint8(0), "")
	modes := []string{"UNSIGNED-PAYLOAD", sigv4.StreamingSigned, sigv4.StreamingSignedTrailer, sigv4.StreamingUnsignedTrailer}
	f.Fuzz(func(t *testing.T, body string, want int64, mode uint8, trailer string) {
		m := modes[int(mode)%len(modes)]
		for _, verify := range []bool{false, true} {
			c, err := newChunkedReader(strings.NewReader(body), m, want, trailer)
			if err != nil {
				return
			}
			if verify {
				c.verify = sigv4.NewStream("secret", "20260101T000000Z", "20260101/us-east-1/s3/aws4_request", strings.Repeat("0", 64), m == sigv4.StreamingSignedTrailer)
			}
			n, err := io.Copy(io.Discard, io.LimitReader(c, int64(len(body))+1))
			if n > int64(len(body)) {
				t.Fatalf("decoded %d bytes from a %d-byte body", n, len(body))
			}
			if verify && c.signed && err == nil {
				t.Fatalf("a body with forged signatures verified: %q", body)
			}
		}
	})
}

// FuzzRange checks parseRange returns a range inside the object or an error.
func FuzzRange(f *testing.F) {
	for _, s := range []string{"bytes=0-1", "bytes=-5", "bytes=3-", "bytes=9-2", "bytes=", "bytes=-", "bytes=1-2,3-4"} {
		f.Add(s, int64(10))
	}
	f.Fuzz(func(t *testing.T, h string, size int64) {
		if size < 0 {
			size = -size
		}
		start, length, _, err := parseRange(h, size)
		if err == nil && (start < 0 || length < 0 || start+length > size) {
			t.Fatalf("parseRange(%q, %d) = %d+%d", h, size, start, length)
		}
	})
}
