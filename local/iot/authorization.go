package iot

import (
	"github.com/otactl/otactl/local/policy"
	"github.com/otactl/otactl/local/store"
)

// GetEffectivePolicies and TestAuthorization: the control plane's view of
// what the broker would decide, through the same rules (principal.go) and
// the same evaluation (local/policy).

// EffectivePolicy is a policy that applies, with its default version.
type EffectivePolicy struct {
	PolicyName     string `json:"policyName"`
	PolicyArn      string `json:"policyArn"`
	PolicyDocument string `json:"policyDocument"`
}

// GetEffectivePolicies returns the policies that apply to a device: those
// attached to principal (a certificate ARN, optional) and, when thingName
// is given, those of the thing's groups and their ancestors.
func (s *Service) GetEffectivePolicies(principal, thingName string) ([]EffectivePolicy, error) {
	if principal == "" && thingName == "" {
		return nil, invalid("a principal or a thingName is required")
	}
	var out []EffectivePolicy
	err := s.st.View(func(tx *store.Tx) error {
		var names []string
		if principal != "" {
			t, err := s.resolveTarget(tx, principal)
			if err != nil {
				return err
			}
			names = s.attachedPolicies(tx, t, true)
		}
		if thingName != "" {
			if _, err := s.getThing(tx, thingName); err != nil {
				return err
			}
			names = append(names, s.thingGroupPolicies(tx, thingName)...)
		}
		seen := map[string]bool{}
		for _, n := range names {
			if seen[n] {
				continue
			}
			seen[n] = true
			p, err := s.loadPolicy(tx, n)
			if err != nil {
				return err
			}
			v, err := s.loadPolicyVersion(tx, n, p.DefaultVersion)
			if err != nil {
				return err
			}
			out = append(out, EffectivePolicy{PolicyName: n, PolicyArn: p.Arn, PolicyDocument: v.Document})
		}
		return nil
	})
	return out, err
}

// AuthInfo is one question of TestAuthorization: an action on resources.
type AuthInfo struct {
	ActionType string   `json:"actionType"` // PUBLISH, SUBSCRIBE, RECEIVE or CONNECT
	Resources  []string `json:"resources"`  // full ARNs, each at most 2048 characters
}

// AuthTest is a TestAuthorization request.
type AuthTest struct {
	Principal         string // a certificate or thing group ARN; optional
	ClientID          string // the MQTT client id (resolves the thing, ${iot:ClientId})
	AuthInfos         []AuthInfo
	PolicyNamesToAdd  []string // treated as attached
	PolicyNamesToSkip []string // treated as not attached
}

// AuthResult is TestAuthorization's answer to one AuthInfo.
type AuthResult struct {
	AuthInfo             AuthInfo   `json:"authInfo"`
	Allowed              authPolicy `json:"allowed"`
	Denied               authDenied `json:"denied"`
	AuthDecision         string     `json:"authDecision"`
	MissingContextValues []string   `json:"missingContextValues"`
}

type authPolicy struct {
	Policies []policySummary `json:"policies"`
}

type authDenied struct {
	ImplicitDeny authPolicy `json:"implicitDeny"`
	ExplicitDeny authPolicy `json:"explicitDeny"`
}

// actionTypes maps TestAuthorization's actionType to the IoT action.
var actionTypes = map[string]string{
	"PUBLISH":   policy.ActionPublish,
	"SUBSCRIBE": policy.ActionSubscribe,
	"RECEIVE":   policy.ActionReceive,
	"CONNECT":   policy.ActionConnect,
}

// Limits of TestAuthorization's request (API reference).
const (
	maxAuthInfos       = 10
	maxAuthResourceLen = 2048
)

func checkAuthTest(in AuthTest) error {
	if len(in.AuthInfos) < 1 || len(in.AuthInfos) > maxAuthInfos {
		return invalid("authInfos must have 1-%d items, got %d", maxAuthInfos, len(in.AuthInfos))
	}
	for i, a := range in.AuthInfos {
		if _, ok := actionTypes[a.ActionType]; !ok {
			return invalid("authInfos[%d].actionType must be one of PUBLISH, SUBSCRIBE, RECEIVE, CONNECT, got %q", i, a.ActionType)
		}
		if len(a.Resources) == 0 {
			return invalid("authInfos[%d].resources must not be empty", i)
		}
		for j, r := range a.Resources {
			if r == "" || len(r) > maxAuthResourceLen {
				return invalid("authInfos[%d].resources[%d] must be 1-%d characters", i, j, maxAuthResourceLen)
			}
		}
	}
	for _, n := range append(append([]string{}, in.PolicyNamesToAdd...), in.PolicyNamesToSkip...) {
		if err := checkPolicyName(n); err != nil {
			return err
		}
	}
	return nil
}

