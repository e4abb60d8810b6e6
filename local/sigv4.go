package local

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"
)

// SigV4 verification is done here with the canonical-request math of the
// SigV4 specification rather than by re-signing with the SDK's signer: the
// SDK picks the headers it signs itself, while a verifier must use exactly
// the SignedHeaders the client listed, and the raw path as it was sent.
// Chunk signatures of STREAMING-AWS4-HMAC-SHA256-PAYLOAD bodies are not
// checked (the seed signature over the headers is).

// sigInfo is what a request says about its signature.
type sigInfo struct {
	accessKey     string
	date          string // yyyymmdd of the scope
	region        string
	service       string
	scope         string // date/region/service/aws4_request
	signedHeaders []string
	signature     string
	amzDate       string // yyyymmddThhmmssZ
	presigned     bool
	expires       int64 // seconds, presigned only
	hmacV4        bool  // AWS4-HMAC-SHA256 (SigV4a cannot be checked here)
	v2            bool  // S3's legacy SigV2 (sigv2.go)
}

// errMalformedAuth is an Authorization header or X-Amz-* query that cannot be parsed.
type errMalformedAuth string

func (e errMalformedAuth) Error() string { return string(e) }

// parseAuth reads the SigV4 Authorization header or presigned query; it
// returns nil, nil for an unsigned request.
func parseAuth(r *http.Request) (*sigInfo, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		return parseAuthHeader(r, h)
	}
	q := r.URL.Query()
	if !q.Has("X-Amz-Credential") {
		return parseV2Query(q)
	}
	si := &sigInfo{presigned: true, hmacV4: q.Get("X-Amz-Algorithm") == "AWS4-HMAC-SHA256"}
	if err := si.setCredential(q.Get("X-Amz-Credential")); err != nil {
		return nil, err
	}
	si.signedHeaders = strings.Split(q.Get("X-Amz-SignedHeaders"), ";")
	si.signature = q.Get("X-Amz-Signature")
	si.amzDate = q.Get("X-Amz-Date")
	exp, err := strconv.ParseInt(q.Get("X-Amz-Expires"), 10, 64)
	if err != nil || exp < 1 || exp > 604800 {
		return nil, errMalformedAuth("X-Amz-Expires must be a number of seconds between 1 and 604800")
	}
	si.expires = exp
	if si.signature == "" || si.amzDate == "" || q.Get("X-Amz-SignedHeaders") == "" {
		return nil, errMalformedAuth("Query-string authentication requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.")
	}
	return si, nil
}

func parseAuthHeader(r *http.Request, h string) (*sigInfo, error) {
	alg, rest, _ := strings.Cut(h, " ")
	if alg == "AWS" {
		// SigV2 ("AWS AKID:signature"), which only S3 still accepts: routed
		// to S3; it cannot pass strict auth.
		ak, sig, _ := strings.Cut(rest, ":")
		return &sigInfo{accessKey: ak, service: "s3", signature: sig, v2: true}, nil
	}
	si := &sigInfo{hmacV4: alg == "AWS4-HMAC-SHA256"}
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			if err := si.setCredential(v); err != nil {
				return nil, err
			}
		case "SignedHeaders":
			si.signedHeaders = strings.Split(v, ";")
		case "Signature":
			si.signature = v
		}
	}
	if si.service == "" {
		return nil, errMalformedAuth("Authorization header requires 'Credential' parameter.")
	}
	si.amzDate = r.Header.Get("X-Amz-Date")
	if si.amzDate == "" {
		if t, err := http.ParseTime(r.Header.Get("Date")); err == nil {
			si.amzDate = t.UTC().Format(amzDateFormat)
		}
	}
	return si, nil
}

const amzDateFormat = "20060102T150405Z"

// setCredential parses AKID/date/region/service/aws4_request (SigV4) or
// AKID/date/service/aws4_request (SigV4a, which has no region).
func (si *sigInfo) setCredential(c string) error {
	parts := strings.Split(c, "/")
	switch {
	case len(parts) == 5 && parts[4] == "aws4_request":
		si.accessKey, si.date, si.region, si.service = parts[0], parts[1], parts[2], parts[3]
		si.scope = strings.Join(parts[1:], "/")
	case len(parts) == 4 && parts[3] == "aws4_request":
		si.accessKey, si.date, si.service = parts[0], parts[1], parts[2]
		si.scope = strings.Join(parts[1:], "/")
	default:
		return errMalformedAuth("Error parsing the X-Amz-Credential parameter; the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".")
	}
	if si.accessKey == "" || si.service == "" {
		return errMalformedAuth("the Credential is mal-formed")
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
	sum := sha256.Sum256([]byte(cr.String()))
	sts := "AWS4-HMAC-SHA256\n" + si.amzDate + "\n" + si.scope + "\n" + hex.EncodeToString(sum[:])
	key := hmacSHA256([]byte("AWS4"+secret), si.date)
	for _, p := range strings.Split(si.scope, "/")[1:] {
		key = hmacSHA256(key, p)
	}
	want := hex.EncodeToString(hmacSHA256(key, sts))
	return hmac.Equal([]byte(want), []byte(si.signature)), nil
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
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
		sum := sha256.Sum256(nil)
		return hex.EncodeToString(sum[:]), nil
	}
	raw, err := io.ReadAll(io.LimitReader(r.Body, maxHashedBody+1))
	if err != nil {
		return "", err
	}
	if len(raw) > maxHashedBody {
		return "", errors.New("request body too large to verify without X-Amz-Content-Sha256")
	}
	r.Body = io.NopCloser(bytes.NewReader(raw))
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:]), nil
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

// presignExpired reports whether a presigned request is past its
// X-Amz-Date + X-Amz-Expires (or has an unreadable date).
func presignExpired(si *sigInfo, now time.Time) (expired bool, err error) {
	t, err := time.Parse(amzDateFormat, si.amzDate)
	if err != nil {
		return false, errMalformedAuth("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
	}
	return now.After(t.Add(time.Duration(si.expires) * time.Second)), nil
}

// skewed reports whether a header-signed request's date is more than 15
// minutes from now (AWS rejects those).
func skewed(si *sigInfo, now time.Time) bool {
	t, err := time.Parse(amzDateFormat, si.amzDate)
	if err != nil {
		return true
	}
	d := now.Sub(t)
	return d > 15*time.Minute || d < -15*time.Minute
}
