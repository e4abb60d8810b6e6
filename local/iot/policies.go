package iot

import (
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/otactl/otactl/internal/lazyre"
	"github.com/otactl/otactl/local/policy"
	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/ota"
)

// IoT policies: named documents with up to five versions, one of them the
// default, attached to certificates and thing groups. The rules live here
// (CreatePolicy, CreatePolicyVersion, DeletePolicy...); the wire is in
// policies_http.go; attachments in policy_targets.go; what applies to a
// connection in principal.go.

// Tables of policies and their attachments. A target is a principal ARN
// (certificate) or a thing group ARN.
const (
	tPolicies       = "iot.policies"       // policy name → policyRec
	tPolicyVersions = "iot.policyversions" // policy name + "\x00" + versionKey(id) → policyVersionRec
	tTargetPolicies = "iot.targetpolicies" // target ARN + "\x00" + policy name → "" (policies of a target)
	tPolicyTargets  = "iot.policytargets"  // policy name + "\x00" + target ARN → "" (targets of a policy)
)

// maxPolicyVersions is AWS's limit: "A managed policy can have up to five
// versions" (CreatePolicyVersion).
const maxPolicyVersions = 5

// policyNamePattern is AWS's policyName: 1-128 of [\w+=,.@-].
var policyNamePattern = lazyre.New(`^[\w+=,.@-]{1,128}$`)

type policyRec struct {
	Name           string    `json:"name"`
	Arn            string    `json:"arn"`
	DefaultVersion string    `json:"defaultVersion"`
	LastVersion    int       `json:"lastVersion"` // the highest version id given so far
	CreatedAt      time.Time `json:"createdAt"`
	LastModified   time.Time `json:"lastModified"`
}

type policyVersionRec struct {
	ID       string `json:"id"`
	Document string `json:"document"`
	// GenerationID is unique to this version of this policy (a policy
	// deleted and created again gets new ones): the parsed-document cache
	// is keyed by it.
	GenerationID string    `json:"generationId"`
	CreatedAt    time.Time `json:"createdAt"`
}

// PolicyVersion is a version of a policy as the API describes it. For
// GetPolicy it is the default version, with the policy's own dates.
type PolicyVersion struct {
	PolicyName   string
	PolicyArn    string
	VersionID    string
	Document     string
	IsDefault    bool
	GenerationID string
	CreatedAt    time.Time
	LastModified time.Time
}

func (s *Service) policyArn(name string) string { return s.env.ARN("iot", "policy/"+name) }

// versionKey orders version ids numerically in the table.
func versionKey(id string) string {
	n, _ := strconv.Atoi(id)
	return fmt.Sprintf("%010d", n)
}

func checkPolicyName(name string) error {
	if !policyNamePattern.MatchString(name) {
		return invalid("policyName must be 1-128 characters of [a-zA-Z0-9_+=,.@-], got %q", name)
	}
	return nil
}

// checkVersionID checks a policyVersionId (AWS: pattern [0-9]+).
func checkVersionID(id string) error {
	if n, err := strconv.Atoi(id); err != nil || n < 1 || strconv.Itoa(n) != id {
		return invalid("policyVersionId must be a version number such as 1, got %q", id)
	}
	return nil
}

// parseDocument validates a document as AWS does; a bad one is
// MalformedPolicyException naming the problem.
func parseDocument(text string) (*policy.Document, error) {
	doc, err := policy.Parse(text)
	if err != nil {
		return nil, malformedPolicy("%v", err)
	}
	return doc, nil
}

func (s *Service) loadPolicy(tx *store.Tx, name string) (policyRec, error) {
	var p policyRec
	ok, err := tx.Get(tPolicies, name, &p)
	if err == nil && !ok {
		err = notFound("Policy %s cannot be found.", name)
	}
	return p, err
}

func (s *Service) loadPolicyVersion(tx *store.Tx, name, id string) (policyVersionRec, error) {
	var v policyVersionRec
	ok, err := tx.Get(tPolicyVersions, name+"\x00"+versionKey(id), &v)
	if err == nil && !ok {
		err = notFound("Policy %s has no version %s.", name, id)
	}
	return v, err
}

