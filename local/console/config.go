package console

import (
	"fmt"
	"strings"

	"github.com/otactl/otactl/local/iot"
)

// row is one line of a job's configuration as the job page shows it.
type row struct{ Name, Value string }

// configOf says in words what the job was created with: targets, schedule
// and maintenance windows, rollout, abort, retries and timeout.
func configOf(j iot.Job) []row {
	var out []row
	add := func(name, format string, args ...any) { out = append(out, row{name, fmt.Sprintf(format, args...)}) }
	add("Targets", "%s", strings.Join(j.Targets, ", "))
	sel := j.TargetSelection
	if sel == "" {
		sel = "SNAPSHOT"
	}
	add("Target selection", "%s", sel)
	if j.Description != "" {
		add("Description", "%s", j.Description)
	}
	if sc := j.SchedulingConfig; sc != nil {
		end := sc.EndBehavior
		if end == "" {
			end = "STOP_ROLLOUT"
		}
		if sc.StartTime != "" || sc.EndTime != "" {
			add("Schedule", "start %s, end %s (%s)", orDash(sc.StartTime), orDash(sc.EndTime), end)
		}
		for _, w := range sc.MaintenanceWindows {
			add("Maintenance window", "%s for %d min", w.StartTime, w.DurationInMinutes)
		}
	}
	if rc := j.JobExecutionsRolloutConfig; rc != nil {
		s := fmt.Sprintf("at most %d/min", rc.MaximumPerMinute)
		if rc.MaximumPerMinute == 0 {
			s = "at most 1000/min (default)"
		}
		if er := rc.ExponentialRate; er != nil {
			c := er.RateIncreaseCriteria
			every := fmt.Sprintf("%d notified", c.NumberOfNotifiedThings)
			if c.NumberOfSucceededThings > 0 {
				every = fmt.Sprintf("%d succeeded", c.NumberOfSucceededThings)
			}
			s += fmt.Sprintf("; exponential from %d/min, ×%g every %s", er.BaseRatePerMinute, er.IncrementFactor, every)
		}
		add("Rollout", "%s", s)
	}
	if ac := j.AbortConfig; ac != nil {
		for _, c := range ac.CriteriaList {
			add("Abort", "%s when %s ≥ %g%% once %d things ran", c.Action, c.FailureType, c.ThresholdPercentage, c.MinNumberOfExecutedThings)
		}
	}
	if rc := j.JobExecutionsRetryConfig; rc != nil {
		for _, c := range rc.CriteriaList {
			add("Retries", "%s: up to %d", c.FailureType, c.NumberOfRetries)
		}
	}
	if tc := j.TimeoutConfig; tc != nil && tc.InProgressTimeoutInMinutes > 0 {
		add("Timeout", "IN_PROGRESS for %d min", tc.InProgressTimeoutInMinutes)
	}
	if pc := j.PresignedURLConfig; pc != nil {
		add("Presigned URLs", "expire in %d s", pc.ExpiresInSec)
	}
	for _, v := range j.DestinationPackageVersions {
		add("Package version", "%s", v)
	}
	return out
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}
