package iot

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/local/wire"
)

// Device certificates and thing principals, the rules: creating
// (CreateKeysAndCertificate, CreateCertificateFromCsr), registering
// (RegisterCertificateWithoutCA here, RegisterCertificate in cacerts.go),
// status changes and deletion, listings, and the question the MQTT broker
// asks at a TLS handshake (CertificateActive). Thing principals are in
// thingprincipals.go; the wire of both in certificates_http.go.

const (
	tCerts           = "iot.certs"           // certificate id → Certificate
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

// certStatuses are the CertificateStatus values; internal ones are
// statuses AWS keeps for itself (UpdateCertificate refuses them).
var (
	certStatuses = map[string]bool{
		CertActive: true, CertInactive: true, CertRevoked: true,
		"PENDING_TRANSFER": true, "REGISTER_INACTIVE": true, "PENDING_ACTIVATION": true,
	}
	internalStatuses = map[string]bool{"PENDING_TRANSFER": true, "PENDING_ACTIVATION": true}
)

// Certificate modes: DEFAULT certificates are signed by otactl local's CA
// or a CA registered in DEFAULT mode; SNI_ONLY ones were registered without
// a CA or by a CA registered in SNI_ONLY mode.
const (
	ModeDefault = "DEFAULT"
	ModeSNIOnly = "SNI_ONLY"
)

// defaultSubject is the Common Name AWS IoT gives the certificates it
// creates with their keys.
const defaultSubject = "AWS IoT Certificate"

// CertificateIssuer signs device certificates: otactl local's CA, which the
// MQTT broker's server certificate also chains to.
type CertificateIssuer interface {
	IssueCertificate(pub crypto.PublicKey, commonName string) (der []byte, err error)
}

// issuerSlot holds the issuer, set once the CA is loaded (StartMQTT).
type issuerSlot struct {
	mu sync.RWMutex
	v  CertificateIssuer
}

// SetCertificateIssuer wires the CA that CreateKeysAndCertificate and
// CreateCertificateFromCsr sign with. Until it is set those two operations
// answer ServiceUnavailableException; every other certificate operation
// works without it.
func (s *Service) SetCertificateIssuer(issuer CertificateIssuer) {
	s.issuer.mu.Lock()
	defer s.issuer.mu.Unlock()
	s.issuer.v = issuer
}

func (s *Service) certIssuer(op string) (CertificateIssuer, error) {
	s.issuer.mu.RLock()
	defer s.issuer.mu.RUnlock()
	if s.issuer.v == nil {
		return nil, serviceUnavailable("%s signs with otactl local's CA, which is loaded when the MQTT broker starts; this server has no CA wired", op)
	}
	return s.issuer.v, nil
}

// Certificate is a device certificate record (DescribeCertificate).
type Certificate struct {
	ID           string    `json:"certificateId"`
	Arn          string    `json:"certificateArn"`
	Status       string    `json:"status"`
	PEM          string    `json:"certificatePem"`
	CAID         string    `json:"caCertificateId,omitempty"` // the registered CA that signed it
	Mode         string    `json:"certificateMode,omitempty"` // "" (older records): DEFAULT
	CreatedAt    time.Time `json:"creationDate"`
	LastModified time.Time `json:"lastModifiedDate"`
	NotBefore    time.Time `json:"notBefore"`
	NotAfter     time.Time `json:"notAfter"`
	Version      int       `json:"customerVersion"`
	GenerationID string    `json:"generationId"`
}

func (c *Certificate) mode() string {
	if c.Mode == "" {
		return ModeDefault
	}
	return c.Mode
}

// sortKey orders certificates by creation date (ListCertificates).
func (c *Certificate) sortKey() string { return dateKey(c.CreatedAt, c.ID) }

// NewCertificate is what CreateKeysAndCertificate and
// CreateCertificateFromCsr return. The key pair is empty for a CSR.
type NewCertificate struct {
	ID, Arn, PEM             string
	PublicKeyPEM, PrivateKey string
}

// CertificateActive reports whether the certificate with id (hex SHA-256 of
// its DER) is registered and ACTIVE: only those connect.
func (s *Service) CertificateActive(id string) bool {
	var c Certificate
	ok, err := s.st.Get(tCerts, id, &c)
	return err == nil && ok && c.Status == CertActive
}

func (s *Service) certArn(id string) string { return s.env.ARN("iot", "cert/"+id) }

// CreateKeysAndCertificate makes a 2048-bit RSA key pair (as AWS documents)
// and a certificate for it signed by otactl local's CA. RSA generation is
// the slow part (tens of milliseconds); it runs outside the transaction.
func (s *Service) CreateKeysAndCertificate(active bool) (NewCertificate, error) {
	return s.newKeysAndCertificate(statusOf(active))
}

func (s *Service) newKeysAndCertificate(status string) (NewCertificate, error) {
	issuer, err := s.certIssuer("CreateKeysAndCertificate")
	if err != nil {
		return NewCertificate{}, err
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return NewCertificate{}, wire.Internal(err)
	}
	der, err := issuer.IssueCertificate(&key.PublicKey, defaultSubject)
	if err != nil {
		return NewCertificate{}, wire.Internal(err)
	}
	rec, err := s.addCertificate(der, status, "", ModeDefault)
	if err != nil {
		return NewCertificate{}, err
	}
	pub, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if err != nil {
		return NewCertificate{}, wire.Internal(err)
	}
	return NewCertificate{
		ID: rec.ID, Arn: rec.Arn, PEM: rec.PEM,
		PublicKeyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})),
		PrivateKey:   string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})),
	}, nil
}

