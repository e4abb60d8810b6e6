package local

import (
	"errors"
	"fmt"
	"io"

	"github.com/otactl/otactl/local/iot"
	"github.com/otactl/otactl/local/mqtt"
	"github.com/otactl/otactl/local/wire"
)

// mqttProvisioning is mqtt.Provisioning over local/iot: fleet provisioning
// by claim. Refusals keep their status and code; what was provisioned is
// said on Config.Diagnostics.
type mqttProvisioning struct {
	svc *iot.Service
	out io.Writer
}

func (p mqttProvisioning) CreateCertificate(csrPEM string) (mqtt.ProvisionedCertificate, error) {
	c, err := p.svc.CreateClaimedCertificate(csrPEM)
	if err != nil {
		return mqtt.ProvisionedCertificate{}, provisioningError(err)
	}
	return mqtt.ProvisionedCertificate{CertificateID: c.ID, CertificatePem: c.PEM, PrivateKey: c.PrivateKey, OwnershipToken: c.OwnershipToken}, nil
}

func (p mqttProvisioning) RegisterThing(template, token string, params map[string]string) (string, map[string]string, error) {
	thing, config, err := p.svc.RegisterThing(template, token, params)
	if err != nil {
		if p.out != nil {
			fmt.Fprintf(p.out, "otactl local: fleet provisioning with template %s refused: %v\n", template, err)
		}
		return "", nil, provisioningError(err)
	}
	if p.out != nil {
		fmt.Fprintf(p.out, "otactl local: fleet provisioning with template %s: thing %q provisioned\n", template, thing)
	}
	return thing, config, nil
}

// provisioningError turns the registry's refusals into the MQTT API's
// rejected answer; anything else stays an internal failure.
func provisioningError(err error) error {
	var pe *iot.ProvisioningError
	if errors.As(err, &pe) {
		return &mqtt.ProvisioningError{StatusCode: pe.StatusCode, Code: pe.Code, Message: pe.Message}
	}
	var we *wire.Error
	if errors.As(err, &we) && we.Status < 500 {
		return &mqtt.ProvisioningError{StatusCode: we.Status, Code: we.Code, Message: we.Message}
	}
	return err
}
