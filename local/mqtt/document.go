package mqtt

import (
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// placeholder is AWS IoT Jobs' presigned-URL placeholder: in any string of a
// job document, ${aws:iot:s3-presigned-url:<S3 object URL>} (or the newer
// s3-presigned-url-v2) becomes a presigned GET URL when a device fetches the
// document.
var placeholder = regexp.MustCompile(`\$\{aws:iot:s3-presigned-url(?:-v2)?:([^}\s"]+)\}`)

// defaultPresignExpiry is used when the job has no presignedUrlConfig.
const defaultPresignExpiry = time.Hour

// deviceDocument is the job document as a device receives it: JSON, with
// the placeholders replaced by URLs to the local S3.
func (b *Broker) deviceDocument(e Execution) (json.RawMessage, error) {
	doc, expires, err := b.deps.Jobs.Document(e.JobID)
	if err != nil {
		return nil, err
	}
	if strings.Contains(doc, "${aws:iot:s3-presigned-url") {
		if expires <= 0 {
			expires = defaultPresignExpiry
		}
		var ferr error
		doc = placeholder.ReplaceAllStringFunc(doc, func(m string) string {
			u, err := b.presign(placeholder.FindStringSubmatch(m)[1], expires)
			if err != nil {
				ferr = err
				return m
			}
			return u
		})
		if ferr != nil {
			return nil, &JobError{Code: CodeInternalError, Message: "presigning the job document's URL: " + ferr.Error()}
		}
	}
	if doc == "" {
		return nil, nil
	}
	if !json.Valid([]byte(doc)) {
		// Documents are JSON; anything else travels as a string.
		return mustJSON(doc), nil
	}
	return json.RawMessage(doc), nil
}

func (b *Broker) presign(objectURL string, expires time.Duration) (string, error) {
	if b.deps.Presigner == nil {
		return "", fmt.Errorf("no presigner")
	}
	bucket, key, version, err := parseS3URL(objectURL)
	if err != nil {
		return "", err
	}
	return b.deps.Presigner.PresignGet(bucket, key, version, expires)
}

// parseS3URL reads bucket, key and versionId from an S3 object URL in
// path style (https://s3.<region>.amazonaws.com/<bucket>/<key>, or any
// non-AWS host such as a local endpoint) or virtual-hosted style
// (https://<bucket>.s3.<region>.amazonaws.com/<key>).
func parseS3URL(raw string) (bucket, key, version string, err error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", "", "", fmt.Errorf("placeholder URL %q: %v", raw, err)
	}
	host := strings.ToLower(u.Hostname())
	path := strings.TrimPrefix(u.Path, "/")
	if i := strings.Index(host, ".s3."); i > 0 || strings.HasSuffix(host, ".s3.amazonaws.com") {
		if i < 0 {
			i = strings.Index(host, ".s3")
		}
		bucket, key = host[:i], path
	} else if i := strings.Index(host, ".s3-"); i > 0 {
		bucket, key = host[:i], path
	} else {
		bucket, key, _ = strings.Cut(path, "/")
	}
	if bucket == "" || key == "" {
		return "", "", "", fmt.Errorf("placeholder URL %q names no bucket and key", raw)
	}
	return bucket, key, u.Query().Get("versionId"), nil
}
