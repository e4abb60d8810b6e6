package cli

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestScheduleReadsRight: plan and create warn when no maintenance window
// falls between start and end (AWS accepts the job and rolls out nothing),
// and describe shows the window open now and no next window past the end.
func TestScheduleReadsRight(t *testing.T) {
	_, url := localEnv(t)
	now := time.Now().UTC()
	// A Monday 04:00 at least two hours away, to the Wednesday after:
	// a Saturday window never opens in between.
	mon := now.Add(2 * time.Hour).Truncate(24 * time.Hour).Add(4 * time.Hour)
	for mon.Weekday() != time.Monday || mon.Before(now.Add(time.Hour)) {
		mon = mon.Add(24 * time.Hour)
	}
	stamp := func(t time.Time) string { return t.Format("2006-01-02T15:04") }
	base := []string{"--update-id", "win-1", "--bucket", "fw-bucket", "--file-key", "fw.bin", "--signing-profile", "fw_signer",
		"--role", "ota-role", "--thing-group", "sensors", "--start", stamp(mon), "--end", stamp(mon.Add(48 * time.Hour)), "--end-behavior", "CANCEL"}
	sat := append(append([]string{}, base...), "--maintenance-window", "cron(0 2 ? * SAT *)=2h")
	daily := append(append([]string{}, base...), "--maintenance-window", "cron(0 2 * * ? *)=2h")
	const warn = "no maintenance window is open between startTime"
	if code, stdout, stderr := run(t, append([]string{"plan"}, sat...)...); code != 0 || !strings.Contains(stdout+stderr, warn) {
		t.Fatalf("plan, Saturday window: exit %d, no warning:\n%s%s", code, stdout, stderr)
	}
	if code, stdout, stderr := run(t, append([]string{"plan"}, daily...)...); code != 0 || strings.Contains(stdout+stderr, warn) {
		t.Fatalf("plan, daily window: exit %d:\n%s%s", code, stdout, stderr)
	}
	if code, stdout, stderr := run(t, append([]string{"create", "--endpoint-url", url}, sat...)...); code != 0 || !strings.Contains(stderr, "warning: schedulingConfig: "+warn) {
		t.Fatalf("create, Saturday window: exit %d, no warning:\n%s%s", code, stdout, stderr)
	}

	// A daily window that opened an hour ago for two hours is open now.
	opened := now.Add(-time.Hour).Truncate(time.Minute)
	cron := fmt.Sprintf("cron(%d %d * * ? *)=120m", opened.Minute(), opened.Hour())
	if code, stdout, stderr := run(t, "create", "--endpoint-url", url, "--update-id", "win-2", "--bucket", "fw-bucket", "--file-key", "fw.bin",
		"--signing-profile", "fw_signer", "--role", "ota-role", "--thing-group", "sensors", "--maintenance-window", cron); code != 0 {
		t.Fatalf("create: exit %d\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr := run(t, "describe", "win-2", "--endpoint-url", url)
	want := fmt.Sprintf("Window now   open since %s, until %s UTC", opened.Format("15:04"), opened.Add(2*time.Hour).Format("15:04"))
	if opened.YearDay() != opened.Add(2*time.Hour).YearDay() {
		want = fmt.Sprintf("Window now   open since %s, until %s", opened.Format("15:04"), opened.Add(2*time.Hour).Format("2006-01-02 15:04 MST"))
	}
	next := "Next window  " + opened.Add(24*time.Hour).Format("2006-01-02 15:04 MST")
	if code != 0 || !strings.Contains(stdout, want) || !strings.Contains(stdout, next) {
		t.Fatalf("describe: exit %d, want %q and %q:\n%s%s", code, want, next, stdout, stderr)
	}
	// Once canceled, no window is next.
	run(t, "cancel", "win-2", "--endpoint-url", url)
	if _, stdout, _ := run(t, "describe", "win-2", "--endpoint-url", url); strings.Contains(stdout, "Next window") || strings.Contains(stdout, "Window now") {
		t.Fatalf("a canceled job shows windows:\n%s", stdout)
	}
}
