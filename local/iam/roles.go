package iam

import (
	"crypto/rand"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/otactl/otactl/internal/lazyre"
	"github.com/otactl/otactl/local/store"
)

// tRoles holds every role: lower(RoleName) → roleRec (IAM role names are
// unique regardless of case). A role's inline and attached policies and
// its tags live in its record, so every call is one transaction on one key.
const tRoles = "iam.roles"

// Limits from IAM's API reference and quotas.
const (
	maxTags         = 50
	maxAttached     = 10 // managed policies per role (default quota)
	maxSession      = 43200
	minSession      = 3600
	maxDescription  = 1000
	maxPathLen      = 512
	maxRoleNameLen  = 64
	maxPolicyName   = 128
	maxTagKeyLen    = 128
	maxTagValueLen  = 256
	defaultMaxItems = 100
)

var (
	namePattern = lazyre.New(`^[\w+=,.@-]+$`)
	pathPattern = lazyre.New(`^/([\x21-\x7e]*/)?$`)
	tagPattern  = lazyre.New(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)
)

// Tag is a role tag.
type Tag struct {
	Key, Value string
}

type roleRec struct {
	Name, ID, Path, Description string
	TrustPolicy                 string
	MaxSessionDuration          int
	Created                     time.Time
	Tags                        []Tag
	Inline                      map[string]string // policy name → document
	Attached                    []string          // managed policy ARNs, in attach order
}

// CreateRoleInput is CreateRole's request.
type CreateRoleInput struct {
	RoleName           string // required, 1-64 of [\w+=,.@-]
	Path               string // default "/", 1-512, begins and ends with /
	TrustPolicy        string // AssumeRolePolicyDocument: required, a trust policy
	Description        string // at most 1000 characters
	MaxSessionDuration int    // 3600-43200, default 3600
	Tags               []Tag  // at most 50
}

func (s *Service) arn(r *roleRec) string {
	return "arn:aws:iam::" + s.env.AccountID + ":role" + r.Path + r.Name
}

func checkName(field, v string, max int) error {
	if v == "" {
		return validationError("1 validation error detected: Value null at '%s' failed to satisfy constraint: Member must not be null", field)
	}
	if len(v) > max || !namePattern.MatchString(v) {
		return validationError("1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must have length less than or equal to %d and satisfy regular expression pattern: [\\w+=,.@-]+", v, field, max)
	}
	return nil
}

func checkTags(tags []Tag) error {
	seen := map[string]bool{}
	for _, t := range tags {
		if t.Key == "" || len(t.Key) > maxTagKeyLen || !tagPattern.MatchString(t.Key) {
			return invalidInput("Tag key %q must be 1-%d characters of letters, digits, spaces and _.:/=+-@", t.Key, maxTagKeyLen)
		}
		if len(t.Value) > maxTagValueLen || !tagPattern.MatchString(t.Value) {
			return invalidInput("Tag value of %q must be at most %d characters of letters, digits, spaces and _.:/=+-@", t.Key, maxTagValueLen)
		}
		if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
			return invalidInput("Tag key %q: keys beginning with aws: are reserved for AWS use", t.Key)
		}
		if seen[strings.ToLower(t.Key)] {
			return invalidInput("Duplicate tag keys found. Please note that Tag keys are case insensitive.")
		}
		seen[strings.ToLower(t.Key)] = true
	}
	if len(tags) > maxTags {
		return limitExceeded("The number of tags has reached the maximum limit of %d.", maxTags)
	}
	return nil
}

