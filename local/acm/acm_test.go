package acm_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdkacm "github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/acm/types"
	"github.com/aws/smithy-go"

	"github.com/otactl/otactl/local/acm"
	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/local/wire"
)

var env = wire.Env{Region: "us-east-1", AccountID: "123456789012"}

func start(t *testing.T) (*acm.Service, *sdkacm.Client, string) {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := acm.New(st, env)
	srv := httptest.NewServer(svc)
	t.Cleanup(srv.Close)
	client := sdkacm.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDLOCAL", "secret", ""),
	}, func(o *sdkacm.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	return svc, client, srv.URL
}

// newCert makes a self-signed code-signing certificate and its key as PEM.
func newCert(t *testing.T, key crypto.Signer, cn string) (certPEM, keyPEM []byte) {
	t.Helper()
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(0x1234),
		Subject:      pkix.Name{CommonName: cn, Organization: []string{"Example Corp"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(365 * 24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		DNSNames:     []string{cn},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	k, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: k})
}

func ecKey(t *testing.T) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func errCode(t *testing.T, err error, want string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s, got %v", want, err)
	}
	if ae.ErrorCode() != want {
		t.Fatalf("want %s, got %s: %s", want, ae.ErrorCode(), ae.ErrorMessage())
	}
}

func TestImportDescribeGet(t *testing.T) {
	svc, c, _ := start(t)
	ctx := context.Background()
	key := ecKey(t)
	certPEM, keyPEM := newCert(t, key, "signer.example.com")
	caPEM, _ := newCert(t, ecKey(t), "ca.example.com")
	out, err := c.ImportCertificate(ctx, &sdkacm.ImportCertificateInput{
		Certificate: certPEM, PrivateKey: keyPEM, CertificateChain: caPEM,
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("fw")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(out.CertificateArn)
	if !strings.HasPrefix(arn, "arn:aws:acm:us-east-1:123456789012:certificate/") || len(arn) != len("arn:aws:acm:us-east-1:123456789012:certificate/")+36 {
		t.Fatalf("arn %q", arn)
	}

	d, err := c.DescribeCertificate(ctx, &sdkacm.DescribeCertificateInput{CertificateArn: &arn})
	if err != nil {
		t.Fatal(err)
	}
	cd := d.Certificate
	if aws.ToString(cd.CertificateArn) != arn || aws.ToString(cd.DomainName) != "signer.example.com" ||
		cd.Status != types.CertificateStatusIssued || cd.Type != types.CertificateTypeImported ||
		cd.KeyAlgorithm != types.KeyAlgorithmEcPrime256v1 || aws.ToString(cd.SignatureAlgorithm) != "SHA256WITHECDSA" ||
		aws.ToString(cd.Serial) != "12:34" || aws.ToString(cd.Issuer) != "Example Corp" ||
		cd.ImportedAt == nil || cd.NotAfter == nil || cd.NotBefore == nil {
		t.Fatalf("detail %+v", cd)
	}
	if len(cd.ExtendedKeyUsages) != 1 || cd.ExtendedKeyUsages[0].Name != types.ExtendedKeyUsageNameCodeSigning ||
		aws.ToString(cd.ExtendedKeyUsages[0].OID) != "1.3.6.1.5.5.7.3.3" {
		t.Fatalf("eku %+v", cd.ExtendedKeyUsages)
	}
	if len(cd.KeyUsages) != 1 || cd.KeyUsages[0].Name != types.KeyUsageNameDigitalSignature {
		t.Fatalf("ku %+v", cd.KeyUsages)
	}

	g, err := c.GetCertificate(ctx, &sdkacm.GetCertificateInput{CertificateArn: &arn})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(g.Certificate) != string(certPEM) || aws.ToString(g.CertificateChain) != string(caPEM) {
		t.Fatalf("get: %q / %q", aws.ToString(g.Certificate), aws.ToString(g.CertificateChain))
	}

	// The Go API gives the signer the key pair behind the ARN.
	cert, signer, err := svc.KeyPair(arn)
	if err != nil {
		t.Fatal(err)
	}
	if !cert.PublicKey.(*ecdsa.PublicKey).Equal(&key.PublicKey) {
		t.Fatal("KeyPair certificate differs")
	}
	digest := sha256.Sum256([]byte("firmware"))
	sig, err := signer.Sign(rand.Reader, digest[:], crypto.SHA256)
	if err != nil || !ecdsa.VerifyASN1(&key.PublicKey, digest[:], sig) {
		t.Fatalf("KeyPair signer: %v", err)
	}
	if _, _, err := svc.KeyPair(arn + "x"); !errors.Is(err, acm.ErrNotFound) {
		t.Fatalf("KeyPair unknown: %v", err)
	}

	// Re-import under the same ARN replaces the certificate.
	key2 := ecKey(t)
	cert2, key2PEM := newCert(t, key2, "v2.example.com")
	re, err := c.ImportCertificate(ctx, &sdkacm.ImportCertificateInput{CertificateArn: &arn, Certificate: cert2, PrivateKey: key2PEM})
	if err != nil || aws.ToString(re.CertificateArn) != arn {
		t.Fatalf("reimport: %v", err)
	}
	d, _ = c.DescribeCertificate(ctx, &sdkacm.DescribeCertificateInput{CertificateArn: &arn})
	if aws.ToString(d.Certificate.DomainName) != "v2.example.com" {
		t.Fatalf("reimport domain %q", aws.ToString(d.Certificate.DomainName))
	}
}

func TestImportRSAKeyForms(t *testing.T) {
	_, c, _ := start(t)
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	certPEM, _ := newCert(t, key, "rsa.example.com")
	// PKCS#1 "RSA PRIVATE KEY" is accepted as well as PKCS#8.
	pkcs1 := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	out, err := c.ImportCertificate(context.Background(), &sdkacm.ImportCertificateInput{Certificate: certPEM, PrivateKey: pkcs1})
	if err != nil {
		t.Fatal(err)
	}
	d, err := c.DescribeCertificate(context.Background(), &sdkacm.DescribeCertificateInput{CertificateArn: out.CertificateArn})
	if err != nil {
		t.Fatal(err)
	}
	if d.Certificate.KeyAlgorithm != types.KeyAlgorithmRsa2048 || aws.ToString(d.Certificate.SignatureAlgorithm) != "SHA256WITHRSA" {
		t.Fatalf("%s %s", d.Certificate.KeyAlgorithm, aws.ToString(d.Certificate.SignatureAlgorithm))
	}
}

func TestImportErrors(t *testing.T) {
	_, c, _ := start(t)
	ctx := context.Background()
	key := ecKey(t)
	certPEM, keyPEM := newCert(t, key, "a.example.com")
	_, otherKey := newCert(t, ecKey(t), "b.example.com")
	ecSEC1, _ := x509.MarshalECPrivateKey(key)
	cases := []struct {
		name             string
		cert, key, chain []byte
		code             string
	}{
		{"bad cert PEM", []byte("not a pem"), keyPEM, nil, "ValidationException"},
		{"garbage in PEM block", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("junk")}), keyPEM, nil, "ValidationException"},
		{"two certificates", append(append([]byte{}, certPEM...), certPEM...), keyPEM, nil, "ValidationException"},
		{"bad key PEM", certPEM, []byte("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n"), nil, "ValidationException"},
		{"mismatched key", certPEM, otherKey, nil, "ValidationException"},
		{"key where cert goes", keyPEM, keyPEM, nil, "ValidationException"},
		{"encrypted key", certPEM, pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}}), nil, "ValidationException"},
		{"bad chain", certPEM, keyPEM, []byte("nope"), "ValidationException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.ImportCertificate(ctx, &sdkacm.ImportCertificateInput{Certificate: tc.cert, PrivateKey: tc.key, CertificateChain: tc.chain})
			errCode(t, err, tc.code)
		})
	}
	// SEC 1 EC keys are fine.
	sec1 := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecSEC1})
	if _, err := c.ImportCertificate(ctx, &sdkacm.ImportCertificateInput{Certificate: certPEM, PrivateKey: sec1}); err != nil {
		t.Fatalf("SEC 1 key: %v", err)
	}
	// Re-import to an unknown ARN.
	_, err := c.ImportCertificate(ctx, &sdkacm.ImportCertificateInput{
		CertificateArn: aws.String("arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000"),
		Certificate:    certPEM, PrivateKey: keyPEM})
	errCode(t, err, "ResourceNotFoundException")
}

