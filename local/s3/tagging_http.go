package s3

import (
	"net/http"
	"net/url"
)

// The wire of bucket and object tagging (?tagging): PutBucketTagging,
// GetBucketTagging, DeleteBucketTagging, PutObjectTagging,
// GetObjectTagging, DeleteObjectTagging (each with versionId).

func (s *Service) serveBucketTagging(w http.ResponseWriter, r *http.Request, bucket string) error {
	switch r.Method {
	case http.MethodPut:
		var in tagging
		if err := decodeXML(r, &in); err != nil {
			return err
		}
		if err := s.PutBucketTagging(bucket, in.tags()); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	case http.MethodGet:
		tags, err := s.BucketTagging(bucket)
		if err != nil {
			return err
		}
		writeXML(w, http.StatusOK, taggingOf(tags))
		return nil
	case http.MethodDelete:
		if err := s.DeleteBucketTagging(bucket); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return errMethod()
}

func (s *Service) serveObjectTagging(w http.ResponseWriter, r *http.Request, bucket, key string, q url.Values) error {
	vid := q.Get("versionId")
	if q.Has("versionId") && vid == "" {
		return errorf(http.StatusBadRequest, "InvalidArgument", "Version id cannot be the empty string")
	}
	var (
		version string
		err     error
	)
	switch r.Method {
	case http.MethodPut:
		var in tagging
		if err := decodeXML(r, &in); err != nil {
			return err
		}
		if version, err = s.PutObjectTagging(bucket, key, vid, in.tags()); err != nil {
			return err
		}
		setVersionHeader(w, version)
		w.WriteHeader(http.StatusOK)
		return nil
	case http.MethodGet:
		var tags []Tag
		if tags, version, err = s.ObjectTagging(bucket, key, vid); err != nil {
			return err
		}
		setVersionHeader(w, version)
		writeXML(w, http.StatusOK, taggingOf(tags))
		return nil
	case http.MethodDelete:
		if version, err = s.DeleteObjectTagging(bucket, key, vid); err != nil {
			return err
		}
		setVersionHeader(w, version)
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return errMethod()
}
