package sigv4

import (
	"crypto/hmac"
	"encoding/hex"
)

// Stream verifies the signatures inside an aws-chunked body sent with
// STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]. The request's own signature
// (the seed) covers only the headers; each chunk then carries a signature
// over its data chained from the previous one, so a body that a third party
// altered, cut or extended fails at the first changed chunk. The string to
// sign of a chunk is
//
//	AWS4-HMAC-SHA256-PAYLOAD \n <X-Amz-Date> \n <scope> \n <previous signature> \n
//	<hex sha256 of ""> \n <hex sha256 of the chunk's data>
//
// and the final, empty chunk is signed the same way. With -TRAILER the
// trailing headers follow, signed with
//
//	AWS4-HMAC-SHA256-TRAILER \n <X-Amz-Date> \n <scope> \n <final chunk's signature> \n
//	<hex sha256 of the trailing headers as "name:value\n" lines>
//
// A Stream belongs to one request body; it is not safe for concurrent use.
type Stream struct {
	key     []byte
	amzDate string
	scope   string
	prev    string
	trailer bool
}

// NewStream returns the verifier of a body whose request was signed at
// amzDate within scope (date/region/service/aws4_request) by secret, with
// seed as the request's signature; trailer says the body ends with signed
// trailing headers.
func NewStream(secret, amzDate, scope, seed string, trailer bool) *Stream {
	return &Stream{key: signingKey(secret, scope), amzDate: amzDate, scope: scope, prev: seed, trailer: trailer}
}

// SignedTrailer reports whether the body must end with a signed trailer.
func (s *Stream) SignedTrailer() bool { return s.trailer }

var emptySHA256 = hexSHA256(nil)

// Chunk checks sig, the chunk-signature of the next chunk, whose data
// hashes (SHA-256) to sum; on success the chain moves on to it.
func (s *Stream) Chunk(sig string, sum []byte) error {
	sts := "AWS4-HMAC-SHA256-PAYLOAD\n" + s.amzDate + "\n" + s.scope + "\n" + s.prev + "\n" + emptySHA256 + "\n" + hex.EncodeToString(sum)
	return s.check(sig, sts)
}

// Trailer checks sig, the x-amz-trailer-signature, over the trailing
// headers written as "name:value\n" lines in the order they were sent.
func (s *Stream) Trailer(sig, headers string) error {
	sts := "AWS4-HMAC-SHA256-TRAILER\n" + s.amzDate + "\n" + s.scope + "\n" + s.prev + "\n" + hexSHA256([]byte(headers))
	return s.check(sig, sts)
}

func (s *Stream) check(sig, sts string) error {
	want := hex.EncodeToString(hmacSHA256(s.key, sts))
	if !hmac.Equal([]byte(want), []byte(sig)) {
		return errorf(Mismatch, msgMismatch)
	}
	s.prev = want
	return nil
}
