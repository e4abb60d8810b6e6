package iot_test

import (
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
)

// verificationPEM is the certificate that proves a CA's key: signed by
// it, with the Common Name cn (the registration code).
func (ca *testCA) verificationPEM(t testing.TB, cn string) string {
	t.Helper()
	p, _ := ca.issue(t, cn)
	return p
}

// registerCA registers ca in DEFAULT mode, ACTIVE.
func (f *fixture) registerCA(t testing.TB, ca *testCA) string {
	t.Helper()
	code := *must(f.client.GetRegistrationCode(ctx, &sdkiot.GetRegistrationCodeInput{})).RegistrationCode
	out := must(f.client.RegisterCACertificate(ctx, &sdkiot.RegisterCACertificateInput{
		CaCertificate: aws.String(ca.pem), VerificationCertificate: aws.String(ca.verificationPEM(t, code)), SetAsActive: true}))
	return *out.CertificateId
}

func TestRegisterCACertificate(t *testing.T) {
	f := start(t)
	cl := f.client
	code := *must(cl.GetRegistrationCode(ctx, &sdkiot.GetRegistrationCodeInput{})).RegistrationCode
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(code) {
		t.Fatalf("registration code %q is not 64 hex digits", code)
	}
	if again := *must(cl.GetRegistrationCode(ctx, &sdkiot.GetRegistrationCodeInput{})).RegistrationCode; again != code {
		t.Fatal("GetRegistrationCode changed")
	}

	ca := newTestCA(t, "Factory CA")
	other := newTestCA(t, "Someone else")
	reg := func(in sdkiot.RegisterCACertificateInput) (*sdkiot.RegisterCACertificateOutput, error) {
		return cl.RegisterCACertificate(ctx, &in)
	}
	refusals := []struct {
		name string
		in   sdkiot.RegisterCACertificateInput
		code string
	}{
		{"wrong registration code", sdkiot.RegisterCACertificateInput{CaCertificate: &ca.pem, VerificationCertificate: aws.String(ca.verificationPEM(t, strings.Repeat("0", 64)))}, "RegistrationCodeValidationException"},
		{"verification not signed by the CA", sdkiot.RegisterCACertificateInput{CaCertificate: &ca.pem, VerificationCertificate: aws.String(other.verificationPEM(t, code))}, "CertificateValidationException"},
		{"DEFAULT without verification", sdkiot.RegisterCACertificateInput{CaCertificate: &ca.pem}, "InvalidRequestException"},
		{"SNI_ONLY with verification", sdkiot.RegisterCACertificateInput{CaCertificate: &ca.pem, CertificateMode: types.CertificateModeSniOnly, VerificationCertificate: aws.String(ca.verificationPEM(t, code))}, "InvalidRequestException"},
		{"not PEM", sdkiot.RegisterCACertificateInput{CaCertificate: aws.String("garbage"), CertificateMode: types.CertificateModeSniOnly}, "CertificateValidationException"},
		{"not a CA", sdkiot.RegisterCACertificateInput{CaCertificate: aws.String(ca.verificationPEM(t, "leaf")), CertificateMode: types.CertificateModeSniOnly}, "CertificateValidationException"},
		{"bad mode", sdkiot.RegisterCACertificateInput{CaCertificate: &ca.pem, CertificateMode: "BOTH"}, "InvalidRequestException"},
	}
	for _, r := range refusals {
		_, err := reg(r.in)
		ae := wantCode(t, err, r.code)
		if ae.ErrorMessage() == "" {
			t.Errorf("%s: empty message", r.name)
		}
	}
	if l := must(cl.ListCACertificates(ctx, &sdkiot.ListCACertificatesInput{})); len(l.Certificates) != 0 {
		t.Fatalf("a refused registration stored %d CA certificates", len(l.Certificates))
	}

	out := must(reg(sdkiot.RegisterCACertificateInput{CaCertificate: &ca.pem, VerificationCertificate: aws.String(ca.verificationPEM(t, code)),
		SetAsActive: true, AllowAutoRegistration: true,
		RegistrationConfig: &types.RegistrationConfig{TemplateName: aws.String("factory"), RoleArn: aws.String(roleArn)},
		Tags:               []types.Tag{{Key: aws.String("line"), Value: aws.String("A")}}}))
	if *out.CertificateId != hex.EncodeToString(sha(ca.cert.Raw)) || *out.CertificateArn != "arn:aws:iot:us-east-1:123456789012:cacert/"+*out.CertificateId {
		t.Errorf("register: %s %s", *out.CertificateId, *out.CertificateArn)
	}
	d := must(cl.DescribeCACertificate(ctx, &sdkiot.DescribeCACertificateInput{CertificateId: out.CertificateId}))
	cd := d.CertificateDescription
	if cd.Status != types.CACertificateStatusActive || cd.AutoRegistrationStatus != types.AutoRegistrationStatusEnable ||
		cd.CertificateMode != types.CertificateModeDefault || *cd.CertificatePem != ca.pem || *cd.OwnedBy != "123456789012" ||
		d.RegistrationConfig == nil || *d.RegistrationConfig.TemplateName != "factory" || cd.Validity == nil {
		t.Errorf("describe: %+v %+v", cd, d.RegistrationConfig)
	}
	tags := must(cl.ListTagsForResource(ctx, &sdkiot.ListTagsForResourceInput{ResourceArn: out.CertificateArn}))
	if len(tags.Tags) != 1 || *tags.Tags[0].Value != "A" {
		t.Errorf("tags: %+v", tags.Tags)
	}
	_, err := reg(sdkiot.RegisterCACertificateInput{CaCertificate: &ca.pem, VerificationCertificate: aws.String(ca.verificationPEM(t, code))})
	wantCode(t, err, "ResourceAlreadyExistsException")

	// SNI_ONLY: no proof of the key, INACTIVE by default.
	sni := must(reg(sdkiot.RegisterCACertificateInput{CaCertificate: &other.pem, CertificateMode: types.CertificateModeSniOnly}))
	sd := must(cl.DescribeCACertificate(ctx, &sdkiot.DescribeCACertificateInput{CertificateId: sni.CertificateId})).CertificateDescription
	if sd.CertificateMode != types.CertificateModeSniOnly || sd.Status != types.CACertificateStatusInactive || sd.AutoRegistrationStatus != types.AutoRegistrationStatusDisable {
		t.Errorf("SNI_ONLY describe: %+v", sd)
	}
	all := must(cl.ListCACertificates(ctx, &sdkiot.ListCACertificatesInput{}))
	byTemplate := must(cl.ListCACertificates(ctx, &sdkiot.ListCACertificatesInput{TemplateName: aws.String("factory")}))
	if len(all.Certificates) != 2 || len(byTemplate.Certificates) != 1 || *byTemplate.Certificates[0].CertificateId != *out.CertificateId {
		t.Errorf("ListCACertificates: %d, by template %d", len(all.Certificates), len(byTemplate.Certificates))
	}
}

