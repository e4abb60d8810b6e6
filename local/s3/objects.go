package s3

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"

	"github.com/otactl/otactl/local/store"
)

// CreateBucket creates an empty, unversioned bucket.
func (s *Service) CreateBucket(name string) error {
	if !validBucketName(name) {
		e := errorf(http.StatusBadRequest, "InvalidBucketName", "The specified bucket is not valid.")
		e.Resource = name
		return e
	}
	return s.st.Update(func(tx *store.Tx) error {
		if tx.Has(bucketsTable, name) {
			e := errorf(http.StatusConflict, "BucketAlreadyOwnedByYou",
				"Your previous request to create the named bucket succeeded and you already own it.")
			e.Resource = name
			return e
		}
		pab := blockAllPublicAccess // S3's setting for every new bucket
		return tx.Put(bucketsTable, name, bucketRecord{Name: name, Created: s.now().UTC(), PublicAccessBlock: &pab})
	})
}

// DeleteBucket removes an empty bucket.
func (s *Service) DeleteBucket(name string) error {
	return s.st.Update(func(tx *store.Tx) error {
		if !tx.Has(bucketsTable, name) {
			return errNoSuchBucket(name)
		}
		empty := true
		tx.List(objectsTable, name+"\x00", func(string, []byte) error {
			empty = false
			return store.ErrStop
		})
		if !empty {
			e := errorf(http.StatusConflict, "BucketNotEmpty", "The bucket you tried to delete is not empty")
			e.Resource, e.BucketName = name, name
			return e
		}
		return tx.Delete(bucketsTable, name)
	})
}

// buckets lists every bucket in name order.
func (s *Service) buckets() ([]bucketRecord, error) {
	var out []bucketRecord
	err := s.st.List(bucketsTable, "", func(_ string, raw []byte) error {
		var b bucketRecord
		if err := json.Unmarshal(raw, &b); err != nil {
			return err
		}
		out = append(out, b)
		return nil
	})
	return out, err
}

func (s *Service) bucket(name string) (bucketRecord, error) {
	var b bucketRecord
	found, err := s.st.Get(bucketsTable, name, &b)
	if err != nil {
		return b, err
	}
	if !found {
		return b, errNoSuchBucket(name)
	}
	return b, nil
}

// SetVersioning sets a bucket's versioning to "Enabled" or "Suspended".
func (s *Service) SetVersioning(bucket, status string) error {
	if status != VersioningEnabled && status != VersioningSuspended {
		return errorf(http.StatusBadRequest, "MalformedXML",
			"The XML you provided was not well-formed or did not validate against our published schema")
	}
	return s.st.Update(func(tx *store.Tx) error {
		var b bucketRecord
		found, err := tx.Get(bucketsTable, bucket, &b)
		if err != nil {
			return err
		}
		if !found {
			return errNoSuchBucket(bucket)
		}
		b.Versioning = status
		return tx.Put(bucketsTable, bucket, b)
	})
}

// Versioning returns "Enabled", "Suspended" or "" (never enabled).
func (s *Service) Versioning(bucket string) (string, error) {
	b, err := s.bucket(bucket)
	return b.Versioning, err
}

// PutObject stores body as a new version of bucket/key (the "null" version
// when versioning is not enabled). body is streamed to disk.
func (s *Service) PutObject(bucket, key string, body io.Reader, contentType string) (ObjectInfo, error) {
	return s.putObject(bucket, key, body, putOptions{contentType: contentType})
}

// PutObjectThen is PutObject with then run inside the transaction that
// records the new version, so that what the object is for (a signing job
// finished) is committed with it or not at all. An error from then undoes
// the put.
func (s *Service) PutObjectThen(bucket, key string, body io.Reader, contentType string, then func(*store.Tx) error) (ObjectInfo, error) {
	return s.putObject(bucket, key, body, putOptions{contentType: contentType, then: then})
}

type putOptions struct {
	contentType string
	md5         []byte // Content-MD5 to check, nil for none
	sha256      string // hex x-amz-content-sha256 to check, "" for none
	metadata    map[string]string
	sse, kmsKey string // server-side encryption asked for ("" = S3's default)
	tags        []Tag
	partSizes   []int64               // a multipart object's parts
	then        func(*store.Tx) error // runs in the commit's transaction
}

