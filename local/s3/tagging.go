package s3

import (
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/otactl/otactl/local/store"
)

// Bucket and object tagging: a bucket's tag set lives in its record, an
// object version's in the version's record (so each version has its own,
// as in S3). Limits from S3's documentation: at most 10 tags per object
// and 50 per bucket; keys of 1–128 and values of at most 256 Unicode
// characters; keys unique within a set; the aws: prefix is S3's own.
const (
	maxObjectTags = 10
	maxBucketTags = 50
)

// Tag is one key-value pair of a tag set.
type Tag struct {
	Key   string `json:"k"`
	Value string `json:"v"`
}

func errInvalidTag(format string, args ...any) *Error {
	return errorf(http.StatusBadRequest, "InvalidTag", format, args...)
}

// checkTags applies S3's tag rules to a set meant for an object (max 10)
// or a bucket (max 50).
func checkTags(tags []Tag, max int, what string) error {
	if len(tags) > max {
		return errInvalidTag("%s tags cannot be greater than %d", what, max)
	}
	seen := map[string]bool{}
	for _, t := range tags {
		if n := utf8.RuneCountInString(t.Key); n < 1 || n > 128 || !utf8.ValidString(t.Key) {
			return errInvalidTag("The TagKey you have provided is invalid: a key is 1 to 128 Unicode characters")
		}
		if utf8.RuneCountInString(t.Value) > 256 || !utf8.ValidString(t.Value) {
			return errInvalidTag("The TagValue you have provided is invalid: a value is at most 256 Unicode characters")
		}
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return errInvalidTag("System tags cannot be added/updated by requester")
		}
		if seen[t.Key] {
			return errInvalidTag("Cannot provide multiple Tags with the same key")
		}
		seen[t.Key] = true
	}
	return nil
}

// parseTaggingHeader reads x-amz-tagging ("k1=v1&k2=v2", URL-query
// encoded) into an object's tag set.
func parseTaggingHeader(h string) ([]Tag, error) {
	if h == "" {
		return nil, nil
	}
	var tags []Tag
	for _, pair := range strings.Split(h, "&") {
		if pair == "" {
			continue
		}
		k, v, _ := strings.Cut(pair, "=")
		key, err1 := url.QueryUnescape(k)
		value, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			return nil, errInvalidTag("The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates.")
		}
		tags = append(tags, Tag{Key: key, Value: value})
	}
	if err := checkTags(tags, maxObjectTags, "Object"); err != nil {
		return nil, err
	}
	return tags, nil
}

// PutBucketTagging replaces a bucket's tag set.
func (s *Service) PutBucketTagging(bucket string, tags []Tag) error {
	if err := checkTags(tags, maxBucketTags, "Bucket"); err != nil {
		return err
	}
	return s.updateBucket(bucket, func(b *bucketRecord) { b.Tags = tags })
}

// DeleteBucketTagging removes a bucket's tag set.
func (s *Service) DeleteBucketTagging(bucket string) error {
	return s.updateBucket(bucket, func(b *bucketRecord) { b.Tags = nil })
}

// BucketTagging returns a bucket's tag set: NoSuchTagSet when it has none.
func (s *Service) BucketTagging(bucket string) ([]Tag, error) {
	b, err := s.bucket(bucket)
	if err != nil {
		return nil, err
	}
	if len(b.Tags) == 0 {
		e := errorf(http.StatusNotFound, "NoSuchTagSet", "The TagSet does not exist")
		e.BucketName = bucket
		return nil, e
	}
	return b.Tags, nil
}

func (s *Service) updateBucket(bucket string, fn func(*bucketRecord)) error {
	return s.st.Update(func(tx *store.Tx) error {
		var b bucketRecord
		found, err := tx.Get(bucketsTable, bucket, &b)
		if err != nil {
			return err
		}
		if !found {
			return errNoSuchBucket(bucket)
		}
		fn(&b)
		return tx.Put(bucketsTable, bucket, b)
	})
}

// PutObjectTagging replaces the tag set of bucket/key at versionID ("" =
// latest) and returns the version tagged.
func (s *Service) PutObjectTagging(bucket, key, versionID string, tags []Tag) (string, error) {
	if err := checkTags(tags, maxObjectTags, "Object"); err != nil {
		return "", err
	}
	return s.updateVersion(bucket, key, versionID, func(o *objectRecord) { o.Tags = tags })
}

// DeleteObjectTagging removes the tag set of bucket/key at versionID.
func (s *Service) DeleteObjectTagging(bucket, key, versionID string) (string, error) {
	return s.updateVersion(bucket, key, versionID, func(o *objectRecord) { o.Tags = nil })
}

// ObjectTagging returns the tag set of bucket/key at versionID and the version.
func (s *Service) ObjectTagging(bucket, key, versionID string) ([]Tag, string, error) {
	rec, _, err := s.lookup(bucket, key, versionID)
	return rec.Tags, rec.VersionID, err
}

// updateVersion changes one version's record in one transaction, with
// lookup's errors (a delete marker has no tags to change).
func (s *Service) updateVersion(bucket, key, versionID string, fn func(*objectRecord)) (string, error) {
	if _, _, err := s.lookup(bucket, key, versionID); err != nil {
		return "", err
	}
	var v string
	err := s.st.Update(func(tx *store.Tx) error {
		rec, found, err := findVersion(tx, bucket, key, versionID)
		if err != nil {
			return err
		}
		if !found || rec.DeleteMarker { // changed since the lookup
			return errNoSuchKey(key)
		}
		fn(&rec)
		v = rec.VersionID
		return tx.Put(objectsTable, objectKey(bucket, key, rec.Seq), rec)
	})
	return v, err
}
