package jobs

import (
	"fmt"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/otactl/otactl/local/iot"
)

// TestTimeouts: inProgressTimeoutInMinutes and the device's
// stepTimeoutInMinutes move an execution to TIMED_OUT, not before.
func TestTimeouts(t *testing.T) {
	cases := []struct {
		name     string
		jobTO    int64 // inProgressTimeoutInMinutes (0: none)
		stepTO   int64 // the device's stepTimeoutInMinutes (0: none)
		timesOut time.Duration
	}{
		{"in-progress timeout", 10, 0, 10 * time.Minute},
		{"step timeout", 0, 5, 5 * time.Minute},
		{"earlier of both", 60, 7, 7 * time.Minute},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFx(t)
			things := f.group("g", 1)
			f.job("j", "g", func(in *sdkiot.CreateJobInput) {
				if c.jobTO > 0 {
					in.TimeoutConfig = &types.TimeoutConfig{InProgressTimeoutInMinutes: aws.Int64(c.jobTO)}
				}
			})
			must(f.svc.StartNextExecution(things[0], nil, c.stepTO))
			f.eng.Tick()
			f.run(c.timesOut - time.Second)
			if x := must(f.svc.Execution(things[0], "j")); x.Status != "IN_PROGRESS" {
				t.Fatalf("before the timeout: %s", x.Status)
			}
			f.run(time.Second)
			if x := must(f.svc.Execution(things[0], "j")); x.Status != "TIMED_OUT" {
				t.Fatalf("at the timeout: %s", x.Status)
			}
			if d := f.describe("j"); d.Status != types.JobStatusCompleted || aws.ToInt32(d.JobProcessDetails.NumberOfTimedOutThings) != 1 {
				t.Fatalf("job after the timeout: %s %+v", d.Status, d.JobProcessDetails)
			}
			if _, err := f.svc.UpdateExecution(things[0], "j", iotUpdate("SUCCEEDED")); err == nil {
				t.Fatal("a timed-out execution accepted an update")
			}
		})
	}
}

// TestRetries: each retry is a new execution number and retryAttempt, up
// to the count of the failure type's own criterion (or ALL's, which counts
// every type); a failure type without a criterion is not retried.
func TestRetries(t *testing.T) {
	crit := func(ft types.RetryableFailureType, n int32) types.RetryCriteria {
		return types.RetryCriteria{FailureType: ft, NumberOfRetries: aws.Int32(n)}
	}
	const F, T = "FAILED", "TIMED_OUT"
	cases := []struct {
		name     string
		criteria []types.RetryCriteria
		outcomes []string // how each attempt ends; the last one is not retried
	}{
		{"FAILED twice", []types.RetryCriteria{crit(types.RetryableFailureTypeFailed, 2)}, []string{F, F, F}},
		{"ALL covers FAILED", []types.RetryCriteria{crit(types.RetryableFailureTypeAll, 1)}, []string{F, F}},
		{"ALL counts every type", []types.RetryCriteria{crit(types.RetryableFailureTypeAll, 2)}, []string{T, F, T}},
		{"TIMED_OUT retried with a timeout", []types.RetryCriteria{crit(types.RetryableFailureTypeTimedOut, 2)}, []string{T, T, T}},
		{"FAILED criterion does not retry TIMED_OUT", []types.RetryCriteria{crit(types.RetryableFailureTypeFailed, 3)}, []string{T}},
		{"TIMED_OUT criterion does not retry FAILED", []types.RetryCriteria{crit(types.RetryableFailureTypeTimedOut, 3)}, []string{F}},
		{"counted per failure type", []types.RetryCriteria{crit(types.RetryableFailureTypeFailed, 1), crit(types.RetryableFailureTypeTimedOut, 1)},
			[]string{F, T, F}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFx(t)
			th := f.group("g", 1)[0]
			f.job("j", "g", func(in *sdkiot.CreateJobInput) {
				in.JobExecutionsRetryConfig = &types.JobExecutionsRetryConfig{CriteriaList: c.criteria}
				in.TimeoutConfig = &types.TimeoutConfig{InProgressTimeoutInMinutes: aws.Int64(10)}
			})
			for i, outcome := range c.outcomes {
				x := must(f.svc.StartNextExecution(th, nil, 0))
				if x == nil || x.ExecutionNumber != int64(i+1) || x.RetryAttempt != i {
					t.Fatalf("attempt %d: execution %+v", i+1, x)
				}
				f.eng.Tick()
				if outcome == T {
					f.run(10 * time.Minute)
				} else {
					f.report(th, "j", F)
				}
			}
			n := len(c.outcomes)
			x := must(f.svc.Execution(th, "j"))
			if x.Status != c.outcomes[n-1] || x.ExecutionNumber != int64(n) {
				t.Fatalf("after %d attempts: %s #%d", n, x.Status, x.ExecutionNumber)
			}
			if got := len(f.eventsOf(EventRetry)); got != n-1 {
				t.Fatalf("%d retries, want %d", got, n-1)
			}
			timeouts := 0
			for _, o := range c.outcomes {
				if o == T {
					timeouts++
				}
			}
			if got := len(f.eventsOf(EventTimedOut)); got != timeouts {
				t.Fatalf("%d timed-out events, want %d", got, timeouts)
			}
			if s := f.describe("j").Status; s != types.JobStatusCompleted {
				t.Fatalf("job %s", s)
			}
			f.checkCounts("j")
		})
	}
}

