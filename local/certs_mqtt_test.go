package local_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	iottypes "github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/otactl/otactl/internal/mqttwire"
	"github.com/otactl/otactl/internal/testtool"
	"github.com/otactl/otactl/local/localtest"
	"github.com/otactl/otactl/local/mqtt"
)

// connectPolicy lets a device connect with any client id and use its
// thing's topics: the policy each certificate below gets, so that what the
// test shows is the certificate's origin and status at work.
const connectPolicy = `{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":"iot:Connect","Resource":"*"},
 {"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":"arn:aws:iot:us-east-1:000000000000:topic/$aws/things/*"},
 {"Effect":"Allow","Action":"iot:Subscribe","Resource":"arn:aws:iot:us-east-1:000000000000:topicfilter/$aws/things/*"}]}`

// TestCertificatesOverMutualTLS: devices whose certificates come from
// CreateKeysAndCertificate (paho), CreateCertificateFromCsr (the project's
// MQTT client) and the user's own CA registered with RegisterCACertificate
// + RegisterCertificate (mosquitto_pub) connect to the broker over mutual
// TLS with a thing attached and use the Jobs API; once their certificate
// is REVOKED (or INACTIVE) they cannot connect.
func TestCertificatesOverMutualTLS(t *testing.T) {
	mosquittoPub := testtool.Require(t, "mosquitto_pub", "apt-get install mosquitto-clients")
	e := localtest.Start(t)
	b, err := e.Server.StartMQTT(mqtt.Config{TLSAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	iotc := sdkiot.NewFromConfig(e.Config)
	caFile := filepath.Join(e.Server.Config().DataDir, mqtt.CAFile)
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(iotc.CreatePolicy(ctx, &sdkiot.CreatePolicyInput{PolicyName: aws.String("devices"), PolicyDocument: aws.String(connectPolicy)}))
	// provision makes the thing and attaches the certificate and the policy.
	provision := func(thing, certArn string) {
		t.Helper()
		must(iotc.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String(thing)}))
		must(iotc.AttachThingPrincipal(ctx, &sdkiot.AttachThingPrincipalInput{ThingName: aws.String(thing), Principal: aws.String(certArn)}))
		must(iotc.AttachPolicy(ctx, &sdkiot.AttachPolicyInput{PolicyName: aws.String("devices"), Target: aws.String(certArn)}))
	}
	setStatus := func(id *string, s iottypes.CertificateStatus) {
		t.Helper()
		must(iotc.UpdateCertificate(ctx, &sdkiot.UpdateCertificateInput{CertificateId: id, NewStatus: s}))
	}

	// (a) CreateKeysAndCertificate: an RSA key pair, over paho (MQTT 5).
	kc, err := iotc.CreateKeysAndCertificate(ctx, &sdkiot.CreateKeysAndCertificateInput{SetAsActive: true})
	if err != nil {
		t.Fatal(err)
	}
	provision("dev-keys", *kc.CertificateArn)
	pairA, err := tls.X509KeyPair([]byte(*kc.CertificatePem), []byte(*kc.KeyPair.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	tlsA := &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{pairA}}
	d := dialDevice(t, b.TLSAddr(), "dev-keys", tlsA)
	d.ask("$aws/things/dev-keys/jobs/get", []byte(`{"clientToken":"a"}`), "$aws/things/dev-keys/jobs/get/accepted")

	// (b) CreateCertificateFromCsr: the device keeps its key, over the
	// project's MQTT 3.1.1 client.
	keyB, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	csr, _ := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: "dev-csr"}}, keyB)
	fc, err := iotc.CreateCertificateFromCsr(ctx, &sdkiot.CreateCertificateFromCsrInput{SetAsActive: true,
		CertificateSigningRequest: aws.String(string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: csr})))})
	if err != nil {
		t.Fatal(err)
	}
	provision("dev-csr", *fc.CertificateArn)
	cb, _ := pem.Decode([]byte(*fc.CertificatePem))
	tlsB := &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{{Certificate: [][]byte{cb.Bytes}, PrivateKey: keyB}}}
	wireAsk(t, b.TLSAddr(), "dev-csr", tlsB)

	// (c) The user's own CA: registered with its verification certificate,
	// then a device certificate it signed, over mosquitto_pub.
	userCA := newUserCA(t)
	code, err := iotc.GetRegistrationCode(ctx, &sdkiot.GetRegistrationCodeInput{})
	if err != nil {
		t.Fatal(err)
	}
	verification, _ := userCA.issue(t, *code.RegistrationCode)
	must(iotc.RegisterCACertificate(ctx, &sdkiot.RegisterCACertificateInput{CaCertificate: aws.String(userCA.pem),
		VerificationCertificate: aws.String(verification), SetAsActive: true}))
	devPEM, keyC := userCA.issue(t, "dev-ca")
	rc, err := iotc.RegisterCertificate(ctx, &sdkiot.RegisterCertificateInput{CertificatePem: aws.String(devPEM), Status: iottypes.CertificateStatusActive})
	if err != nil {
		t.Fatal(err)
	}
	provision("dev-ca", *rc.CertificateArn)
	dir := t.TempDir()
	kder, _ := x509.MarshalECPrivateKey(keyC)
	os.WriteFile(filepath.Join(dir, "cert.pem"), []byte(devPEM), 0o600)
	os.WriteFile(filepath.Join(dir, "key.pem"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	_, port, _ := net.SplitHostPort(b.TLSAddr())
	pub := func() error {
		cmd := exec.Command(mosquittoPub, "-h", "localhost", "-p", port, "-i", "dev-ca", "-q", "1",
			"--cafile", caFile, "--cert", filepath.Join(dir, "cert.pem"), "--key", filepath.Join(dir, "key.pem"),
			"-t", "$aws/things/dev-ca/jobs/get", "-m", `{}`)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return &exitError{err, string(out)}
		}
		return nil
	}
	if err := pub(); err != nil {
		t.Fatalf("mosquitto_pub with the user's CA's certificate: %v", err)
	}

	// REVOKED (a, c) and INACTIVE (b) certificates cannot connect.
	setStatus(kc.CertificateId, iottypes.CertificateStatusRevoked)
	setStatus(rc.CertificateId, iottypes.CertificateStatusRevoked)
	setStatus(fc.CertificateId, iottypes.CertificateStatusInactive)
	if c, err := wireConnect(b.TLSAddr(), "dev-keys", tlsA); err == nil {
		c.Disconnect()
		t.Error("a REVOKED certificate (CreateKeysAndCertificate) connected")
	}
	if c, err := wireConnect(b.TLSAddr(), "dev-csr", tlsB); err == nil {
		c.Disconnect()
		t.Error("an INACTIVE certificate (CreateCertificateFromCsr) connected")
	}
	if err := pub(); err == nil {
		t.Error("mosquitto_pub with a REVOKED certificate of the user's CA succeeded")
	}
}

