package ota

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// The rules AWS refuses a job request for, and only those: each is stated by
// the IoT API reference (a member's length, pattern, range or enum, or a
// documented cross-field rule), named in a comment as "ref: ...". otactl
// local's CreateJob, UpdateJob and CreateJobTemplate apply them, and so do
// otactl plan and create (Validate). otactl's stricter advice is in
// validate_advice.go: plan shows it as warnings, the emulator never refuses
// for it.

const (
	maxTargetArnLen      = 2048  // ref: TargetArn
	maxParameterValueLen = 30720 // ref: ParameterValue
	maxArnLen            = 1600  // ref: PackageVersionArn, JobTemplateArn
	minRoleArnLen        = 20    // ref: RoleArn
	maxRoleArnLen        = 2048  // ref: RoleArn
)

// ValidateJobAPI applies to r every rule AWS's CreateJob API reference
// states, and no other; now anchors the scheduling windows. Field paths are
// CreateJob's member names.
func ValidateJobAPI(r *JobRequest, now time.Time) Errors {
	c := &checker{}
	c.jobRequestAPI(r, now)
	return c.errs
}

// ValidateJobConfigAPI applies the API reference's rules to the
// configuration members CreateJob shares with UpdateJob and
// CreateJobTemplate; members left nil are not checked.
func ValidateJobConfigAPI(j *JobConfig, now time.Time) Errors {
	c := &checker{}
	c.jobConfigAPI("", j, now)
	c.presignedRoleAPI(j.PresignedURLConfig)
	c.packageArnsAPI("destinationPackageVersions", j.DestinationPackageVersions)
	return c.errs
}

// ValidateTextAPI checks a description or comment member: at most 2028
// characters, none of them control or format characters.
func ValidateTextAPI(path, v string) Errors {
	c := &checker{}
	c.description(path, v)
	return c.errs
}

func (c *checker) jobRequestAPI(r *JobRequest, now time.Time) {
	switch { // ref: JobId: 1-64, Pattern [a-zA-Z0-9_-]+
	case r.JobID == "":
		c.add("jobId", "is required")
	case len(r.JobID) > maxJobIDLen:
		c.add("jobId", "must be at most %d characters", maxJobIDLen)
	case !idPattern.MatchString(r.JobID):
		c.add("jobId", "must match [a-zA-Z0-9_-]+")
	}
	c.targetArnsAPI("targets", r.Targets)
	// ref: document "Required if you don't specify a value for documentSource";
	// a job from a template takes the template's.
	if r.Document == "" && r.DocumentSource == "" && r.JobTemplateArn == "" {
		c.add("document", "one of document, documentSource or jobTemplateArn is required")
	}
	if len(r.Document) > MaxDocumentBytes { // ref: JobDocument: max 32768
		c.add("document", "is %d bytes; a job document is at most %d bytes", len(r.Document), MaxDocumentBytes)
	}
	if len(r.DocumentSource) > 1350 { // ref: JobDocumentSource: 1-1350
		c.add("documentSource", "must be at most 1350 characters")
	}
	c.description("description", r.Description)
	c.targetSelection("targetSelection", r.TargetSelection)
	c.tagsAPI("tags", r.Tags)
	c.documentParameters(r)
	c.jobConfigAPI("", &r.JobConfig, now)
	c.presignedRoleAPI(r.PresignedURLConfig)
	c.packageArnsAPI("destinationPackageVersions", r.DestinationPackageVersions)
}

// presignedRoleAPI: ref: RoleArn 20-2048 characters, and no pattern: AWS
// does not refuse a role ARN of another shape (advice does). A spec names
// the role otactl turns into an ARN, so Validate does not apply this.
func (c *checker) presignedRoleAPI(p *PresignedURLConfig) {
	if p == nil || p.RoleArn == "" {
		return
	}
	if n := len(p.RoleArn); n < minRoleArnLen || n > maxRoleArnLen {
		c.add("presignedUrlConfig.roleArn", "must be %d-%d characters, got %d", minRoleArnLen, maxRoleArnLen, n)
	}
}