// TestTimedOutRetryWithoutTimeout: CreateJob accepts a TIMED_OUT retry
// criterion on a job without timeoutConfig, as AWS does (its API reference
// states no such rule, and a device's stepTimeoutInMinutes can still time an
// execution out); otactl plan only warns about it (ota.AdviseJob).
func TestTimedOutRetryWithoutTimeout(t *testing.T) {
	f := newFx(t)
	f.group("g", 1)
	_, err := f.client.CreateJob(bg, &sdkiot.CreateJobInput{JobId: aws.String("j"), Targets: []string{groupArn("g")},
		Document: aws.String(`{}`), JobExecutionsRetryConfig: &types.JobExecutionsRetryConfig{CriteriaList: []types.RetryCriteria{
			{FailureType: types.RetryableFailureTypeTimedOut, NumberOfRetries: aws.Int32(1)}}}})
	if err != nil {
		t.Fatalf("CreateJob: %v", err)
	}
}

// TestAbort: the job is canceled with the reason code once the failures
// reach thresholdPercentage of the notified things, never before
// minNumberOfExecutedThings things were notified.
func TestAbort(t *testing.T) {
	cases := []struct {
		name      string
		things    int
		min       int32
		threshold float64
		fail      int  // things that fail, in order
		aborted   bool // expected
		afterFail int  // the abort comes with this failure (1-based)
	}{
		{"threshold reached", 10, 5, 30, 4, true, 3},
		{"below threshold", 10, 5, 50, 4, false, 0},
		{"only after minNumberOfExecutedThings", 4, 5, 10, 4, false, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFx(t)
			things := f.group("g", c.things)
			f.job("j", "g", func(in *sdkiot.CreateJobInput) {
				in.AbortConfig = &types.AbortConfig{CriteriaList: []types.AbortCriteria{{Action: types.AbortActionCancel,
					FailureType: types.JobExecutionFailureTypeFailed, MinNumberOfExecutedThings: aws.Int32(c.min), ThresholdPercentage: aws.Float64(c.threshold)}}}
			})
			f.startAll(things)
			for i, th := range things[:c.fail] {
				if _, err := f.svc.UpdateExecution(th, "j", iotUpdate("FAILED")); err != nil {
					if c.aborted && i >= c.afterFail {
						continue // canceled by the abort
					}
					t.Fatal(err)
				}
				f.eng.Tick()
				j := f.describe("j")
				if want := c.aborted && i+1 >= c.afterFail; (j.Status == types.JobStatusCanceled) != want {
					t.Fatalf("after %d failures: job %s", i+1, j.Status)
				}
				if j.Status == types.JobStatusCanceled && aws.ToString(j.ReasonCode) != AbortReasonCode {
					t.Fatalf("reasonCode %q", aws.ToString(j.ReasonCode))
				}
			}
			if got := len(f.eventsOf(EventAborted)) == 1; got != c.aborted {
				t.Fatalf("aborted: %v", got)
			}
			f.checkCounts("j")
		})
	}
}

// TestContinuousAndRemoved: a CONTINUOUS job gets executions for things that
// join its group later; a thing leaving the group has its pending execution
// REMOVED; the counts stay consistent.
func TestContinuousAndRemoved(t *testing.T) {
	f := newFx(t)
	f.group("g", 2)
	f.job("j", "g", func(in *sdkiot.CreateJobInput) { in.TargetSelection = types.TargetSelectionContinuous })
	must(f.client.CreateThing(bg, &sdkiot.CreateThingInput{ThingName: aws.String("late")}))
	must(f.client.AddThingToThingGroup(bg, &sdkiot.AddThingToThingGroupInput{ThingName: aws.String("late"), ThingGroupName: aws.String("g")}))
	if x := must(f.svc.Execution("late", "j")); x.Status != "QUEUED" {
		t.Fatalf("late joiner: %s", x.Status)
	}
	must(f.client.RemoveThingFromThingGroup(bg, &sdkiot.RemoveThingFromThingGroupInput{ThingName: aws.String("late"), ThingGroupName: aws.String("g")}))
	if x := must(f.svc.Execution("late", "j")); x.Status != "REMOVED" {
		t.Fatalf("after leaving: %s", x.Status)
	}
	f.eng.Tick()
	f.checkCounts("j")
}

