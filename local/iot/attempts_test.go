package iot_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"

	"github.com/otactl/otactl/local/iot"
)

// TestEarlierAttemptsKept: after a retry, DescribeJobExecution reaches the
// failed attempt by its executionNumber, as on AWS; DeleteJobExecution
// removes one attempt alone, and DeleteJob all of them.
func TestEarlierAttemptsKept(t *testing.T) {
	f := start(t)
	f.group(t, "g", 1)
	f.job(t, "j", groupArn("g"))
	f.svc.RetryPolicy = func(j *iot.Job, e *iot.Execution) bool { return e.RetryAttempt < 2 }
	for i := 0; i < 2; i++ {
		must(f.svc.UpdateExecution("g-0000", "j", iot.ExecutionUpdate{Status: "FAILED", StatusDetails: map[string]string{"try": string(rune('1' + i))}}))
	}
	describe := func(n int64) (*sdkiot.DescribeJobExecutionOutput, error) {
		in := &sdkiot.DescribeJobExecutionInput{JobId: aws.String("j"), ThingName: aws.String("g-0000")}
		if n > 0 {
			in.ExecutionNumber = aws.Int64(n)
		}
		return f.client.DescribeJobExecution(ctx, in)
	}
	latest := must(describe(0)).Execution
	if latest.Status != "QUEUED" || *latest.ExecutionNumber != 3 {
		t.Fatalf("latest attempt: %s #%d", latest.Status, *latest.ExecutionNumber)
	}
	for n, try := range map[int64]string{1: "1", 2: "2"} {
		e := must(describe(n)).Execution
		if e.Status != "FAILED" || *e.ExecutionNumber != n || e.StatusDetails.DetailsMap["try"] != try {
			t.Errorf("attempt %d: %s #%d %v", n, e.Status, *e.ExecutionNumber, e.StatusDetails.DetailsMap)
		}
	}
	if *must(describe(3)).Execution.ExecutionNumber != 3 {
		t.Error("executionNumber of the latest attempt")
	}
	_, err := describe(4)
	wantCode(t, err, "ResourceNotFoundException")

	// One earlier attempt goes; the other and the latest stay, and the
	// job's counts do not move (earlier attempts are not counted).
	before := checkCounts(t, f, "j")
	if _, err := f.client.DeleteJobExecution(ctx, &sdkiot.DeleteJobExecutionInput{JobId: aws.String("j"), ThingName: aws.String("g-0000"), ExecutionNumber: aws.Int64(1)}); err != nil {
		t.Fatal(err)
	}
	_, err = describe(1)
	wantCode(t, err, "ResourceNotFoundException")
	must(describe(2))
	must(describe(0))
	if after := checkCounts(t, f, "j"); *after.NumberOfQueuedThings != *before.NumberOfQueuedThings || *after.NumberOfFailedThings != *before.NumberOfFailedThings {
		t.Errorf("counts moved: %+v → %+v", before, after)
	}
	if as := must(f.svc.EarlierAttempts("g-0000", "j")); len(as) != 1 || as[0].ExecutionNumber != 2 {
		t.Errorf("earlier attempts: %+v", as)
	}

	// DeleteJob takes every attempt with it: a new job of the same id
	// starts with none.
	if _, err := f.client.DeleteJob(ctx, &sdkiot.DeleteJobInput{JobId: aws.String("j"), Force: true}); err != nil {
		t.Fatal(err)
	}
	f.job(t, "j", groupArn("g"))
	_, err = describe(2)
	wantCode(t, err, "ResourceNotFoundException")
	if as := must(f.svc.EarlierAttempts("g-0000", "j")); len(as) != 0 {
		t.Errorf("attempts of a deleted job: %+v", as)
	}
}
