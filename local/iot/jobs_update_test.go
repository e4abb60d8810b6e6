package iot_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/otactl/otactl/local/iot"
)

// TestCreateJobAcceptsWhatAWSAccepts: the requests issue 11 names, which
// AWS's API reference allows and otactl local used to refuse.
func TestCreateJobAcceptsWhatAWSAccepts(t *testing.T) {
	f := start(t)
	f.group(t, "fleet", 1)
	for id, in := range map[string]sdkiot.CreateJobInput{
		// RoleArn: 20-2048 characters, no pattern.
		"service-role": {PresignedUrlConfig: &types.PresignedUrlConfig{RoleArn: aws.String("arn:aws:iam::1:role/service-role/iot_job_role"), ExpiresInSec: aws.Int64(300)}},
		// endBehavior "does not apply" without endTime.
		"end-behavior": {SchedulingConfig: &types.SchedulingConfig{EndBehavior: types.JobEndBehaviorCancel}},
		// No maximum is stated for maximumPerMinute; retries may total more than 10.
		"fast-rollout": {JobExecutionsRolloutConfig: &types.JobExecutionsRolloutConfig{MaximumPerMinute: aws.Int32(5000)}},
		"abort-at-0": {AbortConfig: &types.AbortConfig{CriteriaList: []types.AbortCriteria{{FailureType: types.JobExecutionFailureTypeFailed,
			Action: types.AbortActionCancel, ThresholdPercentage: aws.Float64(0), MinNumberOfExecutedThings: aws.Int32(1)}}}},
	} {
		in.JobId, in.Targets, in.Document = aws.String(id), []string{groupArn("fleet")}, aws.String(`{"op":"x"}`)
		if _, err := f.client.CreateJob(ctx, &in); err != nil {
			t.Fatalf("%s: AWS accepts this request: %v", id, err)
		}
	}
	j := must(f.client.DescribeJob(ctx, &sdkiot.DescribeJobInput{JobId: aws.String("service-role")})).Job
	if *j.PresignedUrlConfig.RoleArn != "arn:aws:iam::1:role/service-role/iot_job_role" {
		t.Fatalf("roleArn not kept: %v", *j.PresignedUrlConfig.RoleArn)
	}
	// What the reference does state is still refused.
	_, err := f.client.CreateJob(ctx, &sdkiot.CreateJobInput{JobId: aws.String("short-role"), Targets: []string{groupArn("fleet")},
		Document: aws.String("{}"), PresignedUrlConfig: &types.PresignedUrlConfig{RoleArn: aws.String("arn:aws:iam::1:r")}})
	if ae := wantCode(t, err, "InvalidRequestException"); !strings.Contains(ae.ErrorMessage(), "presignedUrlConfig.roleArn: must be 20-2048") {
		t.Fatalf("message: %s", ae.ErrorMessage())
	}
}

