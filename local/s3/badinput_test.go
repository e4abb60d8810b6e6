package s3_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestBadInputNever500 throws malformed requests at the S3 wire: each gets
// an S3 XML error (or a plain success), never a 5xx other than the 501 of
// an unimplemented feature, and never a dropped connection.
func TestBadInputNever500(t *testing.T) {
	f := newFixture(t)
	f.bucket(t, "bkt", "Enabled")
	f.put(t, "bkt", "k", "body")
	long := strings.Repeat("k", 1100)
	cases := []struct {
		method, path string
		body         string
		hdr          map[string]string
	}{
		{"PUT", "/bkt/" + long, "x", nil},
		{"PUT", "/bkt?versioning", strings.Repeat("<a>", 100000), nil},
		{"PUT", "/bkt?versioning", "", nil},
		{"PUT", "/newbkt", "<CreateBucketConfiguration><Location", nil},
		{"POST", "/bkt?delete", "<Delete></Delete>", nil},
		{"POST", "/bkt?delete", "garbage", nil},
		{"GET", "/bkt?list-type=2&max-keys=-1", "", nil},
		{"GET", "/bkt?list-type=2&max-keys=abc", "", nil},
		{"GET", "/bkt?list-type=2&encoding-type=base64", "", nil},
		{"GET", "/bkt?versions&version-id-marker=x", "", nil},
		{"GET", "/bkt/k?versionId=", "", nil},
		{"GET", "/bkt/k?versionId=%zz", "", nil},
		{"GET", "/bkt/k", "", map[string]string{"Range": "bytes=abc-def"}},
		{"GET", "/bkt/k", "", map[string]string{"Range": "bytes=99999999999999999999-"}},
		{"PUT", "/bkt/k2", "x", map[string]string{"Content-MD5": "###"}},
		{"PUT", "/bkt/k2", "x", map[string]string{"x-amz-copy-source": "%zz"}},
		{"PUT", "/bkt/k2", "x", map[string]string{"x-amz-copy-source": "bkt/k?versionId="}},
		{"PUT", "/bkt/k2", "x", map[string]string{"x-amz-copy-source": "bkt/k", "x-amz-metadata-directive": "MERGE"}},
		{"PUT", "/bkt/k2", "x", map[string]string{"Content-Encoding": "aws-chunked", "X-Amz-Decoded-Content-Length": "-5"}},
		{"PUT", "/bkt/k2?partNumber=0&uploadId=x", "x", nil},
		{"PUT", "/bkt/k2?partNumber=1&uploadId=nope", "x", nil},
		{"POST", "/bkt/k2?uploadId=nope", "<CompleteMultipartUpload><Part><PartNumber>1</PartNumber><ETag>x</ETag></Part></CompleteMultipartUpload>", nil},
		{"POST", "/bkt/k2?uploadId=nope", "<<<", nil},
		{"DELETE", "/bkt/k2?uploadId=nope", "", nil},
		{"PATCH", "/bkt/k", "", nil},
		{"PATCH", "/bkt", "", nil},
		{"DELETE", "/", "", nil},
		{"GET", "/bkt/k?tagging", "", nil},
	}
	for _, c := range cases {
		status, body, _ := rawRequest(t, c.method, f.url+c.path, []byte(c.body), c.hdr)
		if status >= 500 && status != http.StatusNotImplemented {
			t.Errorf("%s %s: %d %s", c.method, c.path[:min(len(c.path), 40)], status, body)
		}
		if status >= 400 && !strings.Contains(body, "<Error>") {
			t.Errorf("%s %s: %d without S3's error shape: %q", c.method, c.path[:min(len(c.path), 40)], status, body)
		}
	}
}
