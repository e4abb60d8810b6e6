package ota

import (
	"strings"
	"time"
)

// otactl's advice on a job: rules stricter than AWS's, each for a reason
// given with it. AWS accepts a request that breaks them, and so does otactl
// local; otactl plan shows them as warnings. What AWS refuses is in
// validate_job.go, and a rule is listed in one place only.

// AdviseJob returns otactl's advice on a CreateJob request.
func AdviseJob(r *JobRequest) Errors {
	c := &checker{}
	c.targetsAdvice("targets", r.Targets)
	if r.Document != "" && r.DocumentSource != "" {
		// AWS's reference does not say it refuses both; otactl local then
		// uses document, and a reader cannot tell which one the devices get.
		c.add("documentSource", "is ignored when document is given; give one of them")
	}
	if len(r.DocumentParameters) > 0 && r.JobTemplateArn == "" {
		c.add("documentParameters", "AWS uses them only with AWS managed job templates (jobTemplateArn)")
	}
	c.tagAdvice("tags", r.Tags)
	c.jobConfigAdvice("", &r.JobConfig)
	if p := r.PresignedURLConfig; p != nil && p.RoleArn != "" && !roleArnPattern.MatchString(p.RoleArn) {
		c.add("presignedUrlConfig.roleArn", "is not an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME): the URLs will not be signed")
	}
	for i, v := range r.DestinationPackageVersions {
		if !packageArnPattern.MatchString(v) {
			c.add(index("destinationPackageVersions", i), "is not a package version ARN (arn:aws:iot:REGION:ACCOUNT:package/NAME/version/VERSION)")
		}
	}
	return c.errs
}

// AdviseJobConfig returns otactl's advice on the configuration members a
// job, an UpdateJob or a job template carries.
func AdviseJobConfig(j *JobConfig) Errors {
	c := &checker{}
	c.jobConfigAdvice("", j)
	return c.errs
}

// Advise returns otactl's advice on a spec, as the warnings plan prints.
func Advise(s *Spec) []string { return AdviseAt(s, time.Now()) }

// AdviseAt is Advise for a job created at now (a schedule without
// startTime starts then).
func AdviseAt(s *Spec, now time.Time) []string {
	c := &checker{}
	c.tagAdvice("tags", s.Tags)
	c.jobConfigAdvice("", &s.JobConfig)
	// A schedule whose windows all fall outside start..end rolls out
	// nothing, and AWS accepts it (ota.NoWindowBetween).
	if why := NoWindowBetween(s.SchedulingConfig, now); why != "" {
		c.add("schedulingConfig.maintenanceWindows", "%s", why)
	}
	return c.errs.Warnings()
}

// Warnings renders es one line each, for a plan's warnings.
func (es Errors) Warnings() []string {
	var out []string
	for _, e := range es {
		out = append(out, e.Error())
	}
	return out
}

// targetsAdvice: a target listed twice gets one execution.
func (c *checker) targetsAdvice(path string, ts []string) {
	seen := map[string]bool{}
	for i, t := range ts {
		if seen[t] {
			c.add(index(path, i), "duplicate target %q", t)
		}
		seen[t] = true
	}
}

// tagAdvice: with a key given twice, the last value wins.
func (c *checker) tagAdvice(path string, tags []Tag) {
	seen := map[string]bool{}
	for i, t := range tags {
		if seen[t.Key] {
			c.add(join(index(path, i), "Key"), "duplicate tag key %q: the last value wins", t.Key)
		}
		seen[t.Key] = true
	}
}

func (c *checker) jobConfigAdvice(path string, j *JobConfig) {
	if r := j.JobExecutionsRetryConfig; r != nil {
		p := join(path, "jobExecutionsRetryConfig.criteriaList")
		total, seen := 0, map[string]bool{}
		for i, cr := range r.CriteriaList {
			if seen[cr.FailureType] {
				c.add(join(index(p, i), "failureType"), "duplicate failureType %s: one of the two criteria is never used", cr.FailureType)
			}
			seen[cr.FailureType] = true
			total += cr.NumberOfRetries
			// A job without timeoutConfig has no TIMED_OUT executions to retry.
			if cr.FailureType == "TIMED_OUT" && j.TimeoutConfig == nil {
				c.add(join(index(p, i), "failureType"), "retrying TIMED_OUT executions needs timeoutConfig.inProgressTimeoutInMinutes")
			}
		}
		// The Jobs developer guide allows 10 retries per execution in all.
		if total > maxRetryTotal {
			c.add(p, "retries total %d; a job execution is retried at most %d times in all", total, maxRetryTotal)
		}
	}
	if s := j.SchedulingConfig; s != nil && s.EndBehavior != "" && s.EndTime == "" {
		c.add(join(path, "schedulingConfig.endBehavior"), "does not apply without an endTime")
	}
	if r := j.JobExecutionsRolloutConfig; r != nil {
		p := join(path, "jobExecutionsRolloutConfig")
		if r.MaximumPerMinute == 0 && r.ExponentialRate == nil {
			c.add(p, "sets neither maximumPerMinute nor exponentialRate: the default rate applies")
		}
		if r.MaximumPerMinute > maxRolloutPerMinute {
			c.add(join(p, "maximumPerMinute"), "is over %d things a minute: a fleet that large is better rolled out with exponentialRate", maxRolloutPerMinute)
		}
		if e := r.ExponentialRate; e != nil {
			if ri := e.RateIncreaseCriteria; (ri.NumberOfNotifiedThings == 0) == (ri.NumberOfSucceededThings == 0) {
				c.add(join(p, "exponentialRate.rateIncreaseCriteria"), "give exactly one of numberOfNotifiedThings or numberOfSucceededThings: otherwise the rate never increases or the choice is unclear")
			}
		}
	}
	if a := j.AbortConfig; a != nil {
		p := join(path, "abortConfig.criteriaList")
		seen := map[string]bool{}
		for i, cr := range a.CriteriaList {
			if seen[cr.FailureType] {
				c.add(join(index(p, i), "failureType"), "duplicate failureType %s", cr.FailureType)
			}
			seen[cr.FailureType] = true
			if cr.ThresholdPercentage <= 0 {
				c.add(join(index(p, i), "thresholdPercentage"), "is %g: the job aborts as soon as minNumberOfExecutedThings have run", cr.ThresholdPercentage)
			}
		}
	}
	// MQTT topics carry the namespace (notify-namespace-ID); keep it short.
	if n := j.NamespaceID; len(n) > 64 {
		c.add(join(path, "namespaceId"), "is %d characters; at most 64 keep the notify topics short", len(n))
	}
	if t := j.JobTemplateArn; t != "" && !strings.Contains(t, ":jobtemplate/") {
		c.add(join(path, "jobTemplateArn"), "is not a job template ARN (arn:aws:iot:REGION:ACCOUNT:jobtemplate/ID)")
	}
}
