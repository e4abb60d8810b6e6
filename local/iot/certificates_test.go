package iot_test

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/otactl/otactl/local/iot"
)

func TestCertificatesAndPrincipals(t *testing.T) {
	f, _ := startCerts(t)
	svc, cl := f.svc, f.client
	must(cl.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String("dev-1")}))
	out := must(cl.CreateKeysAndCertificate(ctx, &sdkiot.CreateKeysAndCertificateInput{SetAsActive: true}))
	// The id is the SHA-256 of the certificate, and key and certificate pair up.
	block, _ := pem.Decode([]byte(*out.CertificatePem))
	sum := sha256.Sum256(block.Bytes)
	if *out.CertificateId != hex.EncodeToString(sum[:]) {
		t.Errorf("certificateId %s is not the certificate's SHA-256", *out.CertificateId)
	}
	if _, err := tls.X509KeyPair([]byte(*out.CertificatePem), []byte(*out.KeyPair.PrivateKey)); err != nil {
		t.Fatalf("key pair: %v", err)
	}
	if *out.CertificateArn != "arn:aws:iot:us-east-1:123456789012:cert/"+*out.CertificateId {
		t.Errorf("arn %s", *out.CertificateArn)
	}

	d := must(cl.DescribeCertificate(ctx, &sdkiot.DescribeCertificateInput{CertificateId: out.CertificateId})).CertificateDescription
	if d.Status != types.CertificateStatusActive || *d.CertificatePem != *out.CertificatePem || *d.OwnedBy != "123456789012" ||
		d.CertificateMode != types.CertificateModeDefault || d.CaCertificateId != nil || d.Validity == nil || d.Validity.NotAfter == nil {
		t.Errorf("describe: %+v", d)
	}
	if !svc.CertificateActive(*out.CertificateId) || svc.CertificateAttached(*out.CertificateId, "dev-1") {
		t.Error("before attaching: want active and not attached")
	}

	must(cl.AttachThingPrincipal(ctx, &sdkiot.AttachThingPrincipalInput{ThingName: aws.String("dev-1"), Principal: out.CertificateArn}))
	if !svc.CertificateAttached(*out.CertificateId, "dev-1") {
		t.Error("attached certificate not reported attached")
	}
	lp := must(cl.ListThingPrincipals(ctx, &sdkiot.ListThingPrincipalsInput{ThingName: aws.String("dev-1")}))
	if len(lp.Principals) != 1 || lp.Principals[0] != *out.CertificateArn {
		t.Fatalf("ListThingPrincipals = %v", lp.Principals)
	}
	pt := must(cl.ListPrincipalThings(ctx, &sdkiot.ListPrincipalThingsInput{Principal: out.CertificateArn}))
	if len(pt.Things) != 1 || pt.Things[0] != "dev-1" {
		t.Fatalf("ListPrincipalThings = %v", pt.Things)
	}

	// Errors in AWS's shape.
	_, err := cl.AttachThingPrincipal(ctx, &sdkiot.AttachThingPrincipalInput{ThingName: aws.String("nope"), Principal: out.CertificateArn})
	wantCode(t, err, "ResourceNotFoundException")
	_, err = cl.AttachThingPrincipal(ctx, &sdkiot.AttachThingPrincipalInput{ThingName: aws.String("dev-1"), Principal: aws.String("arn:aws:iot:us-east-1:123456789012:cert/ffff")})
	wantCode(t, err, "ResourceNotFoundException")
	_, err = cl.DescribeCertificate(ctx, &sdkiot.DescribeCertificateInput{CertificateId: aws.String("00")})
	wantCode(t, err, "ResourceNotFoundException")

	// Deactivate: no longer active; detach; delete.
	must(cl.UpdateCertificate(ctx, &sdkiot.UpdateCertificateInput{CertificateId: out.CertificateId, NewStatus: types.CertificateStatusInactive}))
	if svc.CertificateActive(*out.CertificateId) {
		t.Error("inactive certificate reported active")
	}
	must(cl.DetachThingPrincipal(ctx, &sdkiot.DetachThingPrincipalInput{ThingName: aws.String("dev-1"), Principal: out.CertificateArn}))
	if svc.CertificateAttached(*out.CertificateId, "dev-1") {
		t.Error("detached certificate still attached")
	}
	must(cl.DeleteCertificate(ctx, &sdkiot.DeleteCertificateInput{CertificateId: out.CertificateId}))

	// setAsActive=false makes an INACTIVE certificate.
	in := must(cl.CreateKeysAndCertificate(ctx, &sdkiot.CreateKeysAndCertificateInput{}))
	if svc.CertificateActive(*in.CertificateId) {
		t.Error("certificate created without setAsActive is active")
	}
}

