package s3

import (
	"bufio"
	"crypto/sha256"
	"errors"
	"hash"
	"io"
	"net/http"
	"strings"

	"github.com/otactl/otactl/local/sigv4"
)

// chunkedReader decodes aws-chunked, strictly:
//
//	<hex size>[;chunk-signature=<sig>] CRLF <data> CRLF ... (more chunks)
//	0[;chunk-signature=<sig>] CRLF
//	[<name>:<value> CRLF ...] (trailers, when the mode has them)
//	CRLF
//
// The signed modes (STREAMING-AWS4-*-PAYLOAD[-TRAILER]) must carry a
// chunk-signature on every chunk, and the -TRAILER ones an
// x-amz-trailer-signature as the last trailer; the unsigned modes must
// carry neither. When verify is set (the router verified the seed
// signature under strict auth) each signature is checked as its chunk
// ends, so Read fails on the first bad chunk and never reaches io.EOF.
type chunkedReader struct {
	br            *bufio.Reader
	signed        bool     // every chunk carries chunk-signature
	sigLen        int      // hex length of a chunk signature (0: any, SigV4a's DER)
	trailer       bool     // trailing headers may follow the final chunk
	signedTrailer bool     // ... ending with x-amz-trailer-signature
	declared      []string // names X-Amz-Trailer announced: each must come
	verify        *sigv4.Stream

	left  int64 // bytes left in the current chunk
	total int64
	want  int64  // declared decoded length, -1 unknown
	sig   string // the current chunk's signature
	sum   hash.Hash
	done  bool
	err   error // sticky: once broken, the body stays broken

	trailers map[string]string
}

var errChunk = errorf(http.StatusBadRequest, "IncompleteBody", "The aws-chunked request body is malformed or incomplete.")

func errChunkSignature() *Error {
	return errorf(http.StatusForbidden, "SignatureDoesNotMatch",
		"The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.")
}

// maxTrailers bounds the trailing header lines read into memory.
const maxTrailers = 16

// newChunkedReader reads an aws-chunked body sent with the payload mode
// mode (x-amz-content-sha256) and the X-Amz-Trailer header trailer.
func newChunkedReader(body io.Reader, mode string, want int64, trailer string) (*chunkedReader, error) {
	c := &chunkedReader{br: bufio.NewReaderSize(body, 64<<10), want: want}
	switch mode {
	case sigv4.StreamingSigned:
		c.signed, c.sigLen = true, 64
	case sigv4.StreamingSignedTrailer:
		c.signed, c.sigLen, c.trailer, c.signedTrailer = true, 64, true, true
	case "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD":
		c.signed = true
	case "STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD-TRAILER":
		c.signed, c.trailer, c.signedTrailer = true, true, true
	case sigv4.StreamingUnsignedTrailer:
		c.trailer = true
	default:
		if strings.HasPrefix(mode, "STREAMING-") {
			return nil, errorf(http.StatusBadRequest, "InvalidArgument",
				"x-amz-content-sha256 %q is not a streaming payload mode S3 knows.", mode)
		}
		// aws-chunked with a plain payload hash: unsigned chunks.
	}
	for _, n := range strings.Split(trailer, ",") {
		if n = strings.ToLower(strings.TrimSpace(n)); n != "" {
			c.declared = append(c.declared, n)
			c.trailer = true
		}
	}
	return c, nil
}