// TestCancelAndDelete: CancelJob (force or not) and DeleteJob through the SDK
// while the engine holds a rollout: no wave follows.
func TestCancelAndDelete(t *testing.T) {
	for _, force := range []bool{false, true} {
		t.Run(fmt.Sprint("force=", force), func(t *testing.T) {
			f := newFx(t)
			things := f.group("g", 10)
			f.job("j", "g", func(in *sdkiot.CreateJobInput) {
				in.JobExecutionsRolloutConfig = &types.JobExecutionsRolloutConfig{MaximumPerMinute: aws.Int32(2)}
				in.JobExecutionsRetryConfig = &types.JobExecutionsRetryConfig{CriteriaList: []types.RetryCriteria{
					{FailureType: types.RetryableFailureTypeFailed, NumberOfRetries: aws.Int32(3)}}}
			})
			f.startAll(things[:1])
			must(f.client.CancelJob(bg, &sdkiot.CancelJobInput{JobId: aws.String("j"), Force: force}))
			f.run(10 * time.Minute)
			if n := f.notifiedThings("j"); n != 2 {
				t.Fatalf("%d notified after cancel", n)
			}
			want := iot.StatusInProgress
			if force {
				want = iot.StatusCanceled
			}
			if x := must(f.svc.Execution(things[0], "j")); x.Status != want {
				t.Fatalf("in-progress execution after cancel: %s", x.Status)
			}
			if !force { // a canceled job retries nothing
				f.report(things[0], "j", "FAILED")
				if x := must(f.svc.Execution(things[0], "j")); x.Status != "FAILED" || x.ExecutionNumber != 1 {
					t.Fatalf("failure after cancel: %s #%d", x.Status, x.ExecutionNumber)
				}
			}
			f.checkCounts("j")
			must(f.client.DeleteJob(bg, &sdkiot.DeleteJobInput{JobId: aws.String("j"), Force: true}))
			f.run(time.Minute)
			if f.eng.NextAt() != (time.Time{}) {
				t.Fatal("engine still has work for a deleted job")
			}
		})
	}
}

// TestContinuousJoinerWaitsForWindow: a thing joining the group of a
// CONTINUOUS job with maintenance windows is rolled out in the next window,
// like the first targets.
func TestContinuousJoinerWaitsForWindow(t *testing.T) {
	f := newFx(t)
	f.group("g", 1)
	f.job("j", "g", func(in *sdkiot.CreateJobInput) {
		in.TargetSelection = types.TargetSelectionContinuous
		in.SchedulingConfig = &types.SchedulingConfig{MaintenanceWindows: windows("cron(0 2 * * ? *)", 60)}
	})
	f.runUntil(t0.Add(3 * time.Hour)) // the first window: g-0000 rolled out
	must(f.client.CreateThing(bg, &sdkiot.CreateThingInput{ThingName: aws.String("late")}))
	must(f.client.AddThingToThingGroup(bg, &sdkiot.AddThingToThingGroupInput{ThingName: aws.String("late"), ThingGroupName: aws.String("g")}))
	f.runUntil(t0.Add(25*time.Hour + 59*time.Minute))
	if n := f.visible([]string{"late"}, "j"); n != 0 || f.notifiedThings("j") != 1 {
		t.Fatalf("late joiner rolled out outside a window (%d executions)", f.notifiedThings("j"))
	}
	f.runUntil(t0.Add(26 * time.Hour))
	if x := must(f.svc.Execution("late", "j")); x.Status != "QUEUED" || !x.QueuedAt.Equal(t0.Add(26*time.Hour)) {
		t.Fatalf("late joiner in the next window: %+v", x)
	}
	f.checkCounts("j")
}

// TestStepTimeoutReset: an update with a new stepTimeoutInMinutes replaces
// the step timer; the earlier deadline no longer applies.
func TestStepTimeoutReset(t *testing.T) {
	f := newFx(t)
	th := f.group("g", 1)[0]
	f.job("j", "g", nil)
	must(f.svc.StartNextExecution(th, nil, 5))
	f.eng.Tick()
	f.run(3 * time.Minute)
	for i := 0; i < 3; i++ { // progress reports keep one timer armed
		must(f.svc.UpdateExecution(th, "j", iot.ExecutionUpdate{Status: "IN_PROGRESS", StepTimeoutInMinutes: 10}))
	}
	f.run(5 * time.Minute) // past the first deadline
	if x := must(f.svc.Execution(th, "j")); x.Status != "IN_PROGRESS" {
		t.Fatalf("timed out by the replaced timer: %s", x.Status)
	}
	f.run(5 * time.Minute)
	if x := must(f.svc.Execution(th, "j")); x.Status != "TIMED_OUT" {
		t.Fatalf("at the new deadline: %s", x.Status)
	}
	if n := len(f.eventsOf(EventTimedOut)); n != 1 {
		t.Fatalf("%d timed-out events", n)
	}
}
