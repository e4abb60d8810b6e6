package sigv4

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// maxSkew is how far a header signature's date may be from now, and how
// far in the future a presigned URL may be dated (AWS's 15 minutes).
const maxSkew = 15 * time.Minute

// verify checks a parsed signature against the secret of its access key.
func verify(r *http.Request, si *sigInfo, o Options) error {
	secret, known := o.Secret(si.accessKey)
	if !known {
		return errorf(UnknownKey, "The AWS Access Key Id you provided does not exist in our records.")
	}
	if si.v2 {
		if si.presigned && o.Now.Unix() > si.expires {
			return errorf(Expired, "Request has expired")
		}
		bucket := ""
		if o.BucketFromHost != nil {
			bucket = o.BucketFromHost(r.Host)
		}
		if !v2Matches(r, si, secret, bucket) {
			return errorf(Mismatch, msgMismatch)
		}
		return nil
	}
	if !si.hmacV4 {
		// SigV4a (ECDSA over a key derived from the secret) is not checked
		// here, so it cannot prove anything.
		return errorf(Mismatch, msgMismatch)
	}
	if si.presigned {
		t, _ := time.Parse(amzDateFormat, si.amzDate) // parse checked it
		if o.Now.After(t.Add(time.Duration(si.expires) * time.Second)) {
			return errorf(Expired, "Request has expired")
		}
		if t.After(o.Now.Add(maxSkew)) {
			return errorf(NotYetValid, "Request is not valid yet")
		}
	} else if skewed(si, o.Now) {
		return errorf(Skewed, "The difference between the request time and the current time is too large.")
	}
	ok, err := signatureMatches(r, si, secret)
	if err != nil {
		return err
	}
	if !ok {
		return errorf(Mismatch, msgMismatch)
	}
	return nil
}

// maxHashedBody bounds the body read to hash a request that does not send
// X-Amz-Content-Sha256 (JSON and query APIs, whose bodies are small).
const maxHashedBody = 8 << 20

// signatureMatches recomputes the request's signature with secret.
func signatureMatches(r *http.Request, si *sigInfo, secret string) (bool, error) {
	payload, err := payloadHash(r, si)
	if err != nil {
		return false, err
	}
	rawPath, rawQuery, _ := strings.Cut(r.RequestURI, "?")
	if !strings.HasPrefix(rawPath, "/") { // absolute-form request target
		rawPath, rawQuery = r.URL.EscapedPath(), r.URL.RawQuery
	}
	if rawPath == "" {
		rawPath = "/"
	}
	if si.service != "s3" {
		// Every service but S3 signs the path URI-encoded a second time.
		rawPath = escape(rawPath, true)
	}
	var cr strings.Builder
	cr.WriteString(r.Method + "\n" + rawPath + "\n" + canonicalQuery(rawQuery, si.presigned) + "\n")
	for _, h := range si.signedHeaders {
		cr.WriteString(h + ":" + headerValue(r, h) + "\n")
	}
	cr.WriteString("\n" + strings.Join(si.signedHeaders, ";") + "\n" + payload)
	sts := "AWS4-HMAC-SHA256\n" + si.amzDate + "\n" + si.scope + "\n" + hexSHA256([]byte(cr.String()))
	want := hex.EncodeToString(hmacSHA256(signingKey(secret, si.scope), sts))
	return hmac.Equal([]byte(want), []byte(si.signature)), nil
}

// signingKey derives SigV4's key: HMAC chained over the scope's parts.
func signingKey(secret, scope string) []byte {
	parts := strings.Split(scope, "/")
	key := hmacSHA256([]byte("AWS4"+secret), parts[0])
	for _, p := range parts[1:] {
		key = hmacSHA256(key, p)
	}
	return key
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func hexSHA256(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

func payloadHash(r *http.Request, si *sigInfo) (string, error) {
	if si.presigned {
		if v := r.URL.Query().Get("X-Amz-Content-Sha256"); v != "" {
			return v, nil
		}
		return "UNSIGNED-PAYLOAD", nil
	}
	if v := r.Header.Get("X-Amz-Content-Sha256"); v != "" {
		return v, nil
	}
	if r.Body == nil || r.Body == http.NoBody {
		return hexSHA256(nil), nil
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxHashedBody+1))
	if err != nil {
		return "", errorf(Malformed, "The request body could not be read to verify its signature.")
	}
	if len(raw) > maxHashedBody {
		return "", errorf(Malformed, "The request body is too large to verify without X-Amz-Content-Sha256.")
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	return hexSHA256(raw), nil
}

// headerValue is a header's canonical value: values joined by commas,
// trimmed, inner runs of spaces collapsed.
func headerValue(r *http.Request, name string) string {
	var vals []string
	switch name {
	case "host":
		vals = []string{r.Host}
	case "content-length":
		vals = r.Header.Values("Content-Length")
		if len(vals) == 0 && r.ContentLength >= 0 {
			vals = []string{strconv.FormatInt(r.ContentLength, 10)}
		}
	case "transfer-encoding":
		vals = r.TransferEncoding
	default:
		vals = r.Header.Values(name)
	}
	out := make([]string, len(vals)) // vals may be the request's own slice
	for i, v := range vals {
		out[i] = strings.Join(strings.Fields(v), " ")
	}
	return strings.Join(out, ",")
}

// canonicalQuery decodes and re-encodes every parameter strictly, sorted
// (X-Amz-Signature is left out of a presigned request's).
func canonicalQuery(raw string, presigned bool) string {
	type kv struct{ k, v string }
	var ps []kv
	for _, part := range strings.Split(raw, "&") {
		if part == "" {
			continue
		}
		k, v, _ := strings.Cut(part, "=")
		dk, err1 := url.QueryUnescape(k)
		dv, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			dk, dv = k, v
		}
		if presigned && dk == "X-Amz-Signature" {
			continue
		}
		ps = append(ps, kv{escape(dk, false), escape(dv, false)})
	}
	sort.Slice(ps, func(i, j int) bool {
		if ps[i].k != ps[j].k {
			return ps[i].k < ps[j].k
		}
		return ps[i].v < ps[j].v
	})
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k + "=" + p.v)
	}
	return b.String()
}

// escape is SigV4's URI encoding: every byte but unreserved characters
// (and '/' when keepSlash) as %XX.
func escape(s string, keepSlash bool) string {
	const hexDigits = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~' || (keepSlash && c == '/') {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexDigits[c>>4])
		b.WriteByte(hexDigits[c&15])
	}
	return b.String()
}

// skewed reports whether a header-signed request's date is more than 15
// minutes from now (AWS rejects those).
func skewed(si *sigInfo, now time.Time) bool {
	t, err := time.Parse(amzDateFormat, si.amzDate)
	if err != nil {
		return true
	}
	d := now.Sub(t)
	return d > maxSkew || d < -maxSkew
}