// versionsOf returns a policy's versions, oldest first.
func versionsOf(tx *store.Tx, name string) ([]policyVersionRec, error) {
	var out []policyVersionRec
	err := tx.List(tPolicyVersions, name+"\x00", func(_ string, raw []byte) error {
		var v policyVersionRec
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
		out = append(out, v)
		return nil
	})
	return out, err
}

func (p policyRec) version(v policyVersionRec) PolicyVersion {
	return PolicyVersion{PolicyName: p.Name, PolicyArn: p.Arn, VersionID: v.ID, Document: v.Document,
		IsDefault: v.ID == p.DefaultVersion, GenerationID: v.GenerationID, CreatedAt: v.CreatedAt, LastModified: v.CreatedAt}
}

// CreatePolicy creates a policy whose version 1 is document, the default.
func (s *Service) CreatePolicy(name, document string, tags []ota.Tag) (PolicyVersion, error) {
	if err := checkPolicyName(name); err != nil {
		return PolicyVersion{}, err
	}
	if _, err := parseDocument(document); err != nil {
		return PolicyVersion{}, err
	}
	now := s.now()
	p := policyRec{Name: name, Arn: s.policyArn(name), DefaultVersion: "1", LastVersion: 1, CreatedAt: now, LastModified: now}
	v := policyVersionRec{ID: "1", Document: document, GenerationID: randomHex(32), CreatedAt: now}
	err := s.st.Update(func(tx *store.Tx) error {
		if tx.Has(tPolicies, name) {
			return alreadyExists(name, p.Arn, "Policy cannot be created - name already exists (name=%s)", name)
		}
		if err := putTags(tx, p.Arn, tags); err != nil {
			return err
		}
		if err := tx.Put(tPolicyVersions, name+"\x00"+versionKey(v.ID), v); err != nil {
			return err
		}
		return tx.Put(tPolicies, name, p)
	})
	if err != nil {
		return PolicyVersion{}, err
	}
	return p.version(v), nil
}

// GetPolicy returns the policy's default version.
func (s *Service) GetPolicy(name string) (PolicyVersion, error) {
	var out PolicyVersion
	err := s.st.View(func(tx *store.Tx) error {
		p, err := s.loadPolicy(tx, name)
		if err != nil {
			return err
		}
		v, err := s.loadPolicyVersion(tx, name, p.DefaultVersion)
		if err != nil {
			return err
		}
		out = p.version(v)
		out.CreatedAt, out.LastModified = p.CreatedAt, p.LastModified
		return nil
	})
	return out, err
}

// DeletePolicy deletes a policy with its default version. AWS refuses while
// the policy is attached to anything or has other versions.
func (s *Service) DeletePolicy(name string) error {
	var gens []string
	err := s.st.Update(func(tx *store.Tx) error {
		gens = nil
		p, err := s.loadPolicy(tx, name)
		if err != nil {
			return err
		}
		if len(keysUnder(tx, tPolicyTargets, name+"\x00")) > 0 {
			return deleteConflict("The policy cannot be deleted as the policy is attached to one or more principals (name=%s)", name)
		}
		versions, err := versionsOf(tx, name)
		if err != nil {
			return err
		}
		if len(versions) > 1 {
			return deleteConflict("Cannot delete the policy because it has one or more policy versions attached to it (name=%s); delete the non-default versions first", name)
		}
		for _, v := range versions {
			gens = append(gens, v.GenerationID)
			if err := tx.Delete(tPolicyVersions, name+"\x00"+versionKey(v.ID)); err != nil {
				return err
			}
		}
		if err := tx.Delete(tTags, p.Arn); err != nil {
			return err
		}
		return tx.Delete(tPolicies, name)
	})
	if err != nil {
		return err
	}
	s.docs.forget(gens...)
	// A plain-listener connection may be using the policy by name.
	s.emit(Event{Kind: PoliciesChanged, Policy: name})
	return nil
}

