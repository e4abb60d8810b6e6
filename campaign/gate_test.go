package campaign

import (
	"strings"
	"testing"
	"time"
)

func pf(f float64) *float64 { return &f }

// TestEvaluate: each row is a gate, what AWS shows of the stage, and the
// verdict with the moment the thresholds were met.
func TestEvaluate(t *testing.T) {
	t0 := time.Date(2030, 1, 7, 10, 0, 0, 0, time.UTC)
	at := func(m int) time.Time { return t0.Add(time.Duration(m) * time.Minute) }
	x := func(status string, m int) Outcome { return Outcome{Status: status, At: at(m)} }
	canary := Gate{MinFinished: 3, MinSuccessPercent: 60, MaxFailurePercent: pf(50), Bake: "30m", BakeFrom: BakeFromThresholdMet}
	cases := []struct {
		name    string
		gate    Gate
		obs     Observation
		now     time.Time
		verdict string
		metAt   *time.Time
		reason  string
	}{
		{"nothing finished", canary, Observation{Things: 4, JobStatus: "IN_PROGRESS", StartedAt: t0,
			Executions: []Outcome{x("QUEUED", 0), x("IN_PROGRESS", 1)}}, at(60), Waiting, nil, "0 of minFinished 3"},
		{"one failure, below the limit", canary, Observation{Things: 4, JobStatus: "IN_PROGRESS", StartedAt: t0,
			Executions: []Outcome{x("FAILED", 5), x("SUCCEEDED", 6), x("IN_PROGRESS", 1)}}, at(60), Waiting, nil, "2 of minFinished 3"},
		{"thresholds met, baking", canary, Observation{Things: 3, JobStatus: "IN_PROGRESS", StartedAt: t0,
			Executions: []Outcome{x("FAILED", 5), x("SUCCEEDED", 6), x("SUCCEEDED", 20)}}, at(45), Baking, ptr(at(20)), "until 2030-01-07T10:50:00Z"},
		{"baked", canary, Observation{Things: 3, JobStatus: "IN_PROGRESS", StartedAt: t0,
			Executions: []Outcome{x("SUCCEEDED", 20), x("FAILED", 5), x("SUCCEEDED", 6)}}, at(50), Passed, ptr(at(20)), ""},
		{"success counted over the stage's things: 2 of 4 is not 60%", canary, Observation{Things: 4, JobStatus: "IN_PROGRESS", StartedAt: t0,
			Executions: []Outcome{x("FAILED", 5), x("SUCCEEDED", 6), x("SUCCEEDED", 20)}}, at(60), Waiting, nil, "succeeded 2 of 4 things (50%)"},
		{"failure limit reached", canary, Observation{Things: 4, JobStatus: "IN_PROGRESS", StartedAt: t0,
			Executions: []Outcome{x("FAILED", 5), x("TIMED_OUT", 6), x("SUCCEEDED", 7)}}, at(50), Failed, nil, "reached maxFailurePercent 50%"},
		{"job ended short of the thresholds", canary, Observation{Things: 4, JobStatus: "COMPLETED", StartedAt: t0,
			Executions: []Outcome{x("FAILED", 5), x("SUCCEEDED", 6), x("REMOVED", 7), x("CANCELED", 8)}}, at(50), Failed, nil, "can no longer be met"},
		{"canceled by the job's abortConfig", Gate{MinSuccessPercent: 90}, Observation{Things: 10, JobStatus: "CANCELED", StartedAt: t0,
			Executions: []Outcome{x("FAILED", 5), x("CANCELED", 6)}}, at(50), Failed, nil, "is CANCELED"},
		{"bake from stage start", Gate{MinFinished: 1, Bake: "2h"}, Observation{Things: 2, JobStatus: "IN_PROGRESS", StartedAt: t0,
			Executions: []Outcome{x("SUCCEEDED", 90)}}, at(100), Baking, ptr(at(90)), "until 2030-01-07T12:00:00Z"},
		{"bake from stage start, done", Gate{MinFinished: 1, Bake: "2h"}, Observation{Things: 2, JobStatus: "IN_PROGRESS", StartedAt: t0,
			Executions: []Outcome{x("SUCCEEDED", 90)}}, at(120), Passed, ptr(at(90)), ""},
		{"no thresholds: met at the start", Gate{Bake: "10m"}, Observation{Things: 5, JobStatus: "IN_PROGRESS", StartedAt: t0}, at(10), Passed, ptr(t0), ""},
		{"rates are over the stage's things, not the finished", Gate{MinSuccessPercent: 50}, Observation{Things: 10, JobStatus: "IN_PROGRESS", StartedAt: t0,
			Executions: []Outcome{x("SUCCEEDED", 1), x("SUCCEEDED", 2), x("SUCCEEDED", 3), x("SUCCEEDED", 4)}}, at(10), Waiting, nil, "succeeded 4 of 10 things (40%)"},
		{"exactly at the success threshold", Gate{MinSuccessPercent: 40}, Observation{Things: 10, JobStatus: "IN_PROGRESS", StartedAt: t0,
			Executions: []Outcome{x("SUCCEEDED", 4), x("SUCCEEDED", 1), x("SUCCEEDED", 3), x("SUCCEEDED", 2)}}, at(10), Passed, ptr(at(4)), ""},
		{"just below the failure limit", Gate{MaxFailurePercent: pf(25)}, Observation{Things: 5, JobStatus: "IN_PROGRESS", StartedAt: t0,
			Executions: []Outcome{x("FAILED", 1)}}, at(10), Passed, ptr(t0), ""},
		{"completed job that met the thresholds still bakes", Gate{MinFinished: 2, Bake: "1h", BakeFrom: BakeFromThresholdMet}, Observation{Things: 2, JobStatus: "COMPLETED", StartedAt: t0,
			Executions: []Outcome{x("SUCCEEDED", 1), x("SUCCEEDED", 2)}}, at(30), Baking, ptr(at(2)), ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ev := Evaluate(c.gate, c.obs, c.now)
			if ev.Verdict != c.verdict {
				t.Fatalf("verdict %s, want %s (%+v)", ev.Verdict, c.verdict, ev)
			}
			if (ev.ThresholdMetAt == nil) != (c.metAt == nil) || (c.metAt != nil && !ev.ThresholdMetAt.Equal(*c.metAt)) {
				t.Fatalf("thresholdMetAt %v, want %v", ev.ThresholdMetAt, c.metAt)
			}
			if c.reason != "" && !strings.Contains(strings.Join(ev.Reasons, "; "), c.reason) {
				t.Fatalf("reasons %q do not say %q", ev.Reasons, c.reason)
			}
			// Evaluation is pure: the same observation, the same verdict.
			if again := Evaluate(c.gate, c.obs, c.now); again.Verdict != ev.Verdict {
				t.Fatalf("second evaluation %s", again.Verdict)
			}
		})
	}
}

