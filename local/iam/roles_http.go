package iam

import (
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The wire of the role operations: each handler reads the form, calls the
// Go method of the same name and returns the Result element's content.

type tagXML struct {
	Key   string `xml:"Key"`
	Value string `xml:"Value"`
}

type roleXML struct {
	Path                     string   `xml:"Path"`
	RoleName                 string   `xml:"RoleName"`
	RoleID                   string   `xml:"RoleId"`
	Arn                      string   `xml:"Arn"`
	CreateDate               string   `xml:"CreateDate"`
	AssumeRolePolicyDocument string   `xml:"AssumeRolePolicyDocument"` // URL-encoded, as IAM returns it
	Description              string   `xml:"Description,omitempty"`
	MaxSessionDuration       int      `xml:"MaxSessionDuration"`
	Tags                     []tagXML `xml:"Tags>member,omitempty"`
}

func (s *Service) roleOut(r *roleRec) roleXML {
	return roleXML{Path: r.Path, RoleName: r.Name, RoleID: r.ID, Arn: s.arn(r),
		CreateDate: r.Created.Format(time.RFC3339), AssumeRolePolicyDocument: encodeDocument(r.TrustPolicy),
		Description: r.Description, MaxSessionDuration: r.MaxSessionDuration, Tags: tagsOut(r.Tags)}
}

func tagsOut(tags []Tag) []tagXML {
	out := make([]tagXML, len(tags))
	for i, t := range tags {
		out[i] = tagXML{t.Key, t.Value}
	}
	return out
}

// tagsIn reads Tags.member.N.Key / .Value (N from 1).
func tagsIn(f url.Values) []Tag {
	var tags []Tag
	for i := 1; ; i++ {
		p := "Tags.member." + strconv.Itoa(i) + "."
		if !f.Has(p + "Key") {
			return tags
		}
		tags = append(tags, Tag{Key: f.Get(p + "Key"), Value: f.Get(p + "Value")})
	}
}

// listIn reads a member list (Name.member.N).
func listIn(f url.Values, name string) []string {
	var out []string
	for i := 1; ; i++ {
		k := name + ".member." + strconv.Itoa(i)
		if !f.Has(k) {
			return out
		}
		out = append(out, f.Get(k))
	}
}

// page cuts items at Marker (an index from an earlier page) and MaxItems
// (1-1000, default 100) and returns the next marker ("" on the last page).
func page[T any](f url.Values, items []T) ([]T, string, error) {
	max := defaultMaxItems
	if v := f.Get("MaxItems"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return nil, "", validationError("1 validation error detected: Value '%s' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000", v)
		}
		max = n
	}
	start := 0
	if m := f.Get("Marker"); m != "" {
		n, err := strconv.Atoi(m)
		if err != nil || n < 0 || n > len(items) {
			return nil, "", invalidInput("Invalid Marker.")
		}
		start = n
	}
	end := min(start+max, len(items))
	next := ""
	if end < len(items) {
		next = strconv.Itoa(end)
	}
	return items[start:end], next, nil
}

type roleResult struct {
	Role roleXML `xml:"Role"`
}

// createRole: CreateRole. PermissionsBoundary is not served (refused).
func (s *Service) createRole(f url.Values) (any, error) {
	if f.Get("PermissionsBoundary") != "" {
		return nil, invalidInput("PermissionsBoundary is not supported by otactl local")
	}
	in := CreateRoleInput{RoleName: f.Get("RoleName"), Path: f.Get("Path"), TrustPolicy: f.Get("AssumeRolePolicyDocument"),
		Description: f.Get("Description"), Tags: tagsIn(f)}
	if v := f.Get("MaxSessionDuration"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, validationError("MaxSessionDuration must be a number of seconds, got %q", v)
		}
		in.MaxSessionDuration = n
	}
	r, err := s.CreateRole(in)
	if err != nil {
		return nil, err
	}
	return roleResult{s.roleOut(r)}, nil
}

func (s *Service) getRole(f url.Values) (any, error) {
	r, err := s.GetRole(f.Get("RoleName"))
	if err != nil {
		return nil, err
	}
	return roleResult{s.roleOut(r)}, nil
}

func (s *Service) deleteRole(f url.Values) (any, error) {
	return nil, s.DeleteRole(f.Get("RoleName"))
}