// TestCreateKeysAndCertificateRSA: AWS documents a 2048-bit RSA key pair,
// the private key as PKCS#1 and the public key as PKIX, and a certificate
// signed by the issuer for that key.
func TestCreateKeysAndCertificateRSA(t *testing.T) {
	f, ca := startCerts(t)
	out := must(f.client.CreateKeysAndCertificate(ctx, &sdkiot.CreateKeysAndCertificateInput{SetAsActive: true}))
	kb, _ := pem.Decode([]byte(*out.KeyPair.PrivateKey))
	if kb == nil || kb.Type != "RSA PRIVATE KEY" {
		t.Fatalf("private key: %.40q", *out.KeyPair.PrivateKey)
	}
	key, err := x509.ParsePKCS1PrivateKey(kb.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if key.N.BitLen() != 2048 {
		t.Errorf("RSA key of %d bits, want 2048", key.N.BitLen())
	}
	pb, _ := pem.Decode([]byte(*out.KeyPair.PublicKey))
	if pb == nil || pb.Type != "PUBLIC KEY" {
		t.Fatalf("public key: %.40q", *out.KeyPair.PublicKey)
	}
	pub, err := x509.ParsePKIXPublicKey(pb.Bytes)
	if err != nil || !key.PublicKey.Equal(pub) {
		t.Fatalf("public key does not match the private key: %v", err)
	}
	cb, _ := pem.Decode([]byte(*out.CertificatePem))
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !key.PublicKey.Equal(cert.PublicKey) || cert.Subject.CommonName != "AWS IoT Certificate" {
		t.Errorf("certificate: key %T, subject %s", cert.PublicKey, cert.Subject)
	}
	if err := cert.CheckSignatureFrom(ca.cert); err != nil {
		t.Errorf("certificate not signed by the issuer: %v", err)
	}
}

// TestCertificateIssuerNotWired: without otactl local's CA the operations
// that sign answer a clear error instead of being unknown.
func TestCertificateIssuerNotWired(t *testing.T) {
	f := start(t)
	_, err := f.client.CreateKeysAndCertificate(ctx, &sdkiot.CreateKeysAndCertificateInput{})
	if ae := wantCode(t, err, "ServiceUnavailableException"); !strings.Contains(ae.ErrorMessage(), "CA") {
		t.Errorf("message %q does not say what is missing", ae.ErrorMessage())
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	_, err = f.client.CreateCertificateFromCsr(ctx, &sdkiot.CreateCertificateFromCsrInput{CertificateSigningRequest: aws.String(csrPEM(t, key, "x"))})
	wantCode(t, err, "ServiceUnavailableException")
	// What does not sign still works.
	must(f.client.ListCertificates(ctx, &sdkiot.ListCertificatesInput{}))
}

func TestCreateCertificateFromCsr(t *testing.T) {
	f, ca := startCerts(t)
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	out := must(f.client.CreateCertificateFromCsr(ctx, &sdkiot.CreateCertificateFromCsrInput{
		CertificateSigningRequest: aws.String(csrPEM(t, key, "sensor-7")), SetAsActive: true}))
	cb, _ := pem.Decode([]byte(*out.CertificatePem))
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if !key.PublicKey.Equal(cert.PublicKey) || cert.Subject.CommonName != "sensor-7" || cert.CheckSignatureFrom(ca.cert) != nil {
		t.Errorf("certificate: key %T, subject %s, issuer %s", cert.PublicKey, cert.Subject, cert.Issuer)
	}
	if !f.svc.CertificateActive(*out.CertificateId) {
		t.Error("setAsActive certificate is not ACTIVE")
	}
	// The same CSR again is a distinct certificate (AWS: reusing a CSR
	// results in a distinct certificate).
	again := must(f.client.CreateCertificateFromCsr(ctx, &sdkiot.CreateCertificateFromCsrInput{CertificateSigningRequest: aws.String(csrPEM(t, key, "sensor-7"))}))
	if *again.CertificateId == *out.CertificateId || f.svc.CertificateActive(*again.CertificateId) {
		t.Error("second certificate from the same CSR: same id, or ACTIVE without setAsActive")
	}

	bad := map[string]struct{ csr, mention string }{
		"garbage":   {"not a CSR", "PEM"},
		"wrong PEM": {pemOf("CERTIFICATE REQUEST", []byte("junk")), "parse"},
		"signature": {tamperedCSR(t), "signature"},
		"RSA 1024":  {csrPEM(t, rsaKey(t, 1024), "weak"), "2048"},
		"P-224":     {csrPEM(t, ecKey(t, elliptic.P224()), "odd curve"), "P-224"},
	}
	for name, c := range bad {
		_, err := f.client.CreateCertificateFromCsr(ctx, &sdkiot.CreateCertificateFromCsrInput{CertificateSigningRequest: aws.String(c.csr)})
		ae := wantCode(t, err, "InvalidRequestException")
		if !strings.Contains(ae.ErrorMessage(), "certificateSigningRequest") || !strings.Contains(ae.ErrorMessage(), c.mention) {
			t.Errorf("%s: message %q should name certificateSigningRequest and %q", name, ae.ErrorMessage(), c.mention)
		}
	}
	// Nothing half-stored: only the two good certificates exist.
	if l := must(f.client.ListCertificates(ctx, &sdkiot.ListCertificatesInput{})); len(l.Certificates) != 2 {
		t.Errorf("ListCertificates: %d certificates, want 2", len(l.Certificates))
	}
}

// tamperedCSR is a well-formed CSR whose signature does not verify: the
// last byte of the DER is the last byte of the signature's s value.
func tamperedCSR(t testing.TB) string {
	key := ecKey(t, elliptic.P256())
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "evil"}}, key)
	if err != nil {
		t.Fatal(err)
	}
	der[len(der)-1] ^= 0x5a
	return pemOf("CERTIFICATE REQUEST", der)
}

