package local_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
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
	iottypes "github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/otactl/otactl/device"
	"github.com/otactl/otactl/internal/testtool"
	"github.com/otactl/otactl/local"
	"github.com/otactl/otactl/local/localtest"
	"github.com/otactl/otactl/local/mqtt"
)

// thingTopicsPolicy is the least-privilege device policy otactl gives its
// own devices: connect as its thing, that thing's Jobs and stream topics.
var thingTopicsPolicy = device.ThingPolicy("arn:aws:iot:us-east-1:000000000000")

// autoRegEnv is otactl local with a mutual-TLS broker and its CA pool.
type autoRegEnv struct {
	e      *localtest.Env
	b      *mqtt.Broker
	iot    *sdkiot.Client
	roots  *x509.CertPool
	caFile string
	diag   *syncBuffer
}

// syncBuffer is an io.Writer tests read while the server writes.
type syncBuffer struct {
	mu  chan struct{}
	buf bytes.Buffer
}

func newSyncBuffer() *syncBuffer { return &syncBuffer{mu: make(chan struct{}, 1)} }

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu <- struct{}{}
	defer func() { <-s.mu }()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu <- struct{}{}
	defer func() { <-s.mu }()
	return s.buf.String()
}

func startAutoReg(t *testing.T) *autoRegEnv {
	t.Helper()
	diag := newSyncBuffer()
	e := localtest.StartWith(t, local.Config{Diagnostics: diag})
	b, err := e.Server.StartMQTT(mqtt.Config{TLSAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(e.Server.Config().DataDir, mqtt.CAFile)
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	return &autoRegEnv{e: e, b: b, iot: sdkiot.NewFromConfig(e.Config), roots: roots, caFile: caFile, diag: diag}
}

// registerMakerCA registers ca ACTIVE, SNI_ONLY, with auto-registration on
// and template (JITP) unless it is "" (JITR).
func (a *autoRegEnv) registerMakerCA(t *testing.T, ca *userCA, template string) string {
	t.Helper()
	in := &sdkiot.RegisterCACertificateInput{CaCertificate: aws.String(ca.pem), CertificateMode: iottypes.CertificateModeSniOnly,
		SetAsActive: true, AllowAutoRegistration: true}
	if template != "" {
		in.RegistrationConfig = &iottypes.RegistrationConfig{TemplateBody: aws.String(template), RoleArn: aws.String("arn:aws:iam::000000000000:role/JITP")}
	}
	out, err := a.iot.RegisterCACertificate(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return *out.CertificateId
}

// deviceTLS is a device's TLS configuration with its certificate and,
// after it, the maker CA's (the chain a JITR/JITP device sends).
func (a *autoRegEnv) deviceTLS(ca *userCA, certPEM string, key *ecdsa.PrivateKey) (*tls.Config, string) {
	blk, _ := pem.Decode([]byte(certPEM))
	sum := sha256.Sum256(blk.Bytes)
	return &tls.Config{RootCAs: a.roots, ServerName: "localhost",
		Certificates: []tls.Certificate{{Certificate: [][]byte{blk.Bytes, ca.cert.Raw}, PrivateKey: key}}}, hex.EncodeToString(sum[:])
}

// TestJITPOverMutualTLS: a device with a certificate from the maker's CA,
// unknown to otactl local, connects; the CA's provisioning template makes
// its thing (named after the certificate's common name), puts it in its
// group, attaches the template's policy and activates the certificate.
// The first connection is refused, as on AWS; the second one works and the
// device uses its Jobs topics.
func TestJITPOverMutualTLS(t *testing.T) {
	a := startAutoReg(t)
	if _, err := a.iot.CreateThingGroup(ctx, &sdkiot.CreateThingGroupInput{ThingGroupName: aws.String("factory-fleet")}); err != nil {
		t.Fatal(err)
	}
	policyDoc, _ := json.Marshal(thingTopicsPolicy)
	template := `{
	  "Parameters": {"AWS::IoT::Certificate::CommonName": {"Type": "String"}, "AWS::IoT::Certificate::Id": {"Type": "String"}},
	  "Resources": {
	    "thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": {"Ref": "AWS::IoT::Certificate::CommonName"},
	      "AttributePayload": {"provisionedBy": "jitp"}, "ThingGroups": ["factory-fleet"]}},
	    "certificate": {"Type": "AWS::IoT::Certificate", "Properties": {"CertificateId": {"Ref": "AWS::IoT::Certificate::Id"}, "Status": "ACTIVE"}},
	    "policy": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyDocument": ` + string(policyDoc) + `}}
	  }
	}`
	maker := newUserCA(t)
	caID := a.registerMakerCA(t, maker, template)
	certPEM, key := maker.issue(t, "jitp-dev-1")
	tc, certID := a.deviceTLS(maker, certPEM, key)

	if c, err := wireConnect(a.b.TLSAddr(), "jitp-dev-1", tc); err == nil {
		c.Disconnect()
		t.Fatal("the first connection of an unregistered certificate succeeded")
	}
	d, err := a.iot.DescribeCertificate(ctx, &sdkiot.DescribeCertificateInput{CertificateId: aws.String(certID)})
	if err != nil {
		t.Fatalf("not provisioned: %v\ndiagnostics: %s", err, a.diag.String())
	}
	if d.CertificateDescription.Status != iottypes.CertificateStatusActive || *d.CertificateDescription.CaCertificateId != caID {
		t.Errorf("certificate: %s, CA %v", d.CertificateDescription.Status, d.CertificateDescription.CaCertificateId)
	}
	th, err := a.iot.DescribeThing(ctx, &sdkiot.DescribeThingInput{ThingName: aws.String("jitp-dev-1")})
	if err != nil || th.Attributes["provisionedBy"] != "jitp" {
		t.Fatalf("thing: %+v %v", th, err)
	}
	if !strings.Contains(a.diag.String(), "JITP: certificate "+certID) {
		t.Errorf("diagnostics: %q", a.diag.String())
	}
	wireAsk(t, a.b.TLSAddr(), "jitp-dev-1", tc) // connects now, as its thing
}

// TestJITROverMutualTLS: the maker's CA has auto-registration but no
// template. A backend subscribed to $aws/events/certificates/registered/+
// (mosquitto_sub, with its own certificate and policy) gets the event when
// an unknown device certificate first connects; it does what AWS's
// guides have a Lambda do (activate the certificate, create the thing,
// attach both and a policy), and the device's next connection works.
func TestJITROverMutualTLS(t *testing.T) {
	sub := testtool.Require(t, "mosquitto_sub", "apt-get install mosquitto-clients")
	a := startAutoReg(t)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	maker := newUserCA(t)
	caID := a.registerMakerCA(t, maker, "")

	// The backend: its own certificate and a policy for the events topic.
	backend := `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:us-east-1:000000000000:client/jitr-backend"},
	 {"Effect":"Allow","Action":"iot:Subscribe","Resource":"arn:aws:iot:us-east-1:000000000000:topicfilter/$aws/events/certificates/registered/*"},
	 {"Effect":"Allow","Action":"iot:Receive","Resource":"arn:aws:iot:us-east-1:000000000000:topic/$aws/events/certificates/registered/*"}]}`
	must(a.iot.CreatePolicy(ctx, &sdkiot.CreatePolicyInput{PolicyName: aws.String("jitr-backend"), PolicyDocument: aws.String(backend)}))
	kc, err := a.iot.CreateKeysAndCertificate(ctx, &sdkiot.CreateKeysAndCertificateInput{SetAsActive: true})
	if err != nil {
		t.Fatal(err)
	}
	must(a.iot.AttachPolicy(ctx, &sdkiot.AttachPolicyInput{PolicyName: aws.String("jitr-backend"), Target: kc.CertificateArn}))
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "backend.crt"), []byte(*kc.CertificatePem), 0o600)
	os.WriteFile(filepath.Join(dir, "backend.key"), []byte(*kc.KeyPair.PrivateKey), 0o600)
	_, port, _ := strings.Cut(a.b.TLSAddr(), ":")
	cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(cctx, sub, "-h", "localhost", "-p", port, "-V", "mqttv311", "-i", "jitr-backend",
		"--cafile", a.caFile, "--cert", filepath.Join(dir, "backend.crt"), "--key", filepath.Join(dir, "backend.key"),
		"-C", "1", "-t", "$aws/events/certificates/registered/+")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); !a.b.Subscribed("jitr-backend", "$aws/events/certificates/registered/+"); {
		if time.Now().After(deadline) {
			t.Fatalf("the backend never subscribed: %s", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}

	certPEM, key := maker.issue(t, "jitr-dev-1")
	tc, certID := a.deviceTLS(maker, certPEM, key)
	if c, err := wireConnect(a.b.TLSAddr(), "jitr-dev-1", tc); err == nil {
		c.Disconnect()
		t.Fatal("a PENDING_ACTIVATION certificate connected")
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("mosquitto_sub: %v %s", err, out.String())
	}
	var ev struct {
		CertificateID, CaCertificateID, CertificateStatus, AwsAccountID string
		Timestamp                                                       int64
	}
	if err := json.Unmarshal(out.Bytes(), &ev); err != nil || ev.CertificateID != certID || ev.CaCertificateID != caID ||
		ev.CertificateStatus != "PENDING_ACTIVATION" || ev.AwsAccountID != "000000000000" || ev.Timestamp == 0 {
		t.Fatalf("event %q: %v", out.String(), err)
	}

	// What the Lambda of AWS's JITR guide does.
	arn := "arn:aws:iot:us-east-1:000000000000:cert/" + certID
	must(a.iot.UpdateCertificate(ctx, &sdkiot.UpdateCertificateInput{CertificateId: aws.String(certID), NewStatus: iottypes.CertificateStatusActive}))
	must(a.iot.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String("jitr-dev-1")}))
	must(a.iot.AttachThingPrincipal(ctx, &sdkiot.AttachThingPrincipalInput{ThingName: aws.String("jitr-dev-1"), Principal: aws.String(arn)}))
	must(a.iot.CreatePolicy(ctx, &sdkiot.CreatePolicyInput{PolicyName: aws.String("device"), PolicyDocument: aws.String(thingTopicsPolicy)}))
	must(a.iot.AttachPolicy(ctx, &sdkiot.AttachPolicyInput{PolicyName: aws.String("device"), Target: aws.String(arn)}))
	wireAsk(t, a.b.TLSAddr(), "jitr-dev-1", tc)
	if !strings.Contains(a.diag.String(), "JITR: certificate "+certID) {
		t.Errorf("diagnostics: %q", a.diag.String())
	}
}
