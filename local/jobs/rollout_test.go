package jobs

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
)

// TestRolloutRates: maximumPerMinute caps the things notified per minute,
// and an exponential rate starts at its base and rises by incrementFactor
// after each numberOfNotifiedThings / numberOfSucceededThings.
func TestRolloutRates(t *testing.T) {
	cases := []struct {
		name    string
		things  int
		rollout *types.JobExecutionsRolloutConfig
		succeed bool  // things succeed as soon as they are notified
		want    []int // things notified after minute 0, 1, 2, ...
	}{
		{"maximumPerMinute caps notifications per minute", 12,
			&types.JobExecutionsRolloutConfig{MaximumPerMinute: aws.Int32(5)}, false, []int{5, 10, 12, 12}},
		{"exponential rate rises after N notified", 30,
			&types.JobExecutionsRolloutConfig{MaximumPerMinute: aws.Int32(8), ExponentialRate: &types.ExponentialRolloutRate{
				BaseRatePerMinute: aws.Int32(2), IncrementFactor: aws.Float64(2),
				RateIncreaseCriteria: &types.RateIncreaseCriteria{NumberOfNotifiedThings: aws.Int32(4)}}},
			false, []int{2, 4, 8, 16, 24, 30}},
		{"exponential rate stays without successes", 10,
			&types.JobExecutionsRolloutConfig{ExponentialRate: &types.ExponentialRolloutRate{
				BaseRatePerMinute: aws.Int32(2), IncrementFactor: aws.Float64(3),
				RateIncreaseCriteria: &types.RateIncreaseCriteria{NumberOfSucceededThings: aws.Int32(2)}}},
			false, []int{2, 4, 6, 8, 10}},
		{"exponential rate rises after N succeeded", 30,
			&types.JobExecutionsRolloutConfig{ExponentialRate: &types.ExponentialRolloutRate{
				BaseRatePerMinute: aws.Int32(2), IncrementFactor: aws.Float64(3),
				RateIncreaseCriteria: &types.RateIncreaseCriteria{NumberOfSucceededThings: aws.Int32(2)}}},
			true, []int{2, 8, 30}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFx(t)
			things := f.group("g", c.things)
			f.job("j", "g", func(in *sdkiot.CreateJobInput) { in.JobExecutionsRolloutConfig = c.rollout })
			for minute, want := range c.want {
				if minute > 0 {
					f.run(time.Minute)
				}
				if c.succeed {
					for _, x := range must(f.svc.Executions("j", "QUEUED")) {
						f.report(x.ThingName, "j", "SUCCEEDED")
					}
				}
				if got := f.notifiedThings("j"); got != want {
					t.Fatalf("minute %d: %d things notified, want %d", minute, got, want)
				}
				if got := f.visible(things, "j"); !c.succeed && got != want {
					t.Fatalf("minute %d: %d things see the job pending, want %d", minute, got, want)
				}
				f.checkCounts("j")
			}
			if c.succeed && aws.ToString((*string)(&f.describe("j").Status)) != "COMPLETED" {
				t.Fatalf("job not completed: %s", f.describe("j").Status)
			}
		})
	}
}

// TestMaintenanceWindows: no rollout outside a window; a rollout a window
// cannot finish resumes in the next one.
func TestMaintenanceWindows(t *testing.T) {
	f := newFx(t)
	things := f.group("g", 50)
	f.job("j", "g", func(in *sdkiot.CreateJobInput) {
		in.SchedulingConfig = &types.SchedulingConfig{MaintenanceWindows: windows("cron(0 2 * * ? *)", 30)}
		in.JobExecutionsRolloutConfig = &types.JobExecutionsRolloutConfig{MaximumPerMinute: aws.Int32(1)}
	})
	if rs := f.describe("j").ScheduledJobRollouts; len(rs) == 0 || aws.ToString(rs[0].StartTime) != "2030-01-07T02:00" {
		t.Fatalf("scheduledJobRollouts: %+v", rs)
	}
	f.runUntil(t0.Add(2*time.Hour - time.Minute))
	if n := f.notifiedThings("j"); n != 0 || f.visible(things, "j") != 0 {
		t.Fatalf("%d things notified before the window", n)
	}
	f.runUntil(t0.Add(25 * time.Hour))
	if n := f.notifiedThings("j"); n != 30 {
		t.Fatalf("after the first 30-minute window at 1/min: %d notified, want 30", n)
	}
	f.runUntil(t0.Add(48 * time.Hour))
	if n := f.notifiedThings("j"); n != 50 {
		t.Fatalf("after the second window: %d notified, want 50", n)
	}
	for _, ev := range f.eventsOf(EventWave) {
		if h := ev.At.Hour(); h != 2 || ev.At.Minute() >= 30 || ev.Window == nil {
			t.Fatalf("wave outside the window: %+v", ev)
		}
	}
	f.checkCounts("j")
}
