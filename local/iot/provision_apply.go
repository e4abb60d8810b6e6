package iot

import (
	"errors"
	"fmt"

	"github.com/otactl/otactl/local/provisioning"
	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/local/wire"
)

// applyPlan does what an evaluated provisioning template asks for the
// certificate certID (registered, PENDING_ACTIVATION): the thing (created,
// or changed as its OverrideSettings say), its groups, the policies
// (created from a document when missing) attached to the certificate, the
// certificate attached to the thing, and its status. Just-in-time and
// fleet provisioning share it. On an error what it created is removed
// again (an existing thing it changed stays changed, as AWS's calls are
// not one transaction either); the certificate is the caller's.
func (s *Service) applyPlan(plan *provisioning.Plan, certID string) (thing, status string, err error) {
	var undo []func()
	defer func() {
		if err != nil {
			for i := len(undo) - 1; i >= 0; i-- {
				undo[i]()
			}
		}
	}()
	certArn := s.certArn(certID)
	if c := plan.Certificate; c != nil && c.CertificateID != certID {
		return "", "", fmt.Errorf("Resources.%s.Properties: the template provisions the device's own certificate (CertificateId {\"Ref\": %q})", c.Logical, provisioning.ParamID)
	}
	if th := plan.Thing; th != nil {
		created, err := s.provisionThing(th)
		if err != nil {
			return "", "", err
		}
		if created {
			undo = append(undo, func() { s.DeleteThing(th.ThingName, nil) })
		}
		thing = th.ThingName
	}
	for _, p := range plan.Policies {
		if p.Document != "" {
			if _, err := s.GetPolicy(p.Name); isNotFound(err) {
				_, err := s.CreatePolicy(p.Name, p.Document, nil)
				switch {
				case isAlreadyExists(err):
					// Another device's provisioning made it meanwhile (the
					// name is the document's hash): it is that one's.
				case err != nil:
					return "", "", fmt.Errorf("Resources.%s: %w", p.Logical, err)
				default:
					name := p.Name
					undo = append(undo, func() { s.DeletePolicy(name) })
				}
			}
		}
		if err := s.AttachPolicy(p.Name, certArn); err != nil {
			return "", "", fmt.Errorf("Resources.%s: %w", p.Logical, err)
		}
		name := p.Name
		undo = append(undo, func() { s.DetachPolicy(name, certArn) })
	}
	if thing != "" {
		if err := s.AttachThingPrincipal(thing, certArn); err != nil {
			return "", "", err
		}
		undo = append(undo, func() { s.DetachThingPrincipal(thing, certArn) })
	}
	status = CertActive
	if plan.Certificate != nil {
		status = plan.Certificate.Status
	}
	if err := s.UpdateCertificate(certID, status); err != nil {
		return "", "", err
	}
	return thing, status, nil
}

// provisionThing creates the template's thing, or changes an existing one
// as its OverrideSettings say (DO_NOTHING for a property they leave out).
func (s *Service) provisionThing(th *provisioning.Thing) (created bool, err error) {
	path := "Resources." + th.Logical
	existing, err := s.DescribeThing(th.ThingName)
	switch {
	case isNotFound(err):
		if _, err := s.CreateThing(th.ThingName, th.ThingTypeName, th.BillingGroup, th.Attributes); err != nil {
			return false, fmt.Errorf("%s: %w", path, err)
		}
		for _, g := range th.ThingGroups {
			if err := s.AddThingToThingGroup(membershipInput{ThingGroupName: g, ThingName: th.ThingName}); err != nil {
				s.DeleteThing(th.ThingName, nil)
				return false, fmt.Errorf("%s.Properties.ThingGroups: %w", path, err)
			}
		}
		return true, nil
	case err != nil:
		return false, err
	}
	action := func(prop string) string {
		if a := th.Override[prop]; a != "" {
			return a
		}
		return provisioning.DoNothing
	}
	conflict := func(prop string) error {
		return resourceConflicts("%s: thing %s exists and OverrideSettings.%s is FAIL", path, th.ThingName, prop)
	}
	var u ThingUpdate
	switch action("AttributePayload") {
	case provisioning.Fail:
		if th.Attributes != nil {
			return false, conflict("AttributePayload")
		}
	case provisioning.Merge:
		u.Attributes = &attributePayload{Attributes: th.Attributes, Merge: true}
	case provisioning.Replace:
		u.Attributes = &attributePayload{Attributes: th.Attributes}
	}
	switch action("ThingTypeName") {
	case provisioning.Fail:
		if th.ThingTypeName != "" && th.ThingTypeName != existing.TypeName {
			return false, conflict("ThingTypeName")
		}
	case provisioning.Replace:
		if th.ThingTypeName == "" {
			u.RemoveType = existing.TypeName != ""
		} else if th.ThingTypeName != existing.TypeName {
			u.TypeName = th.ThingTypeName
		}
	}
	if u.Attributes != nil || u.TypeName != "" || u.RemoveType {
		if err := s.UpdateThing(th.ThingName, u); err != nil {
			return false, fmt.Errorf("%s: %w", path, err)
		}
	}
	groups := s.groupsOf(th.ThingName)
	switch action("ThingGroups") {
	case provisioning.Fail:
		if len(th.ThingGroups) > 0 {
			return false, conflict("ThingGroups")
		}
	case provisioning.Replace:
		for _, g := range groups {
			if !containsString(th.ThingGroups, g) {
				if err := s.RemoveThingFromThingGroup(membershipInput{ThingGroupName: g, ThingName: th.ThingName}); err != nil {
					return false, err
				}
			}
		}
		fallthrough
	case provisioning.Merge:
		for _, g := range th.ThingGroups {
			if !containsString(groups, g) {
				if err := s.AddThingToThingGroup(membershipInput{ThingGroupName: g, ThingName: th.ThingName}); err != nil {
					return false, fmt.Errorf("%s.Properties.ThingGroups: %w", path, err)
				}
			}
		}
	}
	return false, nil
}

// groupsOf lists the static groups a thing belongs to.
func (s *Service) groupsOf(thing string) []string {
	var out []string
	s.st.View(func(tx *store.Tx) error {
		out = keysUnder(tx, tThingGroups, thing+"/")
		return nil
	})
	return out
}

func containsString(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

func isAlreadyExists(err error) bool {
	var we *wire.Error
	return errors.As(err, &we) && we.Code == "ResourceAlreadyExistsException"
}
