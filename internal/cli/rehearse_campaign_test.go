package cli

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
)

// TestRehearseCampaignSpec rehearses the example campaign on 1,000
// simulated devices as a user would, and reads the timeline back.
func TestRehearseCampaignSpec(t *testing.T) {
	code, stdout, stderr := run(t, "rehearse", "../../examples/campaign.yaml", "--devices", "1000", "--failure-rate", "0.02",
		"--start", "2030-01-07T00:00:00Z", "-o", "json")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r struct {
		State    string `json:"state"`
		Timeline []struct {
			Stage, Kind string
		} `json:"timeline"`
		Stages []struct {
			Name   string `json:"name"`
			Things int    `json:"things"`
		} `json:"stages"`
		Wall int64 `json:"wallNanos"`
	}
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	var started []string
	for _, ev := range r.Timeline {
		if ev.Kind == "started" {
			started = append(started, ev.Stage)
		}
	}
	if r.State != "completed" || strings.Join(started, ",") != "canary,early,rest" || r.Stages[0].Things+r.Stages[1].Things+r.Stages[2].Things != 1000 {
		t.Fatalf("state %s, started %v, stages %+v", r.State, started, r.Stages)
	}
	t.Logf("rehearsed 1,000 devices in %.0f ms of wall time", float64(r.Wall)/1e6)

	code, stdout, _ = run(t, "rehearse", "../../examples/campaign.yaml", "--devices", "400", "--start", "2030-01-07T00:00:00Z")
	if code != ExitOK || !strings.Contains(stdout, "canary   started") || !strings.Contains(stdout, "campaign completed") {
		t.Fatalf("table output (exit %d):\n%s", code, stdout)
	}

	bad := writeFile(t, filepath.Join(t.TempDir(), "bad.yaml"), strings.Replace(campaignYAML, "percent: 70", "percent: 60", 1))
	if code, _, stderr := run(t, "rehearse", bad); code != ExitInvalid || !strings.Contains(stderr, "stages[2].share.percent") {
		t.Fatalf("bad campaign: exit %d: %s", code, stderr)
	}
}