func rsaKey(t testing.TB, bits int) *rsa.PrivateKey {
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func ecKey(t testing.TB, c elliptic.Curve) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestCertificateStatusRules: REVOKED is final, the internal statuses are
// refused, an ACTIVE or attached certificate is not deleted, and each
// refusal leaves the certificate as it was.
func TestCertificateStatusRules(t *testing.T) {
	f, _ := startCerts(t)
	cl := f.client
	must(cl.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String("dev-1")}))
	c := must(cl.CreateKeysAndCertificate(ctx, &sdkiot.CreateKeysAndCertificateInput{SetAsActive: true}))
	id := c.CertificateId
	status := func() types.CertificateStatus {
		return must(cl.DescribeCertificate(ctx, &sdkiot.DescribeCertificateInput{CertificateId: id})).CertificateDescription.Status
	}

	_, err := cl.DeleteCertificate(ctx, &sdkiot.DeleteCertificateInput{CertificateId: id})
	wantCode(t, err, "CertificateStateException")
	_, err = cl.DeleteCertificate(ctx, &sdkiot.DeleteCertificateInput{CertificateId: id, ForceDelete: true})
	wantCode(t, err, "CertificateStateException") // forceDelete needs an inactive certificate too
	for _, s := range []types.CertificateStatus{"PENDING_TRANSFER", "PENDING_ACTIVATION", "BOGUS"} {
		_, err = cl.UpdateCertificate(ctx, &sdkiot.UpdateCertificateInput{CertificateId: id, NewStatus: s})
		wantCode(t, err, "InvalidRequestException")
	}
	if status() != types.CertificateStatusActive {
		t.Fatal("a refused update changed the status")
	}

	must(cl.AttachThingPrincipal(ctx, &sdkiot.AttachThingPrincipalInput{ThingName: aws.String("dev-1"), Principal: c.CertificateArn}))
	must(cl.UpdateCertificate(ctx, &sdkiot.UpdateCertificateInput{CertificateId: id, NewStatus: types.CertificateStatusRevoked}))
	if f.svc.CertificateActive(*id) {
		t.Error("a REVOKED certificate is reported active")
	}
	for _, s := range []types.CertificateStatus{types.CertificateStatusActive, types.CertificateStatusInactive} {
		_, err = cl.UpdateCertificate(ctx, &sdkiot.UpdateCertificateInput{CertificateId: id, NewStatus: s})
		wantCode(t, err, "CertificateStateException")
	}
	must(cl.UpdateCertificate(ctx, &sdkiot.UpdateCertificateInput{CertificateId: id, NewStatus: types.CertificateStatusRevoked})) // idempotent
	_, err = cl.DeleteCertificate(ctx, &sdkiot.DeleteCertificateInput{CertificateId: id})
	wantCode(t, err, "DeleteConflictException")
	_, err = cl.DeleteCertificate(ctx, &sdkiot.DeleteCertificateInput{CertificateId: id, ForceDelete: true})
	wantCode(t, err, "DeleteConflictException") // forceDelete never detaches a thing
	if status() != types.CertificateStatusRevoked {
		t.Fatal("status changed")
	}
	must(cl.DetachThingPrincipal(ctx, &sdkiot.DetachThingPrincipalInput{ThingName: aws.String("dev-1"), Principal: c.CertificateArn}))
	must(cl.DeleteCertificate(ctx, &sdkiot.DeleteCertificateInput{CertificateId: id}))
	_, err = cl.DescribeCertificate(ctx, &sdkiot.DescribeCertificateInput{CertificateId: id})
	wantCode(t, err, "ResourceNotFoundException")
}

