package mqtt_test

import (
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/fxamacker/cbor/v2"

	"github.com/otactl/otactl/local/mqtt"
)

// fakeProvisioning answers the device provisioning API with fixed values
// and counts the certificates it made.
type fakeProvisioning struct{ made atomic.Int32 }

func (f *fakeProvisioning) CreateCertificate(csr string) (mqtt.ProvisionedCertificate, error) {
	f.made.Add(1)
	c := mqtt.ProvisionedCertificate{CertificateID: "c1", CertificatePem: "PEM", OwnershipToken: "tok"}
	if csr == "" {
		c.PrivateKey = "KEY"
	}
	return c, nil
}

func (f *fakeProvisioning) RegisterThing(template, token string, params map[string]string) (string, map[string]string, error) {
	if token != "tok" {
		return "", nil, &mqtt.ProvisioningError{StatusCode: 400, Code: "InvalidCertificateOwnershipToken", Message: "no"}
	}
	return "dev-" + params["Serial"], map[string]string{"template": template}, nil
}

// TestProvisioningTopics: requests are answered on accepted/rejected in
// their own format (JSON or CBOR) to the requester; the request budget
// throttles a client that asks too fast; answers need iot:Receive.
func TestProvisioningTopics(t *testing.T) {
	e := newEnv(t, mqtt.Config{PlainPolicy: "claim", JobsRate: 0.001, JobsBurst: 4})
	fp := &fakeProvisioning{}
	e.deps.Provisioning = fp
	e.restart()
	e.pols.name("claim", doc(allow(`"iot:Connect"`, `"*"`), allow(`"iot:Subscribe"`, `"*"`),
		allow(`"iot:Publish"`, `"*"`), allow(`"iot:Receive"`, `"`+arn+`topic/$aws/certificates/create/*"`),
		allow(`"iot:Receive"`, `"`+arn+`topic/$aws/provisioning-templates/fleet/provision/*"`)))
	d := connect(t, e, "claim-1")

	d.pub("$aws/certificates/create/json", nil)
	var c mqtt.ProvisionedCertificate
	if err := json.Unmarshal(d.next("$aws/certificates/create/json/accepted"), &c); err != nil || c.PrivateKey != "KEY" || c.OwnershipToken != "tok" {
		t.Fatalf("create: %+v %v", c, err)
	}
	req, _ := cbor.Marshal(map[string]any{"certificateOwnershipToken": "tok", "parameters": map[string]string{"Serial": "7"}})
	d.pub("$aws/provisioning-templates/fleet/provision/cbor", req)
	var reg struct {
		ThingName           string            `cbor:"thingName"`
		DeviceConfiguration map[string]string `cbor:"deviceConfiguration"`
	}
	if err := cbor.Unmarshal(d.next("$aws/provisioning-templates/fleet/provision/cbor/accepted"), &reg); err != nil || reg.ThingName != "dev-7" || reg.DeviceConfiguration["template"] != "fleet" {
		t.Fatalf("register (CBOR): %+v %v", reg, err)
	}
	d.pubJSON("$aws/provisioning-templates/fleet/provision/json", map[string]any{"certificateOwnershipToken": "forged"})
	if got := string(d.next("$aws/provisioning-templates/fleet/provision/json/rejected")); !strings.Contains(got, `"errorCode":"InvalidCertificateOwnershipToken"`) {
		t.Fatalf("rejected: %s", got)
	}
	// The fourth request spends the burst; the fifth is throttled.
	d.pub("$aws/certificates/create/json", nil)
	d.next("$aws/certificates/create/json/accepted")
	d.pub("$aws/certificates/create/json", nil)
	if got := string(d.next("$aws/certificates/create/json/rejected")); !strings.Contains(got, `"statusCode":429`) {
		t.Fatalf("throttled: %s", got)
	}
	if n := fp.made.Load(); n != 2 {
		t.Errorf("certificates made: %d, want 2 (none for a throttled request)", n)
	}
	// No iot:Receive on create-from-csr's answers: nothing comes back, and
	// the next answer the client may receive is the next message it gets.
	e2 := newEnv(t, mqtt.Config{PlainPolicy: "claim"})
	e2.deps.Provisioning = fp
	e2.restart()
	e2.pols.name("claim", doc(allow(`"iot:Connect"`, `"*"`), allow(`"iot:Subscribe"`, `"*"`),
		allow(`"iot:Publish"`, `"*"`), allow(`"iot:Receive"`, `"`+arn+`topic/$aws/certificates/create/*"`)))
	d2 := connect(t, e2, "claim-2")
	d2.pubJSON("$aws/certificates/create-from-csr/json", map[string]string{"certificateSigningRequest": "CSR"})
	d2.pub("$aws/certificates/create/json", nil)
	d2.next("$aws/certificates/create/json/accepted")
}
