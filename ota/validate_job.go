package ota

import (
	"fmt"
	"math"
	"time"
)

// jobConfig checks the CreateJob-only configuration; path is the parent of
// the fields ("" in a spec and in a CreateJob request, which share names).
func (c *checker) jobConfig(path string, j *JobConfig, now time.Time) {
	if t := j.TimeoutConfig; t != nil && (t.InProgressTimeoutInMinutes < 1 || t.InProgressTimeoutInMinutes > maxTimeoutMinutes) {
		c.add(join(path, "timeoutConfig.inProgressTimeoutInMinutes"), "must be 1-%d (7 days), got %d", maxTimeoutMinutes, t.InProgressTimeoutInMinutes)
	}
	if r := j.JobExecutionsRetryConfig; r != nil {
		c.retry(join(path, "jobExecutionsRetryConfig"), r, j.TimeoutConfig != nil)
	}
	if s := j.SchedulingConfig; s != nil {
		c.scheduling(join(path, "schedulingConfig"), s, now)
	}
	if r := j.JobExecutionsRolloutConfig; r != nil {
		c.rollout(join(path, "jobExecutionsRolloutConfig"), r)
	}
	if a := j.AbortConfig; a != nil {
		c.abort(join(path, "abortConfig"), a)
	}
	if p := j.PresignedURLConfig; p != nil {
		pp := join(path, "presignedUrlConfig")
		if p.ExpiresInSec != 0 && (p.ExpiresInSec < minPresignSeconds || p.ExpiresInSec > maxPresignSeconds) {
			c.add(join(pp, "expiresInSec"), "must be %d-%d, got %d", minPresignSeconds, maxPresignSeconds, p.ExpiresInSec)
		}
	}
	if len(j.DestinationPackageVersions) > maxPackageVersions {
		c.add(join(path, "destinationPackageVersions"), "at most %d package versions, got %d", maxPackageVersions, len(j.DestinationPackageVersions))
	}
	for i, v := range j.DestinationPackageVersions {
		if !packageArnPattern.MatchString(v) && !packageRefPattern.MatchString(v) {
			c.add(index(join(path, "destinationPackageVersions"), i), "must be a package version ARN or package@version, got %q", v)
		}
	}
	if n := j.NamespaceID; n != "" && (len(n) > 64 || !idPattern.MatchString(n)) {
		c.add(join(path, "namespaceId"), "must be 1-64 characters of [a-zA-Z0-9_-]")
	}
	if t := j.JobTemplateArn; t != "" && (len(t) > 1600 || !templateArnPattern.MatchString(t)) {
		c.add(join(path, "jobTemplateArn"), "must be a job template ARN of at most 1600 characters")
	}
}

var failureTypesRetry = map[string]bool{"FAILED": true, "TIMED_OUT": true, "ALL": true}
var failureTypesAbort = map[string]bool{"FAILED": true, "REJECTED": true, "TIMED_OUT": true, "ALL": true}

func (c *checker) retry(path string, r *RetryConfig, hasTimeout bool) {
	n := len(r.CriteriaList)
	if n < 1 || n > 2 {
		c.add(join(path, "criteriaList"), "must have 1-2 criteria, got %d", n)
	}
	total, countsOK, seen := 0, true, map[string]bool{}
	for i, cr := range r.CriteriaList {
		p := index(join(path, "criteriaList"), i)
		if !failureTypesRetry[cr.FailureType] {
			c.add(join(p, "failureType"), "must be FAILED, TIMED_OUT or ALL, got %q", cr.FailureType)
		} else if seen[cr.FailureType] {
			c.add(join(p, "failureType"), "duplicate failureType %s", cr.FailureType)
		}
		seen[cr.FailureType] = true
		if cr.NumberOfRetries < 0 || cr.NumberOfRetries > maxRetryTotal {
			c.add(join(p, "numberOfRetries"), "must be 0-%d, got %d", maxRetryTotal, cr.NumberOfRetries)
			countsOK = false
		}
		total += cr.NumberOfRetries
		if cr.FailureType == "TIMED_OUT" && !hasTimeout {
			c.add(join(p, "failureType"), "retrying TIMED_OUT executions needs timeoutConfig.inProgressTimeoutInMinutes")
		}
	}
	if countsOK && total > maxRetryTotal {
		c.add(join(path, "criteriaList"), "retries total %d; at most %d across all criteria", total, maxRetryTotal)
	}
}

