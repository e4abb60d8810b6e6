package sigv4

import (
	"net/http/httptest"
	"testing"
	"time"
)

// FuzzCheck feeds arbitrary Authorization headers, query strings and
// content-sha256 values to the entry point, strict and not: errors are
// fine, panics are not, and nothing unverified may come out verified.
func FuzzCheck(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=00", "a=b&c", "")
	f.Add("AWS AKID:c2ln", "versionId=x", "")
	f.Add("", "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKID%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Expires=60&X-Amz-Date=20260101T000000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=00", "")
	f.Add("", "X-Amz-Credential=AKID%2F2026&X-Amz-Credential=x", "")
	f.Add("", "AWSAccessKeyId=AKID&Signature=x&Expires=1", "")
	f.Add("AWS4-ECDSA-P256-SHA256 Credential=AKID/20260101/s3/aws4_request, SignedHeaders=host, Signature=00", "", StreamingSigned)
	now := time.Date(2026, 1, 1, 0, 0, 30, 0, time.UTC)
	f.Fuzz(func(t *testing.T, auth, query, mode string) {
		r := httptest.NewRequest("GET", "/bkt/key", nil)
		r.URL.RawQuery = query
		r.RequestURI = "/bkt/key?" + query
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		r.Header.Set("X-Amz-Date", "20260101T000000Z")
		if mode != "" {
			r.Header.Set("X-Amz-Content-Sha256", mode)
		}
		for _, strict := range []bool{false, true} {
			id, err := Check(r, Options{Secret: func(string) (string, bool) { return "secret", true }, Strict: strict, Now: now})
			if err != nil {
				if _, ok := err.(*Error); !ok {
					t.Fatalf("error %T is not an *Error", err)
				}
				if id != nil && id.Verified {
					t.Fatalf("an identity with an error is verified: %+v", id)
				}
				continue
			}
			if id == nil && (auth != "" || query != "" && r.URL.Query().Has("X-Amz-Signature")) {
				t.Fatalf("a signed request came out anonymous: %q %q", auth, query)
			}
			if id != nil && (id.Presigned || strict) && !id.Verified {
				t.Fatalf("unverified identity %+v", id)
			}
			if id != nil && id.Verified && auth != "" {
				t.Fatalf("random header verified: %q", auth)
			}
		}
	})
}
