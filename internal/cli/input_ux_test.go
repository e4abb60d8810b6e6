package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otactl/otactl/ota"
)

// planJSON runs otactl plan ... -o json and returns the CreateJob request.
func planJSON(t *testing.T, args ...string) ota.JobRequest {
	t.Helper()
	code, out, errOut := run(t, append(append([]string{"plan"}, args...), "-o", "json")...)
	if code != ExitOK {
		t.Fatalf("plan %v: exit %d\n%s", args, code, errOut)
	}
	var p ota.Plan
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		t.Fatalf("plan %v: %v", args, err)
	}
	return p.CreateJob
}

func retries(r ota.JobRequest) string {
	if r.JobExecutionsRetryConfig == nil {
		return "none"
	}
	var out []string
	for _, c := range r.JobExecutionsRetryConfig.CriteriaList {
		out = append(out, fmt.Sprintf("%s=%d", c.FailureType, c.NumberOfRetries))
	}
	return strings.Join(out, ",")
}

// TestFlagsChangeOnlyTheirField (H1): a flag over a spec changes the one
// field it names; --retry-on with nothing to count from is an input error.
func TestFlagsChangeOnlyTheirField(t *testing.T) {
	spec := "../../examples/firmware-update.yaml" // FAILED, 2 retries
	for _, c := range []struct {
		args []string
		want string
	}{
		{nil, "FAILED=2"},
		{[]string{"--retry-on", "FAILED"}, "FAILED=2"},
		{[]string{"--retry-on", "TIMED_OUT"}, "TIMED_OUT=2"},
		{[]string{"--retries", "5"}, "FAILED=5"},
		{[]string{"--retries", "0"}, "FAILED=0"},
		{[]string{"--retries", "3", "--retry-on", "TIMED_OUT"}, "FAILED=2,TIMED_OUT=3"},
		{[]string{"--retries", "4", "--retry-on", "failed"}, "FAILED=4"},
	} {
		if got := retries(planJSON(t, append([]string{"-f", spec}, c.args...)...)); got != c.want {
			t.Errorf("%v: retries %s, want %s", c.args, got, c.want)
		}
	}
	// Other fields are untouched by a retry flag.
	base, withFlag := planJSON(t, "-f", spec), planJSON(t, "-f", spec, "--retry-on", "TIMED_OUT")
	base.JobExecutionsRetryConfig, withFlag.JobExecutionsRetryConfig = nil, nil
	a, _ := json.Marshal(base)
	b, _ := json.Marshal(withFlag)
	if string(a) != string(b) {
		t.Errorf("--retry-on changed more than the failure type:\n%s\n%s", a, b)
	}

	noRetries := filepath.Join(t.TempDir(), "noretries.yaml")
	raw, _ := os.ReadFile(spec)
	os.WriteFile(noRetries, []byte(strings.Replace(string(raw), "jobExecutionsRetryConfig:\n  criteriaList:\n    - {failureType: FAILED, numberOfRetries: 2}\n", "", 1)), 0o644)
	code, _, errOut := run(t, "plan", "-f", noRetries, "--retry-on", "FAILED")
	if code != ExitInvalid || !strings.Contains(errOut, "--retry-on needs --retries") {
		t.Errorf("--retry-on without a count: exit %d, %s", code, errOut)
	}
	code, _, errOut = run(t, append([]string{"plan"}, append(flagArgs[:12:12], "--retry-on", "TIMED_OUT")...)...)
	if code != ExitInvalid || !strings.Contains(errOut, "--retry-on needs --retries") {
		t.Errorf("flags only, --retry-on alone: exit %d, %s", code, errOut)
	}
}