// sseOrDefault is the x-amz-server-side-encryption S3 reports: every new
// object is encrypted, with SSE-S3 (AES256) unless a request chose KMS.
func sseOrDefault(v string) string {
	if v == "" {
		return "AES256"
	}
	return v
}

// checkSSE validates x-amz-server-side-encryption (and the KMS key id,
// which only goes with aws:kms or aws:kms:dsse). otactl local encrypts
// nothing; it keeps and reports what was asked.
func checkSSE(sse, kmsKey string) error {
	switch sse {
	case "", "AES256", "aws:kms", "aws:kms:dsse":
	default:
		return errorf(http.StatusBadRequest, "InvalidArgument", "The encryption method specified is not supported")
	}
	if kmsKey != "" && sse != "aws:kms" && sse != "aws:kms:dsse" {
		return errorf(http.StatusBadRequest, "InvalidArgument",
			"x-amz-server-side-encryption-aws-kms-key-id goes with x-amz-server-side-encryption aws:kms or aws:kms:dsse only")
	}
	return nil
}

func (s *Service) putObject(bucket, key string, body io.Reader, o putOptions) (ObjectInfo, error) {
	if err := checkKey(key); err != nil {
		return ObjectInfo{}, err
	}
	if err := checkSSE(o.sse, o.kmsKey); err != nil {
		return ObjectInfo{}, err
	}
	// Fail before reading the body when the bucket is missing.
	if _, err := s.bucket(bucket); err != nil {
		return ObjectInfo{}, err
	}
	// The SHA-256 only when a header asks for a check: S3 keeps no SHA-256.
	blob, err := s.st.WriteBlobWith(body, store.BlobOptions{WantMD5: o.md5, SHA256: o.sha256 != ""})
	if errors.Is(err, store.ErrBadDigest) {
		return ObjectInfo{}, errorf(http.StatusBadRequest, "BadDigest",
			"The Content-MD5 you specified did not match what we received.")
	}
	if err != nil {
		var se *Error
		if errors.As(err, &se) {
			return ObjectInfo{}, se
		}
		return ObjectInfo{}, err
	}
	if o.sha256 != "" && o.sha256 != blob.SHA256 {
		s.st.RemoveBlob(blob.ID)
		return ObjectInfo{}, errorf(http.StatusBadRequest, "XAmzContentSHA256Mismatch",
			"The provided 'x-amz-content-sha256' header does not match what was computed.")
	}
	if o.contentType == "" {
		o.contentType = "binary/octet-stream"
	}
	rec := objectRecord{
		Key: key, Blob: blob.ID, Size: blob.Size, MD5: blob.MD5, SHA256: blob.SHA256,
		LastModified: s.now().UTC(), ContentType: o.contentType, Metadata: o.metadata,
		SSE: o.sse, SSEKMSKeyID: o.kmsKey, Tags: o.tags,
	}
	oi, err := s.commitThen(bucket, rec, o.then)
	if err != nil {
		s.st.RemoveBlob(blob.ID)
	}
	return oi, err
}

func checkKey(key string) error {
	if key == "" || len(key) > 1024 || strings.ContainsRune(key, 0) {
		return errorf(http.StatusBadRequest, "InvalidArgument", "Object key must be 1 to 1024 bytes without NUL characters.")
	}
	return nil
}

// commit records a new version (object or delete marker) of rec.Key as the
// latest. When versioning is not enabled it replaces the "null" version,
// whose blob is removed after the commit unless another version shares it.
func (s *Service) commit(bucket string, rec objectRecord) (ObjectInfo, error) {
	return s.commitWith(bucket, rec, commitOptions{})
}

// commitThen is commit with then (when not nil) run in its transaction.
func (s *Service) commitThen(bucket string, rec objectRecord, then func(*store.Tx) error) (ObjectInfo, error) {
	return s.commitWith(bucket, rec, commitOptions{then: then})
}

// commitOptions are what a commit does besides recording the version.
type commitOptions struct {
	then  func(*store.Tx) error // runs last in the transaction
	share *sharedSource         // rec.Blob is this version's blob: counted, not written (blobshare.go)
}

