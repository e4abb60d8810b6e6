package sigv4

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

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
	expires       int64 // seconds (SigV4) or Unix time (SigV2), presigned only
	hmacV4        bool  // AWS4-HMAC-SHA256 (SigV4a cannot be checked here)
	v2            bool  // S3's legacy SigV2 (sigv2.go)
}

const amzDateFormat = "20060102T150405Z"

// v4QueryParams are the parameters of a SigV4 presigned URL: a request that
// carries any of them is a presigned request and must carry all of them,
// once each; it is never mistaken for an anonymous one.
var v4QueryParams = []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Expires"}

// parse reads the Authorization header or the presigned query; it returns
// nil, nil for a request with neither.
func parse(r *http.Request) (*sigInfo, error) {
	q, _ := url.ParseQuery(r.URL.RawQuery) // a pair with a bad escape is dropped: then it is missing
	v4q := false
	for _, p := range v4QueryParams {
		if _, ok := q[p]; ok {
			v4q = true
		}
	}
	_, hasAK := q["AWSAccessKeyId"]
	_, hasSig := q["Signature"]
	v2q := hasAK || hasSig
	auth := r.Header.Values("Authorization")
	if (len(auth) > 0 && (v4q || v2q)) || (v4q && v2q) {
		return nil, errorf(MultipleAuth, "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified")
	}
	switch {
	case len(auth) > 1:
		return nil, errorf(Malformed, "A request carries one Authorization header, not several.")
	case len(auth) == 1:
		return parseAuthHeader(r, auth[0])
	case v4q:
		return parseV4Query(q)
	case v2q:
		return parseV2Query(q)
	}
	return nil, nil
}

func parseAuthHeader(r *http.Request, h string) (*sigInfo, error) {
	alg, rest, _ := strings.Cut(h, " ")
	if alg == "AWS" {
		// SigV2 ("AWS AKID:signature"), which only S3 still accepts.
		ak, sig, ok := strings.Cut(rest, ":")
		if !ok || ak == "" || sig == "" {
			return nil, errorf(Malformed, "A SigV2 Authorization header is \"AWS <AccessKeyId>:<Signature>\".")
		}
		return &sigInfo{accessKey: ak, service: "s3", signature: sig, v2: true}, nil
	}
	si := &sigInfo{hmacV4: alg == "AWS4-HMAC-SHA256"}
	var hasHeaders bool
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "Credential":
			if err := si.setCredential(v, Malformed, ""); err != nil {
				return nil, err
			}
		case "SignedHeaders":
			si.signedHeaders, hasHeaders = strings.Split(v, ";"), v != ""
		case "Signature":
			si.signature = v
		}
	}
	if si.service == "" {
		return nil, errorf(Malformed, "Authorization header requires 'Credential' parameter.")
	}
	if !hasHeaders {
		return nil, errorf(Malformed, "Authorization header requires 'SignedHeaders' parameter.")
	}
	if si.signature == "" {
		return nil, errorf(Malformed, "Authorization header requires 'Signature' parameter.")
	}
	si.amzDate = r.Header.Get("X-Amz-Date")
	if si.amzDate == "" {
		if t, err := http.ParseTime(r.Header.Get("Date")); err == nil {
			si.amzDate = t.UTC().Format(amzDateFormat)
		}
	}
	return si, nil
}

// parseV4Query reads a SigV4 presigned URL's parameters, refusing a
// missing, empty, repeated or unreadable one with S3's messages.
func parseV4Query(q url.Values) (*sigInfo, error) {
	vals := map[string]string{}
	for _, p := range v4QueryParams {
		vs := q[p]
		if len(vs) == 0 || vs[0] == "" {
			return nil, errorf(MalformedQuery, msgQueryParts)
		}
		if len(vs) > 1 {
			return nil, errorf(MalformedQuery, p+" must appear only once in the query string.")
		}
		vals[p] = vs[0]
	}
	if vals["X-Amz-Algorithm"] != "AWS4-HMAC-SHA256" {
		return nil, errorf(MalformedQuery, "X-Amz-Algorithm only supports \"AWS4-HMAC-SHA256\".")
	}
	si := &sigInfo{presigned: true, hmacV4: true, signature: vals["X-Amz-Signature"], amzDate: vals["X-Amz-Date"],
		signedHeaders: strings.Split(vals["X-Amz-SignedHeaders"], ";")}
	if err := si.setCredential(vals["X-Amz-Credential"], MalformedQuery, "Error parsing the X-Amz-Credential parameter; "); err != nil {
		return nil, err
	}
	if _, err := time.Parse(amzDateFormat, si.amzDate); err != nil {
		return nil, errorf(MalformedQuery, "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\"")
	}
	if si.amzDate[:8] != si.date {
		return nil, errorf(MalformedQuery, fmt.Sprintf("Invalid credential date %q. This date is not the same as X-Amz-Date: %q.", si.date, si.amzDate[:8]))
	}
	exp, err := strconv.ParseInt(vals["X-Amz-Expires"], 10, 64)
	switch {
	case err != nil && strings.HasPrefix(vals["X-Amz-Expires"], "-"):
		return nil, errorf(MalformedQuery, "X-Amz-Expires must be non-negative")
	case err != nil:
		return nil, errorf(MalformedQuery, "X-Amz-Expires should be a number")
	case exp < 0:
		return nil, errorf(MalformedQuery, "X-Amz-Expires must be non-negative")
	case exp > 604800:
		return nil, errorf(MalformedQuery, "X-Amz-Expires must be less than a week (in seconds) that is 604800")
	}
	si.expires = exp
	return si, nil
}

// setCredential parses AKID/date/region/service/aws4_request (SigV4) or
// AKID/date/service/aws4_request (SigV4a, which has no region).
func (si *sigInfo) setCredential(c string, k Kind, prefix string) error {
	parts := strings.Split(c, "/")
	switch {
	case len(parts) == 5 && parts[4] == "aws4_request":
		si.accessKey, si.date, si.region, si.service = parts[0], parts[1], parts[2], parts[3]
	case len(parts) == 4 && parts[3] == "aws4_request" && !si.hmacV4 && !si.presigned:
		si.accessKey, si.date, si.service = parts[0], parts[1], parts[2]
	default:
		return errorf(k, prefix+"the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".")
	}
	si.scope = strings.Join(parts[1:], "/")
	if si.accessKey == "" || si.service == "" || (len(parts) == 5 && si.region == "") {
		return errorf(k, prefix+"the Credential is mal-formed; expecting \"<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/aws4_request\".")
	}
	if _, err := time.Parse("20060102", si.date); err != nil || len(si.date) != 8 {
		return errorf(k, fmt.Sprintf("%sincorrect date format %q. This date in the credential must be in the format \"yyyyMMdd\".", prefix, si.date))
	}
	return nil
}
