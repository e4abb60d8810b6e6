package jobsdata_test

import (
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

// installJSClient installs testdata/package.json's dependencies (the
// version it pins) and returns the path of testdata/jobsdata.cjs beside
// them.
func installJSClient(t *testing.T) string {
	t.Helper()
	pkg, err := os.ReadFile(filepath.Join("testdata", "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	script, err := os.ReadFile(filepath.Join("testdata", "jobsdata.cjs"))
	if err != nil {
		t.Fatal(err)
	}
	return testtool.NodeScript(t, pkg, script, "jobsdata", filepath.Join("@aws-sdk", "client-iot-jobs-data-plane", "package.json"))
}
