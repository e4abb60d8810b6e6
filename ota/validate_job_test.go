package ota

import (
	"strings"
	"testing"
	"time"
)

func retry(c ...RetryCriteria) *RetryConfig { return &RetryConfig{CriteriaList: c} }

func sched(sc SchedulingConfig) func(*Spec) {
	return func(s *Spec) { s.SchedulingConfig = &sc }
}

func window(expr string, mins int) []MaintenanceWindow {
	return []MaintenanceWindow{{StartTime: expr, DurationInMinutes: mins}}
}

func expo(base int, factor float64, crit RateIncreaseCriteria) func(*Spec) {
	return func(s *Spec) {
		s.JobExecutionsRolloutConfig = &RolloutConfig{ExponentialRate: &ExponentialRate{base, factor, crit}}
	}
}

func abortOn(c AbortCriteria) func(*Spec) {
	return func(s *Spec) { s.AbortConfig = &AbortConfig{CriteriaList: []AbortCriteria{c}} }
}

// testNow is 2026-11-25T08:00Z.
var jobRuleCases = []ruleCase{
	// timeoutConfig
	{"timeout 0", func(s *Spec) { s.TimeoutConfig = &TimeoutConfig{0} }, "timeoutConfig.inProgressTimeoutInMinutes", "1-10080"},
	{"timeout over 7 days", func(s *Spec) { s.TimeoutConfig = &TimeoutConfig{10081} }, "timeoutConfig.inProgressTimeoutInMinutes", "1-10080"},
	{"timeout 7 days ok", func(s *Spec) { s.TimeoutConfig = &TimeoutConfig{10080} }, "", ""},
	// jobExecutionsRetryConfig
	{"retry empty", func(s *Spec) { s.JobExecutionsRetryConfig = retry() }, "jobExecutionsRetryConfig.criteriaList", "1-2 criteria"},
	{"retry failure type", func(s *Spec) { s.JobExecutionsRetryConfig = retry(RetryCriteria{"REJECTED", 1}) }, "jobExecutionsRetryConfig.criteriaList[0].failureType", "FAILED, TIMED_OUT or ALL"},
	{"retry count", func(s *Spec) { s.JobExecutionsRetryConfig = retry(RetryCriteria{"FAILED", 11}) }, "jobExecutionsRetryConfig.criteriaList[0].numberOfRetries", "0-10"},
	{"retry total 10 ok", func(s *Spec) {
		s.TimeoutConfig = &TimeoutConfig{30}
		s.JobExecutionsRetryConfig = retry(RetryCriteria{"FAILED", 5}, RetryCriteria{"TIMED_OUT", 5})
	}, "", ""},
	{"retry ALL with FAILED ok", func(s *Spec) { s.JobExecutionsRetryConfig = retry(RetryCriteria{"ALL", 1}, RetryCriteria{"FAILED", 1}) }, "", ""},
	// schedulingConfig
	{"start format", sched(SchedulingConfig{StartTime: "2026-12-01 10:00"}), "schedulingConfig.startTime", "YYYY-MM-DDTHH:MM"},
	{"start 29 min ahead", sched(SchedulingConfig{StartTime: "2026-11-25T08:29"}), "schedulingConfig.startTime", "at least 30 minutes"},
	{"start 30 min ahead ok", sched(SchedulingConfig{StartTime: "2026-11-25T08:30"}), "", ""},
	{"start over a year", sched(SchedulingConfig{StartTime: "2027-11-26T08:00"}), "schedulingConfig.startTime", "1 year"},
	{"end format", sched(SchedulingConfig{StartTime: "2026-12-01T10:00", EndTime: "tomorrow"}), "schedulingConfig.endTime", "YYYY-MM-DDTHH:MM"},
	{"end 29 min after start", sched(SchedulingConfig{StartTime: "2026-12-01T10:00", EndTime: "2026-12-01T10:29"}), "schedulingConfig.endTime", "at least 30 minutes"},
	{"end 30 min after start ok", sched(SchedulingConfig{StartTime: "2026-12-01T10:00", EndTime: "2026-12-01T10:30", EndBehavior: "CANCEL"}), "", ""},
	{"end over 2 years", sched(SchedulingConfig{StartTime: "2026-12-01T10:00", EndTime: "2028-12-01T10:01"}), "schedulingConfig.endTime", "2 years"},
	{"end before now+30m without start", sched(SchedulingConfig{EndTime: "2026-11-25T08:10"}), "schedulingConfig.endTime", "at least 30 minutes"},
	{"end behavior enum", sched(SchedulingConfig{StartTime: "2026-12-01T10:00", EndTime: "2026-12-02T10:00", EndBehavior: "STOP"}), "schedulingConfig.endBehavior", "STOP_ROLLOUT, CANCEL or FORCE_CANCEL"},
	{"window ok", sched(SchedulingConfig{MaintenanceWindows: window("cron(0 2 ? * SAT *)", 120)}), "", ""},
	{"window not cron", sched(SchedulingConfig{MaintenanceWindows: window("0 2 * * *", 60)}), "schedulingConfig.maintenanceWindows[0].startTime", "AWS cron expression"},
	{"window five fields", sched(SchedulingConfig{MaintenanceWindows: window("cron(0 2 ? * SAT)", 60)}), "schedulingConfig.maintenanceWindows[0].startTime", "6 fields"},
	{"window both days", sched(SchedulingConfig{MaintenanceWindows: window("cron(0 2 * * SAT *)", 60)}), "schedulingConfig.maintenanceWindows[0].startTime", "exactly one of day-of-month and day-of-week"},
	{"window bad minute", sched(SchedulingConfig{MaintenanceWindows: window("cron(61 2 ? * SAT *)", 60)}), "schedulingConfig.maintenanceWindows[0].startTime", "cron expression"},
	{"window bad dow number", sched(SchedulingConfig{MaintenanceWindows: window("cron(0 2 ? * 0 *)", 60)}), "schedulingConfig.maintenanceWindows[0].startTime", "1-7"},
	{"window bad year", sched(SchedulingConfig{MaintenanceWindows: window("cron(0 2 ? * SAT 1969)", 60)}), "schedulingConfig.maintenanceWindows[0].startTime", "year"},
	{"window duration 0", sched(SchedulingConfig{MaintenanceWindows: window("cron(0 2 ? * SAT *)", 0)}), "schedulingConfig.maintenanceWindows[0].durationInMinutes", "1-1430"},
	{"window duration 1431", sched(SchedulingConfig{MaintenanceWindows: window("cron(0 2 ? * SAT *)", 1431)}), "schedulingConfig.maintenanceWindows[0].durationInMinutes", "1-1430"},
	{"window duration 1430 ok", sched(SchedulingConfig{MaintenanceWindows: window("cron(0 2 ? * SAT *)", 1430)}), "", ""},
	{"window expression too long", sched(SchedulingConfig{MaintenanceWindows: window("cron(0 2 ? * SAT *)"+strings.Repeat(" ", 250), 60)}), "schedulingConfig.maintenanceWindows[0].startTime", "256"},
	{"end over 2 years from now", sched(SchedulingConfig{StartTime: "2027-11-01T00:00", EndTime: "2028-11-26T08:01"}), "schedulingConfig.endTime", "2 years from now"},
	{"end 2 years from now ok", sched(SchedulingConfig{StartTime: "2027-11-01T00:00", EndTime: "2028-11-24T08:00"}), "", ""},
	// jobExecutionsRolloutConfig
	{"rollout 1000 ok", func(s *Spec) { s.JobExecutionsRolloutConfig = &RolloutConfig{MaximumPerMinute: 1000} }, "", ""},
	{"expo ok", expo(10, 1.5, RateIncreaseCriteria{NumberOfNotifiedThings: 10}), "", ""},
	{"expo base", expo(0, 2, RateIncreaseCriteria{NumberOfNotifiedThings: 10}), "jobExecutionsRolloutConfig.exponentialRate.baseRatePerMinute", "1-1000"},
	{"expo factor low", expo(10, 1.05, RateIncreaseCriteria{NumberOfNotifiedThings: 10}), "jobExecutionsRolloutConfig.exponentialRate.incrementFactor", "1.1-5"},
	{"expo factor high", expo(10, 5.5, RateIncreaseCriteria{NumberOfNotifiedThings: 10}), "jobExecutionsRolloutConfig.exponentialRate.incrementFactor", "1.1-5"},
	{"expo factor digits", expo(10, 1.25, RateIncreaseCriteria{NumberOfNotifiedThings: 10}), "jobExecutionsRolloutConfig.exponentialRate.incrementFactor", "one digit"},
	// abortConfig
	{"abort empty", func(s *Spec) { s.AbortConfig = &AbortConfig{} }, "abortConfig.criteriaList", "at least one"},
	{"abort ok", abortOn(AbortCriteria{"REJECTED", "CANCEL", 100, 1}), "", ""},
	{"abort failure type", abortOn(AbortCriteria{"CANCELED", "CANCEL", 10, 5}), "abortConfig.criteriaList[0].failureType", "FAILED, REJECTED, TIMED_OUT or ALL"},
	{"abort action", abortOn(AbortCriteria{"FAILED", "STOP", 10, 5}), "abortConfig.criteriaList[0].action", "CANCEL"},
	{"abort threshold over 100", abortOn(AbortCriteria{"FAILED", "CANCEL", 100.5, 5}), "abortConfig.criteriaList[0].thresholdPercentage", "at most 100"},
	{"abort threshold digits", abortOn(AbortCriteria{"FAILED", "CANCEL", 10.999, 5}), "abortConfig.criteriaList[0].thresholdPercentage", "two digits"},
	{"abort threshold 10.99 ok", abortOn(AbortCriteria{"FAILED", "CANCEL", 10.99, 5}), "", ""},
	{"abort min things", abortOn(AbortCriteria{"FAILED", "CANCEL", 10, 0}), "abortConfig.criteriaList[0].minNumberOfExecutedThings", "at least 1"},
	// package versions, namespace, template
	{"package version arn ok", func(s *Spec) {
		s.DestinationPackageVersions = []string{"arn:aws:iot:us-east-1:123456789012:package/sensor-fw/version/1.4.0"}
	}, "", ""},
	{"package ref ok", func(s *Spec) { s.DestinationPackageVersions = []string{"sensor-fw@1.4.0"} }, "", ""},
	{"package version bad", func(s *Spec) { s.DestinationPackageVersions = []string{"sensor-fw:1.4.0"} }, "destinationPackageVersions[0]", "package@version"},
	{"package versions max 25", func(s *Spec) {
		for i := 0; i < 26; i++ {
			s.DestinationPackageVersions = append(s.DestinationPackageVersions, "p@1")
		}
	}, "destinationPackageVersions", "at most 25"},
	{"namespace pattern", func(s *Spec) { s.NamespaceID = "ns/1" }, "namespaceId", "[a-zA-Z0-9_-]"},
	{"namespace over 64 ok", func(s *Spec) { s.NamespaceID = strings.Repeat("n", 65) }, "", ""},
	{"namespace ok", func(s *Spec) { s.NamespaceID = "fleet_ns" }, "", ""},
	{"template arn", func(s *Spec) { s.JobTemplateArn = "template-1" }, "jobTemplateArn", "job template ARN"},
	{"template arn over 1600", func(s *Spec) { s.JobTemplateArn = "arn:" + strings.Repeat("t", 1597) }, "jobTemplateArn", "1600"},
	{"template arn ok", func(s *Spec) { s.JobTemplateArn = "arn:aws:iot:us-east-1:123456789012:jobtemplate/ota" }, "", ""},
}

