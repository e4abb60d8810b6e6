// Package jobdoc turns a job document as stored into what a device receives:
// AWS IoT Jobs' presigned-URL placeholders replaced by presigned S3 URLs.
// The MQTT Jobs topics (local/mqtt) and the HTTPS Jobs data plane
// (local/jobsdata) both send documents through it. It is a leaf: no store,
// no wire, no broker.
package jobdoc

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// placeholder is the presigned-URL placeholder: in any string of a job
// document, ${aws:iot:s3-presigned-url:<S3 object URL>} (or the newer
// s3-presigned-url-v2) becomes a presigned GET URL each time a device
// fetches the document.
var placeholder = regexp.MustCompile(`\$\{aws:iot:s3-presigned-url(?:-v2)?:([^}\s"]+)\}`)

// marker is what every placeholder starts with (a cheap test first).
const marker = "${aws:iot:s3-presigned-url"

// DefaultPresignExpiry is how long URLs last when the job has no
// presignedUrlConfig.expiresInSec.
const DefaultPresignExpiry = time.Hour

// Presign makes a presigned GET URL for an S3 object version ("" = latest).
type Presign func(bucket, key, version string, expires time.Duration) (string, error)

// Expand returns doc with each placeholder replaced by a URL from presign,
// valid for expires (DefaultPresignExpiry when expires <= 0). Everything
// else keeps its characters: the URL goes in as it is (& stays &). A
// document without placeholders is returned unchanged, and presign may then
// be nil. The error names the placeholder URL that could not be presigned.
func Expand(doc string, expires time.Duration, presign Presign) (string, error) {
	if !strings.Contains(doc, marker) {
		return doc, nil
	}
	if expires <= 0 {
		expires = DefaultPresignExpiry
	}
	var failed error
	out := placeholder.ReplaceAllStringFunc(doc, func(m string) string {
		if failed != nil {
			return m
		}
		u, err := presignURL(placeholder.FindStringSubmatch(m)[1], expires, presign)
		if err != nil {
			failed = err
			return m
		}
		return u
	})
	if failed != nil {
		return "", failed
	}
	return out, nil
}

func presignURL(objectURL string, expires time.Duration, presign Presign) (string, error) {
	if presign == nil {
		return "", fmt.Errorf("no S3 presigner is wired for placeholder URL %q", objectURL)
	}
	bucket, key, version, err := ParseS3URL(objectURL)
	if err != nil {
		return "", err
	}
	u, err := presign(bucket, key, version, expires)
	if err != nil {
		return "", fmt.Errorf("placeholder URL %q: %w", objectURL, err)
	}
	return u, nil
}

// ParseS3URL reads bucket, key and versionId from an S3 object URL, path
// style (https://s3.<region>.amazonaws.com/<bucket>/<key>, or any non-AWS
// host such as otactl local) or virtual-hosted style
// (https://<bucket>.s3[.-]<region>.amazonaws.com/<key>).
func ParseS3URL(raw string) (bucket, key, version string, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", "", fmt.Errorf("placeholder URL %q: %v", raw, err)
	}
	host := strings.ToLower(u.Hostname())
	path := strings.TrimPrefix(u.Path, "/")
	i := strings.Index(host, ".s3.")
	if i < 0 {
		i = strings.Index(host, ".s3-")
	}
	if i > 0 {
		bucket, key = host[:i], path
	} else {
		bucket, key, _ = strings.Cut(path, "/")
	}
	if bucket == "" || key == "" {
		return "", "", "", fmt.Errorf("placeholder URL %q names no bucket and key", raw)
	}
	return bucket, key, u.Query().Get("versionId"), nil
}
