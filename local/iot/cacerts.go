package iot

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"time"

	"github.com/otactl/otactl/internal/lazyre"
	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/ota"
)

// CA certificates a user registers so that device certificates their own
// CA signed can be registered (RegisterCertificate): the production path
// of a fleet whose keys are made in the factory. The rules; the wire is in
// cacerts_http.go.
//
// What a CA's status decides: only an ACTIVE CA registers new device
// certificates. The device certificates it registered keep their own
// status (AWS IoT likewise checks the device certificate's status at
// connect time). A CA with autoRegistrationStatus ENABLE registers the
// certificates it signed at their first connection (autoreg.go).

const (
	tCACerts     = "iot.cacerts"          // CA certificate id → CACertificate
	tRegCode     = "iot.registrationcode" // "code" → the account's registration code
	regCodeKey   = "code"
	maxCASubject = 10 // AWS: up to 10 CA certificates with the same subject per account
)

// Auto-registration values (a CA's status is ACTIVE or INACTIVE).
const (
	AutoRegEnable  = "ENABLE"
	AutoRegDisable = "DISABLE"
)

// RegistrationConfig is a CA's provisioning template for auto-registration.
type RegistrationConfig struct {
	RoleArn      string `json:"roleArn,omitempty"`      // 20-2048 characters
	TemplateBody string `json:"templateBody,omitempty"` // JSON
	TemplateName string `json:"templateName,omitempty"` // 1-36 of [0-9A-Za-z_-]
}

var templateName = lazyre.New(`^[0-9A-Za-z_-]{1,36}$`)

func (c *RegistrationConfig) check() error {
	if c == nil {
		return nil
	}
	if c.RoleArn != "" && (len(c.RoleArn) < 20 || len(c.RoleArn) > 2048) {
		return invalid("registrationConfig.roleArn must be 20-2048 characters, got %d", len(c.RoleArn))
	}
	if c.TemplateName != "" && !templateName.MatchString(c.TemplateName) {
		return invalid("registrationConfig.templateName must be 1-36 of [0-9A-Za-z_-], got %q", c.TemplateName)
	}
	if c.TemplateBody != "" && !json.Valid([]byte(c.TemplateBody)) {
		return invalid("registrationConfig.templateBody is not JSON")
	}
	return nil
}

// CACertificate is a registered CA certificate.
type CACertificate struct {
	ID           string              `json:"certificateId"`
	Arn          string              `json:"certificateArn"`
	Status       string              `json:"status"`
	PEM          string              `json:"certificatePem"`
	Mode         string              `json:"certificateMode"`
	AutoReg      string              `json:"autoRegistrationStatus"`
	Config       *RegistrationConfig `json:"registrationConfig,omitempty"`
	Subject      []byte              `json:"subject"` // raw DER subject: device certificates' issuer
	CreatedAt    time.Time           `json:"creationDate"`
	LastModified time.Time           `json:"lastModifiedDate"`
	NotBefore    time.Time           `json:"notBefore"`
	NotAfter     time.Time           `json:"notAfter"`
	Version      int                 `json:"customerVersion"`
	GenerationID string              `json:"generationId"`
}

func (c *CACertificate) sortKey() string { return dateKey(c.CreatedAt, c.ID) }

func (c *CACertificate) cert() *x509.Certificate {
	b, _ := pem.Decode([]byte(c.PEM))
	if b == nil {
		return nil
	}
	cert, _ := x509.ParseCertificate(b.Bytes)
	return cert
}

func (s *Service) caArn(id string) string { return s.env.ARN("iot", "cacert/"+id) }

// GetRegistrationCode returns the account's registration code, making it
// on first use: a DEFAULT-mode CA proves its key by signing a verification
// certificate whose Common Name is this code.
func (s *Service) GetRegistrationCode() (string, error) {
	var code string
	err := s.st.Update(func(tx *store.Tx) error {
		ok, err := tx.Get(tRegCode, regCodeKey, &code)
		if err != nil || ok {
			return err
		}
		code = randomHex(32)
		return tx.Put(tRegCode, regCodeKey, code)
	})
	return code, err
}