// TestInputErrorsSayWhatToDo: errors name the flag (M3), the request's
// own field with line:col (M2), the other way in (M1), the nearest name
// (M1, L1), the rule instead of Go's parse errors (L2), what a command's
// arguments are (L3).
func TestInputErrorsSayWhatToDo(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	req := write("req.json", `{
  "otaUpdateId": "fw-2",
  "targets": ["thinggroup/sensors"],
  "roleArn": "ota-role",
  "files": [{
    "fileLocation": {"s3Location": {"bucket": "fw-bucket", "key": "fw.bin"}},
    "codeSigning": {"startSigningJobParameter": {"signingProfileName": "fw_signer"}}
  }],
  "awsJobTimeoutConfig": {"inProgressTimeoutInMinutes": 0}
}`)
	typo := write("typo.yaml", "otaUpdateId: x\ntimeoutConfig: {inProgressTimeoutInMinute: 3}\njobExecutionRetryConfig: {}\n")
	for _, c := range []struct {
		name string
		args []string
		want []string
		not  []string
	}{
		{"no input", []string{"plan"}, []string{"--update-id is required (or give -f SPEC / --request FILE)", "--bucket is required", "--signing-profile is required", "--role is required", "--thing-group or --thing is required"}, []string{"codeSigning", "otaUpdateId:"}},
		{"rollout rate", []string{"plan", "-f", "testdata/update.yaml", "--rollout-rate", "0"}, []string{"--rollout-rate must be at least 1"}, []string{"jobExecutionsRolloutConfig"}},
		{"request field names", []string{"plan", "--request", req}, []string{"req.json:9:27: awsJobTimeoutConfig.inProgressTimeoutInMinutes: must be"}, []string{" timeoutConfig"}},
		{"request as spec", []string{"plan", "-f", req}, []string{`unknown field "awsJobTimeoutConfig": awsJobTimeoutConfig is a CreateOTAUpdate request field; write timeoutConfig in a spec, or pass this file with --request`}, nil},
		{"spec as request", []string{"plan", "--request", "../../examples/firmware-update.yaml"}, []string{`unknown field "timeoutConfig": timeoutConfig is a spec field; write awsJobTimeoutConfig in a CreateOTAUpdate request, or pass this file with -f`}, nil},
		{"field typos", []string{"plan", "-f", typo}, []string{`typo.yaml:2:17: unknown field "timeoutConfig.inProgressTimeoutInMinute": did you mean "inProgressTimeoutInMinutes"?`, `did you mean "jobExecutionsRetryConfig"?`}, nil},
		{"flag typo", []string{"plan", "--retrys", "2"}, []string{"unknown flag: --retrys; did you mean --retries?", "See 'otactl plan --help'."}, nil},
		{"int flag", []string{"plan", "--retries", "two"}, []string{`--retries must be a whole number, got "two"`}, []string{"strconv"}},
		{"duration flag", []string{"plan", "--in-progress-timeout", "30"}, []string{`--in-progress-timeout needs a duration with a unit, like 30s, 30m or 1h30m, got "30"`}, []string{"time:"}},
		{"float flag", []string{"rehearse", "x.yaml", "--failure-rate", "lots"}, []string{`--failure-rate must be a number`}, []string{"strconv"}},
		{"rehearse without an update", []string{"rehearse"}, []string{"rehearse needs the update: SPEC, -f SPEC, --request FILE, or --update-id"}, nil},
		{"rehearse by flags without a target", []string{"rehearse", "--update-id", "x", "--devices", "3"}, []string{"--thing-group or --thing is required"}, []string{"PUT /jobs", "__type"}},
		{"missing argument", []string{"describe"}, []string{"describe needs UPDATE_ID (see otactl list)"}, []string{"accepts"}},
		{"extra argument", []string{"rehearse", "a.yaml", "b.yaml"}, []string{"rehearse takes [SPEC] only, got 2 arguments"}, []string{"accepts"}},
		{"missing spec file", []string{"plan", "-f", filepath.Join(dir, "nope.yaml")}, []string{"--file " + filepath.Join(dir, "nope.yaml") + ": no such file"}, []string{"open "}},
		{"group with thing prefix", []string{"plan", "--update-id", "x", "--bucket", "fw-bucket", "--file-key", "k", "--signing-profile", "fw_signer", "--role", "r", "--thing-group", "thing/dev-1"}, []string{"--thing-group thing/dev-1: that is a thing; use --thing"}, nil},
		{"time format", []string{"plan", "-f", "testdata/update.yaml", "--start", "tomorrow"}, []string{`--start "tomorrow": want YYYY-MM-DDTHH:MM (UTC) or RFC 3339`}, []string{"parsing time"}},
		{"endpoint without scheme", []string{"list", "--endpoint-url", "127.0.0.1:4566"}, []string{`--endpoint-url "127.0.0.1:4566" must be a URL with http:// or https://`}, []string{"Failed to parse uri"}},
	} {
		code, _, errOut := run(t, c.args...)
		if code != ExitInvalid {
			t.Errorf("%s: exit %d, want %d\n%s", c.name, code, ExitInvalid, errOut)
		}
		for _, w := range c.want {
			if !strings.Contains(errOut, w) {
				t.Errorf("%s: stderr lacks %q:\n%s", c.name, w, errOut)
			}
		}
		for _, n := range c.not {
			if strings.Contains(errOut, n) {
				t.Errorf("%s: stderr has %q:\n%s", c.name, n, errOut)
			}
		}
	}
}

