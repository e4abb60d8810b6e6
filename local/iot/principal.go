package iot

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"sync"

	"github.com/otactl/otactl/local/policy"
	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/local/wire"
)

// Who a connection is and which policies apply to it: the broker's
// ConnectionPrincipal and NamedPolicyPrincipal, and the control plane's
// GetEffectivePolicies and TestAuthorization, all resolved by the same rules:
//   - the policies attached to the certificate;
//   - when a thing named like the client id exists and the certificate is
//     attached to it (iot.thingprincipals), that thing (IsAttached true) and
//     the policies of its thing groups and of their ancestors.

// Principal is a connection's resolved identity and the policies (default
// versions, parsed) that apply to it.
type Principal struct {
	CertificateStatus string            // ACTIVE, INACTIVE, REVOKED...; "" for a named-policy principal
	Certificate       *x509.Certificate // nil for a named-policy principal
	Thing             *policy.Thing     // nil: no thing named like the client id (attached, for a certificate)
	Policies          []policy.Policy
}

// certView is what the policy side reads of a certificate record.
type certView struct {
	Status string `json:"status"`
	PEM    string `json:"certificatePem"`
}

func (c certView) parse() *x509.Certificate {
	b, _ := pem.Decode([]byte(c.PEM))
	if b == nil {
		return nil
	}
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return nil
	}
	return cert
}

// ConnectionPrincipal resolves a mutual-TLS connection: the certificate
// (id = lowercase hex SHA-256 of its DER) and its status, the policies
// attached to it, and, when the thing named clientID is attached to the
// certificate, that thing and its thing groups' policies.
func (s *Service) ConnectionPrincipal(certificateID, clientID string) (Principal, error) {
	var out Principal
	err := s.st.View(func(tx *store.Tx) error {
		var c certView
		ok, err := tx.Get(tCerts, certificateID, &c)
		if err != nil {
			return err
		}
		if !ok {
			return notFound("Certificate %s cannot be found.", certificateID)
		}
		out.CertificateStatus, out.Certificate = c.Status, c.parse()
		certArn := s.certArn(certificateID)
		names := keysUnder(tx, tTargetPolicies, certArn+"\x00")
		if clientID != "" && tx.Has(tThingPrincipals, clientID+"\x00"+certArn) {
			th, err := s.policyThing(tx, clientID, true)
			if err != nil {
				return err
			}
			out.Thing = th
			names = append(names, s.thingGroupPolicies(tx, clientID)...)
		}
		out.Policies, err = s.policiesNamed(tx, names, false)
		return err
	})
	return out, err
}

// NamedPolicyPrincipal resolves a connection that has no certificate (the
// plain listener) with the named policy, and the thing named clientID if
// one exists (IsAttached false: nothing proves the client is that thing).
func (s *Service) NamedPolicyPrincipal(policyName, clientID string) (Principal, error) {
	var out Principal
	err := s.st.View(func(tx *store.Tx) (err error) {
		if clientID != "" && tx.Has(tThings, clientID) {
			if out.Thing, err = s.policyThing(tx, clientID, false); err != nil {
				return err
			}
		}
		out.Policies, err = s.policiesNamed(tx, []string{policyName}, true)
		return err
	})
	return out, err
}

func (s *Service) policyThing(tx *store.Tx, name string, attached bool) (*policy.Thing, error) {
	t, err := s.getThing(tx, name)
	if err != nil {
		return nil, err
	}
	return &policy.Thing{Name: t.Name, TypeName: t.TypeName, Attributes: t.Attributes, IsAttached: attached}, nil
}

// thingGroupPolicies returns the names of the policies attached to the
// thing's groups and to their ancestors.
func (s *Service) thingGroupPolicies(tx *store.Tx, thing string) []string {
	var names []string
	seen := map[string]bool{}
	for _, g := range keysUnder(tx, tThingGroups, thing+"/") {
		for _, a := range s.ancestors(tx, g) {
			if seen[a.Name] {
				continue
			}
			seen[a.Name] = true
			names = append(names, keysUnder(tx, tTargetPolicies, a.Arn+"\x00")...)
		}
	}
	return names
}

// policiesNamed returns the named policies (default versions, parsed),
// each once, in the order given. A missing one is skipped, or with strict
// an error.
func (s *Service) policiesNamed(tx *store.Tx, names []string, strict bool) ([]policy.Policy, error) {
	var out []policy.Policy
	seen := map[string]bool{}
	for _, n := range names {
		if seen[n] {
			continue
		}
		seen[n] = true
		p, err := s.loadPolicy(tx, n)
		if err != nil {
			if strict || !isNotFound(err) {
				return nil, err
			}
			continue
		}
		v, err := s.loadPolicyVersion(tx, n, p.DefaultVersion)
		if err != nil {
			return nil, err
		}
		doc, err := s.docs.parse(v)
		if err != nil {
			return nil, err
		}
		out = append(out, policy.Policy{Name: n, Document: doc})
	}
	return out, nil
}

func isNotFound(err error) bool {
	var we *wire.Error
	return errors.As(err, &we) && we.Code == "ResourceNotFoundException"
}

// docCache keeps parsed documents by version generation id, so that a
// CONNECT does not parse its policies again. Versions never change, so an
// entry is valid until its version is deleted (forget).
type docCache struct {
	mu   sync.Mutex
	docs map[string]*policy.Document
}

// maxCachedDocs bounds the cache; past it, it starts over.
const maxCachedDocs = 10000

func (c *docCache) parse(v policyVersionRec) (*policy.Document, error) {
	c.mu.Lock()
	d, ok := c.docs[v.GenerationID]
	c.mu.Unlock()
	if ok {
		return d, nil
	}
	d, err := parseDocument(v.Document)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.docs == nil || len(c.docs) >= maxCachedDocs {
		c.docs = map[string]*policy.Document{}
	}
	c.docs[v.GenerationID] = d
	return d, nil
}

func (c *docCache) forget(gens ...string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, g := range gens {
		delete(c.docs, g)
	}
}