// targetArnsAPI: ref: JobTargets: at least 1; TargetArn: at most 2048. That
// a target names a thing or group that exists is the service's to check.
func (c *checker) targetArnsAPI(path string, ts []string) {
	if len(ts) == 0 {
		c.add(path, "at least one target (thing or thing group ARN) is required")
	}
	for i, t := range ts {
		if t == "" || len(t) > maxTargetArnLen {
			c.add(index(path, i), "must be 1-%d characters", maxTargetArnLen)
		}
	}
}

// documentParameters: ref: ParameterKey 1-128 [a-zA-Z0-9_-]+, ParameterValue
// 1-30720 [^\p{C}]+; "This parameter can't be used with custom job templates
// or to create jobs from them" (a custom template's ARN has an account).
func (c *checker) documentParameters(r *JobRequest) {
	for k, v := range r.DocumentParameters {
		p := "documentParameters." + k
		if !parameterKeyPattern.MatchString(k) {
			c.add(p, "key must be 1-128 characters of [a-zA-Z0-9_-]")
		}
		if len(v) > maxParameterValueLen || !noControlPattern.MatchString(v) {
			c.add(p, "value must be 1-%d characters without control characters", maxParameterValueLen)
		}
	}
	if len(r.DocumentParameters) > 0 && customTemplate(r.JobTemplateArn) {
		c.add("documentParameters", "cannot be used to create a job from a custom job template (only from AWS managed templates)")
	}
}

// customTemplate reports whether arn is a job template of an account (AWS
// managed templates have no account: arn:aws:iot:REGION::jobtemplate/NAME:VERSION).
func customTemplate(arn string) bool {
	parts := strings.SplitN(arn, ":", 6)
	return len(parts) == 6 && parts[4] != ""
}

// tagsAPI: ref: TagKey 1-128 of [\p{L}\p{Z}\p{N}_.:/=+\-@]; TagValue at most
// 256; IoT developer guide, tag restrictions: the aws: prefix is reserved.
// The 50-tags-per-resource limit is the service's (LimitExceededException).
func (c *checker) tagsAPI(path string, tags []Tag) {
	for i, t := range tags {
		p := index(path, i)
		switch {
		case t.Key == "" || len(t.Key) > 128:
			c.add(join(p, "Key"), "must be 1-128 characters")
		case !tagKeyPattern.MatchString(t.Key):
			c.add(join(p, "Key"), "must be letters, digits, spaces and _.:/=+-@")
		case strings.HasPrefix(strings.ToLower(t.Key), "aws:"):
			c.add(join(p, "Key"), "must not start with the reserved prefix aws:")
		}
		if len(t.Value) > 256 {
			c.add(join(p, "Value"), "must be at most 256 characters")
		}
	}
}

// packageArnsAPI: ref: "Up to 25 package version ARNs"; PackageVersionArn
// 1-1600, Pattern ^arn:[!-~]+$.
func (c *checker) packageArnsAPI(path string, vs []string) {
	c.packageCount(path, vs)
	for i, v := range vs {
		if len(v) > maxArnLen || !anyArnPattern.MatchString(v) {
			c.add(index(path, i), "must be an ARN (arn:...) of at most %d characters, got %q", maxArnLen, v)
		}
	}
}

func (c *checker) packageCount(path string, vs []string) {
	if len(vs) > maxPackageVersions {
		c.add(path, "at most %d package versions, got %d", maxPackageVersions, len(vs))
	}
}