func TestRetryThree(t *testing.T) {
	s := validSpec()
	s.TimeoutConfig = &TimeoutConfig{30}
	s.JobExecutionsRetryConfig = retry(RetryCriteria{"FAILED", 1}, RetryCriteria{"TIMED_OUT", 1}, RetryCriteria{"ALL", 1})
	errs := Validate(s, testNow)
	if !hasError(errs, "jobExecutionsRetryConfig.criteriaList", "1-2 criteria") {
		t.Fatalf("want 1-2 criteria error, got %v", errs)
	}
}

func TestValidateJobAPI(t *testing.T) {
	ok := JobRequest{
		JobID:    "AFR_OTA-fw",
		Targets:  []string{"arn:aws:iot:us-east-1:123456789012:thinggroup/g"},
		Document: `{"afr_ota":{}}`,
	}
	if errs := ValidateJobAPI(&ok, testNow); len(errs) != 0 {
		t.Fatalf("valid request: %v", errs)
	}
	cases := []struct {
		mutate func(*JobRequest)
		path   string
		rule   string
	}{
		{func(r *JobRequest) { r.JobID = strings.Repeat("j", 65) }, "jobId", "at most 64"},
		{func(r *JobRequest) { r.JobID = "a.b" }, "jobId", "[a-zA-Z0-9_-]+"},
		{func(r *JobRequest) { r.Targets = nil }, "targets", "at least one"},
		{func(r *JobRequest) { r.Targets = []string{strings.Repeat("t", 2049)} }, "targets[0]", "1-2048"},
		{func(r *JobRequest) { r.Document = "" }, "document", "one of document"},
		{func(r *JobRequest) { r.Document = strings.Repeat("x", MaxDocumentBytes+1) }, "document", "at most 32768"},
		{func(r *JobRequest) { r.Description = "two\nlines" }, "description", "control characters"},
		{func(r *JobRequest) { r.DestinationPackageVersions = []string{"p@1"} }, "destinationPackageVersions[0]", "ARN"},
		{func(r *JobRequest) { r.PresignedURLConfig = &PresignedURLConfig{RoleArn: "role", ExpiresInSec: 100} }, "presignedUrlConfig.roleArn", "20-2048"},
		{func(r *JobRequest) {
			r.PresignedURLConfig = &PresignedURLConfig{RoleArn: "arn:" + strings.Repeat("r", 2045)}
		}, "presignedUrlConfig.roleArn", "20-2048"},
		{func(r *JobRequest) { r.TimeoutConfig = &TimeoutConfig{0} }, "timeoutConfig.inProgressTimeoutInMinutes", "1-10080"},
		{func(r *JobRequest) { r.Tags = []Tag{{Key: "a#b"}} }, "tags[0].Key", "letters"},
		{func(r *JobRequest) { r.DocumentParameters = map[string]string{"a b": "v"} }, "documentParameters.a b", "key"},
		{func(r *JobRequest) { r.DocumentParameters = map[string]string{"k": ""} }, "documentParameters.k", "value"},
		{func(r *JobRequest) {
			r.DocumentParameters = map[string]string{"k": "v"}
			r.JobTemplateArn = "arn:aws:iot:us-east-1:123456789012:jobtemplate/mine"
		}, "documentParameters", "custom job template"},
	}
	for _, tc := range cases {
		r := ok
		tc.mutate(&r)
		errs := ValidateJobAPI(&r, testNow)
		if !hasError(errs, tc.path, tc.rule) {
			t.Errorf("%s: want ...%s..., got %v", tc.path, tc.rule, errs)
		}
	}
}

