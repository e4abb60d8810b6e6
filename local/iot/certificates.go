package iot

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"net/http"
	"strings"
	"time"

	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/local/wire"
)

// Device certificates and thing principals: CreateKeysAndCertificate,
// DescribeCertificate, UpdateCertificate, DeleteCertificate,
// AttachThingPrincipal, DetachThingPrincipal, ListThingPrincipals and
// ListPrincipalThings on the IoT REST-JSON wire, and the two questions the
// MQTT broker asks at a TLS connection (CertificateActive,
// CertificateAttached). Registered by EnableCertificates.

const (
	tCerts           = "iot.certs"           // certificate id → certRec
	tThingPrincipals = "iot.thingprincipals" // thing + "\x00" + principal → ""
	tPrincipalThings = "iot.principalthings" // principal + "\x00" + thing → ""
	principalHeader  = "x-amzn-principal"
)

// Certificate statuses.
const (
	CertActive   = "ACTIVE"
	CertInactive = "INACTIVE"
	CertRevoked  = "REVOKED"
)

var certStatuses = map[string]bool{
	CertActive: true, CertInactive: true, CertRevoked: true,
	"PENDING_TRANSFER": true, "REGISTER_INACTIVE": true, "PENDING_ACTIVATION": true,
}

// CertificateIssuer signs device certificates: otactl local's CA, which the
// MQTT broker's server certificate also chains to.
type CertificateIssuer interface {
	IssueCertificate(pub crypto.PublicKey, commonName string) (der []byte, err error)
}

type certRec struct {
	ID           string    `json:"certificateId"`
	Arn          string    `json:"certificateArn"`
	Status       string    `json:"status"`
	PEM          string    `json:"certificatePem"`
	CreatedAt    time.Time `json:"creationDate"`
	LastModified time.Time `json:"lastModifiedDate"`
	NotBefore    time.Time `json:"notBefore"`
	NotAfter     time.Time `json:"notAfter"`
	Version      int       `json:"customerVersion"`
	GenerationID string    `json:"generationId"`
}

// EnableCertificates registers the certificate and principal operations.
// Device certificates are signed by issuer (nil: self-signed; the broker
// trusts registered certificates whoever signed them). Call it once, before
// serving.
func (s *Service) EnableCertificates(issuer CertificateIssuer) {
	c := &certAPI{s: s, issuer: issuer}
	s.HandleFunc("POST /keys-and-certificate", serve(c.createKeysAndCertificate))
	s.HandleFunc("GET /certificates/{certificateId}", serve(c.describeCertificate))
	s.HandleFunc("PUT /certificates/{certificateId}", serve(c.updateCertificate))
	s.HandleFunc("DELETE /certificates/{certificateId}", serve(c.deleteCertificate))
	s.HandleFunc("PUT /things/{thingName}/principals", serve(c.attachThingPrincipal))
	s.HandleFunc("DELETE /things/{thingName}/principals", serve(c.detachThingPrincipal))
	s.HandleFunc("GET /things/{thingName}/principals", serve(c.listThingPrincipals))
	s.HandleFunc("GET /principals/things", serve(c.listPrincipalThings))
}

type certAPI struct {
	s      *Service
	issuer CertificateIssuer
}

// CertificateActive reports whether the certificate with id (hex SHA-256 of
// its DER) is registered and ACTIVE.
func (s *Service) CertificateActive(id string) bool {
	var c certRec
	ok, err := s.st.Get(tCerts, id, &c)
	return err == nil && ok && c.Status == CertActive
}

// CertificateAttached reports whether the certificate is attached to thing.
func (s *Service) CertificateAttached(id, thing string) bool {
	found := false
	s.st.View(func(tx *store.Tx) error {
		found = tx.Has(tThingPrincipals, thing+"\x00"+s.certArn(id))
		return nil
	})
	return found
}

func (s *Service) certArn(id string) string { return s.env.ARN("iot", "cert/"+id) }

func certEpoch(t time.Time) float64 { return float64(t.UnixMilli()) / 1000 }

func (c *certAPI) createKeysAndCertificate(r *http.Request) (any, error) {
	active, err := boolQuery(r, "setAsActive")
	if err != nil {
		return nil, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, wire.Internal(err)
	}
	der, err := c.issue(key)
	if err != nil {
		return nil, wire.Internal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, wire.Internal(err)
	}
	pub, _ := x509.MarshalPKIXPublicKey(key.Public())
	priv, _ := x509.MarshalECPrivateKey(key)
	sum := sha256.Sum256(der)
	id := hex.EncodeToString(sum[:])
	now := c.s.now()
	rec := certRec{
		ID: id, Arn: c.s.certArn(id), Status: CertInactive,
		PEM:       string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		CreatedAt: now, LastModified: now, NotBefore: cert.NotBefore, NotAfter: cert.NotAfter,
		Version: 1, GenerationID: randomHex(16),
	}
	if active {
		rec.Status = CertActive
	}
	if err := c.s.st.Put(tCerts, id, rec); err != nil {
		return nil, wire.Internal(err)
	}
	return map[string]any{
		"certificateArn": rec.Arn, "certificateId": id, "certificatePem": rec.PEM,
		"keyPair": map[string]string{
			"PublicKey":  string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})),
			"PrivateKey": string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: priv})),
		},
	}, nil
}

