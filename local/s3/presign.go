package s3

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// PresignGet returns a presigned GetObject URL (SigV4 in the query string)
// for bucket/key at versionID ("" = latest), valid for expires (1 s to 7
// days), rooted at baseURL (the server's public base URL when empty: the
// scheme and the host[:port] devices reach it at). The URL is signed for
// the host it names, so it verifies when requested through that host
// whatever listener serves it. It is signed with
// the key pair the server set with SetPresignCredentials, which the server
// verifies whether or not it runs with strict auth.
func (s *Service) PresignGet(bucket, key, versionID string, expires time.Duration, baseURL string) (string, error) {
	s.mu.RLock()
	ak, sk := s.presignKey, s.presignSecret
	if baseURL == "" {
		baseURL = s.defaultBaseURL
	}
	s.mu.RUnlock()
	if ak == "" || baseURL == "" {
		return "", errors.New("s3: presigning needs the server's credentials and URL")
	}
	secs := int64(expires / time.Second)
	if secs < 1 || secs > 7*24*3600 {
		return "", errorf(http.StatusBadRequest, "AuthorizationQueryParametersError",
			"X-Amz-Expires must be between 1 second and 7 days")
	}
	u, err := url.Parse(strings.TrimRight(baseURL, "/") + "/" + bucket + "/" + EscapePath(key))
	if err != nil {
		return "", err
	}
	u.Host = withoutDefaultPort(u)
	q := url.Values{}
	if versionID != "" {
		q.Set("versionId", versionID)
	}
	q.Set("X-Amz-Expires", strconv.FormatInt(secs, 10))
	u.RawQuery = q.Encode()
	req, err := http.NewRequest(http.MethodGet, u.String(), nil)
	if err != nil {
		return "", err
	}
	signer := v4.NewSigner(func(o *v4.SignerOptions) { o.DisableURIPathEscaping = true })
	signed, _, err := signer.PresignHTTP(context.Background(),
		aws.Credentials{AccessKeyID: ak, SecretAccessKey: sk}, req,
		"UNSIGNED-PAYLOAD", "s3", s.env.Region, s.now().UTC())
	return signed, err
}

// withoutDefaultPort is u's host without :443 (https) or :80 (http). SigV4
// signs the Host header, and the SDK's signer drops a default port from it,
// while an HTTP client sends the URL's host[:port] as it is: a URL carrying
// :443 would be requested with a Host the signature does not cover. AWS's
// URLs carry no default port either.
func withoutDefaultPort(u *url.URL) string {
	if p := u.Port(); u.Scheme == "https" && p == "443" || u.Scheme == "http" && p == "80" {
		return strings.TrimSuffix(u.Host, ":"+p)
	}
	return u.Host
}

// EscapePath percent-encodes a key for a URL path as SigV4 expects: every
// byte but unreserved characters and '/'.
func EscapePath(key string) string {
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		c := key[i]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
			c == '-' || c == '_' || c == '.' || c == '~' || c == '/' {
			b.WriteByte(c)
			continue
		}
		b.WriteString("%" + strings.ToUpper(strconv.FormatInt(int64(c)|0x100, 16)[1:]))
	}
	return b.String()
}
