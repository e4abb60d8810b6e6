package jobsdata_test

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otactl/otactl/internal/testtool"
)

// TestJavaScriptSDK drives the data plane with the AWS SDK for JavaScript v3
// (@aws-sdk/client-iot-jobs-data-plane, the version testdata/package.json
// pins), the client the users reported against.
func TestJavaScriptSDK(t *testing.T) {
	node := testtool.Require(t, "node", "apt-get install nodejs")
	script := installJSClient(t)
	f := start(t)
	f.things("dev-js")
	f.job("job-js", doc, "dev-js")
	creds, err := f.env.Config.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(node, script, f.env.URL, creds.AccessKeyID, creds.SecretAccessKey, "dev-js", "job-js", doc)
	cmd.Env = append(os.Environ(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("node: %v\n%s", err, out)
	}
	want := `{"queued":["job-js"],"started":["job-js","IN_PROGRESS",2,"download"],` +
		`"mismatch":["VersionConflictException",409,2],"updated":["SUCCEEDED",3],` +
		`"transition":["InvalidStateTransitionException",409,3],"terminal":["TerminalStateException",410,null],` +
		`"notFound":["ResourceNotFoundException",404,null],"invalid":["InvalidRequestException",400,null],"next":null}`
	if got := strings.TrimSpace(string(out)); got != want {
		t.Fatalf("the JavaScript SDK saw %s\nwant %s", got, want)
	}
}

// installJSClient installs testdata/package.json's dependencies with npm
// into a cache directory keyed by its contents (once per machine, from the
// registry npm is configured with) and copies the script beside them. A
// missing npm, or an install that fails, skips the test loudly outside CI.
// It returns the path of a copy of testdata/jobsdata.cjs beside them.
func installJSClient(t *testing.T) string {
	t.Helper()
	npm := testtool.Require(t, "npm", "apt-get install npm")
	pkg, err := os.ReadFile(filepath.Join("testdata", "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile(filepath.Join("testdata", "jobsdata.cjs"))
	if err != nil {
		t.Fatal(err)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	sum := sha256.Sum256(pkg)
	dir := filepath.Join(cache, "otactl-test", "jobsdata-js-"+hex.EncodeToString(sum[:8]))
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@aws-sdk", "client-iot-jobs-data-plane", "package.json")); err != nil {
		// Install beside the final directory and rename it into place, so a
		// concurrent or interrupted run never sees half an installation.
		tmp := fmt.Sprintf("%s.tmp-%d", dir, os.Getpid())
		os.RemoveAll(tmp)
		defer os.RemoveAll(tmp)
		if err := os.MkdirAll(tmp, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tmp, "package.json"), pkg, 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(npm, "install", "--no-audit", "--no-fund", "--loglevel=error")
		cmd.Dir = tmp
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Logf("npm install: %v\n%s", err, out)
			testtool.Missing(t, "@aws-sdk/client-iot-jobs-data-plane (npm install failed)", "needs npm and its package registry")
		}
		if err := os.Rename(tmp, dir); err != nil && !os.IsExist(err) {
			if _, serr := os.Stat(dir); serr != nil { // not another run's install
				t.Fatal(err)
			}
		}
	}
	// The script beside its node_modules, so require() finds the client;
	// one copy per process, as other runs may share the directory.
	path := filepath.Join(dir, fmt.Sprintf("jobsdata-%d.cjs", os.Getpid()))
	if err := os.WriteFile(path, script, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(path) })
	return path
}
