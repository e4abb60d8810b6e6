// Package sigv4 checks who signed an AWS request: SigV4 in the
// Authorization header or in a presigned query, and S3's legacy SigV2. It
// has one entry point, Check, which parses the request's signature and
// verifies it against a secret lookup; it knows nothing of the services
// behind it. For aws-chunked uploads it also hands out the verifier of the
// per-chunk and trailer signatures (Stream), which the S3 body decoder runs
// as the body streams in.
//
// Verification uses the canonical-request math of the SigV4 specification
// rather than re-signing with the SDK's signer: the SDK picks the headers
// it signs itself, while a verifier must use exactly the SignedHeaders the
// client listed, and the raw path as it was sent.
package sigv4

import (
	"context"
	"net/http"
	"strings"
	"time"
)

// Options say how strictly Check verifies.
type Options struct {
	// Secret returns the secret access key of an access key id.
	Secret func(accessKey string) (secret string, ok bool)
	// Strict verifies header signatures (and the chunk signatures of
	// streaming uploads). Presigned URLs are verified either way: a link is
	// only worth what its signature proves.
	Strict bool
	// Now is the clock expiry and skew are measured against.
	Now time.Time
	// BucketFromHost names the bucket of a virtual-host-style S3 request
	// ("" for path style); SigV2 signs it as part of the resource.
	BucketFromHost func(host string) string
}

// Identity is who a request says it comes from.
type Identity struct {
	AccessKey string
	Service   string // the signing name of the credential scope ("s3", "iot"...)
	Region    string
	Presigned bool
	// Verified is true when the signature was checked against the secret
	// (always for presigned URLs; for header signatures in strict mode).
	Verified bool
	// Stream verifies the chunk signatures of a STREAMING-AWS4-HMAC-SHA256-*
	// body; nil unless the request was verified and declares one.
	Stream *Stream
}

// Check authenticates r. It returns nil, nil for a request that carries no
// signature at all (anonymous), the signer's identity for a good one, and
// an *Error for a malformed, unknown, expired or wrong one; with an error,
// a non-nil identity is only what the request claims (its Service says
// whose error shape to answer in), never to be served. It may read and
// replace r.Body to hash a small body that declares no payload hash.
func Check(r *http.Request, o Options) (*Identity, error) {
	si, err := parse(r)
	if err != nil || si == nil {
		return nil, err
	}
	id := &Identity{AccessKey: si.accessKey, Service: si.service, Region: si.region, Presigned: si.presigned}
	if !si.presigned && !o.Strict {
		return id, nil
	}
	if err := verify(r, si, o); err != nil {
		return id, err
	}
	id.Verified = true
	if mode := r.Header.Get("X-Amz-Content-Sha256"); si.hmacV4 && strings.HasPrefix(mode, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD") {
		secret, _ := o.Secret(si.accessKey)
		id.Stream = NewStream(secret, si.amzDate, si.scope, si.signature, mode == StreamingSignedTrailer)
	}
	return id, nil
}

// The x-amz-content-sha256 values of aws-chunked bodies.
const (
	StreamingSigned          = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	StreamingSignedTrailer   = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
	StreamingUnsignedTrailer = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
)

type ctxKey struct{}

// NewContext returns ctx carrying id, for the services behind the router.
func NewContext(ctx context.Context, id *Identity) context.Context {
	return context.WithValue(ctx, ctxKey{}, id)
}

// FromContext returns the identity NewContext stored (nil if none).
func FromContext(ctx context.Context) *Identity {
	id, _ := ctx.Value(ctxKey{}).(*Identity)
	return id
}

// Kind is what is wrong with a signature; Error.Code turns it into the
// code of the service the request went to.
type Kind int

const (
	Malformed      Kind = iota // an Authorization header that cannot be parsed
	MalformedQuery             // presigned query parameters missing, repeated or unreadable
	MultipleAuth               // a signature in both the header and the query
	UnknownKey                 // an access key with no secret
	Expired                    // a presigned URL past its lifetime
	NotYetValid                // a presigned URL dated in the future
	Skewed                     // a header signature too far from now
	Mismatch                   // the signature is not the one the secret makes
	Denied                     // S3's AccessDenied for an incomplete SigV2 query
)

// Error is an authentication failure.
type Error struct {
	Kind    Kind
	Message string
}

func (e *Error) Error() string { return e.Message }

func errorf(k Kind, msg string) *Error { return &Error{Kind: k, Message: msg} }

// Status is the HTTP status AWS answers the failure with.
func (e *Error) Status() int {
	switch e.Kind {
	case Malformed, MalformedQuery, MultipleAuth:
		return http.StatusBadRequest
	}
	return http.StatusForbidden
}

// Code is the error code service uses for the failure.
func (e *Error) Code(service string) string {
	switch e.Kind {
	case Malformed:
		switch service {
		case "s3":
			return "AuthorizationHeaderMalformed"
		case "sts", "iam":
			return "IncompleteSignature"
		}
		return "IncompleteSignatureException"
	case MalformedQuery:
		switch service {
		case "s3":
			return "AuthorizationQueryParametersError"
		case "sts", "iam":
			return "IncompleteSignature"
		}
		return "IncompleteSignatureException"
	case MultipleAuth:
		if service == "s3" {
			return "InvalidArgument"
		}
		return "IncompleteSignatureException"
	case UnknownKey:
		switch service {
		case "s3":
			return "InvalidAccessKeyId"
		case "sts", "iam":
			return "InvalidClientTokenId"
		}
		return "UnrecognizedClientException"
	case Expired, NotYetValid, Denied:
		return "AccessDenied"
	case Skewed:
		if service == "s3" {
			return "RequestTimeTooSkewed"
		}
		return "SignatureDoesNotMatch"
	}
	if service == "s3" || service == "sts" || service == "iam" {
		return "SignatureDoesNotMatch"
	}
	return "InvalidSignatureException"
}

// Messages AWS answers with.
const (
	msgMismatch   = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	msgQueryParts = "Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters."
)
