package s3

import (
	"errors"

	"github.com/otactl/otactl/local/store"
)

// A copy of an object version shares its source's blob instead of writing
// the bytes again: blobs are immutable, so two versions with the same body
// can name one file. CopyObject then costs one record commit, not a rewrite
// and fsync of the whole body (1 MiB for every `otactl create`: the raw
// binary copied over the signed object).
//
// blobRefsTable counts the records naming a blob that more than one record
// names; a blob missing from it has one. The count changes in the
// transaction that adds or removes a record, so it is always that of the
// committed records, and a blob's file is removed (after the commit) only
// when its last record went. A crash between that commit and the removal
// leaves a blob no record names, which the sweep at start removes, as it
// does a blob a crash left before its record was committed.
const blobRefsTable = "s3-blob-refs" // blob id → number of records naming it (≥ 2)

// shareBlob counts one more record naming blob id.
func shareBlob(tx *store.Tx, id string) error {
	n := 1
	if _, err := tx.Get(blobRefsTable, id, &n); err != nil {
		return err
	}
	return tx.Put(blobRefsTable, id, n+1)
}

// releaseBlob counts one record fewer naming blob id; last says none is
// left, so the caller removes the file once the transaction is committed.
func releaseBlob(tx *store.Tx, id string) (last bool, err error) {
	n := 1
	found, err := tx.Get(blobRefsTable, id, &n)
	if err != nil || !found || n <= 1 {
		if found {
			err = tx.Delete(blobRefsTable, id)
		}
		return err == nil, err
	}
	if n == 2 {
		return false, tx.Delete(blobRefsTable, id)
	}
	return false, tx.Put(blobRefsTable, id, n-1)
}

// sharedSource is the version a copy takes its blob from.
type sharedSource struct {
	bucket, key, versionID, blob string
}

// errSourceChanged: the copy's source version was deleted or replaced
// after the copy opened it; the copy then writes the bytes it has open.
var errSourceChanged = errors.New("s3: copy source changed during the copy")

// check, in the copy's transaction, that the source version still names
// the blob: a copy committed after the source's delete would name a file
// that delete may already have removed.
func (src *sharedSource) check(tx *store.Tx) error {
	rec, found, err := findVersion(tx, src.bucket, src.key, src.versionID)
	if err != nil {
		return err
	}
	if !found || rec.DeleteMarker || rec.Blob != src.blob {
		return errSourceChanged
	}
	return nil
}

// copyObjectBody records a new version of bucket/key with src's body:
// sharing src's blob, or, when src changed since it was opened, writing
// the bytes of the file src holds open. A shared copy's ETag is the
// source's MD5, as a copy rewritten byte by byte computes (a copy is one
// part, whatever its source was).
func (s *Service) copyObjectBody(bucket, key string, src *Object, o putOptions) (ObjectInfo, error) {
	if src.blob == "" || src.md5 == "" { // not written so by this store: copy the bytes
		return s.putObject(bucket, key, src.File, o)
	}
	if err := checkKey(key); err != nil {
		return ObjectInfo{}, err
	}
	if err := checkSSE(o.sse, o.kmsKey); err != nil {
		return ObjectInfo{}, err
	}
	ct := o.contentType
	if ct == "" {
		ct = "binary/octet-stream"
	}
	rec := objectRecord{
		Key: key, Blob: src.blob, Size: src.Size, MD5: src.md5, SHA256: src.sha256,
		LastModified: s.now().UTC(), ContentType: ct, Metadata: o.metadata,
		SSE: o.sse, SSEKMSKeyID: o.kmsKey, Tags: o.tags,
	}
	share := &sharedSource{bucket: src.Bucket, key: src.Key, versionID: src.VersionID, blob: src.blob}
	oi, err := s.commitWith(bucket, rec, commitOptions{share: share})
	if errors.Is(err, errSourceChanged) {
		return s.putObject(bucket, key, src.File, o)
	}
	return oi, err
}