// jobConfigAPI checks the configuration CreateJob shares with the spec;
// path is the parent of the fields ("" in a spec and in a request, which
// share names). Package versions are checked by the caller: a spec may name
// them as package@version.
func (c *checker) jobConfigAPI(path string, j *JobConfig, now time.Time) {
	// ref: inProgressTimeoutInMinutes "between 1 minute and 7 days (1 to 10080 minutes)".
	if t := j.TimeoutConfig; t != nil && (t.InProgressTimeoutInMinutes < 1 || t.InProgressTimeoutInMinutes > maxTimeoutMinutes) {
		c.add(join(path, "timeoutConfig.inProgressTimeoutInMinutes"), "must be 1-%d (7 days), got %d", maxTimeoutMinutes, t.InProgressTimeoutInMinutes)
	}
	if r := j.JobExecutionsRetryConfig; r != nil {
		c.retryAPI(join(path, "jobExecutionsRetryConfig"), r)
	}
	if s := j.SchedulingConfig; s != nil {
		c.schedulingAPI(join(path, "schedulingConfig"), s, now)
	}
	if r := j.JobExecutionsRolloutConfig; r != nil {
		c.rolloutAPI(join(path, "jobExecutionsRolloutConfig"), r)
	}
	if a := j.AbortConfig; a != nil {
		c.abortAPI(join(path, "abortConfig"), a)
	}
	if p := j.PresignedURLConfig; p != nil {
		pp := join(path, "presignedUrlConfig")
		// ref: ExpiresInSec 60-3600.
		if p.ExpiresInSec != 0 && (p.ExpiresInSec < minPresignSeconds || p.ExpiresInSec > maxPresignSeconds) {
			c.add(join(pp, "expiresInSec"), "must be %d-%d, got %d", minPresignSeconds, maxPresignSeconds, p.ExpiresInSec)
		}
	}
	// ref: NamespaceId: Pattern [a-zA-Z0-9_-]+ (no length limit is stated).
	if n := j.NamespaceID; n != "" && !idPattern.MatchString(n) {
		c.add(join(path, "namespaceId"), "must be characters of [a-zA-Z0-9_-]")
	}
	// ref: JobTemplateArn 1-1600, Pattern ^arn:[!-~]+$.
	if t := j.JobTemplateArn; t != "" && (len(t) > maxArnLen || !anyArnPattern.MatchString(t)) {
		c.add(join(path, "jobTemplateArn"), "must be a job template ARN of at most %d characters", maxArnLen)
	}
}

var failureTypesRetry = map[string]bool{"FAILED": true, "TIMED_OUT": true, "ALL": true}
var failureTypesAbort = map[string]bool{"FAILED": true, "REJECTED": true, "TIMED_OUT": true, "ALL": true}

// retryAPI: ref: RetryCriteriaList 1-2; RetryableFailureType enum;
// NumberOfRetries 0-10.
func (c *checker) retryAPI(path string, r *RetryConfig) {
	if n := len(r.CriteriaList); n < 1 || n > 2 {
		c.add(join(path, "criteriaList"), "must have 1-2 criteria, got %d", n)
	}
	for i, cr := range r.CriteriaList {
		p := index(join(path, "criteriaList"), i)
		if !failureTypesRetry[cr.FailureType] {
			c.add(join(p, "failureType"), "must be FAILED, TIMED_OUT or ALL, got %q", cr.FailureType)
		}
		if cr.NumberOfRetries < 0 || cr.NumberOfRetries > maxRetryTotal {
			c.add(join(p, "numberOfRetries"), "must be 0-%d, got %d", maxRetryTotal, cr.NumberOfRetries)
		}
	}
}

// schedulingAPI: ref: startTime "up to a year in advance and ... a minimum
// of thirty minutes from the current time"; endTime "no later than two years
// from the current time and ... a minimum of thirty minutes from the current
// time", 30 minutes to 2 years after startTime; both YYYY-MM-DDTHH:MM;
// JobEndBehavior enum; MaintenanceWindow startTime a cron expression of
// 1-256 characters, durationInMinutes 1-1430. endBehavior without endTime is
// accepted: the reference says it then does not apply.
func (c *checker) schedulingAPI(path string, s *SchedulingConfig, now time.Time) {
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
	case "", "STOP_ROLLOUT", "CANCEL", "FORCE_CANCEL":
	default:
		c.add(join(path, "endBehavior"), "must be STOP_ROLLOUT, CANCEL or FORCE_CANCEL, got %q", s.EndBehavior)
	}
	c.windowsAPI(join(path, "maintenanceWindows"), s.MaintenanceWindows)
}

