package jobs

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
)

// TestRestartResumes: a scheduled, windowed, rate-limited job with a
// timeout; the engine and store stop in the middle of a window and reopen.
// The rollout resumes where it was (no execution lost or duplicated, still
// one wave per minute, only inside windows) and the timeout armed before the
// restart fires after it.
func TestRestartResumes(t *testing.T) {
	clock := NewSimClock(t0)
	dir := t.TempDir()
	f := openFx(t, dir, clock)
	things := f.group("g", 10)
	f.job("j", "g", func(in *sdkiot.CreateJobInput) {
		in.SchedulingConfig = &types.SchedulingConfig{StartTime: sched(t0.Add(time.Hour)), MaintenanceWindows: windows("cron(0 2 * * ? *)", 5)}
		in.JobExecutionsRolloutConfig = &types.JobExecutionsRolloutConfig{MaximumPerMinute: aws.Int32(1)}
		in.TimeoutConfig = &types.TimeoutConfig{InProgressTimeoutInMinutes: aws.Int64(30)}
	})
	f.runUntil(t0.Add(2*time.Hour + 30*time.Second))
	must(f.svc.StartNextExecution(things[0], nil, 0)) // times out at 02:30:30
	f.runUntil(t0.Add(2*time.Hour + 2*time.Minute + 30*time.Second))
	before := must(f.svc.Executions("j", ""))
	if len(before) != 3 {
		t.Fatalf("before the restart: %d executions, want 3 (02:00, 02:01, 02:02)", len(before))
	}
	events := f.events
	f.close()

	g := openFx(t, dir, clock) // the same data directory, a new engine
	g.runUntil(t0.Add(26*time.Hour + 10*time.Minute))
	after := must(g.svc.Executions("j", ""))
	if len(after) != 10 {
		t.Fatalf("after the restart: %d executions, want 10", len(after))
	}
	byThing := map[string]bool{}
	for _, x := range after {
		if byThing[x.ThingName] || x.ExecutionNumber != 1 {
			t.Fatalf("duplicated execution: %+v", x)
		}
		byThing[x.ThingName] = true
	}
	for _, x := range before {
		y := must(g.svc.Execution(x.ThingName, "j"))
		if !y.QueuedAt.Equal(x.QueuedAt) {
			t.Fatalf("execution of %s re-created: queued %v, was %v", x.ThingName, y.QueuedAt, x.QueuedAt)
		}
	}
	if x := must(g.svc.Execution(things[0], "j")); x.Status != "TIMED_OUT" || !x.LastUpdatedAt.Equal(t0.Add(2*time.Hour+30*time.Minute+30*time.Second)) {
		t.Fatalf("the timeout armed before the restart: %s at %v", x.Status, x.LastUpdatedAt)
	}
	waves := append(eventsOf(events, EventWave), g.eventsOf(EventWave)...)
	seen := map[time.Time]bool{}
	total := 0
	for _, w := range waves {
		if w.At.Hour() != 2 || w.At.Minute() >= 5 || seen[w.At.Truncate(time.Minute)] {
			t.Fatalf("wave at %v (outside the window or twice in a minute)", w.At)
		}
		seen[w.At.Truncate(time.Minute)] = true
		total += w.Things
	}
	if total != 10 {
		t.Fatalf("waves rolled out %d things", total)
	}
	g.checkCounts("j")
}

func eventsOf(evs []Event, kind string) []Event {
	var out []Event
	for _, ev := range evs {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

// TestRestartKeepsRetryCounts: the retries spent per failure type survive a
// restart, so a restart does not grant more retries.
func TestRestartKeepsRetryCounts(t *testing.T) {
	clock := NewSimClock(t0)
	dir := t.TempDir()
	f := openFx(t, dir, clock)
	th := f.group("g", 1)[0]
	f.job("j", "g", func(in *sdkiot.CreateJobInput) {
		in.JobExecutionsRetryConfig = &types.JobExecutionsRetryConfig{CriteriaList: []types.RetryCriteria{
			{FailureType: types.RetryableFailureTypeFailed, NumberOfRetries: aws.Int32(1)}}}
	})
	f.report(th, "j", "FAILED")
	f.close()
	g := openFx(t, dir, clock)
	g.report(th, "j", "FAILED")
	if x := must(g.svc.Execution(th, "j")); x.Status != "FAILED" || x.ExecutionNumber != 2 {
		t.Fatalf("after the restart: %s #%d (a second retry?)", x.Status, x.ExecutionNumber)
	}
}
