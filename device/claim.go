package device

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/otactl/otactl/internal/mqttwire"
)

// Fleet provisioning by claim, the device side: a device connects with the
// claim certificate its whole fleet shares, makes its own key, has AWS IoT
// sign a certificate for it (CreateCertificateFromCsr over MQTT), and
// registers itself with a provisioning template (RegisterThing), as the
// AWS IoT Device SDKs' fleet provisioning samples do.

// Claim says how devices provision themselves by claim.
type Claim struct {
	Endpoint string      // host:port of the MQTT broker
	TLS      *tls.Config // the claim certificate and the broker's roots
	Template string      // the FLEET_PROVISIONING template
	CertDir  string      // each device's certificate and key go here
	// Parameters are the template parameters of a device; nil: ThingName
	// and SerialNumber, both the device's name.
	Parameters func(thing string) map[string]string
	Timeout    time.Duration // per answer; 0: 20 s
}

// ProvisionByClaim provisions every thing that has no certificate in
// c.CertDir, 8 at a time, and returns how many it provisioned. A template
// that names a device's thing otherwise than the device is an error (the
// fleet runs devices under their names).
func ProvisionByClaim(ctx context.Context, c Claim, things []string) (int, error) {
	if err := os.MkdirAll(c.CertDir, 0o700); err != nil {
		return 0, err
	}
	var missing []string
	for _, th := range things {
		if crt, _ := CertPaths(c.CertDir, th); !exists(crt) {
			missing = append(missing, th)
		}
	}
	_, err := each(missing, func(th string) (string, error) { return "", provisionOne(ctx, c, th) })
	return len(missing), err
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// provisionOne runs the two requests of one device over one connection.
func provisionOne(ctx context.Context, c Claim, thing string) error {
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 20 * time.Second
	}
	d := tls.Dialer{NetDialer: &net.Dialer{Timeout: timeout}, Config: c.TLS}
	nc, err := d.DialContext(ctx, "tcp", c.Endpoint)
	if err != nil {
		return fmt.Errorf("%s: connect with the claim certificate: %w", thing, err)
	}
	answers := make(chan [2]string, 4)
	mc, err := mqttwire.Connect(nc, thing, 0, timeout, func(topic string, payload []byte) { answers <- [2]string{topic, string(payload)} })
	if err != nil {
		nc.Close()
		return fmt.Errorf("%s: connect with the claim certificate: %w", thing, err)
	}
	defer mc.Disconnect()
	// Subscribe to the answers before asking, as AWS's API requires.
	csrTopic := "$aws/certificates/create-from-csr/json"
	regTopic := "$aws/provisioning-templates/" + c.Template + "/provision/json"
	if _, err := mc.Subscribe(timeout, 1, csrTopic+"/accepted", csrTopic+"/rejected", regTopic+"/accepted", regTopic+"/rejected"); err != nil {
		return fmt.Errorf("%s: subscribe to the provisioning answers: %w", thing, err)
	}
	ask := func(topic string, req any, out any) error {
		body, _ := json.Marshal(req)
		if err := mc.Publish(timeout, topic, 1, body); err != nil {
			return err
		}
		select {
		case a := <-answers:
			switch a[0] {
			case topic + "/accepted":
				return json.Unmarshal([]byte(a[1]), out)
			case topic + "/rejected":
				var e struct {
					StatusCode int    `json:"statusCode"`
					Code       string `json:"errorCode"`
					Message    string `json:"errorMessage"`
				}
				json.Unmarshal([]byte(a[1]), &e)
				return fmt.Errorf("rejected: %s (%d): %s", e.Code, e.StatusCode, e.Message)
			}
			return fmt.Errorf("answer on %s", a[0])
		case <-mc.Done():
			return fmt.Errorf("disconnected: %v", mc.Err())
		case <-time.After(timeout):
			return errors.New("no answer (does the claim policy allow iot:Receive on the answer topics?)")
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	csr, keyPEM, err := newCSR(thing)
	if err != nil {
		return err
	}
	var cert struct {
		CertificateID  string `json:"certificateId"`
		CertificatePem string `json:"certificatePem"`
		Token          string `json:"certificateOwnershipToken"`
	}
	if err := ask(csrTopic, map[string]string{"certificateSigningRequest": csr}, &cert); err != nil {
		return fmt.Errorf("%s: CreateCertificateFromCsr: %w", thing, err)
	}
	params := map[string]string{"ThingName": thing, "SerialNumber": thing}
	if c.Parameters != nil {
		params = c.Parameters(thing)
	}
	var reg struct {
		ThingName string `json:"thingName"`
	}
	if err := ask(regTopic, map[string]any{"certificateOwnershipToken": cert.Token, "parameters": params}, &reg); err != nil {
		return fmt.Errorf("%s: RegisterThing with template %s: %w", thing, c.Template, err)
	}
	if reg.ThingName != thing {
		return fmt.Errorf("%s: template %s provisioned thing %q; the fleet runs each device as the thing of its name (give the template a ThingName parameter)", thing, c.Template, reg.ThingName)
	}
	crt, key := CertPaths(c.CertDir, thing)
	if err := os.WriteFile(key, keyPEM, 0o600); err != nil {
		return err
	}
	return os.WriteFile(crt, []byte(cert.CertificatePem), 0o644)
}
