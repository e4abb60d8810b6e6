package jobsdata_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/otactl/otactl/local"
)

// TestEarlierAttempt: after a FAILED report and a retry, the device can
// still name the failed attempt's executionNumber: it exists, and is
// terminal (TerminalStateException), while the retry is readable as
// number 2. A number that never existed is not found.
func TestEarlierAttempt(t *testing.T) {
	f := start(t)
	f.things("dev-1")
	if _, err := f.iot.CreateJob(ctx, &sdkiot.CreateJobInput{
		JobId: aws.String("job-r"), Targets: []string{"arn:aws:iot:us-east-1:" + local.DefaultAccountID + ":thing/dev-1"}, Document: aws.String(`{"a":1}`),
		JobExecutionsRetryConfig: &types.JobExecutionsRetryConfig{CriteriaList: []types.RetryCriteria{{FailureType: types.RetryableFailureTypeFailed, NumberOfRetries: aws.Int32(1)}}},
	}); err != nil {
		t.Fatal(err)
	}
	if r := f.call("POST", "/things/dev-1/jobs/job-r", `{"status":"FAILED"}`); r.status != 200 {
		t.Fatalf("FAILED report: %d %s", r.status, r.body)
	}
	f.expectError(f.call("GET", "/things/dev-1/jobs/job-r?executionNumber=1", ""), 410, "TerminalStateException")
	var described struct{ Execution execution }
	r := f.call("GET", "/things/dev-1/jobs/job-r?executionNumber=2&includeJobDocument=false", "")
	r.decode(t, &described)
	if r.status != 200 || described.Execution.ExecutionNumber != 2 || described.Execution.Status != "QUEUED" {
		t.Fatalf("the retry: %d %s", r.status, r.body)
	}
	f.expectError(f.call("GET", "/things/dev-1/jobs/job-r?executionNumber=3", ""), 404, "ResourceNotFoundException")
}