// CreateCertificateFromCsr signs the CSR's key with otactl local's CA. The
// certificate keeps the CSR's Common Name (AWS's default subject when it
// has none); the CSR's other subject fields are not carried over. Each call
// makes a distinct certificate, as AWS's does.
func (s *Service) CreateCertificateFromCsr(csrPEM string, active bool) (NewCertificate, error) {
	return s.newCertificateFromCsr(csrPEM, statusOf(active))
}

func (s *Service) newCertificateFromCsr(csrPEM, status string) (NewCertificate, error) {
	issuer, err := s.certIssuer("CreateCertificateFromCsr")
	if err != nil {
		return NewCertificate{}, err
	}
	csr, err := parseCSR(csrPEM)
	if err != nil {
		return NewCertificate{}, err
	}
	cn := csr.Subject.CommonName
	if cn == "" {
		cn = defaultSubject
	}
	der, err := issuer.IssueCertificate(csr.PublicKey, cn)
	if err != nil {
		return NewCertificate{}, wire.Internal(err)
	}
	rec, err := s.addCertificate(der, status, "", ModeDefault)
	if err != nil {
		return NewCertificate{}, err
	}
	return NewCertificate{ID: rec.ID, Arn: rec.Arn, PEM: rec.PEM}, nil
}

// parseCSR reads a PEM certificate signing request, checking its signature
// and its key (AWS: RSA of at least 2048 bits, or ECC on P-256, P-384 or
// P-521).
func parseCSR(text string) (*x509.CertificateRequest, error) {
	const field = "certificateSigningRequest"
	if strings.TrimSpace(text) == "" {
		return nil, invalid("%s is required", field)
	}
	b, _ := pem.Decode([]byte(text))
	if b == nil {
		return nil, invalid("%s is not PEM: want a -----BEGIN CERTIFICATE REQUEST----- block", field)
	}
	if b.Type != "CERTIFICATE REQUEST" && b.Type != "NEW CERTIFICATE REQUEST" {
		return nil, invalid("%s holds a PEM %q block, want CERTIFICATE REQUEST", field, b.Type)
	}
	csr, err := x509.ParseCertificateRequest(b.Bytes)
	if err != nil {
		return nil, invalid("%s does not parse: %v", field, err)
	}
	if err := csr.CheckSignature(); err != nil {
		return nil, invalid("%s: its signature does not verify with its own public key: %v", field, err)
	}
	if msg := keyProblem(csr.PublicKey); msg != "" {
		return nil, invalid("%s: %s", field, msg)
	}
	return csr, nil
}

// keyProblem says what is wrong with a certificate's key for AWS IoT ("" if
// nothing): RSA of at least 2048 bits, or ECDSA on P-256, P-384 or P-521.
func keyProblem(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if k.N.BitLen() < 2048 {
			return "an RSA key must have at least 2048 bits, this one has " + itoa(int64(k.N.BitLen()))
		}
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
		default:
			return "an ECC key must be on NIST P-256, P-384 or P-521, not " + k.Curve.Params().Name
		}
	default:
		return fmt.Sprintf("the key must be RSA (at least 2048 bits) or ECC (NIST P-256, P-384, P-521), not %T", pub)
	}
	return ""
}

func statusOf(active bool) string {
	if active {
		return CertActive
	}
	return CertInactive
}

