package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestLocalHTTPSHelp: --help says what the HTTPS flags do, that
// device-facing presigned URLs use the public endpoint, and what
// DescribeEndpoint answers per type; a public endpoint that is not
// HOST[:PORT] is invalid input.
func TestLocalHTTPSHelp(t *testing.T) {
	var out, errb bytes.Buffer
	Main([]string{"local", "--help"}, &out, &errb)
	for _, s := range []string{"--https-addr", "--public-endpoint", "Device-facing presigned URLs", "https://localhost/<bucket>/<key>",
		"iot:Data-ATS", "iot:Jobs", "iot:CredentialProvider", "ca.pem"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("help lacks %q", s)
		}
	}
	for _, bad := range []string{"https://localhost", "localhost/path", "localhost:99999"} {
		var out, errb bytes.Buffer
		args := []string{"local", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0", "--mqtts-addr", "", "--public-endpoint", bad}
		if code := Main(args, &out, &errb); code != ExitInvalid {
			t.Errorf("--public-endpoint %q: exit %d, want %d (%s)", bad, code, ExitInvalid, errb.String())
		}
	}
}

// lockedBuffer is the command's output, written by it and read by the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestLocalHTTPSBanner: otactl local --https-addr prints the HTTPS address
// and the public endpoint presigned URLs carry, and the listener answers
// over TLS with a certificate ca.pem verifies for localhost.
func TestLocalHTTPSBanner(t *testing.T) {
	dir := t.TempDir()
	out, m := runLocalUntil(t, regexp.MustCompile(`# presigned URLs for devices and DescribeEndpoint iot:Jobs: https://localhost:(\d+)\n`),
		"--data-dir", dir, "--addr", "127.0.0.1:0", "--mqtts-addr", "", "--https-addr", "127.0.0.1:0")
	if !strings.Contains(out.String(), "# HTTPS: https://127.0.0.1:"+m[1]+", CA certificate "+filepath.Join(dir, "ca.pem")) {
		t.Fatalf("banner lacks the HTTPS line:\n%s", out.String())
	}
	pem, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	resp, err := c.Get("https://localhost:" + m[1] + "/some-bucket/key")
	if err != nil {
		t.Fatalf("GET over HTTPS: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(string(body), "<Code>AccessDenied</Code>") {
		t.Fatalf("unsigned GET over HTTPS: %d %s", resp.StatusCode, body)
	}
}

// runLocalUntil runs otactl local with args until the test ends, and
// returns its output once banner matches it, with the match.
func runLocalUntil(t *testing.T, banner *regexp.Regexp, args ...string) (*lockedBuffer, []string) {
	t.Helper()
	cmd := newLocalCmd()
	out := &lockedBuffer{}
	cmd.SetOut(out)
	cmd.SetErr(io.Discard)
	cmd.SetArgs(args)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- cmd.ExecuteContext(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("otactl local: %v", err)
		}
	})
	for {
		if m := banner.FindStringSubmatch(out.String()); m != nil {
			return out, m
		}
		select {
		case err := <-done:
			done <- err
			t.Fatalf("otactl local exited (%v):\n%s", err, out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
}
