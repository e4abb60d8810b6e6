package bootstrap

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"strings"
	"testing"
	"time"
)

func pair(t *testing.T, rsaKey bool) (certPEM, keyPEM []byte) {
	t.Helper()
	var priv any
	var pub any
	if rsaKey {
		k, _ := rsa.GenerateKey(rand.Reader, 2048)
		priv, pub = k, &k.PublicKey
	} else {
		k, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		priv, pub = k, &k.PublicKey
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "c"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, pub, priv)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalPKCS8PrivateKey(priv)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

func TestCheckPair(t *testing.T) {
	c1, k1 := pair(t, false)
	_, k2 := pair(t, false)
	cr, kr := pair(t, true)
	if _, err := checkPair(c1, k1); err != nil {
		t.Fatal(err)
	}
	if _, err := checkPair(c1, k2); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("mismatched pair: %v", err)
	}
	if _, err := checkPair(k1, c1); err == nil {
		t.Fatal("swapped files accepted")
	}
	rc, err := checkPair(cr, kr)
	if err != nil {
		t.Fatal(err)
	}
	s := &signing{cert: rc}
	if err := s.fits(Platform{ID: "AmazonFreeRTOS-Default", Algorithms: []string{"ECDSA"}}); err == nil {
		t.Fatal("an RSA key fits an ECDSA platform")
	}
	if err := s.fits(Platform{ID: "AmazonFreeRTOS-TI-CC3220SF", Algorithms: []string{"RSA"}}); err != nil {
		t.Fatal(err)
	}
}

func TestMakeSigning(t *testing.T) {
	c := Config{Name: "u", OutDir: t.TempDir(), CertName: "code_sign.crt"}
	s, err := c.makeSigning()
	if err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(c.signingKey()); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", st, err)
	}
	if err := s.fits(Platform{Algorithms: []string{"ECDSA"}}); err != nil {
		t.Fatal(err)
	}
	if len(s.cert.ExtKeyUsage) != 1 || s.cert.ExtKeyUsage[0] != x509.ExtKeyUsageCodeSigning {
		t.Fatalf("extended key usage %v", s.cert.ExtKeyUsage)
	}
	again, err := c.loadSigning()
	if err != nil || again == nil || !again.cert.Equal(s.cert) {
		t.Fatalf("a second run does not find the pair: %v", err)
	}
	// A certificate whose key never got written is not a pair.
	os.Remove(c.signingKey())
	if s, err := c.loadSigning(); s != nil || err != nil {
		t.Fatalf("half a pair: %v %v", s, err)
	}
}

func TestNames(t *testing.T) {
	c := Config{Devices: 2}
	if err := c.names("123456789012", "eu-west-1"); err != nil {
		t.Fatal(err)
	}
	if c.Bucket != "otactl-otactl-123456789012-eu-west-1" || c.Profile != "otactl_otactl" || c.Group != "otactl-otactl-devices" ||
		strings.Join(c.Things, ",") != "otactl-device-1,otactl-device-2" || c.OutDir != "otactl-bootstrap-otactl" {
		t.Fatalf("%+v", c)
	}
	for _, bad := range []Config{{Name: "Upper"}, {Name: "x", Devices: 1, Things: []string{"a"}}, {Name: "x", CertFile: "c"},
		{Name: "x", CertName: "a/b"}, {Name: "x", Devices: -1}, {Name: "a-very-long-name-that-is-too-long"}} {
		if err := bad.names("1", "r"); err == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
}

func TestHeader(t *testing.T) {
	h := header("dev-1", "a1b2-ats.iot.eu-west-1.amazonaws.com", 8883, AmazonCAFile, "dev-1.crt", "dev-1.key", "code_sign.crt", "n")
	for _, want := range []string{
		`#define AWS_IOT_ENDPOINT    "a1b2-ats.iot.eu-west-1.amazonaws.com"`,
		`#define AWS_MQTT_PORT    ( 8883 )`,
		`#define CLIENT_IDENTIFIER    "dev-1"`,
		`#define ROOT_CA_CERT_PATH    "AmazonRootCA1.pem"`,
		`#define CLIENT_CERT_PATH    "dev-1.crt"`,
		`#define CLIENT_PRIVATE_KEY_PATH    "dev-1.key"`,
		"#ifndef CLIENT_IDENTIFIER",
	} {
		if !strings.Contains(h, want) {
			t.Errorf("header lacks %q:\n%s", want, h)
		}
	}
	if host, port := splitEndpoint("localhost:4567"); host != "localhost" || port != 4567 {
		t.Fatal(host, port)
	}
	if host, port := splitEndpoint("x-ats.iot.us-east-1.amazonaws.com"); host != "x-ats.iot.us-east-1.amazonaws.com" || port != 8883 {
		t.Fatal(host, port)
	}
}