// CARegistration is RegisterCACertificate's request.
type CARegistration struct {
	CACertificate           string // required, PEM
	VerificationCertificate string // required in DEFAULT mode, empty in SNI_ONLY mode
	Mode                    string // DEFAULT (default) or SNI_ONLY
	Active                  bool   // setAsActive
	AutoRegistration        bool   // allowAutoRegistration
	Config                  *RegistrationConfig
	Tags                    []ota.Tag
}

// RegisterCACertificate registers a CA certificate. In DEFAULT mode the
// verification certificate must be signed by the CA's key and carry the
// registration code as its Common Name; SNI_ONLY mode takes no
// verification certificate.
func (s *Service) RegisterCACertificate(in CARegistration) (CACertificate, error) {
	if in.Mode == "" {
		in.Mode = ModeDefault
	}
	switch {
	case in.Mode != ModeDefault && in.Mode != ModeSNIOnly:
		return CACertificate{}, invalid("certificateMode must be DEFAULT or SNI_ONLY, got %q", in.Mode)
	case in.Mode == ModeDefault && in.VerificationCertificate == "":
		return CACertificate{}, invalid("verificationCertificate is required in certificateMode DEFAULT (sign one with the CA's key, Common Name = GetRegistrationCode); or register in SNI_ONLY mode")
	case in.Mode == ModeSNIOnly && in.VerificationCertificate != "":
		return CACertificate{}, invalid("verificationCertificate must be empty in certificateMode SNI_ONLY")
	}
	if err := in.Config.check(); err != nil {
		return CACertificate{}, err
	}
	now := s.now()
	ca, err := parseCertPEM("caCertificate", in.CACertificate, time.Now())
	if err != nil {
		return CACertificate{}, err
	}
	if !ca.BasicConstraintsValid || !ca.IsCA {
		return CACertificate{}, certificateValidation("caCertificate is not a CA certificate (basicConstraints CA:TRUE is missing)")
	}
	var verification *x509.Certificate
	if in.VerificationCertificate != "" {
		if verification, err = parseCertPEM("verificationCertificate", in.VerificationCertificate, time.Now()); err != nil {
			return CACertificate{}, err
		}
		if err := ca.CheckSignature(verification.SignatureAlgorithm, verification.RawTBSCertificate, verification.Signature); err != nil {
			return CACertificate{}, certificateValidation("verificationCertificate is not signed by the key of caCertificate: %v", err)
		}
	}
	sum := sha256.Sum256(ca.Raw)
	rec := CACertificate{
		ID: hex.EncodeToString(sum[:]), Status: statusOf(in.Active), Mode: in.Mode, AutoReg: AutoRegDisable,
		Config: in.Config, Subject: ca.RawSubject, CreatedAt: now, LastModified: now,
		NotBefore: ca.NotBefore.UTC(), NotAfter: ca.NotAfter.UTC(), Version: 1, GenerationID: randomHex(16),
		PEM: pemCert(ca.Raw),
	}
	rec.Arn = s.caArn(rec.ID)
	if in.AutoRegistration {
		rec.AutoReg = AutoRegEnable
	}
	err = s.st.Update(func(tx *store.Tx) error {
		if verification != nil {
			var code string
			tx.Get(tRegCode, regCodeKey, &code)
			if code == "" || verification.Subject.CommonName != code {
				return registrationCodeValidation("verificationCertificate's Common Name %q is not this account's registration code (GetRegistrationCode)", verification.Subject.CommonName)
			}
		}
		if tx.Has(tCACerts, rec.ID) {
			return alreadyExists(rec.ID, rec.Arn, "The CA certificate is already registered (id %s)", rec.ID)
		}
		same := 0
		err := eachCA(tx, func(c *CACertificate) {
			if bytes.Equal(c.Subject, rec.Subject) {
				same++
			}
		})
		if err != nil {
			return err
		}
		if same >= maxCASubject {
			return limitExceeded("at most %d CA certificates with the same subject (%s) can be registered", maxCASubject, ca.Subject)
		}
		if err := putTags(tx, rec.Arn, in.Tags); err != nil {
			return err
		}
		return tx.Put(tCACerts, rec.ID, rec)
	})
	return rec, err
}