type exitError struct {
	err error
	out string
}

func (e *exitError) Error() string { return e.err.Error() + ": " + e.out }

// wireConnect connects with internal/mqttwire over TLS.
func wireConnect(addr, id string, tc *tls.Config) (*mqttwire.Client, error) {
	nc, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", addr, tc)
	if err != nil {
		return nil, err
	}
	c, err := mqttwire.Connect(nc, id, 0, 20*time.Second, func(string, []byte) {})
	if err != nil {
		nc.Close()
		return nil, err
	}
	return c, nil
}

// wireAsk connects with internal/mqttwire and asks the Jobs API for the
// thing's jobs: the answer comes without a subscription.
func wireAsk(t *testing.T, addr, thing string, tc *tls.Config) {
	t.Helper()
	nc, err := tls.Dial("tcp", addr, tc)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 16)
	c, err := mqttwire.Connect(nc, thing, 0, 20*time.Second, func(topic string, _ []byte) { got <- topic })
	if err != nil {
		nc.Close()
		t.Fatalf("%s: %v", thing, err)
	}
	defer c.Disconnect()
	if err := c.Publish(20*time.Second, "$aws/things/"+thing+"/jobs/get", 1, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	select {
	case topic := <-got:
		if topic != "$aws/things/"+thing+"/jobs/get/accepted" {
			t.Fatalf("%s: answer on %s", thing, topic)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: no answer to jobs/get", thing)
	}
}

// userCA is a device maker's own CA.
type userCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  string
}

func newUserCA(t *testing.T) *userCA {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Factory CA", Organization: []string{"Maker"}},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	return &userCA{cert: cert, key: key, pem: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))}
}

// issue signs a client certificate for a new P-256 key.
func (ca *userCA) issue(t *testing.T, cn string) (string, *ecdsa.PrivateKey) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 64))
	tmpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().AddDate(1, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), key
}
