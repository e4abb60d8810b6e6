package shadow_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/otactl/otactl/local"
	"github.com/otactl/otactl/local/localtest"
)

var ctx = context.Background()

// fixture is a full otactl local with signatures checked.
type fixture struct {
	t   *testing.T
	env *localtest.Env
}

func start(t *testing.T) *fixture {
	t.Helper()
	return &fixture{t: t, env: localtest.StartWith(t, local.Config{StrictAuth: true})}
}

// reply is one raw HTTP answer.
type reply struct {
	status int
	body   []byte
	header http.Header
}

func (r reply) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("response %d %s: %v", r.status, r.body, err)
	}
}

// call sends a SigV4-signed request for service ("iotdata": the signing
// name the SDKs use for the IoT data plane) as the SDKs sign it.
func (f *fixture) call(service, method, path, body string) reply {
	f.t.Helper()
	r := f.env.Signed(f.t, service, method, path, body)
	return reply{r.Status, r.Body, r.Header}
}

func (f *fixture) data(method, path, body string) reply {
	f.t.Helper()
	return f.call("iotdata", method, path, body)
}

// ok checks a 200 and decodes the document.
func (f *fixture) ok(r reply, v any) {
	f.t.Helper()
	if r.status != 200 {
		f.t.Fatalf("got %d %s", r.status, r.body)
	}
	if v != nil {
		r.decode(f.t, v)
	}
}

// expectError checks an error reply's status, exception and message.
func (f *fixture) expectError(r reply, status int, code, message string) {
	f.t.Helper()
	var e struct {
		Message string `json:"message"`
	}
	if r.status == status && r.header.Get("X-Amzn-ErrorType") == code {
		r.decode(f.t, &e)
	}
	if r.status != status || r.header.Get("X-Amzn-ErrorType") != code || e.Message != message {
		f.t.Fatalf("got %d %s %s, want %d %s %q", r.status, r.header.Get("X-Amzn-ErrorType"), r.body, status, code, message)
	}
}

// doc is a shadow document as GetThingShadow and UpdateThingShadow answer.
type doc struct {
	State struct {
		Desired  map[string]any `json:"desired"`
		Reported map[string]any `json:"reported"`
		Delta    map[string]any `json:"delta"`
	} `json:"state"`
	Metadata struct {
		Desired  map[string]any `json:"desired"`
		Reported map[string]any `json:"reported"`
	} `json:"metadata"`
	Version     int64  `json:"version"`
	Timestamp   int64  `json:"timestamp"`
	ClientToken string `json:"clientToken"`
}