// TestOneInputVocabulary: the three ways in and the time formats work
// alike on plan, create and rehearse (M5, M6, M7), a thing group flag
// takes the spec's forms (L5), and a missing fileName is warned of (L7).
func TestOneInputVocabulary(t *testing.T) {
	// The spec's time form, RFC 3339 and relative times give the same schedule.
	a := planJSON(t, "-f", "testdata/update.yaml", "--start", "2027-01-10T03:00", "--end", "+48h")
	b := planJSON(t, "-f", "testdata/update.yaml", "--start", "2027-01-10T03:00:00Z", "--end", "2027-01-12T04:00:00+01:00")
	if a.SchedulingConfig.StartTime != "2027-01-10T03:00" || a.SchedulingConfig.EndTime != "2027-01-12T03:00" ||
		a.SchedulingConfig.StartTime != b.SchedulingConfig.StartTime || a.SchedulingConfig.EndTime != b.SchedulingConfig.EndTime {
		t.Errorf("schedules differ: %+v vs %+v", a.SchedulingConfig, b.SchedulingConfig)
	}
	// plan takes create's flags (and changes nothing with them).
	planJSON(t, "-f", "testdata/update.yaml", "--endpoint-url", "http://127.0.0.1:1", "--profile", "p", "--signing-timeout", "1m",
		"--create-package-version", "--replace", "--quiet")
	// ... and create takes plan's (a rule error, not an unknown flag, here).
	if _, _, errOut := run(t, "create", "-f", "testdata/update.yaml", "--account-id", "123456789012", "--diff", "--rollout-rate", "0"); !strings.Contains(errOut, "--rollout-rate must be at least 1") {
		t.Errorf("create with plan's flags: %s", errOut)
	}
	// A thing group flag takes NAME, thinggroup/NAME and an ARN.
	group := func(g string) string {
		r := planJSON(t, "--update-id", "x", "--bucket", "fw-bucket", "--file-key", "k", "--signing-profile", "fw_signer", "--role", "r",
			"--thing-group", g, "--region", "eu-west-1", "--account-id", "123456789012", "--file-name", "/fw")
		return r.Targets[0]
	}
	for _, g := range []string{"sensors", "thinggroup/sensors", "arn:aws:iot:eu-west-1:123456789012:thinggroup/sensors"} {
		if got := group(g); got != "arn:aws:iot:eu-west-1:123456789012:thinggroup/sensors" {
			t.Errorf("--thing-group %s: target %s", g, got)
		}
	}
	_, out, _ := run(t, "plan", "--update-id", "x", "--bucket", "fw-bucket", "--file-key", "k", "--signing-profile", "fw_signer", "--role", "r", "--thing-group", "g")
	if !strings.Contains(out, "warning: files[0] has no fileName: devices get no file path") || !strings.Contains(out, "pass --file-name") {
		t.Errorf("no warning for a missing --file-name:\n%s", out)
	}
	// A warning about a field a flag set names the flag.
	_, out, _ = run(t, "plan", "-f", "testdata/update.yaml", "--rollout-rate", "1500")
	if !strings.Contains(out, "jobExecutionsRolloutConfig.maximumPerMinute: is over 1000") || !strings.Contains(out, "(set by --rollout-rate)") {
		t.Errorf("warning does not name --rollout-rate:\n%s", out)
	}
	// rehearse: SPEC, -f SPEC, --request FILE and the job flags.
	for _, args := range [][]string{
		{"rehearse", "testdata/update.yaml"},
		{"rehearse", "-f", "testdata/update.yaml", "--retries", "1"},
		{"rehearse", "--request", "testdata/create-ota-update.json", "--start", "2027-01-10T00:00:00Z"},
	} {
		// The schedule's windows never open in it: --fail-on none, as this is about input.
		code, out, errOut := run(t, append(args, "--devices", "10", "--duration", "72h", "--fail-on", "none", "-o", "json")...)
		var r struct{ Devices int }
		if code != ExitOK || json.Unmarshal([]byte(out), &r) != nil || r.Devices != 10 {
			t.Errorf("%v: exit %d\n%s\n%s", args, code, out, errOut)
		}
	}
	if code, _, errOut := run(t, "rehearse", "testdata/update.yaml", "-f", "testdata/update.yaml"); code != ExitInvalid || !strings.Contains(errOut, "give the spec once") {
		t.Errorf("SPEC and -f: exit %d %s", code, errOut)
	}
	// An old flag name still works, with a warning on stderr only.
	code, out, errOut := run(t, "plan", "-f", "testdata/update.yaml", "--timeout", "45m", "-o", "json")
	if code != ExitOK || !strings.Contains(errOut, "warning: --timeout is deprecated: use --in-progress-timeout") || strings.Contains(out, "deprecated") {
		t.Errorf("deprecated --timeout: exit %d\n%s", code, errOut)
	}
}
