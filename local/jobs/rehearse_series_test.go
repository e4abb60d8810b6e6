package jobs

import (
	"testing"
	"time"

	"github.com/otactl/otactl/ota"
)

func TestWindowSpans(t *testing.T) {
	day := time.Date(2030, 1, 7, 0, 0, 0, 0, time.UTC)
	at := func(d, h int) time.Time { return day.Add(time.Duration(d)*24*time.Hour + time.Duration(h)*time.Hour) }
	nightly := &ota.SchedulingConfig{MaintenanceWindows: []ota.MaintenanceWindow{{StartTime: "cron(0 2 * * ? *)", DurationInMinutes: 240}}}
	for _, c := range []struct {
		name     string
		sc       *ota.SchedulingConfig
		from, to time.Time
		want     []Span
	}{
		{"none", nil, at(0, 0), at(2, 0), nil},
		{"no windows", &ota.SchedulingConfig{EndBehavior: "CANCEL"}, at(0, 0), at(2, 0), nil},
		{"two nights", nightly, at(0, 0), at(2, 0), []Span{{at(0, 2), at(0, 6)}, {at(1, 2), at(1, 6)}}},
		{"from inside a window", nightly, at(0, 3), at(1, 1), []Span{{at(0, 2), at(0, 6)}}},
		{"to before the next opening", nightly, at(0, 7), at(1, 2), nil},
		{"overlapping windows merge", &ota.SchedulingConfig{MaintenanceWindows: []ota.MaintenanceWindow{
			{StartTime: "cron(0 2 * * ? *)", DurationInMinutes: 120}, {StartTime: "cron(0 3 * * ? *)", DurationInMinutes: 120}}},
			at(0, 0), at(1, 0), []Span{{at(0, 2), at(0, 5)}}},
	} {
		got := WindowSpans(c.sc, c.from, c.to)
		if len(got) != len(c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
			continue
		}
		for i := range got {
			if !got[i].Start.Equal(c.want[i].Start) || !got[i].End.Equal(c.want[i].End) {
				t.Errorf("%s: %v, want %v", c.name, got, c.want)
			}
		}
	}
}

// TestRehearsalProgress: the samples are in time order, one per minute,
// and the last is the job record's counts.
func TestRehearsalProgress(t *testing.T) {
	spec := &ota.Spec{OTAUpdateID: "p", Targets: []string{"thinggroup/g"}, JobConfig: ota.JobConfig{
		JobExecutionsRolloutConfig: &ota.RolloutConfig{MaximumPerMinute: 7},
		JobExecutionsRetryConfig:   &ota.RetryConfig{CriteriaList: []ota.RetryCriteria{{FailureType: "FAILED", NumberOfRetries: 1}}}}}
	r, err := Rehearse(spec, RehearsalConfig{Devices: 50, FailureRate: 0.3, Seed: 2, Start: time.Date(2030, 1, 7, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Progress) < 5 || r.Progress[len(r.Progress)-1].Counts != r.Counts {
		t.Fatalf("%d samples, last %+v, job %+v", len(r.Progress), r.Progress[len(r.Progress)-1], r.Counts)
	}
	for i := 1; i < len(r.Progress); i++ {
		a, b := r.Progress[i-1], r.Progress[i]
		if !a.At.Truncate(time.Minute).Before(b.At.Truncate(time.Minute)) {
			t.Fatalf("samples %d and %d in the same minute or out of order: %v %v", i-1, i, a.At, b.At)
		}
		if b.Counts.Succeeded < a.Counts.Succeeded || b.Counts.Failed < a.Counts.Failed {
			t.Fatalf("terminal counts went down: %+v then %+v", a.Counts, b.Counts)
		}
	}
	if r.MaintenanceWindows != nil {
		t.Fatalf("windows without maintenance windows: %v", r.MaintenanceWindows)
	}
}