func (s *Service) commitWith(bucket string, rec objectRecord, o commitOptions) (ObjectInfo, error) {
	var drop []string
	err := s.st.Update(func(tx *store.Tx) error {
		drop = nil
		var b bucketRecord
		found, err := tx.Get(bucketsTable, bucket, &b)
		if err != nil {
			return err
		}
		if !found {
			return errNoSuchBucket(bucket)
		}
		if o.share != nil {
			// Counted before the null version it may replace (itself,
			// copied onto its own key) lets go of the same blob.
			if err := o.share.check(tx); err != nil {
				return err
			}
			if err := shareBlob(tx, rec.Blob); err != nil {
				return err
			}
		}
		seq, err := tx.NextSeq(objectsTable)
		if err != nil {
			return err
		}
		rec.Seq = seq
		if !rec.DeleteMarker {
			b.applyDefaultEncryption(&rec.SSE, &rec.SSEKMSKeyID)
		}
		if b.Versioning == VersioningEnabled {
			rec.VersionID = newVersionID()
		} else {
			rec.VersionID = NullVersion
			old, ok, err := findVersion(tx, bucket, rec.Key, NullVersion)
			if err != nil {
				return err
			}
			if ok {
				if err := tx.Delete(objectsTable, objectKey(bucket, rec.Key, old.Seq)); err != nil {
					return err
				}
				if old.Blob != "" {
					last, err := releaseBlob(tx, old.Blob)
					if err != nil {
						return err
					}
					if last {
						drop = append(drop, old.Blob)
					}
				}
			}
		}
		if err := tx.Put(objectsTable, objectKey(bucket, rec.Key, seq), rec); err != nil || o.then == nil {
			return err
		}
		return o.then(tx)
	})
	if err != nil {
		return ObjectInfo{}, err
	}
	for _, id := range drop {
		s.st.RemoveBlob(id)
	}
	return rec.info(bucket, true), nil
}

// versions returns every version of bucket/key, newest first.
func versions(tx *store.Tx, bucket, key string) ([]objectRecord, error) {
	var out []objectRecord
	err := tx.List(objectsTable, objectPrefix(bucket, key), func(_ string, raw []byte) error {
		var o objectRecord
		if err := json.Unmarshal(raw, &o); err != nil {
			return err
		}
		out = append(out, o)
		return nil
	})
	return out, err
}

// findVersion finds version v ("" = latest) of bucket/key.
func findVersion(tx *store.Tx, bucket, key, v string) (objectRecord, bool, error) {
	vs, err := versions(tx, bucket, key)
	if err != nil || len(vs) == 0 {
		return objectRecord{}, false, err
	}
	if v == "" {
		return vs[0], true, nil
	}
	for _, o := range vs {
		if o.VersionID == v {
			return o, true, nil
		}
	}
	return objectRecord{}, false, nil
}

