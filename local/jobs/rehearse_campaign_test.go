package jobs

import (
	"strings"
	"testing"
	"time"

	"github.com/otactl/otactl/campaign"
)

// threeStages is the campaign of the issue: a 5 % canary, 25 %, the rest.
const threeStages = `update:
  otaUpdateId: fw-camp
  roleArn: ota-role
  files:
    - fileName: /fw.bin
      fileLocation:
        s3Location: {bucket: fw-bucket, key: fw.bin}
      codeSigning:
        startSigningJobParameter: {signingProfileName: fw_signer}
  jobExecutionsRolloutConfig: {maximumPerMinute: 50}
stages:
  - name: canary
    share: {group: fleet, percent: 5}
    gate: {minFinished: 40, minSuccessPercent: 80, maxFailurePercent: 10, bake: 2h, bakeFrom: thresholdMet}
  - name: early
    share: {group: fleet, percent: 25}
    gate: {minSuccessPercent: 90, maxFailurePercent: 10, bake: 1h}
  - name: rest
    share: {group: fleet, percent: 70}
    gate: {minSuccessPercent: 90, onFailure: abort}
`

func rehearseThreeStages(t *testing.T, failureRate float64) *CampaignRehearsal {
	t.Helper()
	spec, err := campaign.Parse("campaign.yaml", []byte(threeStages))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2030, 1, 7, 0, 0, 0, 0, time.UTC)
	r, err := RehearseCampaign(spec, RehearsalConfig{Devices: 1000, FailureRate: failureRate, Seed: 3, Start: start}, 15*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestRehearseCampaign reproduces the stage timeline on the simulated
// clock: each stage starts only after the gate before it passed (at an
// advance, after its bake), and the campaign completes.
func TestRehearseCampaign(t *testing.T) {
	r := rehearseThreeStages(t, 0.02)
	t.Logf("1,000 devices, three stages: rehearsed in %s of wall time, %d advances", r.Wall, r.Advances)
	if r.State != campaign.Completed || !r.Finished {
		t.Fatalf("state %s, finished %v\n%+v", r.State, r.Finished, r.Timeline)
	}
	things := 0
	for _, s := range r.Stages {
		things += s.Things
		if !s.Started || s.Counts.Succeeded+s.Counts.Failed+s.Counts.InProgress+s.Counts.Queued != s.Things {
			t.Fatalf("stage %s: %+v", s.Name, s)
		}
	}
	if things != 1000 || r.Stages[0].Things != 50 || r.Stages[1].Things != 250 {
		t.Fatalf("stage sizes %+v", r.Stages)
	}
	// The order of events: started, gate verdicts, passed, next started...
	var kinds []string
	passed := map[string]time.Time{}
	started := map[string]time.Time{}
	for _, ev := range r.Timeline {
		kinds = append(kinds, ev.Stage+":"+ev.Kind)
		if ev.Kind == "started" {
			started[ev.Stage] = ev.At
		}
		if ev.Evaluation != nil && ev.Evaluation.Verdict == campaign.Passed {
			passed[ev.Stage] = ev.At
		}
	}
	for i, stage := range []string{"early", "rest"} {
		prev := []string{"canary", "early"}[i]
		if started[stage].IsZero() || passed[prev].IsZero() || started[stage].Before(passed[prev]) {
			t.Fatalf("%s started %v, %s's gate passed %v\n%s", stage, started[stage], prev, passed[prev], strings.Join(kinds, " "))
		}
	}
	// The canary baked 2h from the moment its thresholds were met.
	for _, ev := range r.Timeline {
		if ev.Stage == "canary" && ev.Evaluation != nil && ev.Evaluation.Verdict == campaign.Passed {
			if met := ev.Evaluation.ThresholdMetAt; met == nil || ev.At.Before(met.Add(2*time.Hour)) {
				t.Fatalf("canary passed at %v, thresholds met at %v", ev.At, met)
			}
		}
	}
	if last := r.Timeline[len(r.Timeline)-1]; last.Kind != campaign.Completed || last.Stage != "rest" {
		t.Fatalf("last event %+v", last)
	}
}

// TestRehearseCampaignCanaryFails: with a bad image the canary's gate fails
// and pauses the campaign; the second stage never starts.
func TestRehearseCampaignCanaryFails(t *testing.T) {
	r := rehearseThreeStages(t, 0.5)
	if r.State != campaign.Paused || r.Stages[1].Started || r.Stages[2].Started {
		t.Fatalf("state %s, stages %+v", r.State, r.Stages)
	}
	last := r.Timeline[len(r.Timeline)-1]
	if last.Kind != campaign.Paused || last.Stage != "canary" || !strings.Contains(last.Detail, "maxFailurePercent") {
		t.Fatalf("last event %+v", last)
	}
}
