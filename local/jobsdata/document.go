package jobsdata

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// placeholder is AWS IoT Jobs' presigned-URL placeholder. In a job document,
// ${aws:iot:s3-presigned-url:<S3 object URL>} (or -v2) becomes a presigned
// GET URL each time a device fetches the document, over MQTT or HTTPS.
var placeholder = regexp.MustCompile(`\$\{aws:iot:s3-presigned-url(?:-v2)?:([^}\s"]+)\}`)

// defaultPresignExpiry applies when the job has no presignedUrlConfig.
const defaultPresignExpiry = time.Hour

// deviceDocument is the job document as a device receives it: its own
// characters, with each placeholder replaced by a presigned URL.
func (s *Service) deviceDocument(jobID string) (string, error) {
	doc, expires, err := s.deps.Jobs.Document(jobID)
	if err != nil || !strings.Contains(doc, "${aws:iot:s3-presigned-url") {
		return doc, err
	}
	if expires <= 0 {
		expires = defaultPresignExpiry
	}
	var failed error
	doc = placeholder.ReplaceAllStringFunc(doc, func(m string) string {
		u, err := s.presign(placeholder.FindStringSubmatch(m)[1], expires)
		if err != nil {
			failed = err
			return m
		}
		return u
	})
	if failed != nil {
		return "", fmt.Errorf("presigning the URL of job %s's document: %w", jobID, failed)
	}
	return doc, nil
}

func (s *Service) presign(objectURL string, expires time.Duration) (string, error) {
	if s.deps.Presigner == nil {
		return "", fmt.Errorf("no S3 presigner is wired")
	}
	bucket, key, version, err := parseS3URL(objectURL)
	if err != nil {
		return "", err
	}
	return s.deps.Presigner.PresignGet(bucket, key, version, expires)
}

// parseS3URL reads bucket, key and versionId from an S3 object URL, path
// style (https://s3.<region>.amazonaws.com/<bucket>/<key>, or any non-AWS
// host such as otactl local) or virtual-hosted style
// (https://<bucket>.s3[.-]<region>.amazonaws.com/<key>).
func parseS3URL(raw string) (bucket, key, version string, err error) {
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
