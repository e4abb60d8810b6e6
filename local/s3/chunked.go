package s3

import (
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"hash/crc32"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/otactl/otactl/local/sigv4"
)

// requestBody returns the object bytes of a PutObject or UploadPart
// request: the body itself, or decoded from the aws-chunked encoding the
// SDKs use for streaming signatures and trailing checksums. A flexible
// checksum the client sent (x-amz-checksum-* as a header or a trailer) is
// verified as the body is read, and so are the chunk and trailer
// signatures when the router verified the request's seed signature
// (sigv4.Identity.Stream, strict auth): a mismatch fails the read before
// its end, and the caller, which stages the body in a blob and commits only
// after the last byte, stores nothing.
func requestBody(r *http.Request) (io.Reader, error) {
	var body io.Reader = r.Body
	mode := r.Header.Get("X-Amz-Content-Sha256")
	var chunks *chunkedReader
	if strings.HasPrefix(mode, "STREAMING-") || strings.Contains(r.Header.Get("Content-Encoding"), "aws-chunked") {
		want := int64(-1)
		if v := r.Header.Get("X-Amz-Decoded-Content-Length"); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n < 0 {
				return nil, errorf(http.StatusBadRequest, "InvalidArgument", "Invalid x-amz-decoded-content-length %q.", v)
			}
			want = n
		}
		var err error
		if chunks, err = newChunkedReader(r.Body, mode, want, r.Header.Get("X-Amz-Trailer")); err != nil {
			return nil, err
		}
		if id := sigv4.FromContext(r.Context()); id != nil && id.Stream != nil {
			chunks.verify = id.Stream
		}
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