// windowsAPI checks maintenance windows (schedulingConfig's, or a job
// template's top-level maintenanceWindows).
func (c *checker) windowsAPI(path string, ws []MaintenanceWindow) {
	for i, w := range ws {
		p := index(path, i)
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

// ValidateWindowsAPI checks a job template's maintenanceWindows.
func ValidateWindowsAPI(path string, ws []MaintenanceWindow) Errors {
	c := &checker{}
	c.windowsAPI(path, ws)
	return c.errs
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

// rolloutAPI: ref: MaxJobExecutionsPerMin at least 1 (no maximum is
// stated); ExponentialRolloutRate: baseRatePerMinute 1-1000, incrementFactor
// 1.1-5 with "up to one digit after the decimal", rateIncreaseCriteria
// counts (NumberOfThings) at least 1.
func (c *checker) rolloutAPI(path string, r *RolloutConfig) {
	if r.MaximumPerMinute < 0 {
		c.add(join(path, "maximumPerMinute"), "must be at least 1, got %d", r.MaximumPerMinute)
	}
	e := r.ExponentialRate
	if e == nil {
		return
	}
	ep := join(path, "exponentialRate")
	if e.BaseRatePerMinute < 1 || e.BaseRatePerMinute > maxRolloutPerMinute {
		c.add(join(ep, "baseRatePerMinute"), "must be 1-%d, got %d", maxRolloutPerMinute, e.BaseRatePerMinute)
	}
	if e.IncrementFactor < 1.1 || e.IncrementFactor > 5 {
		c.add(join(ep, "incrementFactor"), "must be 1.1-5, got %g", e.IncrementFactor)
	} else if !decimals(e.IncrementFactor, 1) {
		c.add(join(ep, "incrementFactor"), "allows one digit after the decimal point, got %g", e.IncrementFactor)
	}
	if ri := e.RateIncreaseCriteria; ri.NumberOfNotifiedThings < 0 || ri.NumberOfSucceededThings < 0 {
		c.add(join(ep, "rateIncreaseCriteria"), "counts must be at least 1")
	}
}

// abortAPI: ref: AbortCriteriaList at least 1; JobExecutionFailureType and
// AbortAction enums; thresholdPercentage at most 100 with "up to two digits
// after the decimal"; minNumberOfExecutedThings at least 1.
func (c *checker) abortAPI(path string, a *AbortConfig) {
	if len(a.CriteriaList) == 0 {
		c.add(join(path, "criteriaList"), "at least one criterion is required")
	}
	for i, cr := range a.CriteriaList {
		p := index(join(path, "criteriaList"), i)
		if !failureTypesAbort[cr.FailureType] {
			c.add(join(p, "failureType"), "must be FAILED, REJECTED, TIMED_OUT or ALL, got %q", cr.FailureType)
		}
		if cr.Action != "CANCEL" {
			c.add(join(p, "action"), "must be CANCEL, got %q", cr.Action)
		}
		if cr.ThresholdPercentage > 100 {
			c.add(join(p, "thresholdPercentage"), "must be at most 100, got %g", cr.ThresholdPercentage)
		} else if !decimals(cr.ThresholdPercentage, 2) {
			c.add(join(p, "thresholdPercentage"), "allows two digits after the decimal point, got %g", cr.ThresholdPercentage)
		}
		if cr.MinNumberOfExecutedThings < 1 {
			c.add(join(p, "minNumberOfExecutedThings"), "must be at least 1, got %d", cr.MinNumberOfExecutedThings)
		}
	}
}

// decimals reports whether v has at most n digits after the decimal point.
func decimals(v float64, n int) bool {
	f := v * math.Pow10(n)
	return math.Abs(f-math.Round(f)) < 1e-6
}

// ValidateTargetsAPI checks a list of target ARNs (CreateJob's and
// AssociateTargetsWithJob's targets).
func ValidateTargetsAPI(path string, ts []string) Errors {
	c := &checker{}
	c.targetArnsAPI(path, ts)
	return c.errs
}

// ValidateTagsAPI checks a request's tags (TagKey, TagValue).
func ValidateTagsAPI(path string, tags []Tag) Errors {
	c := &checker{}
	c.tagsAPI(path, tags)
	return c.errs
}
