package ota

import (
	"strings"
	"testing"
)

// adviceCases are rules otactl used to refuse and AWS accepts: Validate (what
// AWS refuses) must pass each spec, and Advise must warn about it.
var adviceCases = []ruleCase{
	{"retry total", func(s *Spec) {
		s.TimeoutConfig = &TimeoutConfig{30}
		s.JobExecutionsRetryConfig = retry(RetryCriteria{"FAILED", 6}, RetryCriteria{"TIMED_OUT", 5})
	}, "jobExecutionsRetryConfig.criteriaList", "total 11"},
	{"retry timed out needs timeout", func(s *Spec) { s.JobExecutionsRetryConfig = retry(RetryCriteria{"TIMED_OUT", 2}) }, "jobExecutionsRetryConfig.criteriaList[0].failureType", "needs timeoutConfig"},
	{"retry duplicate type", func(s *Spec) {
		s.JobExecutionsRetryConfig = retry(RetryCriteria{"FAILED", 1}, RetryCriteria{"FAILED", 1})
	}, "jobExecutionsRetryConfig.criteriaList[1].failureType", "duplicate"},
	{"end behavior without end", sched(SchedulingConfig{StartTime: "2026-12-01T10:00", EndBehavior: "FORCE_CANCEL"}), "schedulingConfig.endBehavior", "does not apply without an endTime"},
	{"rollout empty", func(s *Spec) { s.JobExecutionsRolloutConfig = &RolloutConfig{} }, "jobExecutionsRolloutConfig", "neither maximumPerMinute nor exponentialRate"},
	{"rollout over 1000", func(s *Spec) { s.JobExecutionsRolloutConfig = &RolloutConfig{MaximumPerMinute: 1001} }, "jobExecutionsRolloutConfig.maximumPerMinute", "over 1000"},
	{"expo criteria none", expo(10, 2, RateIncreaseCriteria{}), "jobExecutionsRolloutConfig.exponentialRate.rateIncreaseCriteria", "exactly one"},
	{"expo criteria both", expo(10, 2, RateIncreaseCriteria{5, 5}), "jobExecutionsRolloutConfig.exponentialRate.rateIncreaseCriteria", "exactly one"},
	{"abort threshold 0", abortOn(AbortCriteria{"FAILED", "CANCEL", 0, 5}), "abortConfig.criteriaList[0].thresholdPercentage", "aborts as soon as"},
	{"abort duplicate", func(s *Spec) {
		s.AbortConfig = &AbortConfig{CriteriaList: []AbortCriteria{{"FAILED", "CANCEL", 10, 5}, {"FAILED", "CANCEL", 20, 5}}}
	}, "abortConfig.criteriaList[1].failureType", "duplicate"},
	{"namespace over 64", func(s *Spec) { s.NamespaceID = strings.Repeat("n", 65) }, "namespaceId", "at most 64"},
	{"tag key duplicate", func(s *Spec) { s.Tags = []Tag{{"k", "a"}, {"k", "b"}} }, "tags[1].Key", "duplicate"},
}

func TestAdviceIsNotRefused(t *testing.T) {
	for _, tc := range adviceCases {
		t.Run(tc.name, func(t *testing.T) {
			s := validSpec()
			tc.mutate(s)
			if errs := Validate(s, testNow); len(errs) != 0 {
				t.Fatalf("AWS accepts this; Validate refused it: %v", errs)
			}
			warnings := Advise(s)
			want := tc.path + ": "
			for _, w := range warnings {
				if strings.HasPrefix(w, want) && strings.Contains(w, tc.rule) {
					return
				}
			}
			t.Fatalf("want a warning %s...%s..., got %q", want, tc.rule, warnings)
		})
	}
	if w := Advise(validSpec()); len(w) != 0 {
		t.Fatalf("a plain spec gets no advice, got %q", w)
	}
}

// TestJobRequestAdvice: the CreateJob requests the issue names (AWS accepts
// them) pass ValidateJobAPI and get advice.
func TestJobRequestAdvice(t *testing.T) {
	base := JobRequest{JobID: "j", Targets: []string{"arn:aws:iot:us-east-1:123456789012:thing/t"}, Document: "{}"}
	cases := []struct {
		name   string
		mutate func(*JobRequest)
		path   string
		rule   string
	}{
		{"service-role path", func(r *JobRequest) {
			r.PresignedURLConfig = &PresignedURLConfig{RoleArn: "arn:aws:iam::1:role/service-role/iot_job_role"}
		}, "presignedUrlConfig.roleArn", "not an IAM role ARN"},
		{"end behavior without end", func(r *JobRequest) {
			r.SchedulingConfig = &SchedulingConfig{EndBehavior: "CANCEL"}
		}, "schedulingConfig.endBehavior", "does not apply"},
		{"document and source", func(r *JobRequest) { r.DocumentSource = "https://s3.amazonaws.com/b/k" }, "documentSource", "ignored"},
		{"duplicate target", func(r *JobRequest) { r.Targets = append(r.Targets, r.Targets[0]) }, "targets[1]", "duplicate"},
		{"package version not iot", func(r *JobRequest) {
			r.DestinationPackageVersions = []string{"arn:aws:s3:::bucket/key"}
		}, "destinationPackageVersions[0]", "not a package version ARN"},
		{"parameters without template", func(r *JobRequest) { r.DocumentParameters = map[string]string{"k": "v"} }, "documentParameters", "managed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := base
			tc.mutate(&r)
			if errs := ValidateJobAPI(&r, testNow); len(errs) != 0 {
				t.Fatalf("AWS accepts this; ValidateJobAPI refused it: %v", errs)
			}
			if errs := AdviseJob(&r); !hasError(errs, tc.path, tc.rule) {
				t.Fatalf("want advice %s: ...%s..., got %v", tc.path, tc.rule, errs)
			}
		})
	}
	if errs := AdviseJob(&base); len(errs) != 0 {
		t.Fatalf("a plain request gets no advice, got %v", errs)
	}
}
