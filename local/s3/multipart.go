package s3

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/otactl/otactl/local/store"
)

// Multipart uploads, which `aws s3 cp` and the SDKs' upload managers use for
// large files. Parts are blobs; completing streams them into one new blob.

const (
	uploadsTable = "s3-uploads" // upload id → uploadRecord
	partsTable   = "s3-parts"   // upload id \x00 %05d part number → partRecord
)

// minPartSize is S3's smallest part but the last.
const minPartSize = 5 << 20

type uploadRecord struct {
	Bucket      string            `json:"bucket"`
	Key         string            `json:"key"`
	Initiated   time.Time         `json:"initiated"`
	ContentType string            `json:"contentType,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
	SSE         string            `json:"sse,omitempty"`
	SSEKMSKeyID string            `json:"sseKmsKeyId,omitempty"`
	Tags        []Tag             `json:"tags,omitempty"`
	// Completed is set once CompleteMultipartUpload succeeded: the parts
	// are gone, and a repeated Complete answers the same result (200), as
	// S3 does. Every other operation then sees no upload.
	Completed *completedUpload `json:"completed,omitempty"`
}

type completedUpload struct {
	ETag      string `json:"etag"` // quoted
	VersionID string `json:"versionId"`
}

type partRecord struct {
	Number   int       `json:"number"`
	Blob     string    `json:"blob"`
	Size     int64     `json:"size"`
	MD5      string    `json:"md5"`
	Modified time.Time `json:"modified"`
}

func partKey(upload string, n int) string { return fmt.Sprintf("%s\x00%05d", upload, n) }

func errNoSuchUpload(id string) *Error {
	e := errorf(http.StatusNotFound, "NoSuchUpload",
		"The specified upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed.")
	e.Resource, e.UploadID = id, id
	return e
}

func (s *Service) serveMultipart(w http.ResponseWriter, r *http.Request, bucket, key string, q url.Values) error {
	id := q.Get("uploadId")
	switch {
	case r.Method == http.MethodPost && q.Has("uploads"):
		return s.createUpload(w, r, bucket, key)
	case r.Method == http.MethodPut && id != "" && q.Has("partNumber"):
		if r.Header.Get("x-amz-copy-source") != "" {
			return s.uploadPartCopy(w, r, bucket, key, id, q.Get("partNumber"))
		}
		return s.uploadPart(w, r, bucket, key, id, q.Get("partNumber"))
	case r.Method == http.MethodPost && id != "":
		return s.completeUpload(w, r, bucket, key, id)
	case r.Method == http.MethodDelete && id != "":
		if err := s.abortUpload(bucket, key, id); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	case r.Method == http.MethodGet && id != "":
		return s.listParts(w, bucket, key, id, q)
	}
	return errMethod()
}

func (s *Service) createUpload(w http.ResponseWriter, r *http.Request, bucket, key string) error {
	if err := checkKey(key); err != nil {
		return err
	}
	sse, kmsKey := sseHeaders(r.Header)
	if err := checkSSE(sse, kmsKey); err != nil {
		return err
	}
	tags, err := parseTaggingHeader(r.Header.Get("x-amz-tagging"))
	if err != nil {
		return err
	}
	id := newVersionID()
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		ct = "binary/octet-stream"
	}
	err = s.st.Update(func(tx *store.Tx) error {
		var b bucketRecord
		if found, err := tx.Get(bucketsTable, bucket, &b); err != nil || !found {
			if err == nil {
				err = errNoSuchBucket(bucket)
			}
			return err
		}
		b.applyDefaultEncryption(&sse, &kmsKey) // the upload's object gets the default of now
		return tx.Put(uploadsTable, id, uploadRecord{Bucket: bucket, Key: key, Initiated: s.now().UTC(),
			ContentType: ct, Metadata: userMetadata(r.Header), SSE: sse, SSEKMSKeyID: kmsKey, Tags: tags})
	})
	if err != nil {
		return err
	}
	setSSEHeaders(w, ObjectInfo{ServerSideEncryption: sseOrDefault(sse), SSEKMSKeyID: kmsKey})
	type result struct {
		XMLName  xml.Name `xml:"InitiateMultipartUploadResult"`
		Xmlns    string   `xml:"xmlns,attr"`
		Bucket   string
		Key      string
		UploadID string `xml:"UploadId"`
	}
	writeXML(w, http.StatusOK, result{Xmlns: xmlns, Bucket: bucket, Key: key, UploadID: id})
	return nil
}

// upload loads an upload that must belong to bucket/key.
func upload(tx *store.Tx, bucket, key, id string) (uploadRecord, error) {
	var u uploadRecord
	found, err := tx.Get(uploadsTable, id, &u)
	if err != nil {
		return u, err
	}
	if !found || u.Bucket != bucket || u.Key != key || u.Completed != nil {
		return u, errNoSuchUpload(id)
	}
	return u, nil
}

func (s *Service) uploadPart(w http.ResponseWriter, r *http.Request, bucket, key, id, number string) error {
	n, err := strconv.Atoi(number)
	if err != nil || n < 1 || n > 10000 {
		return errorf(http.StatusBadRequest, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive")
	}
	if err := s.st.View(func(tx *store.Tx) error { _, err := upload(tx, bucket, key, id); return err }); err != nil {
		return err
	}
	var wantMD5 []byte
	if h := r.Header.Get("Content-MD5"); h != "" {
		if wantMD5, err = decodeMD5(h); err != nil {
			return err
		}
	}
	body, err := requestBody(r)
	if err != nil {
		return err
	}
	blob, err := s.st.WriteBlob(body, wantMD5)
	if err != nil {
		return blobError(err)
	}
	// A part's payload hash is signed like an object's: hold it to it.
	if sha := r.Header.Get("X-Amz-Content-Sha256"); len(sha) == 64 && strings.ToLower(sha) != blob.SHA256 {
		s.st.RemoveBlob(blob.ID)
		return errorf(http.StatusBadRequest, "XAmzContentSHA256Mismatch",
			"The provided 'x-amz-content-sha256' header does not match what was computed.")
	}
	u, err := s.storePart(bucket, key, id, n, blob)
	if err != nil {
		return err
	}
	w.Header().Set("ETag", `"`+blob.MD5+`"`)
	setSSEHeaders(w, ObjectInfo{ServerSideEncryption: sseOrDefault(u.SSE), SSEKMSKeyID: u.SSEKMSKeyID})
	w.WriteHeader(http.StatusOK)
	return nil
}

// storePart records blob as part n of upload id (replacing, and then
// removing, a part uploaded before under that number); on failure the
// blob is removed.
func (s *Service) storePart(bucket, key, id string, n int, blob store.Blob) (uploadRecord, error) {
	var old partRecord
	var u uploadRecord
	err := s.st.Update(func(tx *store.Tx) error {
		old = partRecord{}
		var err error
		if u, err = upload(tx, bucket, key, id); err != nil {
			return err
		}
		if _, err := tx.Get(partsTable, partKey(id, n), &old); err != nil {
			return err
		}
		return tx.Put(partsTable, partKey(id, n), partRecord{Number: n, Blob: blob.ID, Size: blob.Size, MD5: blob.MD5,
			Modified: s.now().UTC()})
	})
	if err != nil {
		s.st.RemoveBlob(blob.ID)
		return u, err
	}
	if old.Blob != "" {
		s.st.RemoveBlob(old.Blob) // the part was uploaded again
	}
	return u, nil
}

// parts lists an upload's parts in order.
func parts(tx *store.Tx, id string) ([]partRecord, error) {
	var ps []partRecord
	err := tx.List(partsTable, id+"\x00", func(_ string, raw []byte) error {
		var p partRecord
		if err := json.Unmarshal(raw, &p); err != nil {
			return err
		}
		ps = append(ps, p)
		return nil
	})
	return ps, err
}

func (s *Service) completeUpload(w http.ResponseWriter, r *http.Request, bucket, key, id string) error {
	var req struct {
		XMLName xml.Name `xml:"CompleteMultipartUpload"`
		Parts   []struct {
			PartNumber int
			ETag       string
		} `xml:"Part"`
	}
	if err := decodeXML(r, &req); err != nil {
		return err
	}
	if len(req.Parts) == 0 {
		return errMalformedXML()
	}
	var u uploadRecord
	var have []partRecord
	err := s.st.View(func(tx *store.Tx) error {
		found, err := tx.Get(uploadsTable, id, &u)
		if err != nil || found && u.Completed != nil && u.Bucket == bucket && u.Key == key {
			return err // completed before: answered below
		}
		if u, err = upload(tx, bucket, key, id); err != nil {
			return err
		}
		have, err = parts(tx, id)
		return err
	})
	if err != nil {
		return err
	}
	if c := u.Completed; c != nil {
		setVersionHeader(w, c.VersionID)
		setSSEHeaders(w, ObjectInfo{ServerSideEncryption: sseOrDefault(u.SSE), SSEKMSKeyID: u.SSEKMSKeyID})
		writeXML(w, http.StatusOK, completeResult{Xmlns: xmlns, Location: "/" + bucket + "/" + key, Bucket: bucket, Key: key, ETag: c.ETag})
		return nil
	}
	byNumber := map[int]partRecord{}
	for _, p := range have {
		byNumber[p.Number] = p
	}
	var use []partRecord
	sums := md5.New()
	for i, p := range req.Parts {
		if i > 0 && p.PartNumber <= req.Parts[i-1].PartNumber {
			return errorf(http.StatusBadRequest, "InvalidPartOrder", "The list of parts was not in ascending order. Parts must be ordered by part number.")
		}
	}
	for _, p := range req.Parts {
		got, ok := byNumber[p.PartNumber]
		if !ok || strings.Trim(p.ETag, `"`) != got.MD5 {
			return errorf(http.StatusBadRequest, "InvalidPart",
				"One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag.")
		}
		use = append(use, got)
	}
	for i, p := range use {
		if i < len(use)-1 && p.Size < minPartSize {
			return errorf(http.StatusBadRequest, "EntityTooSmall", "Your proposed upload is smaller than the minimum allowed object size.")
		}
		raw, _ := hex.DecodeString(p.MD5)
		sums.Write(raw)
	}
	// Stream the parts into one blob.
	var files []io.Reader
	defer func() {
		for _, f := range files {
			f.(*os.File).Close()
		}
	}()
	for _, p := range use {
		f, err := s.st.OpenBlob(p.Blob)
		if err != nil {
			return errNoSuchUpload(id) // completed or aborted concurrently
		}
		files = append(files, f)
	}
	blob, err := s.st.WriteBlobWith(io.MultiReader(files...), store.BlobOptions{})
	if err != nil {
		return blobError(err)
	}
	sizes := make([]int64, len(use))
	for i, p := range use {
		sizes[i] = p.Size
	}
	rec := objectRecord{Key: key, Blob: blob.ID, Size: blob.Size, MD5: blob.MD5,
		ETag:         fmt.Sprintf("%s-%d", hex.EncodeToString(sums.Sum(nil)), len(use)),
		LastModified: s.now().UTC(), ContentType: u.ContentType, Metadata: u.Metadata,
		SSE: u.SSE, SSEKMSKeyID: u.SSEKMSKeyID, Tags: u.Tags, PartSizes: sizes}
	oi, err := s.commit(bucket, rec)
	if err != nil {
		s.st.RemoveBlob(blob.ID)
		return err
	}
	// The parts are no longer needed; the upload stays as completed.
	s.finishUpload(bucket, key, id, &completedUpload{ETag: oi.ETag, VersionID: oi.VersionID})
	setVersionHeader(w, oi.VersionID)
	setSSEHeaders(w, oi)
	writeXML(w, http.StatusOK, completeResult{Xmlns: xmlns, Location: "/" + bucket + "/" + key, Bucket: bucket, Key: key, ETag: oi.ETag})
	return nil
}