func (c *checker) scheduling(path string, s *SchedulingConfig, now time.Time) {
	var start, end time.Time
	var startOK, endOK bool
	if s.StartTime != "" {
		start, startOK = c.scheduleTime(join(path, "startTime"), s.StartTime)
		if startOK {
			if start.Before(now.Add(minScheduleLead)) {
				c.add(join(path, "startTime"), "must be at least 30 minutes in the future (now is %s UTC)", now.UTC().Format(scheduleTimeLayout))
			} else if start.After(now.Add(maxScheduleLead)) {
				c.add(join(path, "startTime"), "must be at most 1 year in the future")
			}
		}
	}
	if s.EndTime != "" {
		end, endOK = c.scheduleTime(join(path, "endTime"), s.EndTime)
		from := now
		if s.StartTime != "" {
			from = start
		}
		if endOK && (s.StartTime == "" || startOK) {
			switch d := end.Sub(from); {
			case d < minScheduleSpan:
				c.add(join(path, "endTime"), "must be at least 30 minutes after startTime")
			case d > maxScheduleSpan:
				c.add(join(path, "endTime"), "must be at most 2 years after startTime")
			case end.After(now.Add(maxScheduleSpan)):
				c.add(join(path, "endTime"), "must be at most 2 years from now")
			}
		}
	}
	switch s.EndBehavior {
	case "":
	case "STOP_ROLLOUT", "CANCEL", "FORCE_CANCEL":
		if s.EndTime == "" {
			c.add(join(path, "endBehavior"), "needs an endTime")
		}
	default:
		c.add(join(path, "endBehavior"), "must be STOP_ROLLOUT, CANCEL or FORCE_CANCEL, got %q", s.EndBehavior)
	}
	for i, w := range s.MaintenanceWindows {
		p := index(join(path, "maintenanceWindows"), i)
		if len(w.StartTime) > 256 {
			c.add(join(p, "startTime"), "must be at most 256 characters")
		} else if _, err := ParseCron(w.StartTime); err != nil {
			c.add(join(p, "startTime"), "%v", err)
		}
		if w.DurationInMinutes < 1 || w.DurationInMinutes > maxWindowMinutes {
			c.add(join(p, "durationInMinutes"), "must be 1-%d, got %d", maxWindowMinutes, w.DurationInMinutes)
		}
	}
}

// ParseScheduleTime parses schedulingConfig's "YYYY-MM-DDTHH:MM" (UTC).
func ParseScheduleTime(v string) (time.Time, error) {
	t, err := time.Parse(scheduleTimeLayout, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("must be a UTC time as YYYY-MM-DDTHH:MM, got %q", v)
	}
	return t, nil
}

func (c *checker) scheduleTime(path, v string) (time.Time, bool) {
	t, err := ParseScheduleTime(v)
	if err != nil {
		c.add(path, "%v", err)
		return t, false
	}
	return t, true
}

func (c *checker) rollout(path string, r *RolloutConfig) {
	if r.MaximumPerMinute != 0 && (r.MaximumPerMinute < 1 || r.MaximumPerMinute > maxRolloutPerMinute) {
		c.add(join(path, "maximumPerMinute"), "must be 1-%d, got %d", maxRolloutPerMinute, r.MaximumPerMinute)
	}
	e := r.ExponentialRate
	if e == nil {
		if r.MaximumPerMinute == 0 {
			c.add(path, "needs maximumPerMinute or exponentialRate")
		}
		return
	}
	ep := join(path, "exponentialRate")
	if e.BaseRatePerMinute < 1 || e.BaseRatePerMinute > maxRolloutPerMinute {
		c.add(join(ep, "baseRatePerMinute"), "must be 1-%d, got %d", maxRolloutPerMinute, e.BaseRatePerMinute)
	}
	if e.IncrementFactor < 1.1 || e.IncrementFactor > 5 {
		c.add(join(ep, "incrementFactor"), "must be 1.1-5, got %g", e.IncrementFactor)
	} else if f := e.IncrementFactor * 10; math.Abs(f-math.Round(f)) > 1e-9 {
		c.add(join(ep, "incrementFactor"), "allows one digit after the decimal point, got %g", e.IncrementFactor)
	}
	ri := e.RateIncreaseCriteria
	cp := join(ep, "rateIncreaseCriteria")
	switch {
	case ri.NumberOfNotifiedThings < 0 || ri.NumberOfSucceededThings < 0:
		c.add(cp, "counts must be at least 1")
	case (ri.NumberOfNotifiedThings == 0) == (ri.NumberOfSucceededThings == 0):
		c.add(cp, "exactly one of numberOfNotifiedThings or numberOfSucceededThings is required")
	}
}

func (c *checker) abort(path string, a *AbortConfig) {
	if len(a.CriteriaList) == 0 {
		c.add(join(path, "criteriaList"), "at least one criterion is required")
	}
	seen := map[string]bool{}
	for i, cr := range a.CriteriaList {
		p := index(join(path, "criteriaList"), i)
		if !failureTypesAbort[cr.FailureType] {
			c.add(join(p, "failureType"), "must be FAILED, REJECTED, TIMED_OUT or ALL, got %q", cr.FailureType)
		} else if seen[cr.FailureType] {
			c.add(join(p, "failureType"), "duplicate failureType %s", cr.FailureType)
		}
		seen[cr.FailureType] = true
		if cr.Action != "CANCEL" {
			c.add(join(p, "action"), "must be CANCEL, got %q", cr.Action)
		}
		if cr.ThresholdPercentage <= 0 || cr.ThresholdPercentage > 100 {
			c.add(join(p, "thresholdPercentage"), "must be greater than 0 and at most 100, got %g", cr.ThresholdPercentage)
		}
		if cr.MinNumberOfExecutedThings < 1 {
			c.add(join(p, "minNumberOfExecutedThings"), "must be at least 1, got %d", cr.MinNumberOfExecutedThings)
		}
	}
}