// CreateRole creates a role with its trust policy.
func (s *Service) CreateRole(in CreateRoleInput) (*roleRec, error) {
	if err := checkName("roleName", in.RoleName, maxRoleNameLen); err != nil {
		return nil, err
	}
	if in.Path == "" {
		in.Path = "/"
	}
	if len(in.Path) > maxPathLen || !pathPattern.MatchString(in.Path) {
		return nil, validationError("The specified value for path is invalid. It must begin and end with / and contain only alphanumeric characters and/or / characters.")
	}
	if in.TrustPolicy == "" {
		return nil, validationError("1 validation error detected: Value null at 'assumeRolePolicyDocument' failed to satisfy constraint: Member must not be null")
	}
	if len(in.TrustPolicy) > maxTrustChars {
		return nil, limitExceeded("Cannot exceed quota for ACLSizePerRole: %d", maxTrustChars)
	}
	if err := checkDocument(in.TrustPolicy, trustPolicy); err != nil {
		return nil, err
	}
	if len(in.Description) > maxDescription {
		return nil, validationError("description: at most %d characters", maxDescription)
	}
	if in.MaxSessionDuration == 0 {
		in.MaxSessionDuration = minSession
	}
	if in.MaxSessionDuration < minSession || in.MaxSessionDuration > maxSession {
		return nil, validationError("The requested MaxSessionDuration %d is not between %d and %d seconds.", in.MaxSessionDuration, minSession, maxSession)
	}
	if err := checkTags(in.Tags); err != nil {
		return nil, err
	}
	rec := &roleRec{Name: in.RoleName, ID: roleID(), Path: in.Path, Description: in.Description, TrustPolicy: in.TrustPolicy,
		MaxSessionDuration: in.MaxSessionDuration, Created: time.Now().UTC().Truncate(time.Second), Tags: in.Tags}
	err := s.st.Update(func(tx *store.Tx) error {
		key := strings.ToLower(in.RoleName)
		if tx.Has(tRoles, key) {
			return alreadyExists("Role with name %s already exists.", in.RoleName)
		}
		return tx.Put(tRoles, key, rec)
	})
	if err != nil {
		return nil, err
	}
	return rec, nil
}

// roleID is AWS's unique id form for roles: AROA and 17 characters.
func roleID() string {
	const chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	var b [17]byte
	rand.Read(b[:])
	for i := range b {
		b[i] = chars[int(b[i])%len(chars)]
	}
	return "AROA" + string(b[:])
}

// GetRole returns the role.
func (s *Service) GetRole(name string) (*roleRec, error) {
	if err := checkName("roleName", name, maxRoleNameLen); err != nil {
		return nil, err
	}
	var rec roleRec
	err := s.st.View(func(tx *store.Tx) error { return getRole(tx, name, &rec) })
	return &rec, err
}

func getRole(tx *store.Tx, name string, rec *roleRec) error {
	ok, err := tx.Get(tRoles, strings.ToLower(name), rec)
	if err != nil {
		return err
	}
	if !ok {
		return noSuchEntity("The role with name %s cannot be found.", name)
	}
	return nil
}

// updateRole runs fn on the role in one transaction and stores the result.
func (s *Service) updateRole(name string, fn func(*roleRec) error) error {
	if err := checkName("roleName", name, maxRoleNameLen); err != nil {
		return err
	}
	return s.st.Update(func(tx *store.Tx) error {
		var rec roleRec
		if err := getRole(tx, name, &rec); err != nil {
			return err
		}
		if err := fn(&rec); err != nil {
			return err
		}
		return tx.Put(tRoles, strings.ToLower(name), &rec)
	})
}

// DeleteRole deletes a role that has no policies left: IAM refuses with
// DeleteConflict while a managed policy is attached or an inline policy
// exists.
func (s *Service) DeleteRole(name string) error {
	if err := checkName("roleName", name, maxRoleNameLen); err != nil {
		return err
	}
	return s.st.Update(func(tx *store.Tx) error {
		var rec roleRec
		if err := getRole(tx, name, &rec); err != nil {
			return err
		}
		if len(rec.Attached) > 0 {
			return deleteConflict("Cannot delete entity, must detach all policies first.")
		}
		if len(rec.Inline) > 0 {
			return deleteConflict("Cannot delete entity, must delete policies first.")
		}
		return tx.Delete(tRoles, strings.ToLower(name))
	})
}

// AttachRolePolicy attaches an AWS managed policy (managed.go).
func (s *Service) AttachRolePolicy(role, policyArn string) error {
	if err := checkPolicyArn(policyArn); err != nil {
		return err
	}
	return s.updateRole(role, func(r *roleRec) error {
		if !managed[policyArn] {
			return noSuchEntity("Policy %s does not exist or is not attachable.", policyArn)
		}
		if slices.Contains(r.Attached, policyArn) {
			return nil // attaching twice is a no-op in IAM
		}
		if len(r.Attached) >= maxAttached {
			return limitExceeded("Cannot exceed quota for PoliciesPerRole: %d", maxAttached)
		}
		r.Attached = append(r.Attached, policyArn)
		return nil
	})
}

