package cli

import (
	"encoding/json"
	"net"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestVersion (M16): otactl version, --version and version -o json.
func TestVersion(t *testing.T) {
	code, out, _ := run(t, "version")
	code2, out2, _ := run(t, "--version")
	if code != ExitOK || code2 != ExitOK || !strings.HasPrefix(out, "otactl ") || out != out2 || !strings.Contains(out, "go1.") {
		t.Fatalf("version: %d %q, --version: %d %q", code, out, code2, out2)
	}
	_, out, _ = run(t, "version", "-o", "json")
	var v buildVersion
	if err := json.Unmarshal([]byte(out), &v); err != nil || v.Version == "" || v.GoVersion == "" || v.Platform == "" {
		t.Fatalf("version json: %v %s", err, out)
	}
}

// TestDebugLogsEveryCall (M16): --debug prints one line per AWS call with
// the operation, the URL, the HTTP status, the request id and the time.
func TestDebugLogsEveryCall(t *testing.T) {
	_, url := localEnv(t)
	spec := writeSpec(t, "dbg-1")
	code, out, errOut := run(t, "create", "-f", spec, "--endpoint-url", url, "--debug")
	if code != ExitOK {
		t.Fatalf("create: %d\n%s\n%s", code, out, errOut)
	}
	line := regexp.MustCompile(`(?m)^debug: \d\d:\d\d:\d\d\.\d{3} (\w+)\.(\w+) (GET|PUT|POST|HEAD|DELETE|PATCH) ` + regexp.QuoteMeta(url) + `/\S* status=(\d{3}) request-id=(\S+) \S+$`)
	ops := map[string]bool{}
	for _, m := range line.FindAllStringSubmatch(errOut, -1) {
		ops[m[1]+"."+m[2]] = true
		// AWS answers every call with a request id (S3's header, or
		// x-amzn-RequestId); so does otactl local.
		if m[5] == "-" {
			t.Errorf("no request id: %s", m[0])
		}
	}
	for _, want := range []string{"S3.HeadObject", "signer.StartSigningJob", "IoT.CreateStream", "IoT.CreateJob"} {
		if !ops[want] {
			t.Errorf("--debug did not log %s; logged %v\n%s", want, ops, errOut)
		}
	}
	if strings.Contains(out, "debug:") {
		t.Errorf("debug lines on stdout")
	}
	// Without --debug, nothing of it.
	if _, _, errOut := run(t, "list", "--endpoint-url", url); strings.Contains(errOut, "debug:") {
		t.Errorf("debug output without --debug: %s", errOut)
	}
}

// TestCloudErrorsInPlainWords (M9): an endpoint that does not answer and
// missing credentials are said plainly, with the endpoint and what to check.
func TestCloudErrorsInPlainWords(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_MAX_ATTEMPTS", "1")
	code, _, errOut := run(t, "list", "--endpoint-url", closed)
	if code != ExitFailure || !strings.HasPrefix(errOut, "otactl: cannot reach "+closed+" (connection refused): is otactl local (or the service) running there? Check --endpoint-url and AWS_ENDPOINT_URL") {
		t.Errorf("closed port: exit %d\n%s", code, errOut)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	code, _, errOut = run(t, "describe", "x", "--endpoint-url", closed)
	if code != ExitFailure || !strings.HasPrefix(errOut, "otactl: no AWS credentials found: set --profile or AWS_PROFILE, run aws configure") {
		t.Errorf("no credentials: exit %d\n%s", code, errOut)
	}
}

// TestUpdateArgumentsAndCompletion (L6, L14): describe takes the job ARN;
// shell completion offers the update ids and the values of enum flags.
func TestUpdateArgumentsAndCompletion(t *testing.T) {
	_, url := localEnv(t)
	for _, id := range []string{"cmp-1", "cmp-2"} {
		if code, _, errOut := run(t, "create", "-f", writeSpec(t, id), "--endpoint-url", url); code != ExitOK {
			t.Fatalf("create %s: %s", id, errOut)
		}
	}
	code, out, errOut := run(t, "describe", "cmp-1", "--endpoint-url", url, "-o", "json")
	var d struct {
		Job struct{ JobArn string }
	}
	if code != ExitOK || json.Unmarshal([]byte(out), &d) != nil || d.Job.JobArn == "" {
		t.Fatalf("describe: %d %s %s", code, out, errOut)
	}
	for _, arg := range []string{d.Job.JobArn, "AFR_OTA-cmp-1"} {
		if code, out, errOut := run(t, "describe", arg, "--endpoint-url", url); code != ExitOK || !strings.Contains(out, "cmp-1") {
			t.Errorf("describe %s: exit %d\n%s", arg, code, errOut)
		}
	}
	_, out, _ = run(t, "__complete", "describe", "--endpoint-url", url, "cmp")
	if !strings.Contains(out, "cmp-1\ncmp-2\n:4") {
		t.Errorf("update ids not completed:\n%s", out)
	}
	for flag, want := range map[string]string{"--retry-on": "FAILED\nTIMED_OUT\nALL\n", "--output": "table\njson\n", "--end-behavior": "STOP_ROLLOUT\nCANCEL\nFORCE_CANCEL\n"} {
		_, out, _ := run(t, "__complete", "create", flag, "")
		if !strings.HasPrefix(out, want) {
			t.Errorf("%s completes %q", flag, out)
		}
	}
}

// TestOutputYAMLAndDefault (L13): --output yaml is the JSON document as
// YAML, members in the same order; OTACTL_OUTPUT sets the default.
func TestOutputYAMLAndDefault(t *testing.T) {
	_, js, _ := run(t, "plan", "-f", "../../examples/firmware-update.yaml", "-o", "json")
	code, ya, errOut := run(t, "plan", "-f", "../../examples/firmware-update.yaml", "-o", "yaml")
	var fromJSON, fromYAML any
	if err := json.Unmarshal([]byte(js), &fromJSON); err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal([]byte(ya), &fromYAML); code != ExitOK || err != nil {
		t.Fatalf("yaml: exit %d %v\n%s%s", code, err, ya, errOut)
	}
	a, _ := json.Marshal(fromJSON)
	b, _ := json.Marshal(fromYAML)
	if string(a) != string(b) || !strings.HasPrefix(ya, "otaUpdateId: sensor-fw-1-4-0\njobId: ") {
		t.Errorf("yaml differs from json:\n%s\n%s", a, b)
	}
	t.Setenv("OTACTL_OUTPUT", "json")
	if _, out, _ := run(t, "version"); !json.Valid([]byte(out)) {
		t.Errorf("OTACTL_OUTPUT=json: %s", out)
	}
	if _, out, _ := run(t, "version", "-o", "table"); json.Valid([]byte(out)) {
		t.Errorf("-o table over OTACTL_OUTPUT=json: %s", out)
	}
	t.Setenv("OTACTL_OUTPUT", "xml")
	if code, _, errOut := run(t, "version"); code != ExitInvalid || !strings.Contains(errOut, "OTACTL_OUTPUT") {
		t.Errorf("OTACTL_OUTPUT=xml: exit %d %s", code, errOut)
	}
}
