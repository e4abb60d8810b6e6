package awscloud_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/otactl/otactl/awscloud"
)

// counted serves every request with AccessDenied (not retried) and
// counts them: a count that grows means the request got through TLS.
func counted(tls bool) (*httptest.Server, *atomic.Int32) {
	var n atomic.Int32
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>test</Message></Error><RequestId>1</RequestId></ErrorResponse>`))
	})
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	if tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	return srv, &n
}

func pemFile(t *testing.T, der ...[]byte) string {
	t.Helper()
	var b []byte
	for _, d := range der {
		b = append(b, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: d})...)
	}
	path := filepath.Join(t.TempDir(), "bundle.pem")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func otherCA(t *testing.T) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "not the server's CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// TestCABundle: AWS_CA_BUNDLE is what HTTPS servers are checked against,
// as the SDK does it, but the bundle is read only when the first HTTPS
// request is made: over plain HTTP a bundle removed after the
// configuration was loaded is never missed; over HTTPS it is, and a
// server the bundle does not vouch for is refused. Real TLS servers, the
// SDK's STS client.
func TestCABundle(t *testing.T) {
	for k, v := range map[string]string{"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret",
		"AWS_REGION": "us-east-1", "AWS_PROFILE": "", "AWS_CONFIG_FILE": os.DevNull, "AWS_SHARED_CREDENTIALS_FILE": os.DevNull,
		"AWS_ENDPOINT_URL": "", "AWS_MAX_ATTEMPTS": "1"} {
		t.Setenv(k, v)
	}
	tlsSrv, tlsCalls := counted(true)
	defer tlsSrv.Close()
	plain, plainCalls := counted(false)
	defer plain.Close()
	newCloud := func(bundle, endpoint string) *awscloud.Cloud {
		t.Helper()
		t.Setenv("AWS_CA_BUNDLE", bundle)
		c, err := awscloud.New(ctx, awscloud.Options{EndpointURL: endpoint})
		if err != nil {
			t.Fatalf("New with AWS_CA_BUNDLE %s: %v", bundle, err)
		}
		return c
	}
	good := pemFile(t, otherCA(t), tlsSrv.Certificate().Raw) // the server's not first: the whole bundle counts

	// Plain HTTP: the bundle is gone before the first call and not missed.
	gone := filepath.Join(t.TempDir(), "gone.pem")
	raw, _ := os.ReadFile(good)
	os.WriteFile(gone, raw, 0o600)
	c := newCloud(gone, plain.URL)
	os.Remove(gone)
	if _, err := c.AccountID(ctx); plainCalls.Load() != 1 || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("over HTTP with the bundle removed: %d calls served, %v", plainCalls.Load(), err)
	}

	// HTTPS: the server the bundle names is trusted.
	c = newCloud(good, tlsSrv.URL)
	if _, err := c.AccountID(ctx); tlsCalls.Load() != 1 || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("over HTTPS with the server's certificate in the bundle: %d calls served, %v", tlsCalls.Load(), err)
	}
	// Text before the first certificate, longer than one read: still found.
	raw2 := append([]byte(strings.Repeat("# a comment line of a hand-made bundle\n", 600)), raw...)
	commented := filepath.Join(t.TempDir(), "commented.pem")
	os.WriteFile(commented, raw2, 0o600)
	c = newCloud(commented, tlsSrv.URL)
	if _, err := c.AccountID(ctx); tlsCalls.Load() != 2 || !strings.Contains(err.Error(), "AccessDenied") {
		t.Fatalf("over HTTPS with a commented bundle: %d calls served, %v", tlsCalls.Load(), err)
	}
	// HTTPS, the bundle removed after New: the first HTTPS request reads it.
	os.WriteFile(gone, raw, 0o600)
	c = newCloud(gone, tlsSrv.URL)
	os.Remove(gone)
	if _, err := c.AccountID(ctx); tlsCalls.Load() != 2 || err == nil || !strings.Contains(err.Error(), "AWS_CA_BUNDLE") {
		t.Fatalf("over HTTPS with the bundle removed: %d calls served, %v", tlsCalls.Load(), err)
	}
	// HTTPS, a bundle without the server's CA: refused before any request.
	c = newCloud(pemFile(t, otherCA(t)), tlsSrv.URL)
	if _, err := c.AccountID(ctx); tlsCalls.Load() != 2 || err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Fatalf("over HTTPS with a bundle that does not vouch for the server: %d calls served, %v", tlsCalls.Load(), err)
	}

	// A bundle that is missing or holds no certificate fails New, as the
	// SDK's loading did.
	for _, bad := range []string{filepath.Join(t.TempDir(), "missing.pem"), pemFile(t)} {
		t.Setenv("AWS_CA_BUNDLE", bad)
		if _, err := awscloud.New(ctx, awscloud.Options{EndpointURL: plain.URL}); err == nil || !strings.Contains(err.Error(), "AWS_CA_BUNDLE") {
			t.Errorf("New with AWS_CA_BUNDLE %s: %v", bad, err)
		}
	}
}
