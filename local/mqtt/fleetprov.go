package mqtt

import (
	"encoding/json"
	"errors"
	"strings"

	"github.com/fxamacker/cbor/v2"
	mochi "github.com/mochi-mqtt/server/v2"

	"github.com/otactl/otactl/local/policy"
)

// The device provisioning MQTT API (fleet provisioning by claim):
//
//	$aws/certificates/create/{json|cbor}                      CreateKeysAndCertificate
//	$aws/certificates/create-from-csr/{json|cbor}             CreateCertificateFromCsr
//	$aws/provisioning-templates/{name}/provision/{json|cbor}  RegisterThing
//
// each answered on its topic + /accepted or /rejected, in the request's
// format, to the requester only (the answer to CreateKeysAndCertificate
// carries a private key). The policy hook has already allowed the PUBLISH
// (the claim certificate's policy); what the requests do is the registry's
// (Deps.Provisioning).

// Provisioning serves the device provisioning MQTT API.
type Provisioning interface {
	// CreateCertificate makes a PENDING_ACTIVATION certificate from the
	// CSR, or with a new key pair when csrPEM is "", and its ownership
	// token.
	CreateCertificate(csrPEM string) (ProvisionedCertificate, error)
	// RegisterThing runs a fleet provisioning template for the token's
	// certificate with the device's parameters.
	RegisterThing(template, token string, params map[string]string) (thing string, deviceConfig map[string]string, err error)
}

// ProvisionedCertificate is a certificate made over MQTT.
type ProvisionedCertificate struct {
	CertificateID  string `json:"certificateId"`
	CertificatePem string `json:"certificatePem"`
	PrivateKey     string `json:"privateKey,omitempty"`
	OwnershipToken string `json:"certificateOwnershipToken"`
}

// ProvisioningError is a refused request: the rejected answer's fields.
type ProvisioningError struct {
	StatusCode int    `json:"statusCode"`
	Code       string `json:"errorCode"`
	Message    string `json:"errorMessage"`
}

func (e *ProvisioningError) Error() string { return e.Code + ": " + e.Message }

const (
	certificatesPrefix = "$aws/certificates/"
	templatesPrefix    = "$aws/provisioning-templates/"
)

// provisioningRequest parses a request topic: the operation ("create",
// "create-from-csr", "provision"), the template (provision only) and the
// payload format.
func provisioningRequest(topic string) (op, template, format string, ok bool) {
	switch {
	case strings.HasPrefix(topic, certificatesPrefix):
		parts := strings.Split(topic[len(certificatesPrefix):], "/")
		if len(parts) != 2 || (parts[0] != "create" && parts[0] != "create-from-csr") {
			return "", "", "", false
		}
		op, format = parts[0], parts[1]
	case strings.HasPrefix(topic, templatesPrefix):
		parts := strings.Split(topic[len(templatesPrefix):], "/")
		if len(parts) != 3 || parts[0] == "" || parts[1] != "provision" {
			return "", "", "", false
		}
		op, template, format = "provision", parts[0], parts[2]
	default:
		return "", "", "", false
	}
	return op, template, format, format == "json" || format == "cbor"
}

// serveProvisioning answers a provisioning request; false when topic is
// not one (an answer topic, say), which is then relayed as any message.
func (b *Broker) serveProvisioning(cl *mochi.Client, topic string, payload []byte) bool {
	op, template, format, ok := provisioningRequest(topic)
	if !ok {
		return false
	}
	decode := func(v any) error {
		if len(payload) == 0 {
			return nil
		}
		if format == "cbor" {
			return cbor.Unmarshal(payload, v)
		}
		return json.Unmarshal(payload, v)
	}
	answer := func(v any, err error) {
		suffix := "/accepted"
		if err != nil {
			var pe *ProvisioningError
			if !errors.As(err, &pe) {
				b.log.Error("mqtt: provisioning request failed", "topic", topic, "error", err)
				pe = &ProvisioningError{StatusCode: 500, Code: "InternalFailure", Message: "otactl local could not serve the request"}
			}
			v, suffix = pe, "/rejected"
		}
		// The answer is a delivery like any other: the claim certificate's
		// policy must allow iot:Receive on it (AWS's fleet provisioning
		// policies grant it), or the device never hears back.
		if c := b.conns.get(cl); c == nil || !b.allowed(c, policy.ActionReceive, "topic", topic+suffix) {
			b.log.Info("mqtt: provisioning answer not delivered: iot:Receive is not allowed", "client", cl.ID, "topic", topic+suffix)
			return
		}
		var out []byte
		if format == "cbor" {
			out, _ = cbor.Marshal(v)
		} else {
			out = mustJSON(v)
		}
		b.reply(cl, topic+suffix, out)
	}
	// The Jobs API's request budget per client applies here too: a claim
	// certificate is shared by a whole fleet, and each CreateKeysAndCertificate
	// makes an RSA key.
	if !b.limits.allow(cl.ID) {
		answer(nil, &ProvisioningError{StatusCode: 429, Code: "Throttled", Message: "rate of provisioning requests exceeded"})
		return true
	}
	if b.deps.Provisioning == nil {
		answer(nil, &ProvisioningError{StatusCode: 503, Code: "ServiceUnavailable", Message: "fleet provisioning is not served here"})
		return true
	}
	switch op {
	case "create":
		c, err := b.deps.Provisioning.CreateCertificate("")
		answer(c, err)
	case "create-from-csr":
		var in struct {
			CSR string `json:"certificateSigningRequest"`
		}
		if err := decode(&in); err != nil || in.CSR == "" {
			answer(nil, &ProvisioningError{StatusCode: 400, Code: "InvalidPayload", Message: "the payload must carry certificateSigningRequest (a PEM CSR)"})
			return true
		}
		c, err := b.deps.Provisioning.CreateCertificate(in.CSR)
		c.PrivateKey = ""
		answer(c, err)
	case "provision":
		var in struct {
			Token      string            `json:"certificateOwnershipToken"`
			Parameters map[string]string `json:"parameters"`
		}
		if err := decode(&in); err != nil || in.Token == "" {
			answer(nil, &ProvisioningError{StatusCode: 400, Code: "InvalidPayload", Message: "the payload must carry certificateOwnershipToken and may carry parameters (strings)"})
			return true
		}
		thing, config, err := b.deps.Provisioning.RegisterThing(template, in.Token, in.Parameters)
		if config == nil {
			config = map[string]string{}
		}
		answer(struct {
			DeviceConfiguration map[string]string `json:"deviceConfiguration"`
			ThingName           string            `json:"thingName"`
		}{config, thing}, err)
	}
	return true
}