// TestRegisterCertificate registers device certificates a user's CA
// signed, refuses those of an unregistered or inactive CA, and lists them
// by CA.
func TestRegisterCertificate(t *testing.T) {
	f := start(t)
	cl := f.client
	ca, stranger := newTestCA(t, "Factory CA"), newTestCA(t, "Unregistered CA")
	caID := f.registerCA(t, ca)

	devPEM, _ := ca.issue(t, "device-0001")
	out := must(cl.RegisterCertificate(ctx, &sdkiot.RegisterCertificateInput{CertificatePem: aws.String(devPEM), Status: types.CertificateStatusActive}))
	d := must(cl.DescribeCertificate(ctx, &sdkiot.DescribeCertificateInput{CertificateId: out.CertificateId})).CertificateDescription
	if d.CaCertificateId == nil || *d.CaCertificateId != caID || d.CertificateMode != types.CertificateModeDefault || d.Status != types.CertificateStatusActive {
		t.Errorf("describe: %+v", d)
	}
	if !f.svc.CertificateActive(*out.CertificateId) {
		t.Error("registered ACTIVE certificate is not active")
	}
	_, err := cl.RegisterCertificate(ctx, &sdkiot.RegisterCertificateInput{CertificatePem: aws.String(devPEM)})
	wantCode(t, err, "ResourceAlreadyExistsException")

	// With caCertificatePem, and with the deprecated setAsActive.
	second, _ := ca.issue(t, "device-0002")
	out2 := must(cl.RegisterCertificate(ctx, &sdkiot.RegisterCertificateInput{CertificatePem: aws.String(second), CaCertificatePem: aws.String(ca.pem), SetAsActive: aws.Bool(true)}))
	if !f.svc.CertificateActive(*out2.CertificateId) {
		t.Error("setAsActive did not activate")
	}

	// An unregistered CA's certificate is refused, naming the issuer.
	strangerPEM, _ := stranger.issue(t, "intruder")
	_, err = cl.RegisterCertificate(ctx, &sdkiot.RegisterCertificateInput{CertificatePem: aws.String(strangerPEM)})
	if ae := wantCode(t, err, "CertificateValidationException"); !strings.Contains(ae.ErrorMessage(), "Unregistered CA") {
		t.Errorf("message %q does not name the issuer", ae.ErrorMessage())
	}
	_, err = cl.RegisterCertificate(ctx, &sdkiot.RegisterCertificateInput{CertificatePem: aws.String(strangerPEM), CaCertificatePem: aws.String(stranger.pem)})
	wantCode(t, err, "CertificateValidationException")
	// A certificate claiming the registered CA's name but signed by
	// another key is refused.
	forged := forgeIssuer(t, stranger, ca)
	_, err = cl.RegisterCertificate(ctx, &sdkiot.RegisterCertificateInput{CertificatePem: aws.String(forged)})
	wantCode(t, err, "CertificateValidationException")
	_, err = cl.RegisterCertificate(ctx, &sdkiot.RegisterCertificateInput{CertificatePem: aws.String("garbage")})
	wantCode(t, err, "CertificateValidationException")

	// An INACTIVE CA registers nothing new.
	must(cl.UpdateCACertificate(ctx, &sdkiot.UpdateCACertificateInput{CertificateId: &caID, NewStatus: types.CACertificateStatusInactive}))
	third, _ := ca.issue(t, "device-0003")
	_, err = cl.RegisterCertificate(ctx, &sdkiot.RegisterCertificateInput{CertificatePem: aws.String(third)})
	wantCode(t, err, "CertificateStateException")

	// Without a CA: SNI_ONLY, no CA id; not listed by the CA.
	free := must(cl.RegisterCertificateWithoutCA(ctx, &sdkiot.RegisterCertificateWithoutCAInput{CertificatePem: aws.String(strangerPEM), Status: types.CertificateStatusActive}))
	fd := must(cl.DescribeCertificate(ctx, &sdkiot.DescribeCertificateInput{CertificateId: free.CertificateId})).CertificateDescription
	if fd.CertificateMode != types.CertificateModeSniOnly || fd.CaCertificateId != nil || fd.Status != types.CertificateStatusActive {
		t.Errorf("without CA: %+v", fd)
	}

	var listed []string
	pg := sdkiot.NewListCertificatesByCAPaginator(cl, &sdkiot.ListCertificatesByCAInput{CaCertificateId: &caID, PageSize: aws.Int32(1), AscendingOrder: true})
	for pg.HasMorePages() {
		for _, c := range must(pg.NextPage(ctx)).Certificates {
			listed = append(listed, *c.CertificateId)
		}
	}
	if strings.Join(listed, ",") != *out.CertificateId+","+*out2.CertificateId {
		t.Errorf("ListCertificatesByCA = %v, want the two certificates of the CA in creation order", listed)
	}
	if l := must(cl.ListCertificatesByCA(ctx, &sdkiot.ListCertificatesByCAInput{CaCertificateId: aws.String(strings.Repeat("a", 64))})); len(l.Certificates) != 0 {
		t.Errorf("unknown CA lists %d", len(l.Certificates))
	}
}