// TestAuthorization answers, for each AuthInfo, whether the principal
// connected with the client id may do the action on every resource, as the
// broker would decide it.
func (s *Service) TestAuthorization(in AuthTest) ([]AuthResult, error) {
	if err := checkAuthTest(in); err != nil {
		return nil, err
	}
	var pols []policy.Policy
	ctx := policy.Context{ClientID: in.ClientID, Now: s.now()}
	err := s.st.View(func(tx *store.Tx) error {
		var names []string
		if in.Principal != "" {
			t, err := s.resolveTarget(tx, in.Principal)
			if err != nil {
				return err
			}
			names = s.attachedPolicies(tx, t, true)
			if t.cert != "" {
				var c certView
				if _, err := tx.Get(tCerts, t.cert, &c); err != nil {
					return err
				}
				ctx.Certificate, ctx.CertificateID, ctx.SecureTransport = c.parse(), t.cert, true
				if in.ClientID != "" && tx.Has(tThingPrincipals, in.ClientID+"\x00"+t.arn) {
					if ctx.Thing, err = s.policyThing(tx, in.ClientID, true); err != nil {
						return err
					}
					names = append(names, s.thingGroupPolicies(tx, in.ClientID)...)
				}
			}
		}
		for _, n := range in.PolicyNamesToAdd {
			if _, err := s.loadPolicy(tx, n); err != nil {
				return err
			}
			names = append(names, n)
		}
		skip := map[string]bool{}
		for _, n := range in.PolicyNamesToSkip {
			skip[n] = true
		}
		kept := names[:0]
		for _, n := range names {
			if !skip[n] {
				kept = append(kept, n)
			}
		}
		var err error
		pols, err = s.policiesNamed(tx, kept, true)
		return err
	})
	if err != nil {
		return nil, err
	}
	out := make([]AuthResult, 0, len(in.AuthInfos))
	for _, a := range in.AuthInfos {
		out = append(out, s.authorize(pols, ctx, a))
	}
	return out, nil
}

// authorize evaluates one AuthInfo: allowed only when every resource is;
// an explicit deny of any resource decides.
func (s *Service) authorize(pols []policy.Policy, ctx policy.Context, a AuthInfo) AuthResult {
	res := AuthResult{AuthInfo: a, AuthDecision: string(policy.Allowed), MissingContextValues: []string{}}
	allowedBy, deniedBy := map[string]bool{}, map[string]bool{}
	missing := map[string]bool{}
	implicit := false
	for _, r := range a.Resources {
		d := policy.Evaluate(pols, policy.Request{Action: actionTypes[a.ActionType], Resource: r, Context: ctx})
		for _, m := range d.Missing {
			if !missing[m] {
				missing[m] = true
				res.MissingContextValues = append(res.MissingContextValues, m)
			}
		}
		switch d.Effect {
		case policy.ExplicitDeny:
			for _, m := range d.By {
				deniedBy[m.Policy] = true
			}
		case policy.ImplicitDeny:
			implicit = true
		default:
			for _, m := range d.By {
				allowedBy[m.Policy] = true
			}
		}
	}
	summaries := func(keep func(string) bool) []policySummary {
		out := []policySummary{}
		for _, p := range pols {
			if keep(p.Name) {
				out = append(out, policySummary{p.Name, s.policyArn(p.Name)})
			}
		}
		return out
	}
	none := func(string) bool { return false }
	res.Allowed.Policies = summaries(none)
	res.Denied.ExplicitDeny.Policies = summaries(none)
	res.Denied.ImplicitDeny.Policies = summaries(none)
	switch {
	case len(deniedBy) > 0:
		res.AuthDecision = string(policy.ExplicitDeny)
		res.Denied.ExplicitDeny.Policies = summaries(func(n string) bool { return deniedBy[n] })
	case implicit:
		// No statement allowed it: every policy evaluated had no opinion.
		res.AuthDecision = string(policy.ImplicitDeny)
		res.Denied.ImplicitDeny.Policies = summaries(func(string) bool { return true })
	default:
		res.Allowed.Policies = summaries(func(n string) bool { return allowedBy[n] })
	}
	return res
}