// newCertRec describes a certificate (DER) about to be stored.
func (s *Service) newCertRec(der []byte, status, caID, mode string) (Certificate, error) {
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return Certificate{}, wire.Internal(err)
	}
	sum := sha256.Sum256(der)
	id := hex.EncodeToString(sum[:])
	now := s.now()
	return Certificate{
		ID: id, Arn: s.certArn(id), Status: status, CAID: caID, Mode: mode,
		PEM:       pemCert(der),
		CreatedAt: now, LastModified: now, NotBefore: cert.NotBefore.UTC(), NotAfter: cert.NotAfter.UTC(),
		Version: 1, GenerationID: randomHex(16),
	}, nil
}

// addCertificate stores a new certificate in one transaction.
func (s *Service) addCertificate(der []byte, status, caID, mode string) (Certificate, error) {
	rec, err := s.newCertRec(der, status, caID, mode)
	if err != nil {
		return rec, err
	}
	return rec, s.st.Update(func(tx *store.Tx) error { return putNewCert(tx, rec) })
}

// putNewCert stores rec unless a certificate with its id is registered.
func putNewCert(tx *store.Tx, rec Certificate) error {
	if tx.Has(tCerts, rec.ID) {
		return alreadyExists(rec.ID, rec.Arn, "The certificate is already provisioned or registered (id %s)", rec.ID)
	}
	return tx.Put(tCerts, rec.ID, rec)
}

// parseCertPEM reads one PEM certificate for RegisterCertificate and its
// kin: it must parse, be valid now, and carry a key AWS IoT accepts.
func parseCertPEM(field, text string, now time.Time) (*x509.Certificate, error) {
	if strings.TrimSpace(text) == "" {
		return nil, invalid("%s is required", field)
	}
	b, _ := pem.Decode([]byte(text))
	if b == nil || b.Type != "CERTIFICATE" {
		return nil, certificateValidation("%s is not a PEM CERTIFICATE block", field)
	}
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		return nil, certificateValidation("%s does not parse: %v", field, err)
	}
	if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return nil, certificateValidation("%s is valid from %s to %s, not now", field, cert.NotBefore.UTC().Format(time.RFC3339), cert.NotAfter.UTC().Format(time.RFC3339))
	}
	if msg := keyProblem(cert.PublicKey); msg != "" {
		return nil, certificateValidation("%s: %s", field, msg)
	}
	return cert, nil
}

// registerStatus is the status a registered certificate starts with:
// status when given, else ACTIVE with the deprecated setAsActive, else
// INACTIVE.
func registerStatus(status string, setAsActive bool) (string, error) {
	switch {
	case status == "":
		return statusOf(setAsActive), nil
	case !certStatuses[status]:
		return "", invalid("status must be one of ACTIVE, INACTIVE, REVOKED, PENDING_TRANSFER, REGISTER_INACTIVE, PENDING_ACTIVATION, got %q", status)
	}
	return status, nil
}

// RegisterCertificateWithoutCA registers a certificate whatever signed it;
// it is registered in SNI_ONLY mode, as AWS does.
func (s *Service) RegisterCertificateWithoutCA(certPEM, status string) (Certificate, error) {
	st, err := registerStatus(status, false)
	if err != nil {
		return Certificate{}, err
	}
	cert, err := parseCertPEM("certificatePem", certPEM, time.Now()) // real time, whatever the service's clock
	if err != nil {
		return Certificate{}, err
	}
	return s.addCertificate(cert.Raw, st, "", ModeSNIOnly)
}

// DescribeCertificate returns a certificate.
func (s *Service) DescribeCertificate(id string) (Certificate, error) {
	var rec Certificate
	err := s.st.View(func(tx *store.Tx) (err error) {
		rec, err = loadCert(tx, id)
		return err
	})
	return rec, err
}

func loadCert(tx *store.Tx, id string) (Certificate, error) {
	var rec Certificate
	ok, err := tx.Get(tCerts, id, &rec)
	if err == nil && !ok {
		err = notFound("Certificate %s cannot be found.", id)
	}
	return rec, err
}