func TestUpdateJob(t *testing.T) {
	f := start(t)
	c := f.client
	f.group(t, "fleet", 2)
	f.job(t, "j1", groupArn("fleet"))
	before := must(c.DescribeJob(ctx, &sdkiot.DescribeJobInput{JobId: aws.String("j1")})).Job
	must(c.UpdateJob(ctx, &sdkiot.UpdateJobInput{JobId: aws.String("j1"), Description: aws.String("v2"),
		TimeoutConfig:              &types.TimeoutConfig{InProgressTimeoutInMinutes: aws.Int64(45)},
		JobExecutionsRolloutConfig: &types.JobExecutionsRolloutConfig{MaximumPerMinute: aws.Int32(20)},
		AbortConfig: &types.AbortConfig{CriteriaList: []types.AbortCriteria{{FailureType: types.JobExecutionFailureTypeAll,
			Action: types.AbortActionCancel, ThresholdPercentage: aws.Float64(12.5), MinNumberOfExecutedThings: aws.Int32(3)}}},
		JobExecutionsRetryConfig: &types.JobExecutionsRetryConfig{CriteriaList: []types.RetryCriteria{{FailureType: types.RetryableFailureTypeFailed, NumberOfRetries: aws.Int32(2)}}},
		PresignedUrlConfig:       &types.PresignedUrlConfig{RoleArn: aws.String(roleArn), ExpiresInSec: aws.Int64(600)},
	}))
	j := must(c.DescribeJob(ctx, &sdkiot.DescribeJobInput{JobId: aws.String("j1")})).Job
	if *j.Description != "v2" || *j.TimeoutConfig.InProgressTimeoutInMinutes != 45 || *j.JobExecutionsRolloutConfig.MaximumPerMinute != 20 ||
		*j.AbortConfig.CriteriaList[0].ThresholdPercentage != 12.5 || *j.JobExecutionsRetryConfig.CriteriaList[0].NumberOfRetries != 2 ||
		*j.PresignedUrlConfig.ExpiresInSec != 600 || j.LastUpdatedAt.Before(*before.LastUpdatedAt) {
		t.Fatalf("update not applied: %+v", j)
	}
	// Members not sent stay as they were.
	must(c.UpdateJob(ctx, &sdkiot.UpdateJobInput{JobId: aws.String("j1"), Description: aws.String("v3")}))
	j = must(c.DescribeJob(ctx, &sdkiot.DescribeJobInput{JobId: aws.String("j1")})).Job
	if *j.Description != "v3" || j.TimeoutConfig == nil || *j.TimeoutConfig.InProgressTimeoutInMinutes != 45 {
		t.Fatalf("partial update: %+v", j)
	}
	// A refused update changes nothing.
	_, err := c.UpdateJob(ctx, &sdkiot.UpdateJobInput{JobId: aws.String("j1"), Description: aws.String("v4"),
		TimeoutConfig: &types.TimeoutConfig{InProgressTimeoutInMinutes: aws.Int64(0)}})
	if ae := wantCode(t, err, "InvalidRequestException"); !strings.Contains(ae.ErrorMessage(), "timeoutConfig.inProgressTimeoutInMinutes") {
		t.Fatalf("message: %s", ae.ErrorMessage())
	}
	if j = must(c.DescribeJob(ctx, &sdkiot.DescribeJobInput{JobId: aws.String("j1")})).Job; *j.Description != "v3" {
		t.Fatalf("a refused update was applied: %s", *j.Description)
	}
	// The schedule, targets and document are not UpdateJob's members.
	if status, code, body := f.raw(t, "PATCH", "/jobs/j1", `{"targets":["x"]}`); status != http.StatusBadRequest || code != "InvalidRequestException" {
		t.Fatalf("targets in UpdateJob: %d %s %s", status, code, body)
	}
	_, err = c.UpdateJob(ctx, &sdkiot.UpdateJobInput{JobId: aws.String("ghost"), Description: aws.String("x")})
	wantCode(t, err, "ResourceNotFoundException")
	// A canceled job, and a completed one, can no longer be changed.
	must(c.CancelJob(ctx, &sdkiot.CancelJobInput{JobId: aws.String("j1")}))
	_, err = c.UpdateJob(ctx, &sdkiot.UpdateJobInput{JobId: aws.String("j1"), Description: aws.String("late")})
	if ae := wantCode(t, err, "InvalidRequestException"); !strings.Contains(ae.ErrorMessage(), "CANCELED") {
		t.Fatalf("message: %s", ae.ErrorMessage())
	}
	f.job(t, "j2", thingArn("fleet-0000"))
	must(f.svc.UpdateExecution("fleet-0000", "j2", iotUpdate(iot.StatusSucceeded)))
	if got := must(c.DescribeJob(ctx, &sdkiot.DescribeJobInput{JobId: aws.String("j2")})).Job.Status; got != types.JobStatusCompleted {
		t.Fatalf("j2 is %s", got)
	}
	_, err = c.UpdateJob(ctx, &sdkiot.UpdateJobInput{JobId: aws.String("j2"), Description: aws.String("late")})
	wantCode(t, err, "InvalidRequestException")
}

