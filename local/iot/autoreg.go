package iot

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/otactl/otactl/local/provisioning"
	"github.com/otactl/otactl/local/store"
)

// Auto-registration of device certificates a registered CA signed, at the
// device's first TLS connection, as AWS IoT does it:
//
//   - just-in-time registration (JITR): the CA is ACTIVE with
//     autoRegistrationStatus ENABLE and no provisioning template. The
//     certificate is registered PENDING_ACTIVATION and a message goes to
//     $aws/events/certificates/registered/<caCertificateId> (again each time
//     a PENDING_ACTIVATION certificate tries to connect). Whoever listens
//     activates it (UpdateCertificate), attaches a policy and a thing.
//   - just-in-time provisioning (JITP): the CA also has a registrationConfig
//     templateBody. The template runs with the parameters of the
//     certificate's subject: the thing, its groups and type, the policies,
//     the attachments and the certificate's status.
//
// Either way the first connection fails (the certificate was not ACTIVE
// when the device presented it) and the device connects again.

// RegisteredTopicPrefix is where auto-registration events are published,
// followed by the CA certificate's id.
const RegisteredTopicPrefix = "$aws/events/certificates/registered/"

// AutoRegistration is what one auto-registration attempt did.
type AutoRegistration struct {
	CertificateID string
	CAID          string
	Status        string // the certificate's status afterwards
	Provisioned   bool   // a JITP template ran
	ThingName     string // JITP: the thing the certificate was attached to
	// Topic and Payload, when Topic is set, are the registration event to
	// publish (JITR).
	Topic   string
	Payload []byte
}

// ErrNotAutoRegistrable: the certificate is unknown and no ACTIVE CA with
// auto-registration enabled signed it.
var ErrNotAutoRegistrable = errors.New("certificate not registered, and no ACTIVE registered CA with auto-registration signed it")

// AutoRegister registers (JITR) or provisions (JITP) the device
// certificate chain[0] (DER; chain[1], when the device sent it, names the
// CA). A certificate that is registered already gets nothing, except the
// JITR event again while it is PENDING_ACTIVATION.
func (s *Service) AutoRegister(chain [][]byte) (AutoRegistration, error) {
	if len(chain) == 0 {
		return AutoRegistration{}, ErrNotAutoRegistrable
	}
	cert, err := x509.ParseCertificate(chain[0])
	if err != nil {
		return AutoRegistration{}, fmt.Errorf("device certificate: %w", err)
	}
	sum := sha256.Sum256(chain[0])
	id := hex.EncodeToString(sum[:])
	now := time.Now()
	if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return AutoRegistration{}, fmt.Errorf("device certificate %s is not valid now (%s to %s)", id, cert.NotBefore, cert.NotAfter)
	}
	var wantCA string
	if len(chain) > 1 {
		caSum := sha256.Sum256(chain[1])
		wantCA = hex.EncodeToString(caSum[:])
	}
	var out AutoRegistration
	var ca CACertificate
	// Look first (a read): an unknown certificate from nobody's CA, which
	// anyone can present, costs no write.
	err = s.st.View(func(tx *store.Tx) error {
		out = AutoRegistration{CertificateID: id}
		if rec, err := loadCert(tx, id); err == nil {
			out.CAID, out.Status = rec.CAID, rec.Status
			return nil
		}
		if wantCA != "" && !tx.Has(tCACerts, wantCA) {
			wantCA = "" // a CA the device sent but nobody registered: look by issuer
		}
		var err error
		if ca, err = signingCA(tx, cert, wantCA); err != nil {
			return ErrNotAutoRegistrable
		}
		if ca.Status != CertActive || ca.AutoReg != AutoRegEnable {
			return ErrNotAutoRegistrable
		}
		return nil
	})
	if err != nil {
		return AutoRegistration{}, err
	}
	if out.Status == "" {
		rec, err := s.newCertRec(cert.Raw, "PENDING_ACTIVATION", ca.ID, ca.Mode)
		if err != nil {
			return AutoRegistration{}, err
		}
		err = s.st.Update(func(tx *store.Tx) error {
			if cur, err := loadCert(tx, id); err == nil { // registered meanwhile
				rec = cur
				ca = CACertificate{}
				return nil
			}
			return putNewCert(tx, rec)
		})
		if err != nil {
			return AutoRegistration{}, err
		}
		out.CAID, out.Status = rec.CAID, rec.Status
	}
	if out.Status != "PENDING_ACTIVATION" {
		return out, nil
	}
	if ca.ID != "" && ca.Config != nil && (ca.Config.TemplateBody != "" || ca.Config.TemplateName != "") {
		return s.provision(cert, out, ca)
	}
	out.Topic = RegisteredTopicPrefix + out.CAID
	ms := s.now().UnixMilli()
	out.Payload, _ = json.Marshal(map[string]any{
		"certificateId": id, "caCertificateId": out.CAID, "timestamp": ms,
		"certificateStatus": out.Status, "awsAccountId": s.env.AccountID,
		"certificateRegistrationTimestamp": strconv.FormatInt(ms, 10),
	})
	return out, nil
}

// provision runs the CA's template for the certificate just registered
// PENDING_ACTIVATION. A template that cannot run leaves nothing behind,
// the certificate included, so that the next connection tries again.
func (s *Service) provision(cert *x509.Certificate, out AutoRegistration, ca CACertificate) (AutoRegistration, error) {
	thing, status, err := s.jitp(cert, out.CertificateID, ca)
	if err != nil {
		s.DeleteCertificate(out.CertificateID, false)
		return out, fmt.Errorf("just-in-time provisioning with the template of CA %s: %w", ca.ID, err)
	}
	out.ThingName, out.Status, out.Provisioned = thing, status, true
	return out, nil
}

func (s *Service) jitp(cert *x509.Certificate, certID string, ca CACertificate) (thing, status string, err error) {
	body := ca.Config.TemplateBody
	if body == "" { // a named provisioning template: its default version
		t, b, err := s.ProvisioningTemplate(ca.Config.TemplateName)
		switch {
		case err != nil:
			return "", "", fmt.Errorf("registrationConfig.templateName: %w", err)
		case t.Type != TemplateJITP:
			return "", "", fmt.Errorf("registrationConfig.templateName: template %s is of type %s, not JITP", t.Name, t.Type)
		case !t.Enabled:
			return "", "", fmt.Errorf("registrationConfig.templateName: template %s is not enabled", t.Name)
		}
		body = b
	}
	tpl, err := provisioning.Parse(body)
	if err != nil {
		return "", "", err
	}
	plan, err := tpl.Evaluate(provisioning.CertificateParameters(cert, certID))
	if err != nil {
		return "", "", err
	}
	return s.applyPlan(plan, certID)
}
