package s3

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

func (s *Service) putObjectHTTP(w http.ResponseWriter, r *http.Request, bucket, key string) error {
	o := putOptions{contentType: r.Header.Get("Content-Type"), metadata: userMetadata(r.Header)}
	o.sse, o.kmsKey = sseHeaders(r.Header)
	tags, err := parseTaggingHeader(r.Header.Get("x-amz-tagging"))
	if err != nil {
		return err
	}
	o.tags = tags
	if h := r.Header.Get("Content-MD5"); h != "" {
		b, err := decodeMD5(h)
		if err != nil {
			return err
		}
		o.md5 = b
	}
	body, err := requestBody(r)
	if err != nil {
		return err
	}
	if sha := r.Header.Get("X-Amz-Content-Sha256"); len(sha) == 64 {
		o.sha256 = strings.ToLower(sha)
	}
	oi, err := s.putObject(bucket, key, body, o)
	if err != nil {
		return blobError(err)
	}
	w.Header().Set("ETag", oi.ETag)
	setVersionHeader(w, oi.VersionID)
	setSSEHeaders(w, oi)
	w.WriteHeader(http.StatusOK)
	return nil
}

// sseHeaders reads x-amz-server-side-encryption and its KMS key id.
func sseHeaders(h http.Header) (sse, kmsKey string) {
	return h.Get("x-amz-server-side-encryption"), h.Get("x-amz-server-side-encryption-aws-kms-key-id")
}

// setSSEHeaders reports how an object is encrypted, as S3 does on
// PutObject, CopyObject, GetObject, HeadObject and multipart uploads.
func setSSEHeaders(w http.ResponseWriter, oi ObjectInfo) {
	w.Header().Set("x-amz-server-side-encryption", oi.ServerSideEncryption)
	if oi.SSEKMSKeyID != "" {
		w.Header().Set("x-amz-server-side-encryption-aws-kms-key-id", oi.SSEKMSKeyID)
	}
}

// setVersionHeader reports a version id the way S3 does: not at all for the
// "null" version of an unversioned write.
func setVersionHeader(w http.ResponseWriter, v string) {
	if v != "" && v != NullVersion {
		w.Header().Set("x-amz-version-id", v)
	}
}

func base64Std(s string) ([]byte, error) { return base64.StdEncoding.DecodeString(s) }

// userMetadata collects x-amz-meta-* headers, their names in lower case as
// S3 keeps and returns them.
func userMetadata(h http.Header) map[string]string {
	var m map[string]string
	for k, v := range h {
		lk := strings.ToLower(k)
		if name, ok := strings.CutPrefix(lk, "x-amz-meta-"); ok && len(v) > 0 {
			if m == nil {
				m = map[string]string{}
			}
			m[name] = v[0]
		}
	}
	return m
}

// responseOverrides are the query parameters of GetObject that set
// response headers (used by presigned download links).
var responseOverrides = map[string]string{
	"response-content-type":        "Content-Type",
	"response-content-disposition": "Content-Disposition",
	"response-content-encoding":    "Content-Encoding",
	"response-content-language":    "Content-Language",
	"response-cache-control":       "Cache-Control",
	"response-expires":             "Expires",
}

