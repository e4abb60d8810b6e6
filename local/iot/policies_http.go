package iot

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"

	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/ota"
)

// The policy API's wire: each handler reads the path, query and body, calls
// the Go method of the same name (policies.go, policy_targets.go,
// authorization.go) and renders AWS's response shape.

// Headers the older principal operations carry their arguments in.
const (
	iotPrincipalHeader = "x-amzn-iot-principal"
	iotPolicyHeader    = "x-amzn-iot-policy"
)

// parseMarkerPage reads the paging of the policy listings: marker and
// pageSize (1-250), as AWS names them for these operations (not nextToken
// and maxResults).
func parseMarkerPage(r *http.Request) (page, error) {
	q := r.URL.Query()
	p := page{max: defaultPageSize}
	if v := q.Get("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			return p, invalid("pageSize must be 1-%d, got %q", maxPageSize, v)
		}
		p.max = n
	}
	if m := q.Get("marker"); m != "" {
		raw, err := base64.StdEncoding.DecodeString(m)
		if err != nil || !strings.HasPrefix(string(raw), "k:") {
			return p, invalid("invalid marker %q", m)
		}
		p.after = string(raw[2:])
	}
	return p, nil
}

// marker turns a token of the list helpers into AWS's marker form
// (pattern [A-Za-z0-9+/]+={0,2}); "" stays "".
func marker(token string) string {
	if token == "" {
		return ""
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return ""
	}
	return base64.StdEncoding.EncodeToString(raw)
}

// markerList is a policy listing: its items under name, and nextMarker.
func markerList[T any](name string, items []T, token string) map[string]any {
	if items == nil {
		items = []T{}
	}
	out := map[string]any{name: items}
	if m := marker(token); m != "" {
		out["nextMarker"] = m
	}
	return out
}

type policyVersionOut struct {
	PolicyName       string   `json:"policyName,omitempty"`
	PolicyArn        string   `json:"policyArn"`
	PolicyDocument   string   `json:"policyDocument"`
	PolicyVersionID  string   `json:"policyVersionId,omitempty"`
	DefaultVersionID string   `json:"defaultVersionId,omitempty"`
	IsDefaultVersion *bool    `json:"isDefaultVersion,omitempty"`
	GenerationID     string   `json:"generationId,omitempty"`
	CreationDate     *float64 `json:"creationDate,omitempty"`
	LastModifiedDate *float64 `json:"lastModifiedDate,omitempty"`
}

