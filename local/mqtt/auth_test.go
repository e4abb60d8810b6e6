package mqtt_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/eclipse/paho.golang/paho"

	"github.com/otactl/otactl/local/mqtt"
)

// TestTopicIsolation: a thing may only use $aws/things/{itself}/.
func TestTopicIsolation(t *testing.T) {
	e := newEnv(t, mqtt.Config{})
	e.thing("dev-1", "dev-2")
	e.stream("s1", body(1000))
	e.job("job-1", doc1, "dev-1")
	d1 := connect(t, e, "dev-1")
	d2 := connect(t, e, "dev-2")

	refused := []string{
		"$aws/things/dev-1/jobs/notify-next",
		"$aws/things/dev-1/jobs/$next/get/accepted",
		"$aws/things/dev-1/streams/s1/data/cbor",
		"$aws/things/+/jobs/notify",
		"$aws/things/#",
		"#",
		"other/topic",
	}
	for _, topic := range refused {
		if rc := d2.sub(topic); rc[0] != 0x87 {
			t.Errorf("dev-2 subscribing to %s: reason %#x, want 0x87 (not authorized)", topic, rc[0])
		}
	}
	if rc := d2.sub("$aws/things/dev-2/#"); rc[0] != 1 {
		t.Errorf("dev-2 subscribing to its own topics: reason %#x", rc[0])
	}

	// dev-1 works, and the answers to its requests reach only dev-1. (The
	// notify-next job-1 caused may reach dev-1 before or after its answer.)
	d1.sub("$aws/things/dev-1/jobs/notify-next")
	d1.pub("$aws/things/dev-1/jobs/$next/get", nil)
	d1.awaitJSON("$aws/things/dev-1/jobs/$next/get/accepted")
	d1.pub("$aws/things/dev-1/streams/s1/describe/json", nil)
	d1.awaitJSON("$aws/things/dev-1/streams/s1/description/json")
	d2.sync("dev-2")
	if n := d2.drain(); n != 0 {
		t.Errorf("dev-2 received %d messages meant for dev-1", n)
	}

	// Publishing under another thing's topics disconnects, as on AWS.
	d2.c.Publish(bg, &paho.Publish{Topic: "$aws/things/dev-1/jobs/start-next", Payload: []byte(`{}`)})
	select {
	case <-d2.c.Done():
	case <-time.After(wait):
		t.Fatal("dev-2 was not disconnected for publishing to dev-1's topic")
	}
	// ... and did not start dev-1's job.
	ex, err := e.api.DescribeJobExecution(bg, &sdkiot.DescribeJobExecutionInput{JobId: aws.String("job-1"), ThingName: aws.String("dev-1")})
	if err != nil || ex.Execution.Status != "QUEUED" {
		t.Fatalf("dev-1's execution: %+v, %v", ex, err)
	}
	// Client ids that cannot be thing names are refused on the plain port.
	if _, err := dial(t, e.broker.Addr(), "a/b", nil); err == nil {
		t.Error("client id with / accepted")
	}
}

// deviceCert creates an active certificate (optionally attached to thing)
// and returns the TLS configuration a device would use with it.
func deviceCert(t *testing.T, e *env, thing string, active bool) *tls.Config {
	t.Helper()
	out, err := e.api.CreateKeysAndCertificate(bg, &sdkiot.CreateKeysAndCertificateInput{SetAsActive: active})
	if err != nil {
		t.Fatal(err)
	}
	if thing != "" {
		if _, err := e.api.AttachThingPrincipal(bg, &sdkiot.AttachThingPrincipalInput{ThingName: aws.String(thing), Principal: out.CertificateArn}); err != nil {
			t.Fatal(err)
		}
	}
	pair, err := tls.X509KeyPair([]byte(*out.CertificatePem), []byte(*out.KeyPair.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{pair}, RootCAs: e.ca.Pool(), MinVersion: tls.VersionTLS12}
}

func TestMutualTLS(t *testing.T) {
	e := newEnv(t, mqtt.Config{})
	e.thing("dev-1", "dev-2")
	e.job("job-1", doc1, "dev-1")
	good := deviceCert(t, e, "dev-1", true)

	d, err := dial(t, e.broker.TLSAddr(), "dev-1", good)
	if err != nil {
		t.Fatalf("attached certificate: %v", err)
	}
	d.pub("$aws/things/dev-1/jobs/$next/get", nil)
	if m := d.nextJSON("$aws/things/dev-1/jobs/$next/get/accepted"); field(m, "execution", "jobId") != "job-1" {
		t.Fatalf("over TLS: %v", m)
	}
	// Even over TLS, a thing stays within its own topics.
	if rc := d.sub("$aws/things/dev-2/jobs/notify"); rc[0] != 0x87 {
		t.Errorf("TLS client subscribing to another thing: %#x", rc[0])
	}

	// The same certificate as another thing: refused at CONNECT.
	if _, err := dial(t, e.broker.TLSAddr(), "dev-2", good); err == nil {
		t.Error("dev-1's certificate connected as dev-2")
	}
	// An active certificate attached to nothing.
	if _, err := dial(t, e.broker.TLSAddr(), "dev-1", deviceCert(t, e, "", true)); err == nil {
		t.Error("unattached certificate connected")
	}
	// An attached but inactive certificate.
	if _, err := dial(t, e.broker.TLSAddr(), "dev-2", deviceCert(t, e, "dev-2", false)); err == nil {
		t.Error("inactive certificate connected")
	}
	// A certificate the registry never saw, even one signed by the same CA.
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := e.ca.IssueCertificate(key.Public(), "stranger")
	foreign := &tls.Config{RootCAs: e.ca.Pool(), Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	if _, err := dial(t, e.broker.TLSAddr(), "dev-1", foreign); err == nil {
		t.Error("unregistered certificate connected")
	}
	selfSigned := selfSignedConfig(t, e)
	if _, err := dial(t, e.broker.TLSAddr(), "dev-1", selfSigned); err == nil {
		t.Error("self-signed stranger connected")
	}
	// No certificate at all.
	if _, err := dial(t, e.broker.TLSAddr(), "dev-1", &tls.Config{RootCAs: e.ca.Pool()}); err == nil {
		t.Error("connected without a client certificate")
	}

	// Deactivating the certificate shuts the door for the next connection.
	out, _ := e.api.ListThingPrincipals(bg, &sdkiot.ListThingPrincipalsInput{ThingName: aws.String("dev-1")})
	id := out.Principals[0][strings.LastIndex(out.Principals[0], "/")+1:]
	if _, err := e.api.UpdateCertificate(bg, &sdkiot.UpdateCertificateInput{CertificateId: aws.String(id), NewStatus: "INACTIVE"}); err != nil {
		t.Fatal(err)
	}
	if _, err := dial(t, e.broker.TLSAddr(), "dev-1", good); err == nil {
		t.Error("deactivated certificate connected")
	}
}

func selfSignedConfig(t *testing.T, e *env) *tls.Config {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "x"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{RootCAs: e.ca.Pool(), Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}
