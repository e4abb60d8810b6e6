package local_test

import (
	"context"
	"errors"
	"github.com/otactl/otactl/internal/testtool"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/aws/smithy-go"
)

var ctx = context.Background()

func wantCode(t testing.TB, err error, code string, status int) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s error, got %v", code, err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("want code %s, got %s (%v)", code, ae.ErrorCode(), err)
	}
	var re interface{ HTTPStatusCode() int }
	if status > 0 && errors.As(err, &re) && re.HTTPStatusCode() != status {
		t.Fatalf("want status %d, got %d (%v)", status, re.HTTPStatusCode(), err)
	}
}

func httpGet(t testing.TB, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// tool finds an external client; missing, the test is skipped loudly, or
// fails under OTACTL_CI=1.
func tool(t testing.TB, name, install string) string {
	t.Helper()
	return testtool.Require(t, name, install)
}

// clientEnv is the environment for an external AWS client pointed at url.
func clientEnv(url string) []string {
	env := []string{"AWS_ENDPOINT_URL=" + url, "AWS_ACCESS_KEY_ID=AKIDLOCAL", "AWS_SECRET_ACCESS_KEY=secret",
		"AWS_DEFAULT_REGION=us-east-1", "AWS_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return env
}
