package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// campaignVariant writes examples/campaign.yaml with old replaced by new.
func campaignVariant(t *testing.T, name, old, new string) string {
	t.Helper()
	raw, err := os.ReadFile("../../examples/campaign.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), old) {
		t.Fatalf("examples/campaign.yaml no longer has %q", old)
	}
	return writeFile(t, filepath.Join(t.TempDir(), name), strings.Replace(string(raw), old, new, 1))
}

// TestRehearseCampaignExitCodes: a campaign rehearsal's exit code is its
// outcome under --fail-on, as for an update spec: 1 when the campaign
// aborts, pauses on a failed gate, leaves devices without the update or
// runs out of simulated time; each word picks its own outcome, and none
// exits 0.
func TestRehearseCampaignExitCodes(t *testing.T) {
	const start = "2030-01-07T00:00:00Z"
	example := "../../examples/campaign.yaml"
	// The canary's gate aborts instead of pausing.
	aborting := campaignVariant(t, "abort.yaml", "onFailure: pause", "onFailure: abort")
	// One stage, the whole group: a pause leaves no device without the job,
	// so only "unfinished" can see it.
	raw, err := os.ReadFile(example)
	if err != nil {
		t.Fatal(err)
	}
	update, _, _ := strings.Cut(string(raw), "\nstages:\n")
	whole := writeFile(t, filepath.Join(t.TempDir(), "whole.yaml"), update+`
stages:
  - name: all
    share: {group: sensors-eu, percent: 100}
    gate: {minSuccessPercent: 95, maxFailurePercent: 5, onFailure: pause}
`)

	for _, c := range []struct {
		name string
		args []string
		code int
		says string
	}{
		{"completes", []string{example, "--devices", "200"}, ExitOK, ""},
		{"pauses at the canary", []string{example, "--devices", "200", "--failure-rate", "0.9"}, ExitFailure,
			"the campaign paused on a failed gate and never completed (stage canary: gate failed"},
		{"pauses: devices never reached", []string{example, "--devices", "200", "--failure-rate", "0.9", "--fail-on", "not-rolled-out"}, ExitFailure,
			"190 of 200 devices never got the update"},
		{"pauses: not an abort", []string{example, "--devices", "200", "--failure-rate", "0.9", "--fail-on", "abort"}, ExitOK, ""},
		{"pauses, --fail-on none", []string{example, "--devices", "200", "--failure-rate", "0.9", "--fail-on", "none"}, ExitOK, ""},
		{"pauses with every device reached", []string{whole, "--devices", "200", "--failure-rate", "0.5"}, ExitFailure, "paused on a failed gate"},
		{"pauses with every device reached: rolled out", []string{whole, "--devices", "200", "--failure-rate", "0.5", "--fail-on", "not-rolled-out"}, ExitOK, ""},
		{"aborts", []string{aborting, "--devices", "200", "--failure-rate", "0.9", "--fail-on", "abort"}, ExitFailure,
			"the campaign aborted (stage canary: gate failed"},
		{"aborts, --fail-on none", []string{aborting, "--devices", "200", "--failure-rate", "0.9", "--fail-on", "none"}, ExitOK, ""},
		{"time runs out", []string{example, "--devices", "200", "--duration", "2h", "--fail-on", "unfinished"}, ExitFailure,
			"the simulated time ran out before the campaign ended (--duration)"},
		{"time runs out: not an abort", []string{example, "--devices", "200", "--duration", "2h", "--fail-on", "abort"}, ExitOK, ""},
		{"bad --fail-on", []string{example, "--fail-on", "paused"}, ExitInvalid, "--fail-on paused"},
	} {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"rehearse", "--start", start}, c.args...)
			code, stdout, stderr := run(t, args...)
			if code != c.code || !strings.Contains(stderr, c.says) {
				t.Fatalf("exit %d, want %d with %q:\n%s\n%s", code, c.code, c.says, stderr, stdout)
			}
			if c.code == ExitOK && stderr != "" {
				t.Fatalf("exit 0 with an error: %s", stderr)
			}
		})
	}

	// JSON output is printed whole before the failing exit, and counts the
	// devices no stage reached.
	code, stdout, stderr := run(t, "rehearse", aborting, "--start", start, "--devices", "200", "--failure-rate", "0.9", "-o", "json")
	var r struct {
		State        string `json:"state"`
		NotRolledOut int    `json:"notRolledOut"`
		Stages       []struct {
			Started bool `json:"started"`
		} `json:"stages"`
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatalf("exit %d, %v:\n%s", code, err, stdout)
	}
	if code != ExitFailure || r.State != "aborted" || r.NotRolledOut != 190 || r.Stages[1].Started ||
		!strings.Contains(stderr, "the campaign aborted") || !strings.Contains(stderr, "190 of 200 devices never got the update") {
		t.Fatalf("exit %d, state %s, not rolled out %d: %s", code, r.State, r.NotRolledOut, stderr)
	}
}
