package local_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"

	"github.com/otactl/otactl/internal/mqttwire"
	"github.com/otactl/otactl/internal/testtool"
)

// claimPolicy is the claim certificate's policy in the shape AWS's fleet
// provisioning guide gives it: connect, and the provisioning topics of one
// template, nothing else.
const claimPolicy = `{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":"iot:Connect","Resource":"*"},
 {"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":[
   "arn:aws:iot:us-east-1:000000000000:topic/$aws/certificates/create/*",
   "arn:aws:iot:us-east-1:000000000000:topic/$aws/certificates/create-from-csr/*",
   "arn:aws:iot:us-east-1:000000000000:topic/$aws/provisioning-templates/claim-fleet/provision/*"]},
 {"Effect":"Allow","Action":"iot:Subscribe","Resource":[
   "arn:aws:iot:us-east-1:000000000000:topicfilter/$aws/certificates/create/*",
   "arn:aws:iot:us-east-1:000000000000:topicfilter/$aws/certificates/create-from-csr/*",
   "arn:aws:iot:us-east-1:000000000000:topicfilter/$aws/provisioning-templates/claim-fleet/provision/*"]}]}`

const fleetTemplate = `{
  "Parameters": {"SerialNumber": {"Type": "String"}, "AWS::IoT::Certificate::Id": {"Type": "String"}},
  "Resources": {
    "thing": {"Type": "AWS::IoT::Thing", "Properties": {
      "ThingName": {"Fn::Join": ["", ["sensor-", {"Ref": "SerialNumber"}]]},
      "AttributePayload": {"serial": {"Ref": "SerialNumber"}}, "ThingGroups": ["claimed"]}},
    "certificate": {"Type": "AWS::IoT::Certificate", "Properties": {"CertificateId": {"Ref": "AWS::IoT::Certificate::Id"}, "Status": "ACTIVE"}},
    "policy": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyName": "device"}}
  },
  "DeviceConfiguration": {"telemetryTopic": {"Fn::Sub": "fleet/${SerialNumber}/telemetry"}}
}`

