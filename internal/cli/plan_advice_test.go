package cli

import (
	"strings"
	"testing"
	"time"
)

// TestPlanWarnsWhereAWSAccepts: what AWS accepts but otactl advises against
// is a warning of a successful plan, not an error (issue 11).
func TestPlanWarnsWhereAWSAccepts(t *testing.T) {
	code, out, errOut := run(t, "plan", "--update-id", "fw-2-0-0", "--bucket", "fw-bucket", "--file-key", "fw.bin",
		"--signing-profile", "fw_signer", "--role", "ota-role", "--thing-group", "sensors",
		"--start", time.Now().UTC().Add(30*24*time.Hour).Format("2006-01-02T15:04"), "--end-behavior", "cancel", "--rollout-rate", "1500")
	if code != 0 {
		t.Fatalf("exit %d, want 0 (AWS accepts this); stderr:\n%s", code, errOut)
	}
	for _, want := range []string{
		"warning: schedulingConfig.endBehavior: does not apply without an endTime",
		"warning: jobExecutionsRolloutConfig.maximumPerMinute: is over 1000",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("want %q in the plan, got:\n%s", want, out)
		}
	}
}
