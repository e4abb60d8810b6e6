package jobs

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
)

// TestScheduledStart: a job with a future startTime is SCHEDULED and
// nobody sees it until then; at startTime it is IN_PROGRESS and rolled out.
func TestScheduledStart(t *testing.T) {
	f := newFx(t)
	things := f.group("g", 3)
	start := t0.Add(2 * time.Hour)
	f.job("j", "g", func(in *sdkiot.CreateJobInput) {
		in.SchedulingConfig = &types.SchedulingConfig{StartTime: sched(start)}
	})
	if s := f.describe("j").Status; s != types.JobStatusScheduled {
		t.Fatalf("status %s before startTime", s)
	}
	f.runUntil(start.Add(-time.Minute))
	if f.notifiedThings("j") != 0 || f.visible(things, "j") != 0 || f.describe("j").Status != types.JobStatusScheduled {
		t.Fatal("a scheduled job was rolled out before its startTime")
	}
	f.runUntil(start)
	if s := f.describe("j").Status; s != types.JobStatusInProgress || f.visible(things, "j") != 3 {
		t.Fatalf("at startTime: %s, %d visible", s, f.visible(things, "j"))
	}
	if evs := f.eventsOf(EventStarted); len(evs) != 1 || !evs[0].At.Equal(start) {
		t.Fatalf("started events: %+v", evs)
	}
	f.checkCounts("j")
}

// TestEndBehavior: at endTime, STOP_ROLLOUT stops new executions but lets
// the rolled-out ones finish; CANCEL cancels the queued ones (in-progress
// ones may finish); FORCE_CANCEL cancels the in-progress ones too.
func TestEndBehavior(t *testing.T) {
	cases := []struct {
		behavior            types.JobEndBehavior
		status              types.JobStatus
		succeeded, canceled int
		inProgressMayFinish bool
	}{
		{types.JobEndBehaviorStopRollout, types.JobStatusCompleted, 5, 0, true},
		{types.JobEndBehaviorCancel, types.JobStatusCanceled, 2, 3, true},
		{types.JobEndBehaviorForceCancel, types.JobStatusCanceled, 0, 5, false},
	}
	for _, c := range cases {
		t.Run(string(c.behavior), func(t *testing.T) {
			f := newFx(t)
			things := f.group("g", 100)
			start, end := t0.Add(time.Hour), t0.Add(time.Hour+30*time.Minute)
			f.job("j", "g", func(in *sdkiot.CreateJobInput) {
				// The window opens at 01:25, five minutes before the end.
				in.SchedulingConfig = &types.SchedulingConfig{StartTime: sched(start), EndTime: sched(end), EndBehavior: c.behavior,
					MaintenanceWindows: windows("cron(25 1 * * ? *)", 60)}
				in.JobExecutionsRolloutConfig = &types.JobExecutionsRolloutConfig{MaximumPerMinute: aws.Int32(1)}
			})
			f.runUntil(end.Add(-time.Second))
			if n := f.notifiedThings("j"); n != 5 {
				t.Fatalf("before endTime: %d notified, want 5 (01:25-01:29 at 1/min)", n)
			}
			f.startAll(things[:2])
			f.runUntil(end.Add(10 * time.Minute))
			if n := f.notifiedThings("j"); n != 5 {
				t.Fatalf("after endTime: %d notified, want no new execution", n)
			}
			if evs := f.eventsOf(EventEnded); len(evs) != 1 || !evs[0].At.Equal(end) {
				t.Fatalf("ended events: %+v", evs)
			}
			if c.behavior == types.JobEndBehaviorStopRollout {
				f.startAll(things[2:5]) // rolled-out executions still run
			}
			for _, th := range things[:5] {
				x := must(f.svc.Execution(th, "j"))
				if x.Status != "IN_PROGRESS" {
					continue
				}
				if _, err := f.svc.UpdateExecution(th, "j", iotUpdate("SUCCEEDED")); (err == nil) != c.inProgressMayFinish {
					t.Fatalf("report of %s after the end: %v", th, err)
				}
			}
			f.run(time.Minute)
			j := f.describe("j")
			pd := j.JobProcessDetails
			if j.Status != c.status || int(aws.ToInt32(pd.NumberOfSucceededThings)) != c.succeeded || int(aws.ToInt32(pd.NumberOfCanceledThings)) != c.canceled {
				t.Fatalf("job %s, succeeded %d, canceled %d; want %s, %d, %d", j.Status,
					aws.ToInt32(pd.NumberOfSucceededThings), aws.ToInt32(pd.NumberOfCanceledThings), c.status, c.succeeded, c.canceled)
			}
			f.checkCounts("j")
		})
	}
}