func TestDescribeErrors(t *testing.T) {
	_, c, _ := start(t)
	ctx := context.Background()
	_, err := c.DescribeCertificate(ctx, &sdkacm.DescribeCertificateInput{CertificateArn: aws.String("arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000")})
	errCode(t, err, "ResourceNotFoundException")
	_, err = c.GetCertificate(ctx, &sdkacm.GetCertificateInput{CertificateArn: aws.String("not-an-arn")})
	errCode(t, err, "InvalidArnException")
}

func TestList(t *testing.T) {
	_, c, _ := start(t)
	ctx := context.Background()
	var ecARNs, rsaARNs []string
	for i := range 3 {
		certPEM, keyPEM := newCert(t, ecKey(t), "ec.example.com")
		out, err := c.ImportCertificate(ctx, &sdkacm.ImportCertificateInput{Certificate: certPEM, PrivateKey: keyPEM})
		if err != nil {
			t.Fatal(i, err)
		}
		ecARNs = append(ecARNs, *out.CertificateArn)
	}
	rk, _ := rsa.GenerateKey(rand.Reader, 2048)
	certPEM, keyPEM := newCert(t, rk, "rsa.example.com")
	out, err := c.ImportCertificate(ctx, &sdkacm.ImportCertificateInput{Certificate: certPEM, PrivateKey: keyPEM})
	if err != nil {
		t.Fatal(err)
	}
	rsaARNs = append(rsaARNs, *out.CertificateArn)

	// Like ACM, the default listing holds only RSA_1024/RSA_2048 certificates.
	l, err := c.ListCertificates(ctx, &sdkacm.ListCertificatesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(l.CertificateSummaryList) != 1 || *l.CertificateSummaryList[0].CertificateArn != rsaARNs[0] {
		t.Fatalf("default list %+v", l.CertificateSummaryList)
	}

	// EC certificates, paged two at a time.
	var got []string
	p := sdkacm.NewListCertificatesPaginator(c, &sdkacm.ListCertificatesInput{
		MaxItems: aws.Int32(2),
		Includes: &types.Filters{KeyTypes: []types.KeyAlgorithm{types.KeyAlgorithmEcPrime256v1}, ExtendedKeyUsage: []types.ExtendedKeyUsageName{types.ExtendedKeyUsageNameCodeSigning}},
	})
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, s := range page.CertificateSummaryList {
			if s.KeyAlgorithm != types.KeyAlgorithmEcPrime256v1 || s.Type != types.CertificateTypeImported || s.Status != types.CertificateStatusIssued {
				t.Fatalf("summary %+v", s)
			}
			got = append(got, *s.CertificateArn)
		}
	}
	if pages != 2 || len(got) != 3 {
		t.Fatalf("pages %d got %v", pages, got)
	}
	for _, a := range ecARNs {
		found := false
		for _, g := range got {
			found = found || g == a
		}
		if !found {
			t.Fatalf("%s not listed", a)
		}
	}

	// Filters that match nothing.
	l, err = c.ListCertificates(ctx, &sdkacm.ListCertificatesInput{CertificateStatuses: []types.CertificateStatus{types.CertificateStatusExpired}})
	if err != nil || len(l.CertificateSummaryList) != 0 {
		t.Fatalf("expired filter: %v %v", err, l)
	}
	_, err = c.ListCertificates(ctx, &sdkacm.ListCertificatesInput{NextToken: aws.String("!!")})
	errCode(t, err, "InvalidArgsException")
}