// TestFleetProvisioningByClaim: a device with the shared claim certificate
// asks mosquitto_rr-style for its own certificate and key
// ($aws/certificates/create/json), registers itself with the template
// ($aws/provisioning-templates/claim-fleet/provision/json, its serial as
// parameter), and then connects with its new certificate as its new
// thing. A spent token is rejected; a CSR gets a certificate for the
// device's own key (the project's MQTT client, CBOR as well as JSON).
func TestFleetProvisioningByClaim(t *testing.T) {
	rr := testtool.Require(t, "mosquitto_rr", "apt-get install mosquitto-clients")
	a := startAutoReg(t)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(a.iot.CreateThingGroup(ctx, &sdkiot.CreateThingGroupInput{ThingGroupName: aws.String("claimed")}))
	must(a.iot.CreatePolicy(ctx, &sdkiot.CreatePolicyInput{PolicyName: aws.String("device"), PolicyDocument: aws.String(thingTopicsPolicy)}))
	must(a.iot.CreatePolicy(ctx, &sdkiot.CreatePolicyInput{PolicyName: aws.String("claim"), PolicyDocument: aws.String(claimPolicy)}))
	must(a.iot.CreateProvisioningTemplate(ctx, &sdkiot.CreateProvisioningTemplateInput{TemplateName: aws.String("claim-fleet"),
		TemplateBody: aws.String(fleetTemplate), ProvisioningRoleArn: aws.String("arn:aws:iam::000000000000:role/provisioning"), Enabled: aws.Bool(true)}))
	claim, err := a.iot.CreateKeysAndCertificate(ctx, &sdkiot.CreateKeysAndCertificateInput{SetAsActive: true})
	if err != nil {
		t.Fatal(err)
	}
	must(a.iot.AttachPolicy(ctx, &sdkiot.AttachPolicyInput{PolicyName: aws.String("claim"), Target: claim.CertificateArn}))
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "claim.crt"), []byte(*claim.CertificatePem), 0o600)
	os.WriteFile(filepath.Join(dir, "claim.key"), []byte(*claim.KeyPair.PrivateKey), 0o600)
	_, port, _ := strings.Cut(a.b.TLSAddr(), ":")
	request := func(topic, answer, payload string) (string, error) {
		t.Helper()
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		args := []string{"-h", "localhost", "-p", port, "-V", "mqttv311", "-i", "claim-1", "-W", "10",
			"--cafile", a.caFile, "--cert", filepath.Join(dir, "claim.crt"), "--key", filepath.Join(dir, "claim.key"),
			"-t", topic, "-e", answer}
		if payload == "" {
			args = append(args, "-n")
		} else {
			args = append(args, "-m", payload)
		}
		out, err := exec.CommandContext(cctx, rr, args...).CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}

	out, err := request("$aws/certificates/create/json", "$aws/certificates/create/json/accepted", "")
	if err != nil {
		t.Fatalf("CreateKeysAndCertificate: %v %s", err, out)
	}
	var created struct{ CertificateID, CertificatePem, PrivateKey, CertificateOwnershipToken string }
	if err := json.Unmarshal([]byte(out), &created); err != nil || created.PrivateKey == "" || created.CertificateOwnershipToken == "" {
		t.Fatalf("created: %v %s", err, out)
	}
	d, err := a.iot.DescribeCertificate(ctx, &sdkiot.DescribeCertificateInput{CertificateId: aws.String(created.CertificateID)})
	if err != nil || d.CertificateDescription.Status != "PENDING_ACTIVATION" {
		t.Fatalf("new certificate: %+v %v", d, err)
	}

	reg := `{"certificateOwnershipToken":"` + created.CertificateOwnershipToken + `","parameters":{"SerialNumber":"0042"}}`
	out, err = request("$aws/provisioning-templates/claim-fleet/provision/json", "$aws/provisioning-templates/claim-fleet/provision/json/accepted", reg)
	if err != nil || out != `{"deviceConfiguration":{"telemetryTopic":"fleet/0042/telemetry"},"thingName":"sensor-0042"}` {
		t.Fatalf("RegisterThing: %v %s", err, out)
	}
	// The token is spent.
	out, err = request("$aws/provisioning-templates/claim-fleet/provision/json", "$aws/provisioning-templates/claim-fleet/provision/json/rejected", reg)
	if err != nil || !strings.Contains(out, `"errorCode":"InvalidCertificateOwnershipToken"`) || !strings.Contains(out, `"statusCode":400`) {
		t.Fatalf("a spent token: %v %s", err, out)
	}
	// The device now connects as its thing with its own certificate.
	pair, err := tls.X509KeyPair([]byte(created.CertificatePem), []byte(created.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	wireAsk(t, a.b.TLSAddr(), "sensor-0042", &tls.Config{RootCAs: a.roots, ServerName: "localhost", Certificates: []tls.Certificate{pair}})
	th, err := a.iot.DescribeThing(ctx, &sdkiot.DescribeThingInput{ThingName: aws.String("sensor-0042")})
	if err != nil || th.Attributes["serial"] != "0042" {
		t.Fatalf("thing: %+v %v", th, err)
	}

	// CreateCertificateFromCsr with the project's MQTT client, over a
	// connection with the claim certificate; JSON, then CBOR.
	claimPair, err := tls.X509KeyPair([]byte(*claim.CertificatePem), []byte(*claim.KeyPair.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan [2]string, 4)
	nc, err := tls.Dial("tcp", a.b.TLSAddr(), &tls.Config{RootCAs: a.roots, ServerName: "localhost", Certificates: []tls.Certificate{claimPair}})
	if err != nil {
		t.Fatal(err)
	}
	c, err := mqttwire.Connect(nc, "claim-2", 0, 20*time.Second, func(topic string, p []byte) { got <- [2]string{topic, string(p)} })
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	csrDER, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "csr-device"}}, key)
	csr := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csrDER}))
	body, _ := json.Marshal(map[string]string{"certificateSigningRequest": csr})
	if err := c.Publish(20*time.Second, "$aws/certificates/create-from-csr/json", 1, body); err != nil {
		t.Fatal(err)
	}
	select {
	case m := <-got:
		var fromCSR struct{ CertificatePem, PrivateKey, CertificateOwnershipToken string }
		if m[0] != "$aws/certificates/create-from-csr/json/accepted" || json.Unmarshal([]byte(m[1]), &fromCSR) != nil ||
			fromCSR.PrivateKey != "" || fromCSR.CertificateOwnershipToken == "" {
			t.Fatalf("from CSR: %s %s", m[0], m[1])
		}
		blk, _ := pem.Decode([]byte(fromCSR.CertificatePem))
		cert, err := x509.ParseCertificate(blk.Bytes)
		if err != nil || !cert.PublicKey.(*ecdsa.PublicKey).Equal(&key.PublicKey) {
			t.Fatalf("the certificate is not for the CSR's key: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no answer to create-from-csr")
	}
	if err := c.Publish(20*time.Second, "$aws/certificates/create-from-csr/cbor", 1, []byte{0xa0}); err != nil { // an empty CBOR map
		t.Fatal(err)
	}
	select {
	case m := <-got:
		if m[0] != "$aws/certificates/create-from-csr/cbor/rejected" || !strings.Contains(m[1], "InvalidPayload") {
			t.Fatalf("CBOR without a CSR: %s %q", m[0], m[1])
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no answer to the CBOR request")
	}
	if _, err := a.iot.DescribeCertificate(ctx, &sdkiot.DescribeCertificateInput{CertificateId: aws.String(created.CertificateID)}); err != nil {
		t.Fatal(err)
	}
}