func ptr(t time.Time) *time.Time { return &t }

func TestGateTagRoundTrip(t *testing.T) {
	for _, g := range []Gate{
		{MinFinished: 3, MinSuccessPercent: 62.5, MaxFailurePercent: pf(10), Bake: "1h30m0s", BakeFrom: BakeFromThresholdMet, OnFailure: OnFailureAbort},
		{},
	} {
		got := decodeGate(encodeGate(g))
		if encodeGate(got) != encodeGate(g) || got.BakeDuration() != g.BakeDuration() {
			t.Fatalf("%q → %+v", encodeGate(g), got)
		}
		if strings.ContainsAny(encodeGate(g), "{}\"%,") {
			t.Fatalf("tag value %q has characters AWS IoT refuses in tag values", encodeGate(g))
		}
	}
}

func TestSplitIsExactAndStable(t *testing.T) {
	var things []string
	for i := 0; i < 40; i++ {
		things = append(things, "dev-"+string(rune('a'+i%26))+string(rune('a'+i/26)))
	}
	parts := split(rank(things), []float64{5, 25, 70})
	if len(parts[0]) != 2 || len(parts[1]) != 10 || len(parts[2]) != 28 {
		t.Fatalf("sizes %d %d %d", len(parts[0]), len(parts[1]), len(parts[2]))
	}
	// The same things whatever order the group lists them in.
	rev := append([]string(nil), things...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	again := split(rank(rev), []float64{5, 25, 70})
	for k := range parts {
		if strings.Join(parts[k], ",") != strings.Join(again[k], ",") {
			t.Fatalf("share %d differs: %v vs %v", k, parts[k], again[k])
		}
	}
}