// TestWire checks the raw protocol: errors for unknown targets, malformed
// JSON and unknown fields come in the JSON 1.1 shape, never a 500.
func TestWire(t *testing.T) {
	_, _, url := start(t)
	post := func(target, body string) (int, string) {
		req, _ := http.NewRequest(http.MethodPost, url+"/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", target)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	cases := []struct{ target, body, code string }{
		{"CertificateManager.ImportCertificate", "{", "SerializationException"},
		{"CertificateManager.ImportCertificate", `{"Certificate":"AAAA","Bogus":1}`, "SerializationException"},
		{"CertificateManager.ImportCertificate", `{"Certificate":42}`, "SerializationException"},
		{"CertificateManager.ImportCertificate", `{"Certificate":"%%%"}`, "SerializationException"},
		{"CertificateManager.ImportCertificate", `{"Certificate":"AAAA"}`, "ValidationException"},
		{"CertificateManager.DeleteEverything", `{}`, "UnknownOperationException"},
		{"Nope.ListCertificates", `{}`, "UnknownOperationException"},
		{"CertificateManager.DescribeCertificate", `{}`, "ValidationException"},
		{"CertificateManager.ListCertificates", `{"MaxItems":0}`, "ValidationException"},
	}
	for _, tc := range cases {
		status, body := post(tc.target, tc.body)
		if status != 400 || !strings.Contains(body, `"__type":"`+tc.code+`"`) {
			t.Errorf("%s %s: %d %s", tc.target, tc.body, status, body)
		}
	}
	status, body := post("CertificateManager.ListCertificates", "")
	if status != 200 || !bytes.Contains([]byte(body), []byte(`"CertificateSummaryList":[]`)) {
		t.Errorf("empty list: %d %s", status, body)
	}
}

func TestTagsAndDelete(t *testing.T) {
	svc, c, _ := start(t)
	ctx := context.Background()
	certPEM, keyPEM := newCert(t, ecKey(t), "t.example.com")
	out, err := c.ImportCertificate(ctx, &sdkacm.ImportCertificateInput{Certificate: certPEM, PrivateKey: keyPEM,
		Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("1")}}})
	if err != nil {
		t.Fatal(err)
	}
	arn := out.CertificateArn
	if _, err := c.AddTagsToCertificate(ctx, &sdkacm.AddTagsToCertificateInput{CertificateArn: arn,
		Tags: []types.Tag{{Key: aws.String("a"), Value: aws.String("2")}, {Key: aws.String("b")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RemoveTagsFromCertificate(ctx, &sdkacm.RemoveTagsFromCertificateInput{CertificateArn: arn,
		Tags: []types.Tag{{Key: aws.String("b")}}}); err != nil {
		t.Fatal(err)
	}
	l, err := c.ListTagsForCertificate(ctx, &sdkacm.ListTagsForCertificateInput{CertificateArn: arn})
	if err != nil || len(l.Tags) != 1 || *l.Tags[0].Key != "a" || aws.ToString(l.Tags[0].Value) != "2" {
		t.Fatalf("tags %v %+v", err, l)
	}
	if _, err := c.DeleteCertificate(ctx, &sdkacm.DeleteCertificateInput{CertificateArn: arn}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeCertificate(ctx, &sdkacm.DescribeCertificateInput{CertificateArn: arn})
	errCode(t, err, "ResourceNotFoundException")
	_, err = c.DeleteCertificate(ctx, &sdkacm.DeleteCertificateInput{CertificateArn: arn})
	errCode(t, err, "ResourceNotFoundException")
	if _, _, err := svc.KeyPair(*arn); !errors.Is(err, acm.ErrNotFound) {
		t.Fatalf("KeyPair after delete: %v", err)
	}
}

// TestTooManyTags: over 50 tags is TooManyTagsException, the error
// AddTagsToCertificate and ImportCertificate document, whether in one
// request or added to the tags a certificate has; none is stored.
func TestTooManyTags(t *testing.T) {
	_, c, _ := start(t)
	ctx := context.Background()
	tags := func(prefix string, n int) []types.Tag {
		var ts []types.Tag
		for i := range n {
			ts = append(ts, types.Tag{Key: aws.String(fmt.Sprintf("%s%d", prefix, i)), Value: aws.String("v")})
		}
		return ts
	}
	certPEM, keyPEM := newCert(t, ecKey(t), "tags.example.com")
	_, err := c.ImportCertificate(ctx, &sdkacm.ImportCertificateInput{Certificate: certPEM, PrivateKey: keyPEM, Tags: tags("k", 51)})
	errCode(t, err, "TooManyTagsException")
	out, err := c.ImportCertificate(ctx, &sdkacm.ImportCertificateInput{Certificate: certPEM, PrivateKey: keyPEM, Tags: tags("k", 50)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.AddTagsToCertificate(ctx, &sdkacm.AddTagsToCertificateInput{CertificateArn: out.CertificateArn, Tags: tags("n", 51)})
	errCode(t, err, "TooManyTagsException")
	_, err = c.AddTagsToCertificate(ctx, &sdkacm.AddTagsToCertificateInput{CertificateArn: out.CertificateArn, Tags: tags("n", 1)})
	errCode(t, err, "TooManyTagsException")
	// Setting a tag it has again is no new tag.
	if _, err = c.AddTagsToCertificate(ctx, &sdkacm.AddTagsToCertificateInput{CertificateArn: out.CertificateArn, Tags: tags("k", 2)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.ImportCertificate(ctx, &sdkacm.ImportCertificateInput{CertificateArn: out.CertificateArn,
		Certificate: certPEM, PrivateKey: keyPEM, Tags: tags("r", 1)})
	errCode(t, err, "TooManyTagsException")
	l, err := c.ListTagsForCertificate(ctx, &sdkacm.ListTagsForCertificateInput{CertificateArn: out.CertificateArn})
	if err != nil || len(l.Tags) != 50 {
		t.Fatalf("tags after refusals: %d, %v", len(l.Tags), err)
	}
	_, err = c.AddTagsToCertificate(ctx, &sdkacm.AddTagsToCertificateInput{CertificateArn: out.CertificateArn, Tags: []types.Tag{}})
	errCode(t, err, "ValidationException")
}
