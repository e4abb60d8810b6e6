package iot

import (
	"net/http"
	"sort"
	"strings"

	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/ota"
)

const tTags = "iot.tags" // resource ARN → map[key]value

const maxTagsPerResource = 50

// putTags merges tags into the resource's tags.
func putTags(tx *store.Tx, arn string, tags []ota.Tag) error {
	if len(tags) == 0 {
		return nil
	}
	m := map[string]string{}
	if _, err := tx.Get(tTags, arn, &m); err != nil {
		return err
	}
	for _, t := range tags {
		if t.Key == "" || len(t.Key) > 128 || len(t.Value) > 256 || strings.HasPrefix(t.Key, "aws:") {
			return invalid("tag key must be 1-128 characters not starting with aws:, value at most 256, got %q=%q", t.Key, t.Value)
		}
		m[t.Key] = t.Value
	}
	if len(m) > maxTagsPerResource {
		return limitExceeded("a resource has at most %d tags", maxTagsPerResource)
	}
	return tx.Put(tTags, arn, m)
}

// resourceExists reports whether arn names a resource that can carry tags.
func (s *Service) resourceExists(tx *store.Tx, arn string) error {
	prefix := s.env.ARN("iot", "")
	if !strings.HasPrefix(arn, prefix) {
		return invalid("resourceArn %q is not an IoT ARN of this account and region (%s...)", arn, prefix)
	}
	res := strings.TrimPrefix(arn, prefix)
	kind, name, _ := strings.Cut(res, "/")
	var ok bool
	switch kind {
	case "thing":
		ok = tx.Has(tThings, name)
	case "thinggroup":
		ok = tx.Has(tGroups, name)
	case "thingtype":
		ok = tx.Has(tThingTypes, name)
	case "job":
		ok = tx.Has(tJobs, name)
	case "jobtemplate":
		ok = tx.Has(tJobTemplates, name)
	case "stream":
		ok = tx.Has(tStreams, name)
	case "cacert":
		ok = tx.Has(tCACerts, name)
	case "policy":
		ok = tx.Has(tPolicies, name)
	case "package":
		if pkg, ver, isVer := strings.Cut(name, "/version/"); isVer {
			ok = tx.Has(tPkgVersions, pkg+"/"+ver)
		} else {
			ok = tx.Has(tPackages, name)
		}
	default:
		return invalid("resourceArn %q: tagging %s resources is not supported", arn, kind)
	}
	if !ok {
		return notFound("%s cannot be found.", arn)
	}
	return nil
}

func (s *Service) tagResource(r *http.Request) (any, error) {
	var in struct {
		ResourceArn string    `json:"resourceArn"`
		Tags        []ota.Tag `json:"tags"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if len(in.Tags) == 0 {
		return nil, invalid("tags must not be empty")
	}
	err := s.st.Update(func(tx *store.Tx) error {
		if err := s.resourceExists(tx, in.ResourceArn); err != nil {
			return err
		}
		return putTags(tx, in.ResourceArn, in.Tags)
	})
	if err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (s *Service) untagResource(r *http.Request) (any, error) {
	var in struct {
		ResourceArn string   `json:"resourceArn"`
		TagKeys     []string `json:"tagKeys"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	err := s.st.Update(func(tx *store.Tx) error {
		if err := s.resourceExists(tx, in.ResourceArn); err != nil {
			return err
		}
		m := map[string]string{}
		if _, err := tx.Get(tTags, in.ResourceArn, &m); err != nil {
			return err
		}
		for _, k := range in.TagKeys {
			delete(m, k)
		}
		if len(m) == 0 {
			return tx.Delete(tTags, in.ResourceArn)
		}
		return tx.Put(tTags, in.ResourceArn, m)
	})
	if err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// tagsOf returns a resource's tags sorted by key.
func tagsOf(tx *store.Tx, arn string) ([]ota.Tag, error) {
	m := map[string]string{}
	if _, err := tx.Get(tTags, arn, &m); err != nil {
		return nil, err
	}
	out := make([]ota.Tag, 0, len(m))
	for k, v := range m {
		out = append(out, ota.Tag{Key: k, Value: v})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out, nil
}

func (s *Service) listTagsForResource(r *http.Request) (any, error) {
	arn := r.URL.Query().Get("resourceArn")
	var tags []ota.Tag
	err := s.st.View(func(tx *store.Tx) (err error) {
		if err := s.resourceExists(tx, arn); err != nil {
			return err
		}
		tags, err = tagsOf(tx, arn)
		return err
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"tags": tags}, nil
}

// Tags returns the tags of the resource arn (for otactl's own listings).
func (s *Service) Tags(arn string) ([]ota.Tag, error) {
	var tags []ota.Tag
	err := s.st.View(func(tx *store.Tx) (err error) {
		tags, err = tagsOf(tx, arn)
		return err
	})
	return tags, err
}
