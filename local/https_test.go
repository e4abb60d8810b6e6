package local_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	sdks3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/otactl/otactl/local"
	"github.com/otactl/otactl/local/localtest"
	"github.com/otactl/otactl/local/mqtt"
)

// httpsEnv is a server with its HTTPS listener on and what a device
// trusts: the environment's CA from <data dir>/ca.pem.
type httpsEnv struct {
	*localtest.Env
	roots *x509.CertPool
}

func startHTTPS(t *testing.T, cfg local.Config) *httpsEnv {
	t.Helper()
	cfg.HTTPSAddr = "127.0.0.1:0"
	e := localtest.StartWith(t, cfg)
	if e.Server.HTTPSAddr() == "" {
		t.Fatal("HTTPSAddr() is empty after Start")
	}
	pem, err := os.ReadFile(filepath.Join(e.Server.Config().DataDir, mqtt.CAFile))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		t.Fatal("ca.pem holds no certificate")
	}
	return &httpsEnv{Env: e, roots: roots}
}

// client is a Go HTTP client trusting only ca.pem. With dialTo set it
// connects there whatever the URL's host and port, as a device whose DNS
// (or port forward) maps the public name to the listener.
func (e *httpsEnv) client(dialTo string) *http.Client {
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: e.roots}}
	if dialTo != "" {
		tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, dialTo)
		}
	}
	return &http.Client{Transport: tr}
}

func (e *httpsEnv) upload(t *testing.T, bucket, key, body string) {
	t.Helper()
	c := e.S3() // plain HTTP on loopback, as SDKs use it
	if _, err := c.CreateBucket(ctx, &sdks3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, &sdks3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body)}); err != nil {
		t.Fatal(err)
	}
}

