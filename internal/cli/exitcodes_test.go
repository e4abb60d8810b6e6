package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestExitCodes pins the exit-code contract of every command against
// otactl local: 0 success, 1 the operation failed, 2 invalid input
// (nothing done), 3 only for "the named update does not exist". A missing
// bucket, object, profile, group or thing is never 3.
func TestExitCodes(t *testing.T) {
	env, url := localEnv(t)
	ep := []string{"--endpoint-url", url}
	dir := t.TempDir()
	spec := writeSpec(t, "ex-1")
	missing := func(field, value string) string {
		body := strings.ReplaceAll(specYAML, "%s", "ex-"+field)
		body = strings.Replace(body, map[string]string{"bucket": "bucket: fw-bucket", "key": "key: fw.bin", "profile": "signingProfileName: fw_signer", "group": "targets: [sensors]"}[field], value, 1)
		return writeFile(t, filepath.Join(dir, field+".yaml"), body)
	}
	noBucket := missing("bucket", "bucket: no-such-bucket")
	noKey := missing("key", "key: no-such-key.bin")
	noProfile := missing("profile", "signingProfileName: nope_signer")
	noGroup := missing("group", "targets: [thinggroup/no-such-group]")
	garbage := writeFile(t, filepath.Join(dir, "garbage.yaml"), "otaUpdateId: [\n")
	start := time.Now().UTC().Add(48 * time.Hour)
	sched := writeFile(t, filepath.Join(dir, "sched.yaml"), strings.ReplaceAll(specYAML, "%s", "ex-sched")+
		fmt.Sprintf("schedulingConfig: {startTime: '%s', endTime: '%s'}\n", start.Format("2006-01-02T15:04"), start.Add(48*time.Hour).Format("2006-01-02T15:04")))
	unreachable := []string{"--endpoint-url", "http://" + freePort(t)}
	aborting := writeFile(t, filepath.Join(dir, "abort.yaml"), strings.ReplaceAll(specYAML, "%s", "ex-abort")+
		"abortConfig: {criteriaList: [{failureType: FAILED, action: CANCEL, thresholdPercentage: 10, minNumberOfExecutedThings: 10}]}\n")

	steps := []struct {
		name string
		code int
		args []string
		want string // in stdout+stderr
	}{
		// plan: no cloud at all.
		{"plan ok", 0, []string{"plan", "-f", spec}, ""},
		{"plan invalid", 2, []string{"plan", "-f", garbage}, ""},
		{"plan no input", 2, []string{"plan"}, ""},
		// create
		{"create ok", 0, append([]string{"create", "-f", spec}, ep...), "Created OTA update ex-1"},
		{"create again", 0, append([]string{"create", "-f", spec}, ep...), "unchanged"},
		{"create scheduled", 0, append([]string{"create", "-f", sched}, ep...), ""},
		{"create invalid", 2, append([]string{"create", "-f", garbage}, ep...), ""},
		{"create missing bucket", 2, append([]string{"create", "-f", noBucket}, ep...), "no-such-bucket"},
		{"create missing key", 2, append([]string{"create", "-f", noKey}, ep...), "no-such-key.bin"},
		{"create missing profile", 2, append([]string{"create", "-f", noProfile}, ep...), "nope_signer"},
		{"create missing group", 2, append([]string{"create", "-f", noGroup}, ep...), "no-such-group"},
		{"create unreachable", 1, append([]string{"create", "-f", spec}, unreachable...), ""},
		// list
		{"list ok", 0, append([]string{"list"}, ep...), "ex-1"},
		{"list invalid", 2, append([]string{"list", "--status", "BOGUS"}, ep...), "--status BOGUS"},
		{"list bad --query", 2, append([]string{"list", "--query", "[?"}, ep...), "--query"},
		{"list unreachable", 1, append([]string{"list"}, unreachable...), ""},
		// describe
		{"describe ok", 0, append([]string{"describe", "ex-1", "--executions", "--status", "queued"}, ep...), "QUEUED"},
		{"describe job id", 0, append([]string{"describe", "AFR_OTA-ex-1"}, ep...), "ex-1"},
		{"describe invalid", 2, append([]string{"describe"}, ep...), ""},
		{"describe missing update", 3, append([]string{"describe", "no-such-update"}, ep...), "no-such-update"},
		{"describe unreachable", 1, append([]string{"describe", "ex-1"}, unreachable...), ""},
		// cancel
		{"cancel ok", 0, append([]string{"cancel", "ex-1"}, ep...), "Canceled update ex-1"},
		{"cancel twice", 0, append([]string{"cancel", "ex-1"}, ep...), "already canceled"},
		{"cancel invalid", 2, append([]string{"cancel", "a", "b"}, ep...), ""},
		{"cancel missing update", 3, append([]string{"cancel", "no-such-update"}, ep...), ""},
		{"cancel unreachable", 1, append([]string{"cancel", "ex-1"}, unreachable...), ""},
		// delete
		{"delete scheduled without force", 1, append([]string{"delete", "ex-sched"}, ep...), "cancel it first (otactl cancel ex-sched), or rerun with --force"},
		{"delete forced, off a terminal", 0, append([]string{"delete", "ex-sched", "--force"}, ep...), "Deleted job AFR_OTA-ex-sched"},
		{"delete ok", 0, append([]string{"delete", "ex-1"}, ep...), "Deleted job AFR_OTA-ex-1"},
		{"delete invalid", 2, append([]string{"delete"}, ep...), ""},
		{"delete missing update", 3, append([]string{"delete", "ex-1"}, ep...), ""},
		{"delete unreachable", 1, append([]string{"delete", "ex-1"}, unreachable...), ""},
		// rehearse: no cloud; its outcome is its exit code.
		{"rehearse ok", 0, []string{"rehearse", spec, "--devices", "20"}, ""},
		{"rehearse invalid", 2, []string{"rehearse", garbage}, ""},
		{"rehearse missing file", 2, []string{"rehearse", filepath.Join(dir, "none.yaml")}, ""},
		{"rehearse aborts", 1, []string{"rehearse", aborting, "--devices", "50", "--failure-rate", "1"}, "the job aborted"},
		{"rehearse aborts, --fail-on none", 0, []string{"rehearse", aborting, "--devices", "50", "--failure-rate", "1", "--fail-on", "none"}, ""},
		{"rehearse never finishes", 1, []string{"rehearse", sched, "--devices", "5", "--duration", "1h"}, "the simulated time ran out"},
		// fleet (its success, waits and failures: fleet_*_test.go)
		{"fleet invalid", 2, append([]string{"fleet"}, ep...), ""},
		{"fleet missing thing", 2, append([]string{"fleet", "--thing", "nope-1", "--signing-profile", "fw_signer", "--endpoint", "127.0.0.1:1", "--cert-dir", dir}, ep...), "no such thing: nope-1"},
		{"fleet missing profile", 2, append([]string{"fleet", "--thing", "dev-1", "--signing-profile", "nope_signer"}, ep...), "nope_signer"},
		{"fleet unreachable broker", 1, append([]string{"fleet", "--thing", "dev-1", "--signing-profile", "fw_signer", "--endpoint", freePort(t)}, ep...), "cannot connect"},
		// demo (its success: TestDemoEndToEnd)
		{"demo invalid", 2, []string{"demo", "--devices", "0"}, "--devices"},
		// local
		{"local invalid", 2, []string{"local", "--credentials", "nokey"}, ""},
		{"local port taken", 1, []string{"local", "--addr", strings.TrimPrefix(url, "http://"), "--data-dir", filepath.Join(dir, "local")}, "already in use"},
		// campaign and bootstrap: input errors (their runs: campaign_test.go, bootstrap_*_test.go)
		{"campaign invalid", 2, []string{"campaign", "plan", "-f", garbage}, ""},
		{"campaign missing", 3, append([]string{"campaign", "status", "no-such-campaign"}, ep...), "no-such-campaign"}, // a campaign names its update's rollout
		{"bootstrap invalid", 2, append([]string{"bootstrap", "--name", "bad name!"}, ep...), ""},
		// man (its pages: TestManPages)
		{"man ok", 0, []string{"man", filepath.Join(dir, "man1")}, "man pages to"},
		{"man invalid", 2, []string{"man"}, ""},
		// unknown commands and flags
		{"unknown command", 2, []string{"crate"}, ""},
		{"unknown flag", 2, []string{"list", "--bogus"}, ""},
	}
	for _, s := range steps {
		code, stdout, stderr := run(t, s.args...)
		if code != s.code || !strings.Contains(stdout+stderr, s.want) {
			t.Errorf("%s: otactl %s: exit %d, want %d (and %q)\n%s%s", s.name, strings.Join(s.args, " "), code, s.code, s.want, stdout, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "local")); err == nil {
		t.Error("otactl local made its data directory although its port was taken")
	}
	_ = env
}
