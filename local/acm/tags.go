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

func checkTags(tags []tag) error {
	if len(tags) == 0 || len(tags) > 50 {
		return validation("Tags must hold 1 to 50 tags.")
	}
	for _, t := range tags {
		if t.Key == "" || len(t.Key) > 128 || len(t.Value) > 256 {
			return wireErr("InvalidTagException", "Tag keys must be 1-128 characters and values at most 256 characters.")
		}
	}
	return nil
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
		for _, t := range in.Tags {
			i := slices.IndexFunc(rec.Tags, func(o tag) bool { return o.Key == t.Key })
			if i >= 0 {
				rec.Tags[i] = t
			} else {
				rec.Tags = append(rec.Tags, t)
			}
		}
		if len(rec.Tags) > 50 {
			return wireErr("TooManyTagsException", "A certificate has at most 50 tags.")
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
