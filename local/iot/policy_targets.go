package iot

import (
	"sort"
	"strings"

	"github.com/otactl/otactl/local/store"
)

// Policy attachments: AttachPolicy, DetachPolicy, ListAttachedPolicies,
// ListTargetsForPolicy and the older principal forms of them. A target is a
// certificate ARN or a thing group ARN of this account and region; the
// policies of a thing group apply to the things in it and in its
// descendants (principal.go).

// maxPoliciesPerCertificate is AWS IoT Core's quota: at most 10 policies
// attached to a certificate (or a Cognito identity).
const maxPoliciesPerCertificate = 10

// policyTarget is a resolved target: a certificate or a thing group.
type policyTarget struct {
	arn   string
	cert  string // certificate id, for a certificate
	group string // thing group name, for a thing group
}

// resolveTarget checks that arn names an existing certificate or thing
// group of this account and region.
func (s *Service) resolveTarget(tx *store.Tx, arn string) (policyTarget, error) {
	t := policyTarget{arn: arn}
	if id, ok := strings.CutPrefix(arn, s.certArn("")); ok && id != "" {
		t.cert = id
		if !tx.Has(tCerts, id) {
			return t, notFound("Certificate %s cannot be found (target %s).", id, arn)
		}
		return t, nil
	}
	if name, ok := strings.CutPrefix(arn, s.groupArn("")); ok && name != "" {
		t.group = name
		if !tx.Has(tGroups, name) {
			return t, notFound("Thing group %s cannot be found (target %s).", name, arn)
		}
		return t, nil
	}
	if arn == "" {
		return t, invalid("target is required: a certificate ARN (%s<id>) or a thing group ARN (%s<name>)", s.certArn(""), s.groupArn(""))
	}
	return t, invalid("target must be a certificate ARN (%s<id>) or a thing group ARN (%s<name>) of this account and region; Cognito identities are not supported; got %q",
		s.certArn(""), s.groupArn(""), arn)
}

// principalHasPolicies reports whether any policy is attached to the
// principal (a certificate ARN): DeleteCertificate refuses to delete it then.
func (s *Service) principalHasPolicies(tx *store.Tx, principalArn string) bool {
	found := false
	tx.List(tTargetPolicies, principalArn+"\x00", func(string, []byte) error {
		found = true
		return store.ErrStop
	})
	return found
}

// AttachPolicy attaches a policy to a certificate or a thing group.
// Attaching it again changes nothing.
func (s *Service) AttachPolicy(name, target string) error {
	var ev *Event
	err := s.st.Update(func(tx *store.Tx) error {
		ev = nil
		if _, err := s.loadPolicy(tx, name); err != nil {
			return err
		}
		t, err := s.resolveTarget(tx, target)
		if err != nil {
			return err
		}
		if tx.Has(tTargetPolicies, target+"\x00"+name) {
			return nil
		}
		if t.cert != "" && len(keysUnder(tx, tTargetPolicies, target+"\x00")) >= maxPoliciesPerCertificate {
			return limitExceeded("certificate %s already has the maximum of %d policies attached", t.cert, maxPoliciesPerCertificate)
		}
		if err := tx.Put(tTargetPolicies, target+"\x00"+name, ""); err != nil {
			return err
		}
		if err := tx.Put(tPolicyTargets, name+"\x00"+target, ""); err != nil {
			return err
		}
		e := s.targetEvent(tx, name, t)
		ev = &e
		return nil
	})
	if err != nil {
		return err
	}
	if ev != nil {
		s.emit(*ev)
	}
	return nil
}

// DetachPolicy detaches a policy from a target. Detaching a policy that is
// not attached changes nothing.
func (s *Service) DetachPolicy(name, target string) error {
	var ev *Event
	err := s.st.Update(func(tx *store.Tx) error {
		ev = nil
		if _, err := s.loadPolicy(tx, name); err != nil {
			return err
		}
		t, err := s.resolveTarget(tx, target)
		if err != nil {
			return err
		}
		if !tx.Has(tTargetPolicies, target+"\x00"+name) {
			return nil
		}
		if err := tx.Delete(tTargetPolicies, target+"\x00"+name); err != nil {
			return err
		}
		if err := tx.Delete(tPolicyTargets, name+"\x00"+target); err != nil {
			return err
		}
		e := s.targetEvent(tx, name, t)
		ev = &e
		return nil
	})
	if err != nil {
		return err
	}
	if ev != nil {
		s.emit(*ev)
	}
	return nil
}

// targetEvent is the PoliciesChanged event for policy name at one target.
func (s *Service) targetEvent(tx *store.Tx, name string, t policyTarget) Event {
	e := Event{Kind: PoliciesChanged, Policy: name}
	if t.cert != "" {
		e.Principals = []string{t.arn}
	}
	if t.group != "" {
		e.Groups = []string{t.group}
		e.Things = s.groupThings(tx, t.group, true)
	}
	return e
}

