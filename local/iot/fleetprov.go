package iot

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/otactl/otactl/local/provisioning"
	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/local/wire"
)

// Fleet provisioning by claim, the service side of the device provisioning
// MQTT API: a device connected with a claim certificate asks for a
// certificate (CreateKeysAndCertificate or CreateCertificateFromCsr over
// MQTT), gets it PENDING_ACTIVATION with a certificate ownership token,
// and calls RegisterThing with the token, a FLEET_PROVISIONING template's
// name and its parameters; the template then makes the thing, policies and
// attachments and sets the certificate's status. The MQTT side is in
// local/mqtt (fleetprov.go).

const (
	tOwnershipTokens = "iot.ownershiptokens" // token → ownershipToken
	// ownershipTokenTTL bounds how long a certificate waits for its
	// RegisterThing (otactl's choice; AWS does not document one).
	ownershipTokenTTL = time.Hour
)

type ownershipToken struct {
	CertificateID string    `json:"certificateId"`
	Expires       time.Time `json:"expires"`
}

// ProvisioningError is a refused device provisioning request, in the shape
// of the MQTT API's rejected answers.
type ProvisioningError struct {
	StatusCode int
	Code       string
	Message    string
}

func (e *ProvisioningError) Error() string { return e.Code + ": " + e.Message }

func provisioningErr(status int, code, format string, args ...any) *ProvisioningError {
	return &ProvisioningError{StatusCode: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// ClaimedCertificate is a certificate made for fleet provisioning.
type ClaimedCertificate struct {
	NewCertificate
	OwnershipToken string
}

// CreateClaimedCertificate makes a PENDING_ACTIVATION certificate, from
// the CSR or with a new key pair when csrPEM is "", and its ownership
// token.
func (s *Service) CreateClaimedCertificate(csrPEM string) (ClaimedCertificate, error) {
	var nc NewCertificate
	var err error
	if csrPEM == "" {
		nc, err = s.newKeysAndCertificate("PENDING_ACTIVATION")
	} else {
		nc, err = s.newCertificateFromCsr(csrPEM, "PENDING_ACTIVATION")
	}
	if err != nil {
		return ClaimedCertificate{}, err
	}
	var b [48]byte
	rand.Read(b[:])
	token := base64.StdEncoding.EncodeToString(b[:])
	now := time.Now()
	rec := ownershipToken{CertificateID: nc.ID, Expires: now.Add(ownershipTokenTTL)}
	err = s.st.Update(func(tx *store.Tx) error {
		// Expired tokens go (their certificates stay PENDING_ACTIVATION,
		// for the user to delete).
		var expired []string
		tx.List(tOwnershipTokens, "", func(k string, raw []byte) error {
			var t ownershipToken
			if json.Unmarshal(raw, &t) == nil && now.After(t.Expires) {
				expired = append(expired, k)
			}
			return nil
		})
		for _, k := range expired {
			if err := tx.Delete(tOwnershipTokens, k); err != nil {
				return err
			}
		}
		return tx.Put(tOwnershipTokens, token, rec)
	})
	if err != nil {
		return ClaimedCertificate{}, err
	}
	return ClaimedCertificate{NewCertificate: nc, OwnershipToken: token}, nil
}

// RegisterThing runs the fleet provisioning template for the certificate
// the ownership token stands for, with the device's parameters. The token
// is spent by a successful registration.
func (s *Service) RegisterThing(templateName, token string, params map[string]string) (thing string, deviceConfig map[string]string, err error) {
	t, body, err := s.ProvisioningTemplate(templateName)
	switch {
	case isNotFound(err):
		return "", nil, provisioningErr(404, "ResourceNotFound", "Provisioning template %s cannot be found.", templateName)
	case err != nil:
		return "", nil, err
	case t.Type != TemplateFleet:
		return "", nil, provisioningErr(400, "InvalidParameters", "Provisioning template %s is of type %s; RegisterThing takes FLEET_PROVISIONING templates.", templateName, t.Type)
	case !t.Enabled:
		return "", nil, provisioningErr(403, "Forbidden", "Provisioning template %s is not enabled.", templateName)
	}
	var tok ownershipToken
	ok, err := s.st.Get(tOwnershipTokens, token, &tok)
	if err != nil {
		return "", nil, err
	}
	if !ok || token == "" || time.Now().After(tok.Expires) {
		return "", nil, provisioningErr(400, "InvalidCertificateOwnershipToken", "certificateOwnershipToken is unknown, spent or expired; create the certificate again.")
	}
	tpl, err := provisioning.Parse(body)
	if err != nil {
		return "", nil, provisioningErr(400, "InvalidTemplate", "%v", err)
	}
	values := map[string]string{}
	for k, v := range params {
		values[k] = v
	}
	values[provisioning.ParamID] = tok.CertificateID
	plan, err := tpl.Evaluate(values)
	if err != nil {
		return "", nil, provisioningErr(400, "InvalidParameters", "%v", err)
	}
	thing, _, err = s.applyPlan(plan, tok.CertificateID)
	if err != nil {
		code, status := "InvalidParameters", 400
		var we *wire.Error
		if errors.As(err, &we) && we.Status == 409 {
			code, status = "ResourceConflicts", 409
		}
		return "", nil, provisioningErr(status, code, "%v", err)
	}
	if err := s.st.Update(func(tx *store.Tx) error { return tx.Delete(tOwnershipTokens, token) }); err != nil {
		return "", nil, err
	}
	return thing, plan.DeviceConfiguration, nil
}
