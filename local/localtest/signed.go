package localtest

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Reply is an HTTP answer as a test reads it.
type Reply struct {
	Status int
	Body   []byte
	Header http.Header
}

// Signed sends method path (under e.URL) with a JSON body ("" for none),
// SigV4-signed for service with e.Config's credentials and region as the
// SDKs sign it, and returns the answer. It is for the services whose Go
// SDK modules the module proxy here does not serve (iot-jobs-data,
// iotdata), and for requests an SDK would not send.
func (e *Env) Signed(t testing.TB, service, method, path, body string) Reply {
	t.Helper()
	req, err := http.NewRequest(method, e.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	creds, err := e.Config.Credentials.Retrieve(Ctx())
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(Ctx(), creds, req, hex.EncodeToString(sum[:]), service, e.Config.Region, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return Reply{resp.StatusCode, raw, resp.Header}
}