func TestAssociateTargetsWithJob(t *testing.T) {
	f := start(t)
	c := f.client
	f.group(t, "g1", 2)
	f.group(t, "g2", 3)
	must(c.CreateJob(ctx, &sdkiot.CreateJobInput{JobId: aws.String("cont"), Targets: []string{groupArn("g1")},
		Document: aws.String("{}"), TargetSelection: types.TargetSelectionContinuous}))
	out := must(c.AssociateTargetsWithJob(ctx, &sdkiot.AssociateTargetsWithJobInput{JobId: aws.String("cont"),
		Targets: []string{groupArn("g2"), groupArn("g1")}, Comment: aws.String("more sensors")}))
	if *out.JobId != "cont" || *out.JobArn != env.ARN("iot", "job/cont") {
		t.Fatalf("answer: %+v", out)
	}
	j := must(c.DescribeJob(ctx, &sdkiot.DescribeJobInput{JobId: aws.String("cont")})).Job
	if len(j.Targets) != 2 || j.Targets[1] != groupArn("g2") || *j.Comment != "more sensors" || *j.JobProcessDetails.NumberOfQueuedThings != 5 {
		t.Fatalf("after associating g2: targets %v, comment %v, queued %d", j.Targets, aws.ToString(j.Comment), *j.JobProcessDetails.NumberOfQueuedThings)
	}
	jobs := must(c.ListJobs(ctx, &sdkiot.ListJobsInput{ThingGroupName: aws.String("g2")})).Jobs
	if len(jobs) != 1 || *jobs[0].JobId != "cont" {
		t.Fatalf("ListJobs thingGroupName=g2: %v", jobs)
	}
	// A thing that joins g2 later gets the job too: g2 is a target now.
	must(c.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String("late")}))
	must(c.AddThingToThingGroup(ctx, &sdkiot.AddThingToThingGroupInput{ThingGroupName: aws.String("g2"), ThingName: aws.String("late")}))
	must(f.svc.Execution("late", "cont"))

	_, err := c.AssociateTargetsWithJob(ctx, &sdkiot.AssociateTargetsWithJobInput{JobId: aws.String("cont"), Targets: []string{groupArn("ghost")}})
	wantCode(t, err, "ResourceNotFoundException")
	var many []string
	for i := 0; i < 99; i++ {
		many = append(many, thingArn(fmt.Sprintf("t%02d", i)))
	}
	_, err = c.AssociateTargetsWithJob(ctx, &sdkiot.AssociateTargetsWithJobInput{JobId: aws.String("cont"), Targets: many})
	wantCode(t, err, "LimitExceededException")
	f.job(t, "snap", groupArn("g1"))
	_, err = c.AssociateTargetsWithJob(ctx, &sdkiot.AssociateTargetsWithJobInput{JobId: aws.String("snap"), Targets: []string{groupArn("g2")}})
	if ae := wantCode(t, err, "InvalidRequestException"); !strings.Contains(ae.ErrorMessage(), "CONTINUOUS") {
		t.Fatalf("message: %s", ae.ErrorMessage())
	}
	must(c.CancelJob(ctx, &sdkiot.CancelJobInput{JobId: aws.String("cont")}))
	_, err = c.AssociateTargetsWithJob(ctx, &sdkiot.AssociateTargetsWithJobInput{JobId: aws.String("cont"), Targets: []string{thingArn("late")}})
	if ae := wantCode(t, err, "InvalidRequestException"); !strings.Contains(ae.ErrorMessage(), "IN_PROGRESS") {
		t.Fatalf("message: %s", ae.ErrorMessage())
	}
}

// TestAssociateTargetsRollout: when the job engine rolls a job out, the new
// targets' things wait for its waves (QueueExecutions) instead of all
// getting executions at once.
func TestAssociateTargetsRollout(t *testing.T) {
	f := start(t)
	c := f.client
	f.group(t, "g1", 1)
	f.group(t, "g2", 3)
	f.svc.DeferRollout = func(j *iot.Job) bool { return j.JobExecutionsRolloutConfig != nil }
	must(c.CreateJob(ctx, &sdkiot.CreateJobInput{JobId: aws.String("cont"), Targets: []string{groupArn("g1")}, Document: aws.String("{}"),
		TargetSelection: types.TargetSelectionContinuous, JobExecutionsRolloutConfig: &types.JobExecutionsRolloutConfig{MaximumPerMinute: aws.Int32(2)}}))
	must(f.svc.QueueExecutions("cont", 2))
	must(c.AssociateTargetsWithJob(ctx, &sdkiot.AssociateTargetsWithJobInput{JobId: aws.String("cont"), Targets: []string{groupArn("g2")}}))
	j := must(f.svc.Job("cont"))
	if !j.RolloutPending || j.Counts.Queued != 1 {
		t.Fatalf("the new things must wait for the rollout: pending %v, queued %d", j.RolloutPending, j.Counts.Queued)
	}
	if got := must(f.svc.QueueExecutions("cont", 2)); len(got) != 2 {
		t.Fatalf("first wave: %v", got)
	}
	must(f.svc.QueueExecutions("cont", 2))
	if j = must(f.svc.Job("cont")); j.RolloutPending || j.Counts.Queued != 4 {
		t.Fatalf("after the waves: pending %v, queued %d", j.RolloutPending, j.Counts.Queued)
	}
}
