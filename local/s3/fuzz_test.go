package s3

import (
	"bufio"
	"io"
	"strings"
	"testing"
)

// FuzzChunked feeds arbitrary bodies to the aws-chunked decoder: it must
// end with data or an error, never panic or loop.
func FuzzChunked(f *testing.F) {
	f.Add("5\r\nhello\r\n0\r\n\r\n", int64(5))
	f.Add("5;chunk-signature=00\r\nhello\r\n0;chunk-signature=00\r\nx-amz-checksum-crc32:AAAA\r\n\r\n", int64(-1))
	f.Add("ffffffffffffffff\r\n", int64(-1))
	f.Add("-1\r\n", int64(0))
	f.Fuzz(func(t *testing.T, body string, want int64) {
		c := &chunkedReader{br: bufio.NewReaderSize(strings.NewReader(body), 64<<10), want: want}
		n, _ := io.Copy(io.Discard, io.LimitReader(c, int64(len(body))+1))
		if n > int64(len(body)) {
			t.Fatalf("decoded %d bytes from a %d-byte body", n, len(body))
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