// abortUpload removes an upload's records, then its part blobs.
func (s *Service) abortUpload(bucket, key, id string) error {
	return s.finishUpload(bucket, key, id, nil)
}

// finishUpload removes an upload's parts, then their blobs, and the upload
// record, or with done keeps it as completed.
func (s *Service) finishUpload(bucket, key, id string, done *completedUpload) error {
	var ps []partRecord
	err := s.st.Update(func(tx *store.Tx) error {
		u, err := upload(tx, bucket, key, id)
		if err != nil {
			return err
		}
		if done != nil {
			u.Completed = done
			if err := tx.Put(uploadsTable, id, u); err != nil {
				return err
			}
		}
		if ps, err = parts(tx, id); err != nil {
			return err
		}
		for _, p := range ps {
			if err := tx.Delete(partsTable, partKey(id, p.Number)); err != nil {
				return err
			}
		}
		if done != nil {
			return nil
		}
		return tx.Delete(uploadsTable, id)
	})
	if err != nil {
		return err
	}
	for _, p := range ps {
		s.st.RemoveBlob(p.Blob)
	}
	return nil
}

func decodeMD5(h string) ([]byte, error) {
	b, err := base64Std(h)
	if err != nil || len(b) != 16 {
		return nil, errorf(http.StatusBadRequest, "InvalidDigest", "The Content-MD5 you specified was invalid.")
	}
	return b, nil
}