// createPolicy is CreatePolicy (POST /policies/{policyName}).
func (s *Service) createPolicy(r *http.Request) (any, error) {
	var in struct {
		PolicyDocument string    `json:"policyDocument"` // required; validated by local/policy (size, grammar)
		Tags           []ota.Tag `json:"tags"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	v, err := s.CreatePolicy(r.PathValue("policyName"), in.PolicyDocument, in.Tags)
	if err != nil {
		return nil, err
	}
	return policyVersionOut{PolicyName: v.PolicyName, PolicyArn: v.PolicyArn, PolicyDocument: v.Document, PolicyVersionID: v.VersionID}, nil
}

// getPolicy is GetPolicy: the default version's document.
func (s *Service) getPolicy(r *http.Request) (any, error) {
	v, err := s.GetPolicy(r.PathValue("policyName"))
	if err != nil {
		return nil, err
	}
	return policyVersionOut{PolicyName: v.PolicyName, PolicyArn: v.PolicyArn, PolicyDocument: v.Document,
		DefaultVersionID: v.VersionID, GenerationID: v.GenerationID,
		CreationDate: at(v.CreatedAt), LastModifiedDate: at(v.LastModified)}, nil
}

// listPolicies is ListPolicies (GET /policies?marker&pageSize). The
// policies come in name order: isAscendingOrder (creation order) is not
// implemented.
func (s *Service) listPolicies(r *http.Request) (any, error) {
	p, err := parseMarkerPage(r)
	if err != nil {
		return nil, err
	}
	var items []policySummary
	var token string
	err = s.st.View(func(tx *store.Tx) (err error) {
		items, token, err = pageOf(tx, tPolicies, "", p, records(func(rec *policyRec) (policySummary, bool) {
			return policySummary{rec.Name, rec.Arn}, true
		}))
		return err
	})
	if err != nil {
		return nil, err
	}
	return markerList("policies", items, token), nil
}

// deletePolicy is DeletePolicy.
func (s *Service) deletePolicy(r *http.Request) (any, error) {
	return nil, s.DeletePolicy(r.PathValue("policyName"))
}

// createPolicyVersion is CreatePolicyVersion (POST
// /policies/{policyName}/version?setAsDefault).
func (s *Service) createPolicyVersion(r *http.Request) (any, error) {
	var in struct {
		PolicyDocument string `json:"policyDocument"` // required; validated by local/policy
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	def, err := boolQuery(r, "setAsDefault")
	if err != nil {
		return nil, err
	}
	v, err := s.CreatePolicyVersion(r.PathValue("policyName"), in.PolicyDocument, def)
	if err != nil {
		return nil, err
	}
	return policyVersionOut{PolicyArn: v.PolicyArn, PolicyDocument: v.Document, PolicyVersionID: v.VersionID,
		IsDefaultVersion: &v.IsDefault}, nil
}

// getPolicyVersion is GetPolicyVersion.
func (s *Service) getPolicyVersion(r *http.Request) (any, error) {
	v, err := s.GetPolicyVersion(r.PathValue("policyName"), r.PathValue("policyVersionId"))
	if err != nil {
		return nil, err
	}
	return policyVersionOut{PolicyName: v.PolicyName, PolicyArn: v.PolicyArn, PolicyDocument: v.Document,
		PolicyVersionID: v.VersionID, IsDefaultVersion: &v.IsDefault, GenerationID: v.GenerationID,
		CreationDate: at(v.CreatedAt), LastModifiedDate: at(v.LastModified)}, nil
}

// listPolicyVersions is ListPolicyVersions (all versions, at most five:
// AWS does not page it).
func (s *Service) listPolicyVersions(r *http.Request) (any, error) {
	vs, err := s.ListPolicyVersions(r.PathValue("policyName"))
	if err != nil {
		return nil, err
	}
	type versionOut struct {
		VersionID        string   `json:"versionId"`
		IsDefaultVersion bool     `json:"isDefaultVersion"`
		CreateDate       *float64 `json:"createDate,omitempty"`
	}
	out := []versionOut{}
	for _, v := range vs {
		out = append(out, versionOut{v.VersionID, v.IsDefault, at(v.CreatedAt)})
	}
	return map[string]any{"policyVersions": out}, nil
}

// setDefaultPolicyVersion is SetDefaultPolicyVersion (PATCH
// /policies/{policyName}/version/{policyVersionId}).
func (s *Service) setDefaultPolicyVersion(r *http.Request) (any, error) {
	return nil, s.SetDefaultPolicyVersion(r.PathValue("policyName"), r.PathValue("policyVersionId"))
}

// deletePolicyVersion is DeletePolicyVersion.
func (s *Service) deletePolicyVersion(r *http.Request) (any, error) {
	return nil, s.DeletePolicyVersion(r.PathValue("policyName"), r.PathValue("policyVersionId"))
}

type targetIn struct {
	Target string `json:"target"` // required: a certificate or thing group ARN
}

// attachPolicy is AttachPolicy (PUT /target-policies/{policyName}).
func (s *Service) attachPolicy(r *http.Request) (any, error) {
	var in targetIn
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	return nil, s.AttachPolicy(r.PathValue("policyName"), in.Target)
}

// detachPolicy is DetachPolicy (POST /target-policies/{policyName}).
func (s *Service) detachPolicy(r *http.Request) (any, error) {
	var in targetIn
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	return nil, s.DetachPolicy(r.PathValue("policyName"), in.Target)
}

// attachPrincipalPolicy is the older AttachPrincipalPolicy (principal in
// the x-amzn-iot-principal header).
func (s *Service) attachPrincipalPolicy(r *http.Request) (any, error) {
	return nil, s.AttachPolicy(r.PathValue("policyName"), r.Header.Get(iotPrincipalHeader))
}

// detachPrincipalPolicy is the older DetachPrincipalPolicy.
func (s *Service) detachPrincipalPolicy(r *http.Request) (any, error) {
	return nil, s.DetachPolicy(r.PathValue("policyName"), r.Header.Get(iotPrincipalHeader))
}

// listAttachedPolicies is ListAttachedPolicies (POST
// /attached-policies/{target}?recursive&marker&pageSize).
func (s *Service) listAttachedPolicies(r *http.Request) (any, error) {
	p, err := parseMarkerPage(r)
	if err != nil {
		return nil, err
	}
	recursive, err := boolQuery(r, "recursive")
	if err != nil {
		return nil, err
	}
	items, token, err := s.ListAttachedPolicies(r.PathValue("target"), recursive, p)
	if err != nil {
		return nil, err
	}
	return markerList("policies", items, token), nil
}

// listPrincipalPolicies is the older ListPrincipalPolicies (GET
// /principal-policies, principal in the header). isAscendingOrder is not
// implemented: name order.
func (s *Service) listPrincipalPolicies(r *http.Request) (any, error) {
	p, err := parseMarkerPage(r)
	if err != nil {
		return nil, err
	}
	items, token, err := s.ListAttachedPolicies(r.Header.Get(iotPrincipalHeader), false, p)
	if err != nil {
		return nil, err
	}
	return markerList("policies", items, token), nil
}

// listTargetsForPolicy is ListTargetsForPolicy (POST
// /policy-targets/{policyName}).
func (s *Service) listTargetsForPolicy(r *http.Request) (any, error) {
	p, err := parseMarkerPage(r)
	if err != nil {
		return nil, err
	}
	items, token, err := s.ListTargetsForPolicy(r.PathValue("policyName"), p)
	if err != nil {
		return nil, err
	}
	return markerList("targets", items, token), nil
}

// listPolicyPrincipals is the older ListPolicyPrincipals (GET
// /policy-principals, policy in the x-amzn-iot-policy header): the
// certificates only. isAscendingOrder is not implemented.
func (s *Service) listPolicyPrincipals(r *http.Request) (any, error) {
	p, err := parseMarkerPage(r)
	if err != nil {
		return nil, err
	}
	items, token, err := s.ListPolicyPrincipals(r.Header.Get(iotPolicyHeader), p)
	if err != nil {
		return nil, err
	}
	return markerList("principals", items, token), nil
}

// getEffectivePolicies is GetEffectivePolicies (POST
// /effective-policies?thingName). cognitoIdentityPoolId is not supported.
func (s *Service) getEffectivePolicies(r *http.Request) (any, error) {
	var in struct {
		Principal             string `json:"principal"` // a certificate ARN (or thing group ARN)
		CognitoIdentityPoolID string `json:"cognitoIdentityPoolId"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.CognitoIdentityPoolID != "" {
		return nil, invalid("cognitoIdentityPoolId: Cognito identities are not supported by otactl local")
	}
	ps, err := s.GetEffectivePolicies(in.Principal, r.URL.Query().Get("thingName"))
	if err != nil {
		return nil, err
	}
	if ps == nil {
		ps = []EffectivePolicy{}
	}
	return map[string]any{"effectivePolicies": ps}, nil
}

// testAuthorization is TestAuthorization (POST /test-authorization?clientId).
// cognitoIdentityPoolId is not supported.
func (s *Service) testAuthorization(r *http.Request) (any, error) {
	var in struct {
		Principal             string     `json:"principal"`
		CognitoIdentityPoolID string     `json:"cognitoIdentityPoolId"`
		AuthInfos             []AuthInfo `json:"authInfos"` // 1-10
		PolicyNamesToAdd      []string   `json:"policyNamesToAdd"`
		PolicyNamesToSkip     []string   `json:"policyNamesToSkip"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.CognitoIdentityPoolID != "" {
		return nil, invalid("cognitoIdentityPoolId: Cognito identities are not supported by otactl local")
	}
	res, err := s.TestAuthorization(AuthTest{Principal: in.Principal, ClientID: r.URL.Query().Get("clientId"),
		AuthInfos: in.AuthInfos, PolicyNamesToAdd: in.PolicyNamesToAdd, PolicyNamesToSkip: in.PolicyNamesToSkip})
	if err != nil {
		return nil, err
	}
	return map[string]any{"authResults": res}, nil
}