func eachCA(tx *store.Tx, fn func(*CACertificate)) error {
	return tx.List(tCACerts, "", func(_ string, raw []byte) error {
		var c CACertificate
		if err := json.Unmarshal(raw, &c); err != nil {
			return err
		}
		fn(&c)
		return nil
	})
}

func loadCA(tx *store.Tx, id string) (CACertificate, error) {
	var rec CACertificate
	ok, err := tx.Get(tCACerts, id, &rec)
	if err == nil && !ok {
		err = notFound("CA certificate %s cannot be found.", id)
	}
	return rec, err
}

// DescribeCACertificate returns a registered CA certificate.
func (s *Service) DescribeCACertificate(id string) (CACertificate, error) {
	var rec CACertificate
	err := s.st.View(func(tx *store.Tx) (err error) {
		rec, err = loadCA(tx, id)
		return err
	})
	return rec, err
}

// ListCACertificates returns a page of CA certificates by creation date;
// templateName, when set, keeps those whose registrationConfig names it.
func (s *Service) ListCACertificates(p datePage, template string) ([]CACertificate, string, error) {
	var all []CACertificate
	err := s.st.View(func(tx *store.Tx) error {
		return eachCA(tx, func(c *CACertificate) {
			if template == "" || c.Config != nil && c.Config.TemplateName == template {
				all = append(all, *c)
			}
		})
	})
	if err != nil {
		return nil, "", err
	}
	items, next := pageByDate(all, (*CACertificate).sortKey, p)
	return items, next, nil
}

// CAUpdate is UpdateCACertificate's request; empty fields change nothing.
type CAUpdate struct {
	Status        string // ACTIVE or INACTIVE
	AutoReg       string // ENABLE or DISABLE
	Config        *RegistrationConfig
	RemoveAutoReg bool // drops registrationConfig and disables auto-registration
}

// UpdateCACertificate changes a CA's status, auto-registration and
// registration configuration.
func (s *Service) UpdateCACertificate(id string, u CAUpdate) error {
	if u.Status != "" && u.Status != CertActive && u.Status != CertInactive {
		return invalid("newStatus must be ACTIVE or INACTIVE, got %q", u.Status)
	}
	if u.AutoReg != "" && u.AutoReg != AutoRegEnable && u.AutoReg != AutoRegDisable {
		return invalid("newAutoRegistrationStatus must be ENABLE or DISABLE, got %q", u.AutoReg)
	}
	if u.RemoveAutoReg && (u.Config != nil || u.AutoReg == AutoRegEnable) {
		return invalid("removeAutoRegistration cannot be combined with registrationConfig or newAutoRegistrationStatus ENABLE")
	}
	if err := u.Config.check(); err != nil {
		return err
	}
	return s.st.Update(func(tx *store.Tx) error {
		rec, err := loadCA(tx, id)
		if err != nil {
			return err
		}
		if u.Status != "" {
			rec.Status = u.Status
		}
		if u.AutoReg != "" {
			rec.AutoReg = u.AutoReg
		}
		if u.Config != nil {
			rec.Config = u.Config
		}
		if u.RemoveAutoReg {
			rec.Config, rec.AutoReg = nil, AutoRegDisable
		}
		rec.LastModified = s.now()
		rec.Version++
		return tx.Put(tCACerts, rec.ID, rec)
	})
}

// DeleteCACertificate deletes a CA certificate that is not ACTIVE and has
// no device certificates registered through it (delete or re-register
// those first; ListCertificatesByCA lists them).
func (s *Service) DeleteCACertificate(id string) error {
	return s.st.Update(func(tx *store.Tx) error {
		rec, err := loadCA(tx, id)
		if err != nil {
			return err
		}
		if rec.Status == CertActive {
			return certificateState("CA certificate %s must be deactivated (UpdateCACertificate newStatus INACTIVE) before deletion.", rec.ID)
		}
		var signed string
		err = tx.List(tCerts, "", func(_ string, raw []byte) error {
			var c Certificate
			if err := json.Unmarshal(raw, &c); err != nil {
				return err
			}
			if c.CAID == rec.ID {
				signed = c.ID
				return store.ErrStop
			}
			return nil
		})
		if err != nil {
			return err
		}
		if signed != "" {
			return certificateState("CA certificate %s has device certificates registered with it (for example %s); delete them first (ListCertificatesByCA lists them).", rec.ID, signed)
		}
		tx.Delete(tTags, rec.Arn)
		return tx.Delete(tCACerts, rec.ID)
	})
}

