package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/otactl/otactl/ota"
)

func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = Main(args, &out, &errb)
	return code, out.String(), errb.String()
}

var flagArgs = []string{
	"--update-id", "fw-2-0-0", "--bucket", "fw-bucket", "--file-key", "fw.bin",
	"--signing-profile", "fw_signer", "--role", "ota-role", "--thing-group", "sensors",
	"--protocol", "mqtt", "--retries", "2", "--retry-on", "FAILED", "--timeout", "30m",
	"--start", "2027-01-10T02:00", "--end", "+48h", "--end-behavior", "cancel",
	"--maintenance-window", "cron(0 2 ? * SAT *)=2h", "--rollout-rate", "50",
	"--package-version", "sensor-fw@2.0.0",
}

// TestThreeWaysInAgree: a spec file (YAML and JSON), a CreateOTAUpdate
// request and flags describing the same update produce equal specs.
func TestThreeWaysInAgree(t *testing.T) {
	now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	specFrom := func(args ...string) *ota.Spec {
		cmd := newPlanCmd()
		var sf specFlags
		cmd.ResetFlags()
		sf.register(cmd.Flags())
		if err := cmd.Flags().Parse(args); err != nil {
			t.Fatal(err)
		}
		s, err := sf.spec(now)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if errs := ota.Validate(s, now); len(errs) > 0 {
			t.Fatalf("%v: %v", args, errs)
		}
		return s
	}
	fromYAML := specFrom("-f", "testdata/update.yaml")
	for name, s := range map[string]*ota.Spec{
		"json spec": specFrom("-f", "testdata/update.json"),
		"request":   specFrom("--request", "testdata/create-ota-update.json"),
		"flags":     specFrom(flagArgs...),
	} {
		if !reflect.DeepEqual(fromYAML, s) {
			a, _ := json.Marshal(fromYAML)
			b, _ := json.Marshal(s)
			t.Errorf("%s differs from the YAML spec:\n yaml: %s\n %s: %s", name, a, name, b)
		}
	}
}

func TestPlanExampleSpec(t *testing.T) {
	code, out, errOut := run(t, "plan", "-f", "../../examples/firmware-update.yaml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"signer:StartSigningJob", "iot:CreateStream", "iot:CreateJob", `"afr_ota"`, "jobExecutionsRetryConfig"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan output lacks %q", want)
		}
	}
	code, out, _ = run(t, "plan", "-f", "../../examples/firmware-update.yaml", "-o", "json", "--region", "eu-west-1", "--account-id", "123456789012")
	if code != 0 {
		t.Fatal("json plan failed")
	}
	var p ota.Plan
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("plan JSON: %v\n%s", err, out)
	}
	if p.JobID != "AFR_OTA-sensor-fw-1-4-0" || p.CreateJob.Targets[0] != "arn:aws:iot:eu-west-1:123456789012:thinggroup/sensors-eu" {
		t.Fatalf("plan: %+v", p.CreateJob)
	}
	var doc map[string]any
	if err := json.Unmarshal(p.JobDocument, &doc); err != nil || doc["afr_ota"] == nil {
		t.Fatalf("job document: %v %s", err, p.JobDocument)
	}
}

func TestPlanTenErrors(t *testing.T) {
	spec := `otaUpdateId: "bad id"
targets: []
protocols: [COAP]
targetSelection: ALWAYS
files:
  - fileType: 300
    fileLocation:
      s3Location: {bucket: B, key: fw.bin}
    codeSigning:
      startSigningJobParameter: {signingProfileName: x}
timeoutConfig: {inProgressTimeoutInMinutes: 0}
jobExecutionsRolloutConfig: {maximumPerMinute: -1}
`
	path := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(path, []byte(spec), 0o644)
	code, out, errOut := run(t, "plan", "-f", path)
	if code != ExitInvalid {
		t.Fatalf("exit %d, want %d", code, ExitInvalid)
	}
	if out != "" {
		t.Errorf("nothing on stdout for an invalid plan, got %q", out)
	}
	if !strings.Contains(errOut, "10 invalid field(s)") {
		t.Fatalf("want 10 errors on stderr, got:\n%s", errOut)
	}
	lines := 0
	for _, l := range strings.Split(errOut, "\n") {
		if strings.HasPrefix(l, "  ") && strings.Contains(l, ": ") {
			lines++
		}
	}
	if lines != 10 {
		t.Fatalf("want 10 error lines, got %d:\n%s", lines, errOut)
	}
}

func TestPlanBadInputExitCodes(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("{\n  \"otaUpdateId\": \"x\",\n  \"targets\": [\"g\"\n}"), 0o644)
	for _, args := range [][]string{
		{"plan", "-f", bad},
		{"plan", "-f", "testdata/update.yaml", "--bucket", "other"},
		{"plan", "--timeout", "90s", "-f", "testdata/update.yaml"},
		{"plan", "--maintenance-window", "cron(0 2 ? * SAT *)", "-f", "testdata/update.yaml"},
		{"plan", "--output", "xml", "-f", "testdata/update.yaml"},
		{"plan", "--no-such-flag"},
		{"plan", "-f", filepath.Join(dir, "missing.yaml")},
	} {
		if code, _, errOut := run(t, args...); code != ExitInvalid {
			t.Errorf("%v: exit %d, want %d (%s)", args, code, ExitInvalid, errOut)
		}
	}
	_, _, errOut := run(t, "plan", "-f", bad)
	if !strings.Contains(errOut, "bad.json:4:1:") {
		t.Errorf("JSON syntax error should give line 4 column 1: %s", errOut)
	}
}
