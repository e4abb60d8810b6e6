package local

import (
	"errors"
	"fmt"
	"io"

	"github.com/otactl/otactl/local/iot"
	"github.com/otactl/otactl/local/mqtt"
)

// mqttAutoRegistrar is mqtt.AutoRegistrar over local/iot's AutoRegister:
// JITR and JITP of device certificates at their first handshake. What
// happened is said on Config.Diagnostics, where AWS would log it.
type mqttAutoRegistrar struct {
	svc *iot.Service
	out io.Writer
}

func (a mqttAutoRegistrar) AutoRegister(chain [][]byte) (mqtt.AutoRegistered, error) {
	r, err := a.svc.AutoRegister(chain)
	switch {
	case errors.Is(err, iot.ErrNotAutoRegistrable):
		return mqtt.AutoRegistered{}, err // a stranger's certificate: nothing to report
	case err != nil:
		a.say("otactl local: device certificate %s not provisioned: %v", mqtt.CertificateID(chain[0]), err)
		return mqtt.AutoRegistered{}, err
	case r.Provisioned:
		a.say("otactl local: JITP: certificate %s (CA %s) provisioned: thing %q, status %s; the device connects again", r.CertificateID, r.CAID, r.ThingName, r.Status)
	case r.Topic != "":
		a.say("otactl local: JITR: certificate %s (CA %s) is PENDING_ACTIVATION; event on %s", r.CertificateID, r.CAID, r.Topic)
	}
	return mqtt.AutoRegistered{Topic: r.Topic, Payload: r.Payload}, nil
}

func (a mqttAutoRegistrar) say(format string, args ...any) {
	if a.out != nil {
		fmt.Fprintf(a.out, format+"\n", args...)
	}
}
