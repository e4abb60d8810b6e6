package acm

import (
	"net/http"
	"slices"
)

// DeleteCertificate and the tag operations, so scripts can clean up after
// themselves.

type tagsInput struct {
	CertificateArn string `json:"CertificateArn"`
	Tags           []tag  `json:"Tags"`
}

// update applies fn to the record behind arn under the lock.
func (s *Service) update(arn string, fn func(*record) error) error {
	if err := s.checkARN(arn); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var rec record
	found, err := s.st.Get(table, arn, &rec)
	if err != nil {
		return err
	}
	if !found {
		return notFound(arn)
	}
	if err := fn(&rec); err != nil {
		return err
	}
	return s.st.Put(table, arn, rec)
}

// maxTags is ACM's limit of tags per certificate (and per request).
const maxTags = 50

// checkTags applies the rules of a request's Tags: at least one (the API
// model's minimum), and each key and value within the API's lengths.
func checkTags(tags []tag) error {
	if len(tags) == 0 {
		return validation("Tags must hold at least 1 tag.")
	}
	return checkTagList(tags)
}

// checkTagList applies the limits AddTagsToCertificate and
// ImportCertificate share: at most 50 tags is TooManyTagsException (the
// error both operations document), a key of 1-128 and a value of at most
// 256 characters InvalidTagException.
func checkTagList(tags []tag) error {
	if len(tags) > maxTags {
		return tooManyTags(len(tags))
	}
	for _, t := range tags {
		if t.Key == "" || len(t.Key) > 128 || len(t.Value) > 256 {
			return wireErr("InvalidTagException", "Tag keys must be 1-128 characters and values at most 256 characters.")
		}
	}
	return nil
}

func tooManyTags(n int) error {
	return wireErr("TooManyTagsException", "A certificate has at most %d tags; this request would give it %d.", maxTags, n)
}

// mergeTags sets each of add on tags (a key already there takes the new value).
func mergeTags(tags, add []tag) []tag {
	for _, t := range add {
		if i := slices.IndexFunc(tags, func(o tag) bool { return o.Key == t.Key }); i >= 0 {
			tags[i] = t
		} else {
			tags = append(tags, t)
		}
	}
	return tags
}

func (s *Service) handleAddTags(r *http.Request) (any, error) {
	var in tagsInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	return struct{}{}, s.update(in.CertificateArn, func(rec *record) error {
		rec.Tags = mergeTags(rec.Tags, in.Tags)
		if len(rec.Tags) > maxTags {
			return tooManyTags(len(rec.Tags))
		}
		return nil
	})
}

func (s *Service) handleRemoveTags(r *http.Request) (any, error) {
	var in tagsInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	return struct{}{}, s.update(in.CertificateArn, func(rec *record) error {
		// A tag given with a value is removed only when the value matches.
		rec.Tags = slices.DeleteFunc(rec.Tags, func(o tag) bool {
			return slices.ContainsFunc(in.Tags, func(t tag) bool { return t.Key == o.Key && (t.Value == "" || t.Value == o.Value) })
		})
		return nil
	})
}

func (s *Service) handleListTags(r *http.Request) (any, error) {
	rec, _, err := s.load(r)
	if err != nil {
		return nil, err
	}
	tags := rec.Tags
	if tags == nil {
		tags = []tag{}
	}
	return map[string]any{"Tags": tags}, nil
}

func (s *Service) handleDelete(r *http.Request) (any, error) {
	var in arnInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if err := s.checkARN(in.CertificateArn); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	found, err := s.st.Get(table, in.CertificateArn, &record{})
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, notFound(in.CertificateArn)
	}
	return struct{}{}, s.st.Delete(table, in.CertificateArn)
}