func (s *Service) attachRolePolicy(f url.Values) (any, error) {
	return nil, s.AttachRolePolicy(f.Get("RoleName"), f.Get("PolicyArn"))
}

func (s *Service) detachRolePolicy(f url.Values) (any, error) {
	return nil, s.DetachRolePolicy(f.Get("RoleName"), f.Get("PolicyArn"))
}

type attachedXML struct {
	PolicyName string `xml:"PolicyName"`
	PolicyArn  string `xml:"PolicyArn"`
}

type attachedResult struct {
	AttachedPolicies []attachedXML `xml:"AttachedPolicies>member"`
	IsTruncated      bool          `xml:"IsTruncated"`
	Marker           string        `xml:"Marker,omitempty"`
}

// listAttachedRolePolicies: ListAttachedRolePolicies with PathPrefix,
// Marker and MaxItems.
func (s *Service) listAttachedRolePolicies(f url.Values) (any, error) {
	r, err := s.GetRole(f.Get("RoleName"))
	if err != nil {
		return nil, err
	}
	prefix := f.Get("PathPrefix")
	var all []attachedXML
	for _, a := range r.Attached {
		_, rest, _ := strings.Cut(a, ":policy")
		if prefix != "" && !strings.HasPrefix(rest, prefix) {
			continue
		}
		all = append(all, attachedXML{PolicyName: rest[strings.LastIndex(rest, "/")+1:], PolicyArn: a})
	}
	items, next, err := page(f, all)
	if err != nil {
		return nil, err
	}
	return attachedResult{AttachedPolicies: items, IsTruncated: next != "", Marker: next}, nil
}

func (s *Service) putRolePolicy(f url.Values) (any, error) {
	return nil, s.PutRolePolicy(f.Get("RoleName"), f.Get("PolicyName"), f.Get("PolicyDocument"))
}

type rolePolicyResult struct {
	RoleName       string `xml:"RoleName"`
	PolicyName     string `xml:"PolicyName"`
	PolicyDocument string `xml:"PolicyDocument"` // URL-encoded, as IAM returns it
}

func (s *Service) getRolePolicy(f url.Values) (any, error) {
	name := f.Get("PolicyName")
	doc, r, err := s.GetRolePolicy(f.Get("RoleName"), name)
	if err != nil {
		return nil, err
	}
	return rolePolicyResult{RoleName: r.Name, PolicyName: name, PolicyDocument: encodeDocument(doc)}, nil
}

func (s *Service) deleteRolePolicy(f url.Values) (any, error) {
	return nil, s.DeleteRolePolicy(f.Get("RoleName"), f.Get("PolicyName"))
}

type policyNamesResult struct {
	PolicyNames []string `xml:"PolicyNames>member"`
	IsTruncated bool     `xml:"IsTruncated"`
	Marker      string   `xml:"Marker,omitempty"`
}

func (s *Service) listRolePolicies(f url.Values) (any, error) {
	r, err := s.GetRole(f.Get("RoleName"))
	if err != nil {
		return nil, err
	}
	items, next, err := page(f, r.inlineNames())
	if err != nil {
		return nil, err
	}
	return policyNamesResult{PolicyNames: items, IsTruncated: next != "", Marker: next}, nil
}

func (s *Service) tagRole(f url.Values) (any, error) {
	return nil, s.TagRole(f.Get("RoleName"), tagsIn(f))
}

func (s *Service) untagRole(f url.Values) (any, error) {
	return nil, s.UntagRole(f.Get("RoleName"), listIn(f, "TagKeys"))
}

type tagsResult struct {
	Tags        []tagXML `xml:"Tags>member"`
	IsTruncated bool     `xml:"IsTruncated"`
	Marker      string   `xml:"Marker,omitempty"`
}

func (s *Service) listRoleTags(f url.Values) (any, error) {
	r, err := s.GetRole(f.Get("RoleName"))
	if err != nil {
		return nil, err
	}
	items, next, err := page(f, tagsOut(r.Tags))
	if err != nil {
		return nil, err
	}
	return tagsResult{Tags: items, IsTruncated: next != "", Marker: next}, nil
}

// encodeDocument URL-encodes a policy document as IAM returns it: RFC 3986
// percent-encoding, a space as %20 (botocore decodes with unquote, which
// leaves a + as it is).
func encodeDocument(doc string) string {
	return strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")
}