// policyEvent is the PoliciesChanged event for a change to policy name
// itself (its default version): every target it is attached to.
func (s *Service) policyEvent(tx *store.Tx, name string) (Event, error) {
	e := Event{Kind: PoliciesChanged, Policy: name}
	things := map[string]bool{}
	for _, target := range keysUnder(tx, tPolicyTargets, name+"\x00") {
		if strings.HasPrefix(target, s.certArn("")) {
			e.Principals = append(e.Principals, target)
		} else if g, ok := strings.CutPrefix(target, s.groupArn("")); ok {
			e.Groups = append(e.Groups, g)
			for _, t := range s.groupThings(tx, g, true) {
				things[t] = true
			}
		}
	}
	for t := range things {
		e.Things = append(e.Things, t)
	}
	sort.Strings(e.Things)
	return e, nil
}

// ancestors returns group and its parents up to the root, group first.
func (s *Service) ancestors(tx *store.Tx, group string) []groupRec {
	var out []groupRec
	seen := map[string]bool{}
	for g := group; g != "" && !seen[g]; {
		seen[g] = true
		var rec groupRec
		if ok, err := tx.Get(tGroups, g, &rec); err != nil || !ok {
			break
		}
		out = append(out, rec)
		g = rec.Parent
	}
	return out
}

// attachedPolicies returns the names of the policies attached to target,
// and with recursive, for a thing group, those of its ancestors: sorted,
// without duplicates.
func (s *Service) attachedPolicies(tx *store.Tx, t policyTarget, recursive bool) []string {
	targets := []string{t.arn}
	if recursive && t.group != "" {
		targets = targets[:0]
		for _, g := range s.ancestors(tx, t.group) {
			targets = append(targets, g.Arn)
		}
	}
	var names []string
	for _, arn := range targets {
		names = append(names, keysUnder(tx, tTargetPolicies, arn+"\x00")...)
	}
	sort.Strings(names)
	return dedupSorted(names)
}

// ListAttachedPolicies lists the policies attached to target (with
// recursive, for a thing group, also those of its parent groups).
func (s *Service) ListAttachedPolicies(target string, recursive bool, p page) ([]policySummary, string, error) {
	var out []policySummary
	var token string
	err := s.st.View(func(tx *store.Tx) error {
		t, err := s.resolveTarget(tx, target)
		if err != nil {
			return err
		}
		var names []string
		names, token = pageOfSorted(s.attachedPolicies(tx, t, recursive), p)
		for _, n := range names {
			out = append(out, policySummary{n, s.policyArn(n)})
		}
		return nil
	})
	return out, token, err
}

// ListTargetsForPolicy lists the targets (ARNs) a policy is attached to.
func (s *Service) ListTargetsForPolicy(name string, p page) ([]string, string, error) {
	var out []string
	var token string
	err := s.st.View(func(tx *store.Tx) (err error) {
		if _, err := s.loadPolicy(tx, name); err != nil {
			return err
		}
		out, token, err = pageOf(tx, tPolicyTargets, name+"\x00", p, keyRest(name+"\x00"))
		return err
	})
	return out, token, err
}

// ListPolicyPrincipals is the older ListPolicyPrincipals: the certificates
// (not thing groups) a policy is attached to.
func (s *Service) ListPolicyPrincipals(name string, p page) ([]string, string, error) {
	var out []string
	var token string
	err := s.st.View(func(tx *store.Tx) (err error) {
		if _, err := s.loadPolicy(tx, name); err != nil {
			return err
		}
		certs := s.certArn("")
		out, token, err = pageOf(tx, tPolicyTargets, name+"\x00", p, func(k string, _ []byte) (string, bool, error) {
			t := k[len(name)+1:]
			return t, strings.HasPrefix(t, certs), nil
		})
		return err
	})
	return out, token, err
}

// detachGroupPolicies detaches every policy from a thing group being
// deleted, and returns the event for its things (none when it had none).
func (s *Service) detachGroupPolicies(tx *store.Tx, g groupRec) ([]Event, error) {
	n, err := detachAllPolicies(tx, g.Arn)
	if err != nil || n == 0 {
		return nil, err
	}
	return []Event{{Kind: PoliciesChanged, Groups: []string{g.Name}, Things: s.groupThings(tx, g.Name, true)}}, nil
}

// detachAllPolicies removes every policy attachment of a target (a thing
// group being deleted, a certificate deleted with forceDelete) from both
// attachment tables, and returns how many there were.
func detachAllPolicies(tx *store.Tx, target string) (int, error) {
	names := keysUnder(tx, tTargetPolicies, target+"\x00")
	for _, n := range names {
		if err := tx.Delete(tTargetPolicies, target+"\x00"+n); err != nil {
			return 0, err
		}
		if err := tx.Delete(tPolicyTargets, n+"\x00"+target); err != nil {
			return 0, err
		}
	}
	return len(names), nil
}

// membershipPolicyEvents is the event for a thing joining or leaving a
// group when that group or one of its parents has policies attached.
func (s *Service) membershipPolicyEvents(tx *store.Tx, thing, group string) []Event {
	for _, g := range s.ancestors(tx, group) {
		if s.principalHasPolicies(tx, g.Arn) {
			return []Event{{Kind: PoliciesChanged, Things: []string{thing}, Groups: []string{group}}}
		}
	}
	return nil
}