// UpdateCertificate changes a certificate's status. A REVOKED certificate
// stays REVOKED (AWS: once revoked, its status can't be changed); the
// statuses AWS keeps for itself are refused. Setting the current status is
// a no-op (the operation is idempotent). A change is announced with
// PoliciesChanged: a certificate that stops being ACTIVE stops connecting.
func (s *Service) UpdateCertificate(id, status string) error {
	switch {
	case !certStatuses[status]:
		return invalid("newStatus must be one of ACTIVE, INACTIVE, REVOKED, PENDING_TRANSFER, REGISTER_INACTIVE, PENDING_ACTIVATION, got %q", status)
	case internalStatuses[status]:
		return invalid("newStatus %s is used internally by AWS IoT and cannot be set", status)
	}
	var ev *Event
	err := s.st.Update(func(tx *store.Tx) error {
		rec, err := loadCert(tx, id)
		if err != nil || rec.Status == status {
			return err
		}
		if rec.Status == CertRevoked {
			return certificateState("Certificate %s is REVOKED; a revoked certificate's status cannot be changed.", rec.ID)
		}
		rec.Status, rec.LastModified = status, s.now()
		rec.Version++
		ev = principalEvent(tx, rec.Arn)
		return tx.Put(tCerts, rec.ID, rec)
	})
	if err == nil && ev != nil {
		s.emit(*ev)
	}
	return err
}

// DeleteCertificate deletes a certificate that is not ACTIVE and not
// attached to a thing. Policies attached to it refuse the deletion unless
// force, which detaches them (AWS's forceDelete: "if it is inactive and is
// not attached to an IoT thing").
func (s *Service) DeleteCertificate(id string, force bool) error {
	err := s.st.Update(func(tx *store.Tx) error {
		rec, err := loadCert(tx, id)
		if err != nil {
			return err
		}
		if rec.Status == CertActive {
			return certificateState("Certificate must be deactivated (not ACTIVE) before deletion. Id: %s", rec.ID)
		}
		if things := keysUnder(tx, tPrincipalThings, rec.Arn+"\x00"); len(things) > 0 {
			return deleteConflict("Certificate %s is attached to thing %s; detach it (DetachThingPrincipal) first.", rec.ID, things[0])
		}
		if s.principalHasPolicies(tx, rec.Arn) {
			if !force {
				return deleteConflict("Certificate %s has policies attached; detach them (DetachPolicy) or delete with forceDelete.", rec.ID)
			}
			if _, err := detachAllPolicies(tx, rec.Arn); err != nil {
				return err
			}
		}
		return tx.Delete(tCerts, rec.ID)
	})
	if err == nil {
		s.emit(Event{Kind: PoliciesChanged, Principals: []string{s.certArn(id)}})
	}
	return err
}

// principalEvent is the PoliciesChanged event for a certificate whose
// status changed: the certificate and the things it is attached to.
func principalEvent(tx *store.Tx, arn string) *Event {
	return &Event{Kind: PoliciesChanged, Principals: []string{arn}, Things: keysUnder(tx, tPrincipalThings, arn+"\x00")}
}

// certFilter selects the certificates of a listing.
type certFilter func(*Certificate) bool

// ListCertificates returns a page of certificates ordered by creation date
// (ListCertificates, and ListCertificatesByCA with a filter).
func (s *Service) ListCertificates(p datePage, keep certFilter) ([]Certificate, string, error) {
	var all []Certificate
	err := s.st.View(func(tx *store.Tx) error {
		return tx.List(tCerts, "", func(_ string, raw []byte) error {
			var rec Certificate
			if err := json.Unmarshal(raw, &rec); err != nil {
				return err
			}
			if keep == nil || keep(&rec) {
				all = append(all, rec)
			}
			return nil
		})
	})
	if err != nil {
		return nil, "", err
	}
	items, next := pageByDate(all, (*Certificate).sortKey, p)
	return items, next, nil
}

// datePage is a page of a listing ordered by creation date with AWS's
// marker paging (the certificate listings).
type datePage struct {
	asc    bool
	marker string // sort key of the last item of the previous page
	size   int
}

// dateKey is a sort key: the creation time, then the id for ties.
func dateKey(t time.Time, id string) string {
	return padInt(t.UnixNano()) + "/" + id
}

func padInt(n int64) string {
	s := itoa(n)
	if len(s) < 20 {
		s = strings.Repeat("0", 20-len(s)) + s
	}
	return s
}

// pageByDate sorts items by key (newest first unless p.asc), skips to after
// p.marker and returns one page and the marker of the next ("" at the end).
func pageByDate[T any](items []T, key func(*T) string, p datePage) ([]T, string) {
	sort.Slice(items, func(i, j int) bool {
		if p.asc {
			return key(&items[i]) < key(&items[j])
		}
		return key(&items[i]) > key(&items[j])
	})
	var out []T
	for i := range items {
		k := key(&items[i])
		if p.marker != "" && (p.asc && k <= p.marker || !p.asc && k >= p.marker) {
			continue
		}
		if len(out) == p.size {
			return out, encodeMarker(key(&out[len(out)-1]))
		}
		out = append(out, items[i])
	}
	return out, ""
}

func pemCert(der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