func (s *Service) getObject(w http.ResponseWriter, r *http.Request, bucket, key, versionID string) error {
	q := r.URL.Query()
	part := 0
	if q.Has("partNumber") {
		n, err := strconv.Atoi(q.Get("partNumber"))
		if err != nil || n < 1 || n > 10000 {
			return errorf(http.StatusBadRequest, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive")
		}
		if r.Header.Get("Range") != "" {
			return errorf(http.StatusBadRequest, "InvalidRequest", "Cannot specify both Range header and partNumber query parameter")
		}
		part = n
	}
	obj, err := s.OpenObject(bucket, key, versionID)
	if err != nil {
		return err
	}
	defer obj.Close()
	h := w.Header()
	h.Set("Last-Modified", obj.LastModified.UTC().Format(http.TimeFormat))
	h.Set("ETag", obj.ETag)
	h.Set("Content-Type", obj.ContentType)
	h.Set("Accept-Ranges", "bytes")
	if versionID != "" {
		h.Set("x-amz-version-id", obj.VersionID)
	} else {
		setVersionHeader(w, obj.VersionID)
	}
	for _, k := range sortedKeys(obj.Metadata) {
		// Set directly: Header.Set would write X-Amz-Meta-Md for "md".
		h["x-amz-meta-"+k] = []string{obj.Metadata[k]}
	}
	setSSEHeaders(w, obj.ObjectInfo)
	if obj.TagCount > 0 {
		h.Set("x-amz-tagging-count", strconv.Itoa(obj.TagCount))
	}
	for p, hdr := range responseOverrides {
		if v := q.Get(p); v != "" {
			h.Set(hdr, v)
		}
	}
	if status := preconditions(r, obj.ETag, obj.LastModified); status != 0 {
		if status == http.StatusNotModified {
			h.Del("Content-Type")
			w.WriteHeader(status)
			return nil
		}
		return errorf(status, "PreconditionFailed", "At least one of the pre-conditions you specified did not hold")
	}
	start, length, partial, rerr := parseRange(r.Header.Get("Range"), obj.Size)
	if part > 0 {
		start, length, partial, rerr = partRange(obj.ObjectInfo, part)
		if len(obj.PartSizes) > 0 {
			h.Set("x-amz-mp-parts-count", strconv.Itoa(len(obj.PartSizes)))
		}
	}
	if rerr != nil {
		h.Set("Content-Range", fmt.Sprintf("bytes */%d", obj.Size))
		return rerr
	}
	h.Set("Content-Length", strconv.FormatInt(length, 10))
	status := http.StatusOK
	if partial {
		h.Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", start, start+length-1, obj.Size))
		status = http.StatusPartialContent
	}
	w.WriteHeader(status)
	if r.Method == http.MethodHead {
		return nil
	}
	// Copying from the *os.File lets net/http use sendfile.
	if _, err := obj.Seek(start, io.SeekStart); err != nil {
		return nil // headers are out; the client sees a short body
	}
	io.CopyN(w, obj.File, length)
	return nil
}

// partRange is the byte range of part n (partNumber on GetObject and
// HeadObject): a multipart object's part, or the whole of an object one
// request wrote, which is its only part; beyond the last part it is
// InvalidPartNumber. S3 answers a part as a partial content.
func partRange(oi ObjectInfo, n int) (start, length int64, partial bool, err error) {
	sizes := oi.PartSizes
	if len(sizes) == 0 {
		sizes = []int64{oi.Size}
	}
	if n > len(sizes) {
		return 0, 0, false, errorf(http.StatusRequestedRangeNotSatisfiable, "InvalidPartNumber", "The requested partnumber is not satisfiable")
	}
	for _, sz := range sizes[:n-1] {
		start += sz
	}
	if sizes[n-1] == 0 {
		return 0, 0, false, nil
	}
	return start, sizes[n-1], true, nil
}

// parseRange interprets a Range header as S3 does: one "bytes=" range; a
// header it cannot parse (or several ranges) is ignored and the whole object
// served; a range starting past the end is InvalidRange.
func parseRange(h string, size int64) (start, length int64, partial bool, err error) {
	spec, ok := strings.CutPrefix(strings.TrimSpace(h), "bytes=")
	if !ok || strings.Contains(spec, ",") {
		return 0, size, false, nil
	}
	first, last, ok := strings.Cut(strings.TrimSpace(spec), "-")
	if !ok {
		return 0, size, false, nil
	}
	invalid := &Error{Code: "InvalidRange", Status: http.StatusRequestedRangeNotSatisfiable,
		Message: "The requested range is not satisfiable", RangeRequested: strings.TrimSpace(h), ActualObjectSize: &size}
	if first == "" { // suffix: the last n bytes
		n, perr := strconv.ParseInt(last, 10, 64)
		if perr != nil || n < 0 {
			return 0, size, false, nil
		}
		if n == 0 || size == 0 {
			return 0, 0, false, invalid
		}
		if n > size {
			n = size
		}
		return size - n, n, true, nil
	}
	a, perr := strconv.ParseInt(first, 10, 64)
	if perr != nil || a < 0 {
		return 0, size, false, nil
	}
	b := size - 1
	if last != "" {
		b, perr = strconv.ParseInt(last, 10, 64)
		if perr != nil || b < a {
			return 0, size, false, nil
		}
	}
	if a >= size {
		return 0, 0, false, invalid
	}
	if b >= size {
		b = size - 1
	}
	return a, b - a + 1, true, nil
}

func (s *Service) copyObject(w http.ResponseWriter, r *http.Request, bucket, key string) error {
	srcBucket, srcKey, srcVersion, err := parseCopySource(r.Header.Get("x-amz-copy-source"))
	if err != nil {
		return err
	}
	metaDirective, tagDirective := r.Header.Get("x-amz-metadata-directive"), r.Header.Get("x-amz-tagging-directive")
	switch metaDirective {
	case "", "COPY", "REPLACE":
	default:
		return errorf(http.StatusBadRequest, "InvalidArgument", "Unknown metadata directive %q.", metaDirective)
	}
	switch tagDirective {
	case "", "COPY", "REPLACE":
	default:
		return errorf(http.StatusBadRequest, "InvalidArgument", "Unknown tagging directive %q.", tagDirective)
	}
	o := putOptions{}
	o.sse, o.kmsKey = sseHeaders(r.Header)
	if tagDirective == "REPLACE" {
		if o.tags, err = parseTaggingHeader(r.Header.Get("x-amz-tagging")); err != nil {
			return err
		}
	}
	src, err := s.OpenObject(srcBucket, srcKey, srcVersion)
	if err != nil {
		return err
	}
	defer src.Close()
	// S3 refuses a copy that would change nothing: onto itself (its
	// current version), keeping the metadata, storage class, website
	// redirect and encryption.
	if srcBucket == bucket && srcKey == key && src.IsLatest && metaDirective != "REPLACE" && o.sse == "" &&
		r.Header.Get("x-amz-storage-class") == "" && r.Header.Get("x-amz-website-redirect-location") == "" {
		return errorf(http.StatusBadRequest, "InvalidRequest",
			"This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.")
	}
	if metaDirective == "REPLACE" {
		o.contentType, o.metadata = r.Header.Get("Content-Type"), userMetadata(r.Header)
	} else {
		o.contentType, o.metadata = src.ContentType, src.Metadata
	}
	if tagDirective != "REPLACE" {
		if o.tags, _, err = s.ObjectTagging(srcBucket, srcKey, src.VersionID); err != nil {
			return err
		}
	}
	oi, err := s.copyObjectBody(bucket, key, src, o) // shares the source's blob
	if err != nil {
		return err
	}
	setVersionHeader(w, oi.VersionID)
	setSSEHeaders(w, oi)
	if srcVersion != "" || src.VersionID != NullVersion {
		w.Header().Set("x-amz-copy-source-version-id", src.VersionID)
	}
	writeXML(w, http.StatusOK, copyObjectResult{Xmlns: xmlns, ETag: oi.ETag, LastModified: s3Time(oi.LastModified)})
	return nil
}

// parseCopySource reads x-amz-copy-source: "[/]bucket/key[?versionId=v]",
// URL-encoded.
func parseCopySource(h string) (bucket, key, version string, err error) {
	p, rawq, _ := strings.Cut(h, "?")
	p, uerr := url.PathUnescape(p)
	bucket, key, _ = strings.Cut(strings.TrimPrefix(p, "/"), "/")
	if uerr != nil || bucket == "" || key == "" {
		return "", "", "", errorf(http.StatusBadRequest, "InvalidArgument",
			"Copy Source must mention the source bucket and key: sourcebucket/sourcekey")
	}
	if rawq != "" {
		q, qerr := url.ParseQuery(rawq)
		if qerr != nil {
			return "", "", "", errorf(http.StatusBadRequest, "InvalidArgument", "Invalid copy source query %q.", rawq)
		}
		version = q.Get("versionId")
		if q.Has("versionId") && version == "" {
			return "", "", "", errorf(http.StatusBadRequest, "InvalidArgument", "Invalid version id specified")
		}
	}
	return bucket, key, version, nil
}

func (s *Service) deleteObject(w http.ResponseWriter, bucket, key string, q url.Values) error {
	vid := q.Get("versionId")
	if q.Has("versionId") && vid == "" {
		return errorf(http.StatusBadRequest, "InvalidArgument", "Invalid version id specified")
	}
	oi, err := s.DeleteObject(bucket, key, vid)
	if err != nil {
		return err
	}
	if oi.IsDeleteMarker {
		w.Header().Set("x-amz-delete-marker", "true")
	}
	if vid != "" {
		w.Header().Set("x-amz-version-id", vid)
	} else if oi.IsDeleteMarker {
		w.Header().Set("x-amz-version-id", oi.VersionID)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// deleteObjects is DeleteObjects (POST ?delete), used by `aws s3 rm --recursive`.
func (s *Service) deleteObjects(w http.ResponseWriter, r *http.Request, bucket string) error {
	var req deleteRequest
	if err := decodeXML(r, &req); err != nil {
		return err
	}
	if len(req.Objects) == 0 || len(req.Objects) > 1000 {
		return errMalformedXML()
	}
	if _, err := s.bucket(bucket); err != nil {
		return err
	}
	res := deleteResult{Xmlns: xmlns}
	for _, o := range req.Objects {
		oi, err := s.DeleteObject(bucket, o.Key, o.VersionID)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) {
				e = errorf(http.StatusInternalServerError, "InternalError", "%v", err)
			}
			res.Errors = append(res.Errors, deleteErrorXML{Key: o.Key, VersionID: o.VersionID, Code: e.Code, Message: e.Message})
			continue
		}
		if req.Quiet {
			continue
		}
		d := deletedXML{Key: o.Key, VersionID: o.VersionID, DeleteMarker: oi.IsDeleteMarker}
		if oi.IsDeleteMarker && o.VersionID == "" {
			d.DeleteMarkerVersionID = oi.VersionID
		}
		res.Deleted = append(res.Deleted, d)
	}
	writeXML(w, http.StatusOK, res)
	return nil
}

// preconditions evaluates If-Match, If-Unmodified-Since, If-None-Match and
// If-Modified-Since as S3 does; it returns 412, 304 or 0 (serve).
func preconditions(r *http.Request, etag string, modified time.Time) int {
	modified = modified.Truncate(time.Second)
	matches := func(h string) bool {
		for _, t := range strings.Split(h, ",") {
			t = strings.TrimSpace(t)
			if t == "*" || strings.Trim(t, `"`) == strings.Trim(etag, `"`) {
				return true
			}
		}
		return false
	}
	im := r.Header.Get("If-Match")
	if im != "" && !matches(im) {
		return http.StatusPreconditionFailed
	}
	if ius, err := http.ParseTime(r.Header.Get("If-Unmodified-Since")); err == nil && im == "" && modified.After(ius) {
		return http.StatusPreconditionFailed
	}
	inm := r.Header.Get("If-None-Match")
	if inm != "" && matches(inm) {
		return http.StatusNotModified
	}
	if ims, err := http.ParseTime(r.Header.Get("If-Modified-Since")); err == nil && inm == "" && !modified.After(ims) {
		return http.StatusNotModified
	}
	return 0
}