// DetachRolePolicy detaches a managed policy.
func (s *Service) DetachRolePolicy(role, policyArn string) error {
	if err := checkPolicyArn(policyArn); err != nil {
		return err
	}
	return s.updateRole(role, func(r *roleRec) error {
		i := slices.Index(r.Attached, policyArn)
		if i < 0 {
			return noSuchEntity("Policy %s was not found.", policyArn)
		}
		r.Attached = slices.Delete(r.Attached, i, i+1)
		return nil
	})
}

func checkPolicyArn(a string) error {
	if a == "" {
		return validationError("1 validation error detected: Value null at 'policyArn' failed to satisfy constraint: Member must not be null")
	}
	if len(a) < 20 || len(a) > 2048 || !strings.HasPrefix(a, "arn:aws:iam::") || !strings.Contains(a, ":policy/") {
		return invalidInput("ARN %s is not valid.", a)
	}
	return nil
}

// PutRolePolicy creates or replaces an inline policy.
func (s *Service) PutRolePolicy(role, name, doc string) error {
	if err := checkName("policyName", name, maxPolicyName); err != nil {
		return err
	}
	if doc == "" {
		return validationError("1 validation error detected: Value null at 'policyDocument' failed to satisfy constraint: Member must not be null")
	}
	if err := checkDocument(doc, permissionsPolicy); err != nil {
		return err
	}
	return s.updateRole(role, func(r *roleRec) error {
		total := len(doc)
		for n, d := range r.Inline {
			if n != name {
				total += len(d)
			}
		}
		if total > maxInlineChars {
			return limitExceeded("Maximum policy size of %d bytes exceeded for role %s", maxInlineChars, r.Name)
		}
		if r.Inline == nil {
			r.Inline = map[string]string{}
		}
		r.Inline[name] = doc
		return nil
	})
}

// GetRolePolicy returns an inline policy's document.
func (s *Service) GetRolePolicy(role, name string) (string, *roleRec, error) {
	if err := checkName("policyName", name, maxPolicyName); err != nil {
		return "", nil, err
	}
	r, err := s.GetRole(role)
	if err != nil {
		return "", nil, err
	}
	doc, ok := r.Inline[name]
	if !ok {
		return "", nil, noSuchEntity("The role policy with name %s cannot be found.", name)
	}
	return doc, r, nil
}

// DeleteRolePolicy deletes an inline policy.
func (s *Service) DeleteRolePolicy(role, name string) error {
	if err := checkName("policyName", name, maxPolicyName); err != nil {
		return err
	}
	return s.updateRole(role, func(r *roleRec) error {
		if _, ok := r.Inline[name]; !ok {
			return noSuchEntity("The role policy with name %s cannot be found.", name)
		}
		delete(r.Inline, name)
		return nil
	})
}

// inlineNames are the inline policy names, sorted as IAM lists them.
func (r *roleRec) inlineNames() []string {
	names := make([]string, 0, len(r.Inline))
	for n := range r.Inline {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// TagRole adds or overwrites tags (keys compare case-insensitively).
func (s *Service) TagRole(role string, tags []Tag) error {
	if len(tags) == 0 {
		return validationError("1 validation error detected: Value null at 'tags' failed to satisfy constraint: Member must not be null")
	}
	if err := checkTags(tags); err != nil {
		return err
	}
	return s.updateRole(role, func(r *roleRec) error {
		for _, t := range tags {
			i := slices.IndexFunc(r.Tags, func(o Tag) bool { return strings.EqualFold(o.Key, t.Key) })
			if i >= 0 {
				r.Tags[i] = t
			} else {
				r.Tags = append(r.Tags, t)
			}
		}
		if len(r.Tags) > maxTags {
			return limitExceeded("The number of tags has reached the maximum limit of %d.", maxTags)
		}
		return nil
	})
}

// UntagRole removes tags by key; absent keys are ignored, as IAM does.
func (s *Service) UntagRole(role string, keys []string) error {
	if len(keys) == 0 {
		return validationError("1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null")
	}
	return s.updateRole(role, func(r *roleRec) error {
		r.Tags = slices.DeleteFunc(r.Tags, func(t Tag) bool {
			return slices.ContainsFunc(keys, func(k string) bool { return strings.EqualFold(k, t.Key) })
		})
		return nil
	})
}