func (c *certAPI) issue(key *ecdsa.PrivateKey) ([]byte, error) {
	const cn = "AWS IoT Certificate"
	if c.issuer != nil {
		return c.issuer.IssueCertificate(key.Public(), cn)
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Date(2049, 12, 31, 23, 59, 59, 0, time.UTC),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	return x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (c *certAPI) load(tx *store.Tx, id string) (certRec, error) {
	var rec certRec
	ok, err := tx.Get(tCerts, id, &rec)
	if err == nil && !ok {
		err = notFound("Certificate %s cannot be found.", id)
	}
	return rec, err
}

func (c *certAPI) describeCertificate(r *http.Request) (any, error) {
	var rec certRec
	err := c.s.st.View(func(tx *store.Tx) (err error) {
		rec, err = c.load(tx, r.PathValue("certificateId"))
		return err
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"certificateDescription": map[string]any{
		"certificateArn": rec.Arn, "certificateId": rec.ID, "status": rec.Status,
		"certificatePem": rec.PEM, "ownedBy": c.s.env.AccountID,
		"creationDate": certEpoch(rec.CreatedAt), "lastModifiedDate": certEpoch(rec.LastModified),
		"customerVersion": rec.Version, "generationId": rec.GenerationID,
		"transferData":    map[string]any{},
		"validity":        map[string]any{"notBefore": certEpoch(rec.NotBefore), "notAfter": certEpoch(rec.NotAfter)},
		"certificateMode": "DEFAULT",
	}}, nil
}

func (c *certAPI) updateCertificate(r *http.Request) (any, error) {
	status := r.URL.Query().Get("newStatus")
	if !certStatuses[status] {
		return nil, invalid("newStatus must be one of ACTIVE, INACTIVE, REVOKED, PENDING_TRANSFER, REGISTER_INACTIVE, PENDING_ACTIVATION, got %q", status)
	}
	err := c.s.st.Update(func(tx *store.Tx) error {
		rec, err := c.load(tx, r.PathValue("certificateId"))
		if err != nil {
			return err
		}
		if rec.Status == CertRevoked && status != CertRevoked {
			return wire.Errorf(http.StatusNotAcceptable, "CertificateStateException", "Certificate %s is revoked.", rec.ID)
		}
		rec.Status, rec.LastModified = status, c.s.now()
		rec.Version++
		return tx.Put(tCerts, rec.ID, rec)
	})
	if err != nil {
		return nil, err
	}
	return nil, nil
}

func (c *certAPI) deleteCertificate(r *http.Request) (any, error) {
	err := c.s.st.Update(func(tx *store.Tx) error {
		rec, err := c.load(tx, r.PathValue("certificateId"))
		if err != nil {
			return err
		}
		if rec.Status == CertActive {
			return wire.Errorf(http.StatusNotAcceptable, "CertificateStateException", "Certificate %s must be deactivated before deletion.", rec.ID)
		}
		if len(keysUnder(tx, tPrincipalThings, rec.Arn+"\x00")) > 0 {
			return wire.Errorf(http.StatusConflict, "DeleteConflictException", "Certificate %s is attached to one or more things.", rec.ID)
		}
		return tx.Delete(tCerts, rec.ID)
	})
	if err != nil {
		return nil, err
	}
	return nil, nil
}

// principalOf reads the principal header, checking that a certificate ARN
// of this account names an existing certificate.
func (c *certAPI) principalOf(tx *store.Tx, r *http.Request) (string, error) {
	p := r.Header.Get(principalHeader)
	if p == "" {
		return "", invalid("the principal (%s header) is required", principalHeader)
	}
	if id, ok := strings.CutPrefix(p, c.s.certArn("")); ok {
		if _, err := c.load(tx, id); err != nil {
			return "", err
		}
	}
	return p, nil
}

func (c *certAPI) attachThingPrincipal(r *http.Request) (any, error) {
	thing := r.PathValue("thingName")
	if t := r.URL.Query().Get("thingPrincipalType"); t != "" && t != "EXCLUSIVE_THING" && t != "NON_EXCLUSIVE_THING" {
		return nil, invalid("thingPrincipalType must be EXCLUSIVE_THING or NON_EXCLUSIVE_THING, got %q", t)
	}
	err := c.s.st.Update(func(tx *store.Tx) error {
		if _, err := c.s.getThing(tx, thing); err != nil {
			return err
		}
		p, err := c.principalOf(tx, r)
		if err != nil {
			return err
		}
		if err := tx.Put(tThingPrincipals, thing+"\x00"+p, ""); err != nil {
			return err
		}
		return tx.Put(tPrincipalThings, p+"\x00"+thing, "")
	})
	if err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (c *certAPI) detachThingPrincipal(r *http.Request) (any, error) {
	thing := r.PathValue("thingName")
	err := c.s.st.Update(func(tx *store.Tx) error {
		if _, err := c.s.getThing(tx, thing); err != nil {
			return err
		}
		p := r.Header.Get(principalHeader)
		if p == "" {
			return invalid("the principal (%s header) is required", principalHeader)
		}
		if err := tx.Delete(tThingPrincipals, thing+"\x00"+p); err != nil {
			return err
		}
		return tx.Delete(tPrincipalThings, p+"\x00"+thing)
	})
	if err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (c *certAPI) listThingPrincipals(r *http.Request) (any, error) {
	thing := r.PathValue("thingName")
	p, err := parsePage(r)
	if err != nil {
		return nil, err
	}
	return listView(c.s.st, "principals", func(tx *store.Tx) ([]string, string, error) {
		if _, err := c.s.getThing(tx, thing); err != nil {
			return nil, "", err
		}
		return pageOf(tx, tThingPrincipals, thing+"\x00", p, keyRest(thing+"\x00"))
	})
}

func (c *certAPI) listPrincipalThings(r *http.Request) (any, error) {
	p, err := parsePage(r)
	if err != nil {
		return nil, err
	}
	return listView(c.s.st, "things", func(tx *store.Tx) ([]string, string, error) {
		principal, err := c.principalOf(tx, r)
		if err != nil {
			return nil, "", err
		}
		return pageOf(tx, tPrincipalThings, principal+"\x00", p, keyRest(principal+"\x00"))
	})
}
