package cli

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/otactl/otactl/internal/testtool"
)

// TestForceAsksOnATerminal: cancel --force and delete --force ask on a
// terminal (util-linux script gives the command one), showing how many
// devices they stop; no answer or "n" does nothing (exit 1), --yes does
// not ask, and off a terminal nothing asks (TestExitCodes).
func TestForceAsksOnATerminal(t *testing.T) {
	script := testtool.Require(t, "script", "apt-get install util-linux")
	bin := otactlBinary(t)
	_, url := localEnv(t)
	spec := writeSpec(t, "ask-1")
	if code, stdout, stderr := run(t, "create", "-f", spec, "--endpoint-url", url); code != 0 {
		t.Fatalf("create: exit %d\n%s%s", code, stdout, stderr)
	}
	onTerminal := func(answer string, args ...string) (string, int) {
		t.Helper()
		line := bin
		for _, a := range args {
			line += " " + shellQuote(a)
		}
		cmd := exec.Command(script, "-qec", line, "/dev/null")
		cmd.Stdin = strings.NewReader(answer)
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return string(out), code
	}
	for _, tc := range []struct {
		answer string
		args   []string
		code   int
		want   string
	}{
		{"n\n", []string{"cancel", "ask-1", "--force"}, ExitFailure, "Cancel AFR_OTA-ask-1 and stop 3 devices queued or in progress (0 in progress)? [y/N]"},
		{"n\n", []string{"delete", "ask-1", "--force"}, ExitFailure, "Delete AFR_OTA-ask-1 (IN_PROGRESS) with 3 devices queued or in progress (0 in progress)? [y/N]"},
		{"y\n", []string{"cancel", "ask-1", "--force"}, ExitOK, "Canceled update ask-1"},
		{"", []string{"delete", "ask-1", "--force", "--yes"}, ExitOK, "Deleted job AFR_OTA-ask-1"},
	} {
		out, code := onTerminal(tc.answer, append(tc.args, "--endpoint-url", url)...)
		if code != tc.code || !strings.Contains(out, tc.want) {
			t.Fatalf("%s: exit %d, want %d and %q:\n%s", strings.Join(tc.args, " "), code, tc.code, tc.want, out)
		}
		if tc.code == ExitFailure && !strings.Contains(out, "not confirmed; nothing was done") {
			t.Fatalf("%s: %s", strings.Join(tc.args, " "), out)
		}
		if tc.answer == "" && strings.Contains(out, "[y/N]") {
			t.Fatalf("--yes asked: %s", out)
		}
	}
}
