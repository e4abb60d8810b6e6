package iot_test

import (
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/otactl/otactl/local/iot"
)

func issueDER(t testing.TB, ca *testCA, subject pkix.Name, notAfter time.Time) []byte {
	t.Helper()
	key := ecKey(t, elliptic.P256())
	tmpl := &x509.Certificate{SerialNumber: serial(), Subject: subject, NotBefore: time.Now().Add(-time.Hour), NotAfter: notAfter,
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// registerAutoCA registers ca ACTIVE in SNI_ONLY mode with auto-registration
// enabled and, when template is set, a JITP template.
func (f *fixture) registerAutoCA(t testing.TB, ca *testCA, template string) string {
	t.Helper()
	in := &sdkiot.RegisterCACertificateInput{CaCertificate: aws.String(ca.pem), CertificateMode: types.CertificateModeSniOnly,
		SetAsActive: true, AllowAutoRegistration: true}
	if template != "" {
		in.RegistrationConfig = &types.RegistrationConfig{TemplateBody: aws.String(template), RoleArn: aws.String("arn:aws:iam::000000000000:role/JITPRole")}
	}
	return *must(f.client.RegisterCACertificate(ctx, in)).CertificateId
}

// TestJITR: a device certificate from a CA with auto-registration is
// registered PENDING_ACTIVATION at its first connection, with the event
// message; again while it stays pending; not once activated. CAs without
// auto-registration, inactive ones and expired certificates register
// nothing.
func TestJITR(t *testing.T) {
	f := start(t)
	ca := newTestCA(t, "maker CA")
	caID := f.registerAutoCA(t, ca, "")
	der := issueDER(t, ca, pkix.Name{CommonName: "dev-1"}, time.Now().AddDate(1, 0, 0))

	reg, err := f.svc.AutoRegister([][]byte{der, ca.cert.Raw})
	if err != nil {
		t.Fatal(err)
	}
	if reg.Status != "PENDING_ACTIVATION" || reg.CAID != caID || reg.Topic != iot.RegisteredTopicPrefix+caID || reg.Provisioned {
		t.Fatalf("registration: %+v", reg)
	}
	var ev map[string]any
	if err := json.Unmarshal(reg.Payload, &ev); err != nil {
		t.Fatal(err)
	}
	if ev["certificateId"] != reg.CertificateID || ev["caCertificateId"] != caID || ev["certificateStatus"] != "PENDING_ACTIVATION" ||
		ev["awsAccountId"] != env.AccountID || ev["timestamp"] == nil || ev["certificateRegistrationTimestamp"] == nil {
		t.Errorf("event: %s", reg.Payload)
	}
	d := must(f.client.DescribeCertificate(ctx, &sdkiot.DescribeCertificateInput{CertificateId: aws.String(reg.CertificateID)})).CertificateDescription
	if d.Status != "PENDING_ACTIVATION" || *d.CaCertificateId != caID {
		t.Errorf("described: %s %v", d.Status, d.CaCertificateId)
	}
	if f.svc.CertificateActive(reg.CertificateID) {
		t.Error("a PENDING_ACTIVATION certificate connects")
	}
	// Without the CA in the chain: found by its issuer.
	again, err := f.svc.AutoRegister([][]byte{der})
	if err != nil || again.Topic == "" || again.CertificateID != reg.CertificateID {
		t.Errorf("second attempt while pending: %+v %v", again, err)
	}
	// The listener activates it: no more events, and it connects.
	must(f.client.UpdateCertificate(ctx, &sdkiot.UpdateCertificateInput{CertificateId: aws.String(reg.CertificateID), NewStatus: types.CertificateStatusActive}))
	if after, err := f.svc.AutoRegister([][]byte{der}); err != nil || after.Topic != "" || after.Status != "ACTIVE" {
		t.Errorf("after activation: %+v %v", after, err)
	}

	// Not auto-registrable: expired, unknown CA, auto-registration off.
	expired := issueDER(t, ca, pkix.Name{CommonName: "old"}, time.Now().Add(-time.Minute))
	if _, err := f.svc.AutoRegister([][]byte{expired}); err == nil || !strings.Contains(err.Error(), "not valid now") {
		t.Errorf("expired: %v", err)
	}
	stranger := newTestCA(t, "someone else")
	if _, err := f.svc.AutoRegister([][]byte{issueDER(t, stranger, pkix.Name{CommonName: "x"}, time.Now().Add(time.Hour))}); !errors.Is(err, iot.ErrNotAutoRegistrable) {
		t.Errorf("unknown CA: %v", err)
	}
	must(f.client.UpdateCACertificate(ctx, &sdkiot.UpdateCACertificateInput{CertificateId: aws.String(caID), NewAutoRegistrationStatus: types.AutoRegistrationStatusDisable}))
	if _, err := f.svc.AutoRegister([][]byte{issueDER(t, ca, pkix.Name{CommonName: "dev-2"}, time.Now().Add(time.Hour))}); !errors.Is(err, iot.ErrNotAutoRegistrable) {
		t.Errorf("auto-registration disabled: %v", err)
	}
}

const jitpTemplate = `{
  "Parameters": {
    "AWS::IoT::Certificate::CommonName": {"Type": "String"},
    "AWS::IoT::Certificate::Country": {"Type": "String"},
    "AWS::IoT::Certificate::Id": {"Type": "String"}
  },
  "Resources": {
    "thing": {
      "Type": "AWS::IoT::Thing",
      "Properties": {
        "ThingName": {"Ref": "AWS::IoT::Certificate::CommonName"},
        "AttributePayload": {"maker": "acme"},
        "ThingGroups": ["fleet", {"Fn::Join": ["-", ["country", {"Ref": "AWS::IoT::Certificate::Country"}]]}]
      },
      "OverrideSettings": {"AttributePayload": "MERGE", "ThingGroups": "MERGE"}
    },
    "certificate": {
      "Type": "AWS::IoT::Certificate",
      "Properties": {"CertificateId": {"Ref": "AWS::IoT::Certificate::Id"}, "Status": "ACTIVE"}
    },
    "policy": {
      "Type": "AWS::IoT::Policy",
      "Properties": {"PolicyDocument": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"arn:aws:iot:us-east-1:000000000000:client/${iot:Connection.Thing.ThingName}\"}]}"}
    }
  }
}`

// TestJITP: the CA's template provisions the device at its first
// connection: the thing (from the subject), its groups, the policy
// attached to the certificate, the certificate attached to the thing and
// ACTIVE. A template that cannot run (a missing group, a subject without
// the country it needs) leaves nothing behind, so that the next
// connection tries again; an existing thing is merged into.
func TestJITP(t *testing.T) {
	f := start(t)
	ca := newTestCA(t, "maker CA")
	f.registerAutoCA(t, ca, jitpTemplate)
	must(f.client.CreateThingGroup(ctx, &sdkiot.CreateThingGroupInput{ThingGroupName: aws.String("fleet")}))
	der := issueDER(t, ca, pkix.Name{CommonName: "dev-1", Country: []string{"DE"}}, time.Now().AddDate(1, 0, 0))

	// country-DE does not exist yet: nothing stays.
	if _, err := f.svc.AutoRegister([][]byte{der}); err == nil || !strings.Contains(err.Error(), "country-DE") {
		t.Fatalf("missing group: %v", err)
	}
	if _, err := f.client.DescribeThing(ctx, &sdkiot.DescribeThingInput{ThingName: aws.String("dev-1")}); err == nil {
		t.Error("a failed provisioning left the thing")
	}
	if certs := must(f.client.ListCertificates(ctx, &sdkiot.ListCertificatesInput{})).Certificates; len(certs) != 0 {
		t.Errorf("a failed provisioning left certificates: %+v", certs)
	}
	if ps := must(f.client.ListPolicies(ctx, &sdkiot.ListPoliciesInput{})).Policies; len(ps) != 0 {
		t.Errorf("a failed provisioning left policies: %+v", ps)
	}
	// A subject without the country cannot be provisioned by this template.
	noCountry := issueDER(t, ca, pkix.Name{CommonName: "dev-9"}, time.Now().AddDate(1, 0, 0))
	if _, err := f.svc.AutoRegister([][]byte{noCountry}); err == nil || !strings.Contains(err.Error(), "AWS::IoT::Certificate::Country") {
		t.Errorf("no country: %v", err)
	}

	must(f.client.CreateThingGroup(ctx, &sdkiot.CreateThingGroupInput{ThingGroupName: aws.String("country-DE")}))
	reg, err := f.svc.AutoRegister([][]byte{der, ca.cert.Raw})
	if err != nil {
		t.Fatal(err)
	}
	if !reg.Provisioned || reg.Status != "ACTIVE" || reg.ThingName != "dev-1" || reg.Topic != "" {
		t.Fatalf("provisioning: %+v", reg)
	}
	if !f.svc.CertificateActive(reg.CertificateID) || !f.svc.CertificateAttached(reg.CertificateID, "dev-1") {
		t.Error("the certificate is not ACTIVE and attached to dev-1")
	}
	th := must(f.client.DescribeThing(ctx, &sdkiot.DescribeThingInput{ThingName: aws.String("dev-1")}))
	if th.Attributes["maker"] != "acme" {
		t.Errorf("attributes: %v", th.Attributes)
	}
	groups := must(f.client.ListThingGroupsForThing(ctx, &sdkiot.ListThingGroupsForThingInput{ThingName: aws.String("dev-1")})).ThingGroups
	if len(groups) != 2 {
		t.Errorf("groups: %+v", groups)
	}
	certArn := env.ARN("iot", "cert/"+reg.CertificateID)
	pols := must(f.client.ListAttachedPolicies(ctx, &sdkiot.ListAttachedPoliciesInput{Target: aws.String(certArn)})).Policies
	if len(pols) != 1 || len(*pols[0].PolicyName) != 64 {
		t.Errorf("attached policies: %+v", pols)
	}

	// A second device of an existing thing name: attributes merged, the
	// thing's own kept.
	must(f.client.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String("dev-2"),
		AttributePayload: &types.AttributePayload{Attributes: map[string]string{"site": "hall-3"}}}))
	der2 := issueDER(t, ca, pkix.Name{CommonName: "dev-2", Country: []string{"DE"}}, time.Now().AddDate(1, 0, 0))
	if _, err := f.svc.AutoRegister([][]byte{der2}); err != nil {
		t.Fatal(err)
	}
	th2 := must(f.client.DescribeThing(ctx, &sdkiot.DescribeThingInput{ThingName: aws.String("dev-2")}))
	if th2.Attributes["site"] != "hall-3" || th2.Attributes["maker"] != "acme" {
		t.Errorf("merged attributes: %v", th2.Attributes)
	}
}
