package sigv4

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// presignWebSocket signs wss://host/mqtt as AWS IoT's clients do: the Go
// SDK's presigner with the empty payload's hash, the expiry given (0:
// none), the session token appended afterwards.
func presignWebSocket(t *testing.T, host, service, secret, token string, expires int, at time.Time) string {
	t.Helper()
	u := "https://" + host + "/mqtt"
	if expires > 0 {
		u += "?X-Amz-Expires=" + itoa(expires)
	}
	req, _ := http.NewRequest("GET", u, nil)
	signed, _, err := v4.NewSigner().PresignHTTP(context.Background(), aws.Credentials{AccessKeyID: "AKIDWS", SecretAccessKey: secret},
		req, hexSHA256(nil), service, "us-east-1", at)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		signed += "&X-Amz-Security-Token=" + url.QueryEscape(token)
	}
	return signed
}

func itoa(n int) string { return strconv.Itoa(n) }

func upgradeRequest(signed, hostHeader string) *http.Request {
	u, _ := url.Parse(signed)
	r := httptest.NewRequest("GET", u.RequestURI(), nil)
	r.Host = hostHeader
	return r
}

func TestCheckWebSocket(t *testing.T) {
	now := time.Now().UTC()
	secret := func(ak string) (string, bool) { return "s3cret", ak == "AKIDWS" }
	for _, tc := range []struct {
		name    string
		url     string
		host    string
		wantErr Kind
		ok      bool
	}{
		{"signed host with port", presignWebSocket(t, "127.0.0.1:8443", WebSocketService, "s3cret", "", 0, now), "127.0.0.1:8443", 0, true},
		{"signed host without the port", presignWebSocket(t, "localhost", WebSocketService, "s3cret", "", 0, now), "localhost:8443", 0, true},
		{"session token appended after signing", presignWebSocket(t, "localhost", WebSocketService, "s3cret", "tok/en+=", 0, now), "localhost", 0, true},
		{"with X-Amz-Expires", presignWebSocket(t, "localhost", WebSocketService, "s3cret", "", 3600, now.Add(-30*time.Minute)), "localhost", 0, true},
		{"no X-Amz-Expires, 20 minutes old", presignWebSocket(t, "localhost", WebSocketService, "s3cret", "", 0, now.Add(-20*time.Minute)), "localhost", Expired, false},
		{"wrong secret", presignWebSocket(t, "localhost", WebSocketService, "other", "", 0, now), "localhost", Mismatch, false},
		{"wrong service", presignWebSocket(t, "localhost", "iot", "s3cret", "", 0, now), "localhost", Mismatch, false},
		{"another host", presignWebSocket(t, "evil.example", WebSocketService, "s3cret", "", 0, now), "localhost", Mismatch, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, err := CheckWebSocket(upgradeRequest(tc.url, tc.host), secret, now)
			if tc.ok {
				if err != nil || !id.Verified || id.AccessKey != "AKIDWS" {
					t.Fatalf("refused: %v %+v", err, id)
				}
				return
			}
			e, isErr := err.(*Error)
			if !isErr || e.Kind != tc.wantErr {
				t.Fatalf("got %v, want kind %d", err, tc.wantErr)
			}
		})
	}
	// A tampered query: the signature no longer matches.
	signed := presignWebSocket(t, "localhost", WebSocketService, "s3cret", "", 0, now)
	if _, err := CheckWebSocket(upgradeRequest(strings.Replace(signed, "X-Amz-Date=", "x=1&X-Amz-Date=", 1), "localhost"), secret, now); err == nil {
		t.Fatal("an added parameter passed")
	}
	if _, err := CheckWebSocket(upgradeRequest("https://localhost/mqtt", "localhost"), secret, now); err == nil {
		t.Fatal("an unsigned request passed")
	}
}

func FuzzCheckWebSocket(f *testing.F) {
	f.Add("/mqtt?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIDWS%2F20261201%2Fus-east-1%2Fiotdevicegateway%2Faws4_request&X-Amz-Date=20261201T000000Z&X-Amz-SignedHeaders=host&X-Amz-Signature=00&X-Amz-Security-Token=x", "localhost:1")
	f.Fuzz(func(t *testing.T, target, host string) {
		if !strings.HasPrefix(target, "/") || strings.ContainsAny(target, " \r\n") {
			return
		}
		r := &http.Request{Method: "GET", URL: &url.URL{Path: "/mqtt"}, RequestURI: target, Host: host, Header: http.Header{}}
		id, err := CheckWebSocket(r, func(string) (string, bool) { return "s", true }, time.Now())
		if err == nil && (id == nil || !id.Verified) {
			t.Fatal("accepted without verifying")
		}
	})
}
