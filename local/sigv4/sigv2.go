package sigv4

import (
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// S3's legacy signature (SigV2): botocore still presigns S3 URLs this way
// for custom endpoints ("?AWSAccessKeyId=&Signature=&Expires="), and old
// clients sign headers with "Authorization: AWS AKID:signature". Both are
// HMAC-SHA1 over the method, Content-MD5, Content-Type, the date (or
// Expires), the x-amz-* headers and the canonical resource.

// v2SubResources are the query parameters that are part of the canonical resource.
var v2SubResources = map[string]bool{
	"acl": true, "delete": true, "lifecycle": true, "location": true, "logging": true,
	"notification": true, "partNumber": true, "policy": true, "requestPayment": true,
	"torrent": true, "uploadId": true, "uploads": true, "versionId": true, "versioning": true,
	"versions": true, "website": true, "cors": true, "tagging": true, "restore": true,
	"response-content-type": true, "response-content-language": true, "response-expires": true,
	"response-cache-control": true, "response-content-disposition": true, "response-content-encoding": true,
}

// parseV2Query reads a SigV2 presigned URL's parameters: all three, once each.
func parseV2Query(q url.Values) (*sigInfo, error) {
	for _, p := range []string{"AWSAccessKeyId", "Signature", "Expires"} {
		if len(q[p]) != 1 || q[p][0] == "" {
			return nil, errorf(Denied, "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters")
		}
	}
	exp, err := strconv.ParseInt(q.Get("Expires"), 10, 64)
	if err != nil {
		return nil, errorf(Denied, "Query-string authentication requires the Expires parameter to be a number of seconds since the epoch")
	}
	return &sigInfo{accessKey: q.Get("AWSAccessKeyId"), service: "s3", signature: q.Get("Signature"),
		presigned: true, v2: true, expires: exp}, nil
}

// v2Matches recomputes a SigV2 signature. bucket is the bucket a
// virtual-host-style request names in its Host ("" for path style).
func v2Matches(r *http.Request, si *sigInfo, secret, bucket string) bool {
	var b strings.Builder
	b.WriteString(r.Method + "\n" + r.Header.Get("Content-MD5") + "\n" + r.Header.Get("Content-Type") + "\n")
	switch {
	case si.presigned:
		b.WriteString(strconv.FormatInt(si.expires, 10))
	case r.Header.Get("X-Amz-Date") == "":
		b.WriteString(r.Header.Get("Date"))
	}
	b.WriteString("\n")
	var amz []string
	for k := range r.Header {
		if lk := strings.ToLower(k); strings.HasPrefix(lk, "x-amz-") {
			amz = append(amz, lk)
		}
	}
	sort.Strings(amz)
	for _, k := range amz {
		b.WriteString(k + ":" + strings.Join(r.Header.Values(k), ",") + "\n")
	}
	rawPath, rawQuery, _ := strings.Cut(r.RequestURI, "?")
	if bucket != "" {
		rawPath = "/" + bucket + rawPath
	}
	b.WriteString(rawPath)
	q, _ := url.ParseQuery(rawQuery)
	var subs []string
	for k := range q {
		if v2SubResources[k] {
			subs = append(subs, k)
		}
	}
	sort.Strings(subs)
	for i, k := range subs {
		sep := "&"
		if i == 0 {
			sep = "?"
		}
		b.WriteString(sep + k)
		if v := q.Get(k); v != "" {
			b.WriteString("=" + v)
		}
	}
	m := hmac.New(sha1.New, []byte(secret))
	m.Write([]byte(b.String()))
	want := base64.StdEncoding.EncodeToString(m.Sum(nil))
	return hmac.Equal([]byte(want), []byte(si.signature))
}