// blobError maps a WriteBlob failure to S3's error.
func blobError(err error) error {
	if errors.Is(err, store.ErrBadDigest) {
		return errorf(http.StatusBadRequest, "BadDigest", "The Content-MD5 you specified did not match what we received.")
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return errorf(http.StatusBadRequest, "IncompleteBody", "You did not provide the number of bytes specified by the Content-Length HTTP header.")
	}
	return err
}

// ListParts returns an upload's parts in order.
func (s *Service) ListParts(bucket, key, id string) (uploadRecord, []partRecord, error) {
	var u uploadRecord
	var ps []partRecord
	err := s.st.View(func(tx *store.Tx) error {
		if !tx.Has(bucketsTable, bucket) {
			return errNoSuchBucket(bucket)
		}
		var err error
		if u, err = upload(tx, bucket, key, id); err != nil {
			return err
		}
		ps, err = parts(tx, id)
		return err
	})
	return u, ps, err
}

// pendingUpload is an upload in progress, as ListMultipartUploads lists it.
type pendingUpload struct {
	ID string
	uploadRecord
}

// ListUploads returns a bucket's uploads in progress under prefix, in
// S3's order: by key, then by initiation.
func (s *Service) ListUploads(bucket, prefix string) ([]pendingUpload, error) {
	var out []pendingUpload
	err := s.st.View(func(tx *store.Tx) error {
		if !tx.Has(bucketsTable, bucket) {
			return errNoSuchBucket(bucket)
		}
		return tx.List(uploadsTable, "", func(id string, raw []byte) error {
			var u uploadRecord
			if err := json.Unmarshal(raw, &u); err != nil {
				return err
			}
			if u.Bucket == bucket && u.Completed == nil && strings.HasPrefix(u.Key, prefix) {
				out = append(out, pendingUpload{ID: id, uploadRecord: u})
			}
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.Key != b.Key {
			return a.Key < b.Key
		}
		if !a.Initiated.Equal(b.Initiated) {
			return a.Initiated.Before(b.Initiated)
		}
		return a.ID < b.ID
	})
	return out, err
}

// uploadPartCopy is UploadPartCopy: part n of an upload made of a source
// object version, or the byte range of it x-amz-copy-source-range names.
// The x-amz-copy-source-if-* preconditions are not evaluated.
func (s *Service) uploadPartCopy(w http.ResponseWriter, r *http.Request, bucket, key, id, number string) error {
	n, err := strconv.Atoi(number)
	if err != nil || n < 1 || n > 10000 {
		return errorf(http.StatusBadRequest, "InvalidArgument", "Part number must be an integer between 1 and 10000, inclusive")
	}
	srcBucket, srcKey, srcVersion, err := parseCopySource(r.Header.Get("x-amz-copy-source"))
	if err != nil {
		return err
	}
	if err := s.st.View(func(tx *store.Tx) error { _, err := upload(tx, bucket, key, id); return err }); err != nil {
		return err
	}
	src, err := s.OpenObject(srcBucket, srcKey, srcVersion)
	if err != nil {
		return err
	}
	defer src.Close()
	first, length, err := copySourceRange(r.Header.Get("x-amz-copy-source-range"), src.Size)
	if err != nil {
		return err
	}
	blob, err := s.st.WriteBlobWith(io.NewSectionReader(src.File, first, length), store.BlobOptions{})
	if err != nil {
		return blobError(err)
	}
	u, err := s.storePart(bucket, key, id, n, blob)
	if err != nil {
		return err
	}
	if srcVersion != "" || src.VersionID != NullVersion {
		w.Header().Set("x-amz-copy-source-version-id", src.VersionID)
	}
	setSSEHeaders(w, ObjectInfo{ServerSideEncryption: sseOrDefault(u.SSE), SSEKMSKeyID: u.SSEKMSKeyID})
	writeXML(w, http.StatusOK, copyPartResult{Xmlns: xmlns, ETag: `"` + blob.MD5 + `"`, LastModified: s3Time(s.now())})
	return nil
}

// copySourceRange reads x-amz-copy-source-range, which S3 takes only in
// the form bytes=first-last, within the source object; without it the
// whole object is copied.
func copySourceRange(h string, size int64) (first, length int64, err error) {
	if h == "" {
		return 0, size, nil
	}
	bad := errorf(http.StatusBadRequest, "InvalidArgument",
		"The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy")
	spec, ok := strings.CutPrefix(h, "bytes=")
	a, b, ok2 := strings.Cut(spec, "-")
	if !ok || !ok2 {
		return 0, 0, bad
	}
	first, err1 := strconv.ParseInt(a, 10, 64)
	last, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || first < 0 || last < first {
		return 0, 0, bad
	}
	if last >= size {
		return 0, 0, errorf(http.StatusBadRequest, "InvalidArgument", "Range specified is not valid for source object of size: %d", size)
	}
	return first, last - first + 1, nil
}