func (c *chunkedReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.done {
		return 0, io.EOF
	}
	if c.left == 0 {
		if err := c.header(); err != nil {
			c.err = err
			return 0, err
		}
		if c.done {
			return 0, io.EOF
		}
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.br.Read(p)
	c.left -= int64(n)
	c.total += int64(n)
	if c.sum != nil {
		c.sum.Write(p[:n])
	}
	switch {
	case errors.Is(err, io.EOF), c.want >= 0 && c.total > c.want:
		c.err = errChunk
	case err != nil:
		c.err = err
	case c.left == 0:
		if l, err := c.line(); err != nil || l != "" {
			c.err = errChunk
		} else if c.verify != nil && c.verify.Chunk(c.sig, c.sum.Sum(nil)) != nil {
			c.err = errChunkSignature()
		}
	}
	return n, c.err
}

// header reads a chunk's size line; the final chunk's is followed by the
// trailers and the end of the body.
func (c *chunkedReader) header() error {
	line, err := c.line()
	if err != nil {
		return errChunk
	}
	size, ext, hasExt := strings.Cut(line, ";")
	n, ok := parseChunkSize(size)
	if !ok {
		return errChunk
	}
	c.sig = ""
	if c.signed {
		sig, ok := strings.CutPrefix(ext, "chunk-signature=")
		if !hasExt || !ok || !isHex(sig) || (c.sigLen > 0 && len(sig) != c.sigLen) || len(sig) > 256 {
			return errChunk
		}
		c.sig = sig
	} else if hasExt {
		return errChunk
	}
	if c.verify != nil {
		c.sum = sha256.New()
	}
	if n > 0 {
		if c.want >= 0 && n > c.want-c.total {
			return errChunk
		}
		c.left = n
		return nil
	}
	if c.verify != nil && c.verify.Chunk(c.sig, c.sum.Sum(nil)) != nil {
		return errChunkSignature()
	}
	if c.want >= 0 && c.total != c.want {
		return errChunk
	}
	if err := c.readTrailers(); err != nil {
		return err
	}
	// Nothing may follow the body's last line.
	if _, err := c.br.ReadByte(); err != io.EOF {
		return errChunk
	}
	c.done = true
	return nil
}

// parseChunkSize reads 1 to 15 hex digits (no sign, no spaces).
func parseChunkSize(s string) (int64, bool) {
	if s == "" || len(s) > 15 || !isHex(s) {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		n = n<<4 | int64(hexVal(s[i]))
	}
	return n, true
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		if hexVal(s[i]) < 0 {
			return false
		}
	}
	return s != ""
}

func hexVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// line reads one CRLF-terminated line (at most 4 KiB) without its ending.
func (c *chunkedReader) line() (string, error) {
	raw, err := c.br.ReadSlice('\n')
	if err != nil || len(raw) > 4096 {
		return "", errChunk
	}
	l, ok := strings.CutSuffix(string(raw), "\r\n")
	if !ok {
		return "", errChunk
	}
	return l, nil
}

// readTrailers reads the trailing headers up to the empty line, checking
// the trailer signature when the mode has one.
func (c *chunkedReader) readTrailers() error {
	c.trailers = map[string]string{}
	var signed strings.Builder // the trailers as they are signed: name:value\n
	trailerSig := ""
	for i := 0; ; i++ {
		l, err := c.line()
		if err != nil || i > maxTrailers {
			return errChunk
		}
		if l == "" {
			break
		}
		k, v, ok := strings.Cut(l, ":")
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		if !ok || k == "" || !c.trailer || trailerSig != "" {
			return errChunk // not name:value, no trailers in this mode, or after the signature
		}
		if k == "x-amz-trailer-signature" {
			if !c.signedTrailer || v == "" {
				return errChunk
			}
			trailerSig = v
			continue
		}
		if _, dup := c.trailers[k]; dup || !c.isDeclared(k) {
			return errChunk
		}
		c.trailers[k] = v
		signed.WriteString(k + ":" + v + "\n")
	}
	for _, d := range c.declared {
		if _, ok := c.trailers[d]; !ok {
			return errChunk
		}
	}
	if c.signedTrailer && trailerSig == "" {
		return errChunk
	}
	if c.verify != nil && c.signedTrailer && c.verify.Trailer(trailerSig, signed.String()) != nil {
		return errChunkSignature()
	}
	return nil
}

func (c *chunkedReader) isDeclared(name string) bool {
	for _, d := range c.declared {
		if d == name {
			return true
		}
	}
	return false
}