// RegisterCertificate registers a device certificate signed by a
// registered, ACTIVE CA (caCertificatePem names it; without it, the CA is
// the registered one whose subject is the certificate's issuer and whose
// key verifies its signature). The certificate gets the CA's mode.
func (s *Service) RegisterCertificate(certPEM, caPEM, status string, setAsActive bool) (Certificate, error) {
	st, err := registerStatus(status, setAsActive)
	if err != nil {
		return Certificate{}, err
	}
	now := time.Now() // validity is real time, whatever the service's clock
	cert, err := parseCertPEM("certificatePem", certPEM, now)
	if err != nil {
		return Certificate{}, err
	}
	var wantCA string
	if caPEM != "" {
		ca, err := parseCertPEM("caCertificatePem", caPEM, now)
		if err != nil {
			return Certificate{}, err
		}
		sum := sha256.Sum256(ca.Raw)
		wantCA = hex.EncodeToString(sum[:])
	}
	var rec Certificate
	err = s.st.Update(func(tx *store.Tx) error {
		ca, err := signingCA(tx, cert, wantCA)
		if err != nil {
			return err
		}
		if ca.Status != CertActive {
			return certificateState("CA certificate %s is %s: activate it (UpdateCACertificate newStatus ACTIVE) to register certificates it signed.", ca.ID, ca.Status)
		}
		if rec, err = s.newCertRec(cert.Raw, st, ca.ID, ca.Mode); err != nil {
			return err
		}
		return putNewCert(tx, rec)
	})
	return rec, err
}

// signingCA finds the registered CA that signed cert: the one with id
// wantCA when given, else the registered CAs whose subject is the
// certificate's issuer and whose key verifies its signature (more than one:
// caCertificatePem must say which, as AWS requires).
func signingCA(tx *store.Tx, cert *x509.Certificate, wantCA string) (CACertificate, error) {
	signedBy := func(c *CACertificate) bool {
		ca := c.cert()
		return ca != nil && ca.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature) == nil
	}
	if wantCA != "" {
		var ca CACertificate
		ok, err := tx.Get(tCACerts, wantCA, &ca)
		if err != nil {
			return ca, err
		}
		if !ok {
			return ca, certificateValidation("caCertificatePem is not a registered CA certificate (id %s); register it with RegisterCACertificate", wantCA)
		}
		if !signedBy(&ca) {
			return ca, certificateValidation("certificatePem is not signed by caCertificatePem (CA %s)", wantCA)
		}
		return ca, nil
	}
	var found []CACertificate
	err := eachCA(tx, func(c *CACertificate) {
		if bytes.Equal(c.Subject, cert.RawIssuer) && signedBy(c) {
			found = append(found, *c)
		}
	})
	switch {
	case err != nil:
		return CACertificate{}, err
	case len(found) == 0:
		return CACertificate{}, certificateValidation("certificatePem is signed by %q, which is not a registered CA certificate: register the CA (RegisterCACertificate) or use RegisterCertificateWithoutCA", cert.Issuer.String())
	case len(found) > 1:
		return CACertificate{}, invalid("%d registered CA certificates have the subject %q and the signing key; pass caCertificatePem to say which signed certificatePem", len(found), cert.Issuer.String())
	}
	return found[0], nil
}

// ListCertificatesByCA lists the device certificates registered through a
// CA (an unknown CA lists none, as AWS's has no not-found error here).
func (s *Service) ListCertificatesByCA(caID string, p datePage) ([]Certificate, string, error) {
	return s.ListCertificates(p, func(c *Certificate) bool { return c.CAID == caID })
}