// lookup resolves bucket/key at versionID ("" = latest) with S3's errors:
// NoSuchBucket, NoSuchKey (also for a latest delete marker), NoSuchVersion,
// InvalidArgument for a malformed version id, MethodNotAllowed for a
// version that is a delete marker.
func (s *Service) lookup(bucket, key, versionID string) (objectRecord, bool, error) {
	if versionID != "" && !validVersionID(versionID) {
		return objectRecord{}, false, errorf(http.StatusBadRequest, "InvalidArgument", "Invalid version id specified")
	}
	var rec objectRecord
	var latest bool
	err := s.st.View(func(tx *store.Tx) error {
		if !tx.Has(bucketsTable, bucket) {
			return errNoSuchBucket(bucket)
		}
		vs, err := versions(tx, bucket, key)
		if err != nil {
			return err
		}
		if versionID == "" {
			if len(vs) == 0 {
				return errNoSuchKey(key)
			}
			rec, latest = vs[0], true
			if rec.DeleteMarker {
				e := errNoSuchKey(key)
				e.Header = map[string]string{"x-amz-delete-marker": "true", "x-amz-version-id": rec.VersionID}
				return e
			}
			return nil
		}
		for i, o := range vs {
			if o.VersionID == versionID {
				rec, latest = o, i == 0
				if o.DeleteMarker {
					// S3 names the one method a delete marker version allows.
					e := errorf(http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource.")
					e.Header = map[string]string{"x-amz-delete-marker": "true", "x-amz-version-id": o.VersionID,
						"Allow": "DELETE", "Last-Modified": o.LastModified.UTC().Format(http.TimeFormat)}
					return e
				}
				return nil
			}
		}
		return errNoSuchVersion(versionID)
	})
	return rec, latest, err
}

// HeadObject describes bucket/key at versionID ("" = latest).
func (s *Service) HeadObject(bucket, key, versionID string) (ObjectInfo, error) {
	rec, latest, err := s.lookup(bucket, key, versionID)
	if err != nil {
		return ObjectInfo{}, err
	}
	return rec.info(bucket, latest), nil
}

// Object is an open object version. Its body is the blob file: it supports
// Read, Seek and ReadAt, and must be closed.
type Object struct {
	ObjectInfo
	*os.File
	blob, md5, sha256 string // the record's: what a copy shares
}

// SHA256 is the hex SHA-256 of the body when the write that stored it
// computed one (it checked x-amz-content-sha256), "" otherwise: Signer
// then need not read the body twice.
func (o *Object) SHA256() string { return o.sha256 }

// OpenObject opens bucket/key at versionID ("" = latest) for reading.
func (s *Service) OpenObject(bucket, key, versionID string) (*Object, error) {
	for attempt := 0; ; attempt++ {
		rec, latest, err := s.lookup(bucket, key, versionID)
		if err != nil {
			return nil, err
		}
		f, err := s.st.OpenBlob(rec.Blob)
		if errors.Is(err, os.ErrNotExist) {
			// Replaced or deleted between the lookup and the open: look
			// the latest up again (a few times), a given version is gone.
			if versionID == "" && attempt < 3 {
				continue
			}
			if versionID == "" {
				return nil, errNoSuchKey(key)
			}
			return nil, errNoSuchVersion(versionID)
		}
		if err != nil {
			return nil, err
		}
		return &Object{ObjectInfo: rec.info(bucket, latest), File: f, blob: rec.Blob, md5: rec.MD5, sha256: rec.SHA256}, nil
	}
}

// ListVersions lists every version and delete marker under prefix: keys in
// order, each key's versions newest first (as ListObjectVersions does).
func (s *Service) ListVersions(bucket, prefix string) ([]ObjectInfo, error) {
	var out []ObjectInfo
	err := s.st.View(func(tx *store.Tx) error {
		if !tx.Has(bucketsTable, bucket) {
			return errNoSuchBucket(bucket)
		}
		last := "\x00none"
		return tx.List(objectsTable, bucket+"\x00"+prefix, func(_ string, raw []byte) error {
			var o objectRecord
			if err := json.Unmarshal(raw, &o); err != nil {
				return err
			}
			out = append(out, o.info(bucket, o.Key != last))
			last = o.Key
			return nil
		})
	})
	return out, err
}

// DeleteObject deletes bucket/key. With a versionID it removes that version
// for good; without, a versioned bucket gets a delete marker (an "null" one
// when suspended) and an unversioned bucket loses the object. The result
// describes the delete marker created or the version removed.
func (s *Service) DeleteObject(bucket, key, versionID string) (ObjectInfo, error) {
	if versionID == "" {
		v, err := s.Versioning(bucket)
		if err != nil {
			return ObjectInfo{}, err
		}
		if v == "" {
			return s.removeVersion(bucket, key, NullVersion)
		}
		return s.commit(bucket, objectRecord{Key: key, DeleteMarker: true, LastModified: s.now().UTC()})
	}
	if !validVersionID(versionID) {
		return ObjectInfo{}, errorf(http.StatusBadRequest, "InvalidArgument", "Invalid version id specified")
	}
	return s.removeVersion(bucket, key, versionID)
}

// removeVersion deletes one version record (a missing one is not an error,
// as in S3) and then its blob, unless another version shares it.
func (s *Service) removeVersion(bucket, key, versionID string) (ObjectInfo, error) {
	var rec objectRecord
	var found, last bool
	err := s.st.Update(func(tx *store.Tx) error {
		if !tx.Has(bucketsTable, bucket) {
			return errNoSuchBucket(bucket)
		}
		var err error
		rec, found, err = findVersion(tx, bucket, key, versionID)
		if err != nil || !found {
			return err
		}
		if err := tx.Delete(objectsTable, objectKey(bucket, key, rec.Seq)); err != nil || rec.Blob == "" {
			return err
		}
		last, err = releaseBlob(tx, rec.Blob)
		return err
	})
	if err != nil || !found {
		return ObjectInfo{Bucket: bucket, Key: key, VersionID: versionID}, err
	}
	if last { // no other version shares the blob
		s.st.RemoveBlob(rec.Blob)
	}
	return rec.info(bucket, false), nil
}

// sortedKeys returns m's keys in order (for deterministic headers).
func sortedKeys(m map[string]string) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