// CreatePolicyVersion adds a version to a policy (at most five), and makes
// it the default when setAsDefault.
func (s *Service) CreatePolicyVersion(name, document string, setAsDefault bool) (PolicyVersion, error) {
	if err := checkPolicyName(name); err != nil {
		return PolicyVersion{}, err
	}
	if _, err := parseDocument(document); err != nil {
		return PolicyVersion{}, err
	}
	var out PolicyVersion
	var ev *Event
	err := s.st.Update(func(tx *store.Tx) error {
		ev = nil
		p, err := s.loadPolicy(tx, name)
		if err != nil {
			return err
		}
		versions, err := versionsOf(tx, name)
		if err != nil {
			return err
		}
		if len(versions) >= maxPolicyVersions {
			return versionsLimitExceeded("The policy %s already has the maximum number of versions (%d); delete one with DeletePolicyVersion first", name, maxPolicyVersions)
		}
		now := s.now()
		p.LastVersion++
		v := policyVersionRec{ID: strconv.Itoa(p.LastVersion), Document: document, GenerationID: randomHex(32), CreatedAt: now}
		if setAsDefault {
			p.DefaultVersion, p.LastModified = v.ID, now
			e, err := s.policyEvent(tx, name)
			if err != nil {
				return err
			}
			ev = &e
		}
		if err := tx.Put(tPolicyVersions, name+"\x00"+versionKey(v.ID), v); err != nil {
			return err
		}
		out = p.version(v)
		return tx.Put(tPolicies, name, p)
	})
	if err != nil {
		return PolicyVersion{}, err
	}
	if ev != nil {
		s.emit(*ev)
	}
	return out, nil
}

// GetPolicyVersion returns one version of a policy.
func (s *Service) GetPolicyVersion(name, id string) (PolicyVersion, error) {
	if err := checkVersionID(id); err != nil {
		return PolicyVersion{}, err
	}
	var out PolicyVersion
	err := s.st.View(func(tx *store.Tx) error {
		p, err := s.loadPolicy(tx, name)
		if err != nil {
			return err
		}
		v, err := s.loadPolicyVersion(tx, name, id)
		if err != nil {
			return err
		}
		out = p.version(v)
		return nil
	})
	return out, err
}

// ListPolicyVersions returns a policy's versions, the newest first.
func (s *Service) ListPolicyVersions(name string) ([]PolicyVersion, error) {
	var out []PolicyVersion
	err := s.st.View(func(tx *store.Tx) error {
		p, err := s.loadPolicy(tx, name)
		if err != nil {
			return err
		}
		versions, err := versionsOf(tx, name)
		if err != nil {
			return err
		}
		for _, v := range versions {
			out = append(out, p.version(v))
		}
		return nil
	})
	// The table holds them oldest first.
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out, err
}

// SetDefaultPolicyVersion makes version id the one in effect.
func (s *Service) SetDefaultPolicyVersion(name, id string) error {
	if err := checkVersionID(id); err != nil {
		return err
	}
	var ev Event
	err := s.st.Update(func(tx *store.Tx) error {
		p, err := s.loadPolicy(tx, name)
		if err != nil {
			return err
		}
		if _, err := s.loadPolicyVersion(tx, name, id); err != nil {
			return err
		}
		if ev, err = s.policyEvent(tx, name); err != nil {
			return err
		}
		p.DefaultVersion, p.LastModified = id, s.now()
		return tx.Put(tPolicies, name, p)
	})
	if err != nil {
		return err
	}
	s.emit(ev)
	return nil
}

// DeletePolicyVersion deletes a version that is not the default.
func (s *Service) DeletePolicyVersion(name, id string) error {
	if err := checkVersionID(id); err != nil {
		return err
	}
	var gen string
	err := s.st.Update(func(tx *store.Tx) error {
		p, err := s.loadPolicy(tx, name)
		if err != nil {
			return err
		}
		v, err := s.loadPolicyVersion(tx, name, id)
		if err != nil {
			return err
		}
		if id == p.DefaultVersion {
			return deleteConflict("Cannot delete the default version of a policy (name=%s, version=%s); make another version the default or delete the policy", name, id)
		}
		gen = v.GenerationID
		return tx.Delete(tPolicyVersions, name+"\x00"+versionKey(id))
	})
	if err != nil {
		return err
	}
	s.docs.forget(gen)
	return nil
}

// policySummary is a policy in a listing (AWS's Policy shape).
type policySummary struct {
	PolicyName string `json:"policyName"`
	PolicyArn  string `json:"policyArn"`
}
