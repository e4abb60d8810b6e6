package iot

import (
	"strings"

	"github.com/otactl/otactl/local/store"
)

// Thing principals, the rules: a certificate attached to a thing is what
// lets a connection be that thing (${iot:Connection.Thing.*} in policies).
// The wire is in certificates_http.go; the tables in certificates.go.

// CertificateAttached reports whether the certificate is attached to thing.
func (s *Service) CertificateAttached(id, thing string) bool {
	found := false
	s.st.View(func(tx *store.Tx) error {
		found = tx.Has(tThingPrincipals, thing+"\x00"+s.certArn(id))
		return nil
	})
	return found
}

// AttachThingPrincipal attaches a principal (a certificate of this account
// must exist) to a thing.
func (s *Service) AttachThingPrincipal(thing, principal string) error {
	err := s.st.Update(func(tx *store.Tx) error {
		if _, err := s.getThing(tx, thing); err != nil {
			return err
		}
		if err := s.checkPrincipal(tx, principal); err != nil {
			return err
		}
		if err := tx.Put(tThingPrincipals, thing+"\x00"+principal, ""); err != nil {
			return err
		}
		return tx.Put(tPrincipalThings, principal+"\x00"+thing, "")
	})
	if err == nil {
		s.emit(Event{Kind: PoliciesChanged, Principals: []string{principal}, Things: []string{thing}})
	}
	return err
}

// DetachThingPrincipal detaches a principal from a thing.
func (s *Service) DetachThingPrincipal(thing, principal string) error {
	err := s.st.Update(func(tx *store.Tx) error {
		if _, err := s.getThing(tx, thing); err != nil {
			return err
		}
		if err := tx.Delete(tThingPrincipals, thing+"\x00"+principal); err != nil {
			return err
		}
		return tx.Delete(tPrincipalThings, principal+"\x00"+thing)
	})
	if err == nil {
		s.emit(Event{Kind: PoliciesChanged, Principals: []string{principal}, Things: []string{thing}})
	}
	return err
}

// checkPrincipal checks that a certificate ARN of this account names an
// existing certificate (other principals are taken as they are).
func (s *Service) checkPrincipal(tx *store.Tx, p string) error {
	if p == "" {
		return invalid("the principal (%s header) is required", principalHeader)
	}
	if id, ok := strings.CutPrefix(p, s.certArn("")); ok {
		if _, err := loadCert(tx, id); err != nil {
			return err
		}
	}
	return nil
}