// forgeIssuer makes a certificate whose issuer is victim's subject but
// which signer's key signed.
func forgeIssuer(t testing.TB, signer, victim *testCA) string {
	t.Helper()
	parent := &x509.Certificate{RawSubject: victim.cert.RawSubject, PublicKey: signer.key.Public()}
	tmpl := &x509.Certificate{SerialNumber: serial(), Subject: pkix.Name{CommonName: "forged"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, ecKey(t, elliptic.P256()).Public(), signer.key)
	if err != nil {
		t.Fatal(err)
	}
	return pemOf("CERTIFICATE", der)
}

func sha(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}

// TestCACertificateLifecycle: update, and the rules that keep a CA while
// it is ACTIVE or still has device certificates registered through it.
func TestCACertificateLifecycle(t *testing.T) {
	f := start(t)
	cl := f.client
	ca := newTestCA(t, "Factory CA")
	caID := f.registerCA(t, ca)
	dev, _ := ca.issue(t, "device-0001")
	c := must(cl.RegisterCertificate(ctx, &sdkiot.RegisterCertificateInput{CertificatePem: aws.String(dev)}))

	for _, in := range []sdkiot.UpdateCACertificateInput{
		{CertificateId: &caID, NewStatus: "REVOKED"},
		{CertificateId: &caID, NewAutoRegistrationStatus: "MAYBE"},
	} {
		_, err := cl.UpdateCACertificate(ctx, &in)
		wantCode(t, err, "InvalidRequestException")
	}
	_, err := cl.UpdateCACertificate(ctx, &sdkiot.UpdateCACertificateInput{CertificateId: aws.String(strings.Repeat("b", 64)), NewStatus: types.CACertificateStatusInactive})
	wantCode(t, err, "ResourceNotFoundException")

	_, err = cl.DeleteCACertificate(ctx, &sdkiot.DeleteCACertificateInput{CertificateId: &caID})
	wantCode(t, err, "CertificateStateException") // ACTIVE
	must(cl.UpdateCACertificate(ctx, &sdkiot.UpdateCACertificateInput{CertificateId: &caID, NewStatus: types.CACertificateStatusInactive,
		NewAutoRegistrationStatus: types.AutoRegistrationStatusEnable,
		RegistrationConfig:        &types.RegistrationConfig{TemplateName: aws.String("t1")}}))
	d := must(cl.DescribeCACertificate(ctx, &sdkiot.DescribeCACertificateInput{CertificateId: &caID}))
	if d.CertificateDescription.Status != types.CACertificateStatusInactive || d.CertificateDescription.AutoRegistrationStatus != types.AutoRegistrationStatusEnable ||
		*d.CertificateDescription.CustomerVersion != 2 || d.RegistrationConfig == nil || *d.RegistrationConfig.TemplateName != "t1" {
		t.Errorf("after update: %+v %+v", d.CertificateDescription, d.RegistrationConfig)
	}
	must(cl.UpdateCACertificate(ctx, &sdkiot.UpdateCACertificateInput{CertificateId: &caID, RemoveAutoRegistration: true}))
	d = must(cl.DescribeCACertificate(ctx, &sdkiot.DescribeCACertificateInput{CertificateId: &caID}))
	if d.RegistrationConfig != nil || d.CertificateDescription.AutoRegistrationStatus != types.AutoRegistrationStatusDisable {
		t.Errorf("removeAutoRegistration: %+v %+v", d.CertificateDescription, d.RegistrationConfig)
	}

	_, err = cl.DeleteCACertificate(ctx, &sdkiot.DeleteCACertificateInput{CertificateId: &caID})
	if ae := wantCode(t, err, "CertificateStateException"); !strings.Contains(ae.ErrorMessage(), *c.CertificateId) {
		t.Errorf("message %q does not name the device certificate", ae.ErrorMessage())
	}
	must(cl.DeleteCertificate(ctx, &sdkiot.DeleteCertificateInput{CertificateId: c.CertificateId}))
	must(cl.DeleteCACertificate(ctx, &sdkiot.DeleteCACertificateInput{CertificateId: &caID}))
	_, err = cl.DescribeCACertificate(ctx, &sdkiot.DescribeCACertificateInput{CertificateId: &caID})
	wantCode(t, err, "ResourceNotFoundException")
}