// TestListCertificates pages by creation date, newest first unless
// ascendingOrder, with AWS's marker.
func TestListCertificates(t *testing.T) {
	f, ca := startCerts(t)
	clock := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.svc.Now = func() time.Time { clock = clock.Add(time.Second); return clock }
	var ids []string // in creation order
	for i := 0; i < 5; i++ {
		p, _ := ca.issue(t, "d")
		out := must(f.client.RegisterCertificateWithoutCA(ctx, &sdkiot.RegisterCertificateWithoutCAInput{CertificatePem: aws.String(p)}))
		ids = append(ids, *out.CertificateId)
	}
	for _, asc := range []bool{true, false} {
		var got []string
		pages := 0
		pg := sdkiot.NewListCertificatesPaginator(f.client, &sdkiot.ListCertificatesInput{AscendingOrder: asc, PageSize: aws.Int32(2)})
		for pg.HasMorePages() {
			out := must(pg.NextPage(ctx))
			pages++
			for _, c := range out.Certificates {
				got = append(got, *c.CertificateId)
				if c.Status != types.CertificateStatusInactive || c.CertificateMode != types.CertificateModeSniOnly || c.CreationDate == nil {
					t.Errorf("summary %+v", c)
				}
			}
		}
		want := append([]string(nil), ids...)
		if !asc {
			for i, j := 0, len(want)-1; i < j; i, j = i+1, j-1 {
				want[i], want[j] = want[j], want[i]
			}
		}
		if strings.Join(got, ",") != strings.Join(want, ",") || pages != 3 {
			t.Errorf("ascending=%v: %d pages %v, want %v", asc, pages, got, want)
		}
	}
	_, err := f.client.ListCertificates(ctx, &sdkiot.ListCertificatesInput{PageSize: aws.Int32(251)})
	wantCode(t, err, "InvalidRequestException")
	_, err = f.client.ListCertificates(ctx, &sdkiot.ListCertificatesInput{Marker: aws.String("!!")})
	wantCode(t, err, "InvalidRequestException")
}

// BenchmarkCreateKeysAndCertificate measures a 2048-bit RSA key pair and
// its certificate through the wire.
func BenchmarkCreateKeysAndCertificate(b *testing.B) {
	f, _ := startCerts(b)
	for b.Loop() {
		must(f.client.CreateKeysAndCertificate(ctx, &sdkiot.CreateKeysAndCertificateInput{}))
	}
}

// testCA is a certificate authority made in the test: otactl local's CA
// stand-in (the issuer of CreateKeysAndCertificate) or a user's own CA
// (RegisterCACertificate).
type testCA struct {
	cert *x509.Certificate
	key  crypto.Signer
	pem  string
}

func newTestCA(t testing.TB, cn string) *testCA {
	t.Helper()
	key := ecKey(t, elliptic.P256())
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: cn, Organization: []string{"test"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &testCA{cert: cert, key: key, pem: pemOf("CERTIFICATE", der)}
}

func serial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 100))
	return n
}

