package local

import (
	"net/http/httptest"
	"net/url"
	"testing"
)

// FuzzAuth feeds arbitrary Authorization headers and query strings to the
// signature parsers and verifiers: errors are fine, panics are not.
func FuzzAuth(f *testing.F) {
	f.Add("AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=00", "a=b&c")
	f.Add("AWS AKID:c2ln", "versionId=x")
	f.Add("", "X-Amz-Credential=AKID%2F20260101%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Expires=60&X-Amz-Date=20260101T000000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=00")
	f.Add("", "AWSAccessKeyId=AKID&Signature=x&Expires=1")
	f.Fuzz(func(t *testing.T, auth, query string) {
		r := httptest.NewRequest("GET", "/bkt/key", nil)
		r.URL.RawQuery = query
		r.RequestURI = "/bkt/key?" + query
		if auth != "" {
			r.Header.Set("Authorization", auth)
		}
		if _, err := url.ParseQuery(query); err != nil {
			return
		}
		si, err := parseAuth(r)
		if err != nil || si == nil {
			return
		}
		if si.v2 {
			v2Matches(r, si, "secret", "")
		} else {
			signatureMatches(r, si, "secret")
		}
	})
}
