package signer

import (
	"maps"
	"net/http"
	"strings"
)

// Tags live on signing profiles; a resource ARN names a profile with or
// without its version.

func (s *Service) tagTarget(arn string) (string, error) {
	prefix := s.profileARN("")
	rest, ok := strings.CutPrefix(arn, prefix)
	if !ok || rest == "" {
		return "", validation("%s is not a signing profile ARN of this account and region", arn)
	}
	name, _, _ := strings.Cut(rest, "/")
	return name, nil
}

func (s *Service) listTags(w http.ResponseWriter, r *http.Request) {
	name, err := s.tagTarget(r.PathValue("resourceArn"))
	if err != nil {
		reply(w, nil, err)
		return
	}
	p, err := s.loadProfile(name)
	if err != nil {
		reply(w, nil, err)
		return
	}
	tags := p.Tags
	if tags == nil {
		tags = map[string]string{}
	}
	reply(w, map[string]any{"tags": tags}, nil)
}

// updateTags applies fn to a profile's tags and saves the profile.
func (s *Service) updateTags(r *http.Request, fn func(map[string]string) error) error {
	name, err := s.tagTarget(r.PathValue("resourceArn"))
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.loadProfile(name)
	if err != nil {
		return err
	}
	if p.Status != "Active" {
		return wireBadRequest("Signing profile %s is %s; its tags cannot change.", name, p.Status)
	}
	if p.Tags == nil {
		p.Tags = map[string]string{}
	}
	if err := fn(p.Tags); err != nil {
		return err
	}
	return s.st.Put(profilesTable, name, p)
}

func (s *Service) tagResource(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Tags map[string]string `json:"tags"`
	}
	if err := decode(r, &in); err != nil {
		reply(w, nil, err)
		return
	}
	if len(in.Tags) == 0 {
		reply(w, nil, validation("tags must hold 1 to 200 tags"))
		return
	}
	err := s.updateTags(r, func(tags map[string]string) error {
		maps.Copy(tags, in.Tags)
		if len(tags) > 200 {
			return validation("a signing profile has at most 200 tags")
		}
		return nil
	})
	reply(w, map[string]any{}, err)
}

func (s *Service) untagResource(w http.ResponseWriter, r *http.Request) {
	keys := r.URL.Query()["tagKeys"]
	if len(keys) == 0 {
		reply(w, nil, validation("tagKeys must name 1 to 200 tag keys"))
		return
	}
	err := s.updateTags(r, func(tags map[string]string) error {
		for _, k := range keys {
			delete(tags, k)
		}
		return nil
	})
	reply(w, map[string]any{}, err)
}