// IssueCertificate implements iot.CertificateIssuer.
func (ca *testCA) IssueCertificate(pub crypto.PublicKey, cn string) ([]byte, error) {
	tmpl := &x509.Certificate{
		SerialNumber: serial(), Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	return x509.CreateCertificate(rand.Reader, tmpl, ca.cert, pub, ca.key)
}

// issue signs a certificate for a fresh P-256 key; it returns the
// certificate's PEM and the key.
func (ca *testCA) issue(t testing.TB, cn string) (string, *ecdsa.PrivateKey) {
	t.Helper()
	key := ecKey(t, elliptic.P256())
	der, err := ca.IssueCertificate(key.Public(), cn)
	if err != nil {
		t.Fatal(err)
	}
	return pemOf("CERTIFICATE", der), key
}

func pemOf(kind string, der []byte) string {
	return string(pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}))
}

// csrPEM makes a certificate signing request for key with the given CN.
func csrPEM(t testing.TB, key crypto.Signer, cn string) string {
	t.Helper()
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: cn}}, key)
	if err != nil {
		t.Fatal(err)
	}
	return pemOf("CERTIFICATE REQUEST", der)
}

// startCerts is start with otactl local's CA wired as the issuer.
func startCerts(t testing.TB) (*fixture, *testCA) {
	t.Helper()
	f := start(t)
	ca := newTestCA(t, "otactl local CA (test)")
	f.svc.SetCertificateIssuer(ca)
	return f, ca
}

// TestDeleteCertificateWithPolicies: attached policies refuse the deletion;
// forceDelete deletes the inactive certificate and detaches them.
func TestDeleteCertificateWithPolicies(t *testing.T) {
	f, _ := startCerts(t)
	cl := f.client
	var events []iot.Event
	f.svc.Subscribe(func(e iot.Event) {
		if e.Kind == iot.PoliciesChanged {
			events = append(events, e)
		}
	})
	c := must(cl.CreateKeysAndCertificate(ctx, &sdkiot.CreateKeysAndCertificateInput{SetAsActive: true}))
	must(cl.CreatePolicy(ctx, &sdkiot.CreatePolicyInput{PolicyName: aws.String("p"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}]}`)}))
	must(cl.AttachPolicy(ctx, &sdkiot.AttachPolicyInput{PolicyName: aws.String("p"), Target: c.CertificateArn}))
	events = nil
	must(cl.UpdateCertificate(ctx, &sdkiot.UpdateCertificateInput{CertificateId: c.CertificateId, NewStatus: types.CertificateStatusInactive}))
	if len(events) != 1 || len(events[0].Principals) != 1 || events[0].Principals[0] != *c.CertificateArn {
		t.Errorf("status change: events %+v, want one PoliciesChanged naming the certificate", events)
	}

	_, err := cl.DeleteCertificate(ctx, &sdkiot.DeleteCertificateInput{CertificateId: c.CertificateId})
	wantCode(t, err, "DeleteConflictException")
	must(cl.DescribeCertificate(ctx, &sdkiot.DescribeCertificateInput{CertificateId: c.CertificateId}))
	must(cl.DeleteCertificate(ctx, &sdkiot.DeleteCertificateInput{CertificateId: c.CertificateId, ForceDelete: true}))
	_, err = cl.DescribeCertificate(ctx, &sdkiot.DescribeCertificateInput{CertificateId: c.CertificateId})
	wantCode(t, err, "ResourceNotFoundException")
	if targets := must(cl.ListTargetsForPolicy(ctx, &sdkiot.ListTargetsForPolicyInput{PolicyName: aws.String("p")})); len(targets.Targets) != 0 {
		t.Errorf("forceDelete left the policy attached to %v", targets.Targets)
	}
	must(cl.DeletePolicy(ctx, &sdkiot.DeletePolicyInput{PolicyName: aws.String("p")}))
}

// BenchmarkCreateCertificateFromCsr is the fast path for fleets: the
// device's P-256 key is made by the device, the service only signs.
func BenchmarkCreateCertificateFromCsr(b *testing.B) {
	f, _ := startCerts(b)
	csr := aws.String(csrPEM(b, ecKey(b, elliptic.P256()), "bench"))
	for b.Loop() {
		must(f.client.CreateCertificateFromCsr(ctx, &sdkiot.CreateCertificateFromCsrInput{CertificateSigningRequest: csr}))
	}
}
