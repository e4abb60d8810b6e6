package jobs

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
)

// TestUpdatedRollout: UpdateJob's new rollout applies from the moment of
// the update: waves before it went at the old rate, every wave after it at
// the new one, and a new exponential rate starts at its base rate there.
func TestUpdatedRollout(t *testing.T) {
	expo := func(base int32, factor float64, notified int32) *types.JobExecutionsRolloutConfig {
		return &types.JobExecutionsRolloutConfig{MaximumPerMinute: aws.Int32(100), ExponentialRate: &types.ExponentialRolloutRate{
			BaseRatePerMinute: aws.Int32(base), IncrementFactor: aws.Float64(factor),
			RateIncreaseCriteria: &types.RateIncreaseCriteria{NumberOfNotifiedThings: aws.Int32(notified)}}}
	}
	cases := []struct {
		name          string
		before, after *types.JobExecutionsRolloutConfig
		wantBefore    []int // wave rates before the update
		wantAfter     []int // wave rates after it
	}{
		{"faster", &types.JobExecutionsRolloutConfig{MaximumPerMinute: aws.Int32(2)}, &types.JobExecutionsRolloutConfig{MaximumPerMinute: aws.Int32(10)},
			[]int{2, 2, 2}, []int{10, 10}},
		{"slower", &types.JobExecutionsRolloutConfig{MaximumPerMinute: aws.Int32(10)}, &types.JobExecutionsRolloutConfig{MaximumPerMinute: aws.Int32(1)},
			[]int{10, 10, 10}, []int{1, 1}},
		// 12 things notified by the update: counted from the job's start the
		// new rate would be 1·3^(12/4) = 27; from the update it is 1, then 1, 1, 1, 3.
		{"exponential restarts at its base", &types.JobExecutionsRolloutConfig{MaximumPerMinute: aws.Int32(4)}, expo(1, 3, 4), []int{4, 4, 4}, []int{1, 1, 1, 1, 3}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFx(t)
			f.group("g", 200)
			f.job("j", "g", func(in *sdkiot.CreateJobInput) { in.JobExecutionsRolloutConfig = c.before })
			f.run(2*time.Minute + 30*time.Second) // waves at 0:00, 1:00, 2:00
			update := f.clock.Now()
			must(f.client.UpdateJob(bg, &sdkiot.UpdateJobInput{JobId: aws.String("j"), JobExecutionsRolloutConfig: c.after}))
			f.eng.Tick()
			f.run(time.Duration(len(c.wantAfter)-1)*time.Minute + 30*time.Second)

			var before, after []int
			for _, ev := range f.eventsOf(EventWave) {
				if ev.At.Before(update) {
					before = append(before, ev.Rate)
				} else {
					after = append(after, ev.Rate)
				}
			}
			if !equalInts(before, c.wantBefore) || !equalInts(after, c.wantAfter) {
				t.Fatalf("wave rates before the update %v (want %v), after %v (want %v)", before, c.wantBefore, after, c.wantAfter)
			}
			ups := f.eventsOf(EventUpdated)
			if len(ups) != 1 || !ups[0].At.Equal(update) || ups[0].Detail != "jobExecutionsRolloutConfig" {
				t.Fatalf("updated events %+v, want one at %s", ups, update)
			}
			f.checkCounts("j")
		})
	}
}

// TestUpdatedAbort: criteria set by UpdateJob cancel the job at the update
// when its executions already meet them; without the update they would not.
func TestUpdatedAbort(t *testing.T) {
	f := newFx(t)
	things := f.group("g", 4)
	f.job("j", "g", func(in *sdkiot.CreateJobInput) {
		in.AbortConfig = &types.AbortConfig{CriteriaList: []types.AbortCriteria{{Action: types.AbortActionCancel,
			FailureType: types.JobExecutionFailureTypeFailed, ThresholdPercentage: aws.Float64(90), MinNumberOfExecutedThings: aws.Int32(1)}}}
	})
	f.startAll(things)
	f.report(things[0], "j", "FAILED")
	if f.describe("j").Status != types.JobStatusInProgress {
		t.Fatal("1 of 4 failed is below 90%: the job must go on")
	}
	must(f.client.UpdateJob(bg, &sdkiot.UpdateJobInput{JobId: aws.String("j"), AbortConfig: &types.AbortConfig{CriteriaList: []types.AbortCriteria{{
		Action: types.AbortActionCancel, FailureType: types.JobExecutionFailureTypeFailed, ThresholdPercentage: aws.Float64(20), MinNumberOfExecutedThings: aws.Int32(1)}}}}))
	f.eng.Tick()
	j := f.describe("j")
	if j.Status != types.JobStatusCanceled || aws.ToString(j.ReasonCode) != AbortReasonCode {
		t.Fatalf("after the update: %s %s", j.Status, aws.ToString(j.ReasonCode))
	}
	if len(f.eventsOf(EventUpdated)) != 1 || len(f.eventsOf(EventAborted)) != 1 {
		t.Fatalf("events: %+v", f.events)
	}
}

// TestUpdatedTimeout: a new timeoutConfig applies to executions that start
// after the update; one already in progress keeps its deadline.
func TestUpdatedTimeout(t *testing.T) {
	f := newFx(t)
	things := f.group("g", 2)
	f.job("j", "g", func(in *sdkiot.CreateJobInput) {
		in.TimeoutConfig = &types.TimeoutConfig{InProgressTimeoutInMinutes: aws.Int64(10)}
	})
	f.startAll(things[:1])
	must(f.client.UpdateJob(bg, &sdkiot.UpdateJobInput{JobId: aws.String("j"), TimeoutConfig: &types.TimeoutConfig{InProgressTimeoutInMinutes: aws.Int64(60)}}))
	f.eng.Tick()
	f.startAll(things[1:])
	f.run(11 * time.Minute)
	if got := status(f, things[0]); got != "TIMED_OUT" {
		t.Fatalf("started before the update: %s, want TIMED_OUT after its 10 minutes", got)
	}
	if got := status(f, things[1]); got != "IN_PROGRESS" {
		t.Fatalf("started after the update: %s, want IN_PROGRESS within its 60 minutes", got)
	}
	f.run(50 * time.Minute)
	if got := status(f, things[1]); got != "TIMED_OUT" {
		t.Fatalf("started after the update: %s after 61 minutes", got)
	}
}

func status(f *fx, thing string) string {
	out := must(f.client.DescribeJobExecution(bg, &sdkiot.DescribeJobExecutionInput{JobId: aws.String("j"), ThingName: aws.String(thing)}))
	return string(out.Execution.Status)
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