func TestCronNext(t *testing.T) {
	from := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC) // a Wednesday
	cases := []struct {
		expr string
		want string
	}{
		{"cron(0 2 ? * SAT *)", "2026-11-28T02:00"},
		{"cron(0 2 ? * 7 *)", "2026-11-28T02:00"}, // 7 is Saturday in AWS numbering
		{"cron(0 2 ? * 1 *)", "2026-11-29T02:00"}, // 1 is Sunday
		{"cron(30 9 ? * MON-FRI *)", "2026-11-25T09:30"},
		{"cron(0 2 * * ? *)", "2026-11-26T02:00"},
		{"cron(0 0 1 JAN ? 2028)", "2028-01-01T00:00"},
		{"cron(15 10 ? * 2-6 2026)", "2026-11-25T10:15"},
		{"cron(0 */6 * * ? *)", "2026-11-25T12:00"},
	}
	for _, tc := range cases {
		c, err := ParseCron(tc.expr)
		if err != nil {
			t.Fatalf("%s: %v", tc.expr, err)
		}
		if got := c.Next(from).Format("2006-01-02T15:04"); got != tc.want {
			t.Errorf("%s: next after %s = %s, want %s", tc.expr, from.Format(time.RFC3339), got, tc.want)
		}
	}
	c, _ := ParseCron("cron(0 0 1 JAN ? 2025)")
	if n := c.Next(from); !n.IsZero() {
		t.Errorf("a year in the past has no next match, got %s", n)
	}
	for _, bad := range []string{"cron(0 2 L * ? *)", "cron(0 2 ? * 6#3 *)", "cron(0 2 15W * ? *)"} {
		if _, err := ParseCron(bad); err == nil || !strings.Contains(err.Error(), "not supported") {
			t.Errorf("%s: want a not-supported error, got %v", bad, err)
		}
	}
	if _, err := ParseCron("cron(0 2 ? JUL WED *)"); err != nil {
		t.Errorf("month and day names containing L and W: %v", err)
	}
}
