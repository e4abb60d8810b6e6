package awscloud

import (
	"encoding/json"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/otactl/otactl/ota"
)

// TestJobRequestMapsEveryField guards the JSON mapping of ota.JobRequest onto
// the SDK's CreateJobInput: every option the spec has must arrive.
func TestJobRequestMapsEveryField(t *testing.T) {
	r := ota.JobRequest{
		JobID: "AFR_OTA-x", Targets: []string{"arn:t"}, Document: "{}", Description: "d", TargetSelection: "CONTINUOUS",
		Tags: []ota.Tag{{Key: "k", Value: "v"}}, DocumentParameters: map[string]string{"p": "1"},
		JobConfig: ota.JobConfig{
			TimeoutConfig:            &ota.TimeoutConfig{InProgressTimeoutInMinutes: 30},
			JobExecutionsRetryConfig: &ota.RetryConfig{CriteriaList: []ota.RetryCriteria{{FailureType: "TIMED_OUT", NumberOfRetries: 3}}},
			SchedulingConfig: &ota.SchedulingConfig{StartTime: "2027-01-01T00:00", EndTime: "2027-01-02T00:00", EndBehavior: "CANCEL",
				MaintenanceWindows: []ota.MaintenanceWindow{{StartTime: "cron(0 2 ? * SAT *)", DurationInMinutes: 60}}},
			JobExecutionsRolloutConfig: &ota.RolloutConfig{MaximumPerMinute: 9, ExponentialRate: &ota.ExponentialRate{BaseRatePerMinute: 2, IncrementFactor: 1.5,
				RateIncreaseCriteria: ota.RateIncreaseCriteria{NumberOfSucceededThings: 4}}},
			AbortConfig:                &ota.AbortConfig{CriteriaList: []ota.AbortCriteria{{FailureType: "REJECTED", Action: "CANCEL", ThresholdPercentage: 12.5, MinNumberOfExecutedThings: 7}}},
			PresignedURLConfig:         &ota.PresignedURLConfig{RoleArn: "arn:role", ExpiresInSec: 600},
			DestinationPackageVersions: []string{"arn:pkg"},
			NamespaceID:                "ns",
			JobTemplateArn:             "arn:tmpl",
		},
	}
	raw, _ := json.Marshal(r)
	var in iot.CreateJobInput
	if err := json.Unmarshal(raw, &in); err != nil {
		t.Fatal(err)
	}
	checks := map[string]bool{
		"jobId":       aws.ToString(in.JobId) == "AFR_OTA-x",
		"targets":     len(in.Targets) == 1,
		"document":    aws.ToString(in.Document) == "{}",
		"description": aws.ToString(in.Description) == "d",
		"selection":   in.TargetSelection == "CONTINUOUS",
		"tags":        len(in.Tags) == 1 && aws.ToString(in.Tags[0].Key) == "k",
		"docParams":   in.DocumentParameters["p"] == "1",
		"timeout":     aws.ToInt64(in.TimeoutConfig.InProgressTimeoutInMinutes) == 30,
		"retry":       in.JobExecutionsRetryConfig.CriteriaList[0].FailureType == "TIMED_OUT" && aws.ToInt32(in.JobExecutionsRetryConfig.CriteriaList[0].NumberOfRetries) == 3,
		"schedule":    aws.ToString(in.SchedulingConfig.StartTime) == "2027-01-01T00:00" && in.SchedulingConfig.EndBehavior == "CANCEL" && aws.ToInt32(in.SchedulingConfig.MaintenanceWindows[0].DurationInMinutes) == 60,
		"rollout":     aws.ToInt32(in.JobExecutionsRolloutConfig.MaximumPerMinute) == 9 && aws.ToFloat64(in.JobExecutionsRolloutConfig.ExponentialRate.IncrementFactor) == 1.5 && aws.ToInt32(in.JobExecutionsRolloutConfig.ExponentialRate.RateIncreaseCriteria.NumberOfSucceededThings) == 4,
		"abort":       aws.ToFloat64(in.AbortConfig.CriteriaList[0].ThresholdPercentage) == 12.5 && aws.ToInt32(in.AbortConfig.CriteriaList[0].MinNumberOfExecutedThings) == 7 && in.AbortConfig.CriteriaList[0].Action == "CANCEL",
		"presigned":   aws.ToInt64(in.PresignedUrlConfig.ExpiresInSec) == 600 && aws.ToString(in.PresignedUrlConfig.RoleArn) == "arn:role",
		"packages":    len(in.DestinationPackageVersions) == 1,
		"namespace":   aws.ToString(in.NamespaceId) == "ns",
		"template":    aws.ToString(in.JobTemplateArn) == "arn:tmpl",
	}
	for name, ok := range checks {
		if !ok {
			t.Errorf("%s did not reach CreateJobInput", name)
		}
	}
}
