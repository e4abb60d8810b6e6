package s3

import (
	"bufio"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"hash"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
	"strings"
)

// requestBody returns the object bytes of a PutObject request: the body
// itself, or decoded from the aws-chunked encoding the SDKs use for
// streaming signatures and trailing checksums. A flexible checksum the
// client sent (x-amz-checksum-* as a header or a trailer) is verified as
// the body is read: a mismatch fails the read, so nothing is stored.
func requestBody(r *http.Request) (io.Reader, error) {
	var body io.Reader = r.Body
	sha := r.Header.Get("X-Amz-Content-Sha256")
	var chunks *chunkedReader
	if strings.HasPrefix(sha, "STREAMING-") || strings.Contains(r.Header.Get("Content-Encoding"), "aws-chunked") {
		want := int64(-1)
		if v := r.Header.Get("X-Amz-Decoded-Content-Length"); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return nil, errorf(http.StatusBadRequest, "InvalidArgument", "Invalid x-amz-decoded-content-length %q.", v)
			}
			want = n
		}
		chunks = &chunkedReader{br: bufio.NewReaderSize(r.Body, 64<<10), want: want}
		body = chunks
	}
	alg, value := "", ""
	for k, v := range r.Header {
		if name, ok := strings.CutPrefix(strings.ToLower(k), "x-amz-checksum-"); ok && name != "algorithm" && name != "type" && len(v) > 0 {
			alg, value = name, v[0]
		}
	}
	if t := strings.ToLower(r.Header.Get("X-Amz-Trailer")); alg == "" && chunks != nil {
		alg, _ = strings.CutPrefix(strings.TrimSpace(t), "x-amz-checksum-")
	}
	h := checksumHash(alg)
	if h == nil {
		return body, nil // none sent, or an algorithm not checked here
	}
	expected := func() string {
		if value != "" {
			return value
		}
		return chunks.trailers["x-amz-checksum-"+alg]
	}
	return &checksumReader{r: body, h: h, alg: alg, expected: expected}, nil
}

func checksumHash(alg string) hash.Hash {
	switch alg {
	case "crc32":
		return crc32.NewIEEE()
	case "crc32c":
		return crc32.New(crc32.MakeTable(crc32.Castagnoli))
	case "sha1":
		return sha1.New()
	case "sha256":
		return sha256.New()
	}
	return nil
}

// checksumReader hashes what it reads and, at the end, fails with BadDigest
// if the checksum the client declared differs.
type checksumReader struct {
	r        io.Reader
	h        hash.Hash
	alg      string
	expected func() string
}

func (c *checksumReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.h.Write(p[:n])
	if err == io.EOF {
		got := base64.StdEncoding.EncodeToString(c.h.Sum(nil))
		if want := c.expected(); want != "" && want != got {
			return n, errorf(http.StatusBadRequest, "BadDigest",
				"The %s you specified did not match the calculated checksum.", strings.ToUpper(c.alg))
		}
	}
	return n, err
}

// chunkedReader decodes aws-chunked: "<hex size>[;chunk-signature=...]\r\n"
// <data> "\r\n" ... a zero-size chunk, then trailer lines "name:value\r\n"
// and an empty line. Chunk signatures are not verified (see the package
// local documentation).
type chunkedReader struct {
	br       *bufio.Reader
	left     int64 // bytes left in the current chunk
	total    int64
	want     int64 // declared decoded length, -1 unknown
	done     bool
	trailers map[string]string
}

var errChunk = errorf(http.StatusBadRequest, "IncompleteBody", "The aws-chunked request body is malformed or incomplete.")

func (c *chunkedReader) Read(p []byte) (int, error) {
	if c.done {
		return 0, io.EOF
	}
	if c.left == 0 {
		line, err := c.line()
		if err != nil {
			return 0, errChunk
		}
		sz, _, _ := strings.Cut(line, ";")
		n, perr := strconv.ParseInt(strings.TrimSpace(sz), 16, 64)
		if perr != nil || n < 0 {
			return 0, errChunk
		}
		if n == 0 {
			if err := c.readTrailers(); err != nil {
				return 0, err
			}
			c.done = true
			if c.want >= 0 && c.total != c.want {
				return 0, errChunk
			}
			return 0, io.EOF
		}
		c.left = n
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.br.Read(p)
	c.left -= int64(n)
	c.total += int64(n)
	if err == io.EOF {
		return n, errChunk
	}
	if err != nil {
		return n, err
	}
	if c.left == 0 {
		if l, err := c.line(); err != nil || l != "" {
			return n, errChunk
		}
	}
	return n, nil
}

// line reads one CRLF-terminated line (at most 4 KiB) without its ending.
func (c *chunkedReader) line() (string, error) {
	raw, err := c.br.ReadSlice('\n')
	if err != nil {
		if errors.Is(err, bufio.ErrBufferFull) || len(raw) > 4096 {
			return "", errChunk
		}
		return "", err
	}
	return strings.TrimRight(string(raw), "\r\n"), nil
}

func (c *chunkedReader) readTrailers() error {
	c.trailers = map[string]string{}
	for {
		l, err := c.line()
		if err == io.EOF && l == "" {
			return nil // some clients end the body right after the last trailer
		}
		if err != nil {
			return errChunk
		}
		if l == "" {
			return nil
		}
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			return errChunk
		}
		c.trailers[strings.ToLower(strings.TrimSpace(k))] = strings.TrimSpace(v)
	}
}