func get(t *testing.T, c *http.Client, u, host string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	if host != "" {
		req.Host = host
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func bothModes(t *testing.T, f func(t *testing.T, strict bool)) {
	for _, strict := range []bool{false, true} {
		name := "default"
		if strict {
			name = "strict-auth"
		}
		t.Run(name, func(t *testing.T) { f(t, strict) })
	}
}

// TestHTTPSPresignedDefault: with HTTPS on and no public endpoint, the
// server presigns https://localhost:<https port>/bucket/key?...; the Go
// HTTP client trusting only ca.pem downloads it, also through 127.0.0.1
// (no SNI is sent for an IP) with the Host it was signed for; a tampered
// link is refused over TLS as over plain HTTP.
func TestHTTPSPresignedDefault(t *testing.T) {
	bothModes(t, func(t *testing.T, strict bool) {
		e := startHTTPS(t, local.Config{StrictAuth: strict})
		_, port, _ := net.SplitHostPort(e.Server.HTTPSAddr())
		if got, want := e.Server.PublicEndpoint(), "localhost:"+port; got != want {
			t.Fatalf("PublicEndpoint() = %q, want %q", got, want)
		}
		if got := e.Server.Config().PublicEndpoint; got != "localhost:"+port {
			t.Fatalf("Config().PublicEndpoint = %q", got)
		}
		e.upload(t, "fwb", "dir/image v1.bin", "firmware")
		u, err := e.Server.S3().PresignGet("fwb", "dir/image v1.bin", "", time.Minute, "")
		if err != nil {
			t.Fatal(err)
		}
		if prefix := "https://localhost:" + port + "/fwb/dir/image%20v1.bin?"; !strings.HasPrefix(u, prefix) {
			t.Fatalf("presigned URL %s, want prefix %s", u, prefix)
		}
		if code, body := get(t, e.client(""), u, ""); code != 200 || body != "firmware" {
			t.Fatalf("GET over HTTPS: %d %q", code, body)
		}
		viaIP := strings.Replace(u, "https://localhost:", "https://127.0.0.1:", 1)
		if code, body := get(t, e.client(""), viaIP, "localhost:"+port); code != 200 || body != "firmware" {
			t.Fatalf("GET over HTTPS without SNI: %d %q", code, body)
		}
		// Requested with another Host than the one signed: SigV4 covers it.
		if code, body := get(t, e.client(""), viaIP, ""); code != 403 || !strings.Contains(body, "SignatureDoesNotMatch") {
			t.Fatalf("GET with an unsigned Host: %d %s", code, body)
		}
		tampered := strings.Replace(u, "image%20v1", "image%20v2", 1)
		if code, body := get(t, e.client(""), tampered, ""); code != 403 || !strings.Contains(body, "SignatureDoesNotMatch") {
			t.Fatalf("tampered GET: %d %s", code, body)
		}
		// A client that does not trust ca.pem refuses the server.
		if _, err := http.Get(u); err == nil {
			t.Fatal("a client without ca.pem accepted the server certificate")
		}
		// Plain HTTP stays for SDKs on loopback.
		if _, err := e.S3().HeadObject(ctx, &sdks3.HeadObjectInput{Bucket: aws.String("fwb"), Key: aws.String("dir/image v1.bin")}); err != nil {
			t.Fatalf("HeadObject over plain HTTP: %v", err)
		}
	})
}

// TestHTTPSPublicEndpoint: a public endpoint without a port (or with 443)
// gives https://<host>/bucket/key with no port, as S3's URLs; requested
// as a device does it (the host from the URL, the listener's port dialed,
// Host without a port) it verifies. A public name outside localhost is in
// the certificate.
func TestHTTPSPublicEndpoint(t *testing.T) {
	for _, tc := range []struct{ public, host, prefix string }{
		{"localhost", "localhost", "https://localhost/fwb/image.bin?"},
		{"localhost:443", "localhost", "https://localhost/fwb/image.bin?"},
		{"devices.example:8443", "devices.example:8443", "https://devices.example:8443/fwb/image.bin?"},
		{"devices.example", "devices.example", "https://devices.example/fwb/image.bin?"},
	} {
		t.Run(tc.public, func(t *testing.T) {
			bothModes(t, func(t *testing.T, strict bool) {
				e := startHTTPS(t, local.Config{StrictAuth: strict, PublicEndpoint: tc.public})
				e.upload(t, "fwb", "image.bin", "firmware")
				u, err := e.Server.S3().PresignGet("fwb", "image.bin", "", time.Minute, "")
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(u, tc.prefix) {
					t.Fatalf("presigned URL %s, want prefix %s", u, tc.prefix)
				}
				// The URL as it is: the client sends Host and SNI from it.
				if code, body := get(t, e.client(e.Server.HTTPSAddr()), u, ""); code != 200 || body != "firmware" {
					t.Fatalf("GET %s: %d %q", u, code, body)
				}
			})
		})
	}
	for _, bad := range []string{"https://localhost", "localhost/x", "localhost:0", "localhost:x", "user@localhost"} {
		if _, err := local.New(local.Config{DataDir: t.TempDir(), PublicEndpoint: bad}); err == nil {
			t.Errorf("New accepted PublicEndpoint %q", bad)
		}
	}
}

// TestHTTPSWithoutPublicEndpoint: no HTTPS, no public endpoint: presigned
// URLs stay on the plain listener, as before.
func TestHTTPSOff(t *testing.T) {
	e := localtest.Start(t)
	if e.Server.HTTPSAddr() != "" {
		t.Fatalf("HTTPSAddr() = %q without HTTPS", e.Server.HTTPSAddr())
	}
	u, err := e.Server.S3().PresignGet("fwb", "image.bin", "", time.Minute, "")
	if err != nil || !strings.HasPrefix(u, e.URL+"/fwb/image.bin?") {
		t.Fatalf("presigned URL %s, %v; want it on %s", u, err, e.URL)
	}
}

// TestHTTPSSDK: the AWS SDK for Go v2 over the HTTPS listener, trusting
// ca.pem: S3 (an upload with the SDK's default checksums, a download) and
// IoT, in both modes.
func TestHTTPSSDK(t *testing.T) {
	bothModes(t, func(t *testing.T, strict bool) {
		e := startHTTPS(t, local.Config{StrictAuth: strict})
		ak, sk := e.Server.PresignCredentials()
		cfg := localtest.Config("https://"+e.Server.PublicEndpoint(), e.Config.Region, ak, sk)
		cfg.HTTPClient = e.client("")
		s3c := sdks3.NewFromConfig(cfg, func(o *sdks3.Options) { o.UsePathStyle = true })
		if _, err := s3c.CreateBucket(ctx, &sdks3.CreateBucketInput{Bucket: aws.String("tls-bucket")}); err != nil {
			t.Fatal(err)
		}
		body := strings.Repeat("0123456789abcdef", 40000) // 640,000 bytes
		if _, err := s3c.PutObject(ctx, &sdks3.PutObjectInput{Bucket: aws.String("tls-bucket"), Key: aws.String("a&b.bin"),
			Body: strings.NewReader(body)}); err != nil {
			t.Fatalf("PutObject over HTTPS: %v", err)
		}
		out, err := s3c.GetObject(ctx, &sdks3.GetObjectInput{Bucket: aws.String("tls-bucket"), Key: aws.String("a&b.bin")})
		if err != nil {
			t.Fatalf("GetObject over HTTPS: %v", err)
		}
		got, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if string(got) != body {
			t.Fatalf("GetObject: %d bytes, want %d", len(got), len(body))
		}
		iotc := sdkiot.NewFromConfig(cfg)
		if _, err := iotc.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String("tls-thing")}); err != nil {
			t.Fatalf("CreateThing over HTTPS: %v", err)
		}
		if strict {
			bad := localtest.Config("https://"+e.Server.PublicEndpoint(), e.Config.Region, ak, "wrong")
			bad.HTTPClient = e.client("")
			_, err := sdkiot.NewFromConfig(bad).ListThings(ctx, &sdkiot.ListThingsInput{})
			wantCode(t, err, "InvalidSignatureException", 403)
		}
	})
}
