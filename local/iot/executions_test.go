package iot_test

import (
	"fmt"
	"math/rand"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/otactl/otactl/local/iot"
)

// checkCounts compares DescribeJob's jobProcessDetails with a tally of the
// execution records as ListJobExecutionsForJob shows them.
func checkCounts(t *testing.T, f *fixture, jobID string) *types.JobProcessDetails {
	t.Helper()
	tally := map[types.JobExecutionStatus]int32{}
	p := sdkiot.NewListJobExecutionsForJobPaginator(f.client, &sdkiot.ListJobExecutionsForJobInput{JobId: aws.String(jobID), MaxResults: aws.Int32(7)})
	for p.HasMorePages() {
		for _, s := range must(p.NextPage(ctx)).ExecutionSummaries {
			tally[s.JobExecutionSummary.Status]++
		}
	}
	pd := must(f.client.DescribeJob(ctx, &sdkiot.DescribeJobInput{JobId: aws.String(jobID)})).Job.JobProcessDetails
	got := map[types.JobExecutionStatus]int32{
		"QUEUED": *pd.NumberOfQueuedThings, "IN_PROGRESS": *pd.NumberOfInProgressThings, "SUCCEEDED": *pd.NumberOfSucceededThings,
		"FAILED": *pd.NumberOfFailedThings, "REJECTED": *pd.NumberOfRejectedThings, "CANCELED": *pd.NumberOfCanceledThings,
		"REMOVED": *pd.NumberOfRemovedThings, "TIMED_OUT": *pd.NumberOfTimedOutThings,
	}
	for st, n := range got {
		if tally[st] != n {
			t.Fatalf("jobProcessDetails %s = %d, but %d executions are %s (%v)", st, n, tally[st], st, tally)
		}
	}
	return pd
}

func TestExecutionsDrivenToCompletion(t *testing.T) {
	f := start(t)
	c := f.client
	things := f.group(t, "fleet", 40)
	must(c.CreateJob(ctx, &sdkiot.CreateJobInput{JobId: aws.String("j"), Targets: []string{groupArn("fleet"), thingArn(things[0])},
		Document: aws.String("{}"), TimeoutConfig: &types.TimeoutConfig{InProgressTimeoutInMinutes: aws.Int64(30)}}))
	pd := checkCounts(t, f, "j")
	if *pd.NumberOfQueuedThings != 40 {
		t.Fatalf("a thing named twice got two executions: %+v", pd)
	}
	// Devices report concurrently; a random mix of outcomes.
	rng := rand.New(rand.NewSource(1))
	final := []string{"SUCCEEDED", "FAILED", "REJECTED"}
	outcome := make([]string, len(things))
	for i := range things {
		outcome[i] = final[rng.Intn(3)]
	}
	var wg sync.WaitGroup
	for i, th := range things {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.svc.UpdateExecution(th, "j", iot.ExecutionUpdate{Status: "IN_PROGRESS", StatusDetails: map[string]string{"receive": "1/4"}}); err != nil {
				t.Error(err)
			}
			if i%4 == 0 { // some stay in progress for now
				return
			}
			if _, err := f.svc.UpdateExecution(th, "j", iot.ExecutionUpdate{Status: outcome[i], ExpectedVersion: 2}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	pd = checkCounts(t, f, "j")
	if *pd.NumberOfInProgressThings != 10 {
		t.Fatalf("in progress: %+v", pd)
	}
	e := must(c.DescribeJobExecution(ctx, &sdkiot.DescribeJobExecutionInput{JobId: aws.String("j"), ThingName: aws.String(things[0])})).Execution
	if e.Status != types.JobExecutionStatusInProgress || e.StatusDetails.DetailsMap["receive"] != "1/4" || e.VersionNumber != 2 ||
		*e.ExecutionNumber != 1 || e.StartedAt == nil || e.QueuedAt == nil || e.LastUpdatedAt == nil || *e.ThingArn != thingArn(things[0]) ||
		e.ApproximateSecondsBeforeTimedOut == nil || *e.ApproximateSecondsBeforeTimedOut <= 0 || *e.ApproximateSecondsBeforeTimedOut > 1800 {
		t.Fatalf("DescribeJobExecution: %+v", e)
	}
	_, err := c.DescribeJobExecution(ctx, &sdkiot.DescribeJobExecutionInput{JobId: aws.String("j"), ThingName: aws.String(things[0]), ExecutionNumber: aws.Int64(2)})
	wantCode(t, err, "ResourceNotFoundException")
	if j := must(c.DescribeJob(ctx, &sdkiot.DescribeJobInput{JobId: aws.String("j")})).Job; j.Status != types.JobStatusInProgress {
		t.Fatalf("job finished early: %s", j.Status)
	}
	// The rest finish: the job is COMPLETED with completedAt.
	for i := 0; i < len(things); i += 4 {
		must(f.svc.UpdateExecution(things[i], "j", iot.ExecutionUpdate{Status: "SUCCEEDED", StatusDetails: map[string]string{"reason": "accepted v2"}}))
	}
	pd = checkCounts(t, f, "j")
	j := must(c.DescribeJob(ctx, &sdkiot.DescribeJobInput{JobId: aws.String("j")})).Job
	if j.Status != types.JobStatusCompleted || j.CompletedAt == nil || *pd.NumberOfQueuedThings+*pd.NumberOfInProgressThings != 0 {
		t.Fatalf("job after every execution ended: %s %+v", j.Status, pd)
	}
	// Status filter and paging.
	var failed int
	p := sdkiot.NewListJobExecutionsForJobPaginator(c, &sdkiot.ListJobExecutionsForJobInput{JobId: aws.String("j"), Status: types.JobExecutionStatusFailed, MaxResults: aws.Int32(3)})
	for p.HasMorePages() {
		for _, s := range must(p.NextPage(ctx)).ExecutionSummaries {
			if s.JobExecutionSummary.Status != types.JobExecutionStatusFailed {
				t.Fatalf("status filter let %s through", s.JobExecutionSummary.Status)
			}
			failed++
		}
	}
	if int32(failed) != *pd.NumberOfFailedThings {
		t.Fatalf("%d FAILED listed, %d counted", failed, *pd.NumberOfFailedThings)
	}
	_, err = c.ListJobExecutionsForJob(ctx, &sdkiot.ListJobExecutionsForJobInput{JobId: aws.String("nope")})
	wantCode(t, err, "ResourceNotFoundException")
}

func TestUpdateExecutionRules(t *testing.T) {
	f := start(t)
	things := f.group(t, "g", 1)
	th := things[0]
	f.job(t, "j", groupArn("g"))
	for _, tc := range []struct {
		u    iot.ExecutionUpdate
		code string
	}{
		{iot.ExecutionUpdate{Status: "QUEUED"}, "InvalidRequestException"},
		{iot.ExecutionUpdate{Status: "CANCELED"}, "InvalidRequestException"},
		{iot.ExecutionUpdate{Status: "TIMED_OUT"}, "InvalidRequestException"},
		{iot.ExecutionUpdate{Status: "IN_PROGRESS", ExpectedVersion: 5}, "VersionConflictException"},
		{iot.ExecutionUpdate{Status: "IN_PROGRESS", ExecutionNumber: 2}, "ResourceNotFoundException"},
		{iot.ExecutionUpdate{Status: "IN_PROGRESS", StepTimeoutInMinutes: 10081}, "InvalidRequestException"},
	} {
		_, err := f.svc.UpdateExecution(th, "j", tc.u)
		wantCode(t, err, tc.code)
	}
	_, err := f.svc.UpdateExecution("nobody", "j", iotUpdate("IN_PROGRESS"))
	wantCode(t, err, "ResourceNotFoundException")
	_, err = f.svc.UpdateExecution(th, "nojob", iotUpdate("IN_PROGRESS"))
	wantCode(t, err, "ResourceNotFoundException")

	e := must(f.svc.UpdateExecution(th, "j", iot.ExecutionUpdate{Status: "IN_PROGRESS", ExpectedVersion: 1, StepTimeoutInMinutes: 5,
		StatusDetails: map[string]string{"self_test": "ready"}}))
	if e.VersionNumber != 2 || e.StartedAt.IsZero() || e.StepTimeoutAt.IsZero() || e.StatusDetails["self_test"] != "ready" {
		t.Fatalf("IN_PROGRESS: %+v", e)
	}
	// Details are kept when an update carries none.
	e = must(f.svc.UpdateExecution(th, "j", iot.ExecutionUpdate{Status: "IN_PROGRESS"}))
	if e.VersionNumber != 3 || e.StatusDetails["self_test"] != "ready" {
		t.Fatalf("second IN_PROGRESS: %+v", e)
	}
	e = must(f.svc.UpdateExecution(th, "j", iot.ExecutionUpdate{Status: "SUCCEEDED", ExpectedVersion: 3}))
	if e.Status != "SUCCEEDED" || !e.StepTimeoutAt.IsZero() {
		t.Fatalf("SUCCEEDED: %+v", e)
	}
	// Terminal is final.
	for _, st := range []string{"IN_PROGRESS", "FAILED", "SUCCEEDED"} {
		_, err := f.svc.UpdateExecution(th, "j", iotUpdate(st))
		wantCode(t, err, "InvalidStateTransitionException")
	}
	if pending := must(f.svc.PendingExecutions(th)); len(pending) != 0 {
		t.Fatalf("pending after success: %+v", pending)
	}
}

func TestPendingAndStartNext(t *testing.T) {
	f := start(t)
	now := f.svc.Now()
	tick := 0
	f.svc.Now = func() time.Time { tick++; return now.Add(seconds(tick)) }
	f.group(t, "g", 1)
	th := "g-0000"
	for _, id := range []string{"c", "a", "b"} { // queued in this order
		f.job(t, id, thingArn(th))
	}
	var events []iot.Event
	f.svc.Subscribe(func(e iot.Event) { events = append(events, e) })

	order := func() string {
		var s []string
		for _, e := range must(f.svc.PendingExecutions(th)) {
			s = append(s, e.JobID+":"+e.Status)
		}
		return fmt.Sprint(s)
	}
	if got := order(); got != "[c:QUEUED a:QUEUED b:QUEUED]" {
		t.Fatalf("pending order: %s", got)
	}
	must(f.svc.UpdateExecution(th, "b", iotUpdate("IN_PROGRESS")))
	if got := order(); got != "[b:IN_PROGRESS c:QUEUED a:QUEUED]" {
		t.Fatalf("in-progress first: %s", got)
	}
	// StartNext returns the in-progress one, with new details applied.
	next := must(f.svc.StartNextExecution(th, map[string]string{"step": "2"}, 0))
	if next.JobID != "b" || next.StatusDetails["step"] != "2" || next.VersionNumber != 3 {
		t.Fatalf("StartNext: %+v", next)
	}
	must(f.svc.UpdateExecution(th, "b", iotUpdate("SUCCEEDED")))
	next = must(f.svc.StartNextExecution(th, nil, 10))
	if next.JobID != "c" || next.Status != "IN_PROGRESS" || next.StepTimeoutAt.IsZero() {
		t.Fatalf("StartNext queued: %+v", next)
	}
	must(f.svc.UpdateExecution(th, "c", iotUpdate("FAILED")))
	must(f.svc.UpdateExecution(th, "a", iotUpdate("REJECTED")))
	if next := must(f.svc.StartNextExecution(th, nil, 0)); next != nil {
		t.Fatalf("StartNext with nothing pending: %+v", next)
	}
	var kinds []string
	for _, e := range events {
		kinds = append(kinds, string(e.Kind))
		if e.Kind == iot.ExecutionChanged && (e.Execution == nil || e.PreviousStatus == "") {
			t.Fatalf("event without execution: %+v", e)
		}
	}
	want := "[ExecutionChanged ExecutionChanged ExecutionChanged JobChanged ExecutionChanged ExecutionChanged JobChanged ExecutionChanged JobChanged]"
	if fmt.Sprint(kinds) != want {
		t.Fatalf("events %v", kinds)
	}
	// ListJobExecutionsForThing with filters.
	l := must(f.client.ListJobExecutionsForThing(ctx, &sdkiot.ListJobExecutionsForThingInput{ThingName: aws.String(th)}))
	if len(l.ExecutionSummaries) != 3 || *l.ExecutionSummaries[0].JobId != "a" || l.ExecutionSummaries[0].JobExecutionSummary.Status != "REJECTED" {
		t.Fatalf("ListJobExecutionsForThing: %+v", l.ExecutionSummaries)
	}
	l = must(f.client.ListJobExecutionsForThing(ctx, &sdkiot.ListJobExecutionsForThingInput{ThingName: aws.String(th), Status: types.JobExecutionStatusFailed}))
	if len(l.ExecutionSummaries) != 1 || *l.ExecutionSummaries[0].JobId != "c" {
		t.Fatalf("ListJobExecutionsForThing(FAILED): %+v", l.ExecutionSummaries)
	}
	l = must(f.client.ListJobExecutionsForThing(ctx, &sdkiot.ListJobExecutionsForThingInput{ThingName: aws.String(th), JobId: aws.String("b")}))
	if len(l.ExecutionSummaries) != 1 || l.ExecutionSummaries[0].JobExecutionSummary.StartedAt == nil {
		t.Fatalf("ListJobExecutionsForThing(jobId): %+v", l.ExecutionSummaries)
	}
}

func TestRetryPolicyAndTransition(t *testing.T) {
	f := start(t)
	f.group(t, "g", 2)
	f.job(t, "j", groupArn("g"))
	f.svc.RetryPolicy = func(j *iot.Job, e *iot.Execution) bool { return e.RetryAttempt < 1 }
	// The device is answered with what it reported, as AWS answers; the
	// retry is the next execution number.
	e := must(f.svc.UpdateExecution("g-0000", "j", iotUpdate("FAILED")))
	if e.Status != "FAILED" || e.ExecutionNumber != 1 || e.VersionNumber != 2 {
		t.Fatalf("answer to the failed report: %+v", e)
	}
	e = must(f.svc.Execution("g-0000", "j"))
	if e.Status != "QUEUED" || e.ExecutionNumber != 2 || e.RetryAttempt != 1 {
		t.Fatalf("retried execution: %+v", e)
	}
	e = must(f.svc.UpdateExecution("g-0000", "j", iotUpdate("FAILED")))
	if e.Status != "FAILED" || e.ExecutionNumber != 2 {
		t.Fatalf("second failure: %+v", e)
	}
	// The engine times an execution out through Transition.
	e = must(f.svc.Transition("g-0001", "j", func(_ *iot.Job, e *iot.Execution) error { e.Status = "TIMED_OUT"; return nil }))
	if e.Status != "QUEUED" || e.RetryAttempt != 1 {
		t.Fatalf("timed out then retried: %+v", e)
	}
	f.svc.RetryPolicy = nil
	must(f.svc.Transition("g-0001", "j", func(_ *iot.Job, e *iot.Execution) error { e.Status = "TIMED_OUT"; return nil }))
	pd := checkCounts(t, f, "j")
	if *pd.NumberOfTimedOutThings != 1 || *pd.NumberOfFailedThings != 1 {
		t.Fatalf("counts: %+v", pd)
	}
	s := must(f.client.ListJobExecutionsForJob(ctx, &sdkiot.ListJobExecutionsForJobInput{JobId: aws.String("j")})).ExecutionSummaries
	if *s[0].JobExecutionSummary.RetryAttempt != 1 || *s[0].JobExecutionSummary.ExecutionNumber != 2 {
		t.Fatalf("summary: %+v", s[0].JobExecutionSummary)
	}
}

func TestContinuousJobFollowsGroup(t *testing.T) {
	f := start(t)
	c := f.client
	f.group(t, "g", 2)
	must(c.CreateThingGroup(ctx, &sdkiot.CreateThingGroupInput{ThingGroupName: aws.String("sub"), ParentGroupName: aws.String("g")}))
	must(c.CreateJob(ctx, &sdkiot.CreateJobInput{JobId: aws.String("cont"), Targets: []string{groupArn("g")}, Document: aws.String("{}"),
		TargetSelection: types.TargetSelectionContinuous}))
	f.job(t, "snap", groupArn("g"))
	// A thing joins a child group later: only the continuous job reaches it.
	must(c.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String("late")}))
	must(c.AddThingToThingGroup(ctx, &sdkiot.AddThingToThingGroupInput{ThingGroupName: aws.String("sub"), ThingName: aws.String("late")}))
	if e := must(f.svc.Execution("late", "cont")); e.Status != "QUEUED" {
		t.Fatalf("late joiner: %+v", e)
	}
	if _, err := f.svc.Execution("late", "snap"); err == nil {
		t.Fatal("a snapshot job reached a late joiner")
	}
	if pd := checkCounts(t, f, "cont"); *pd.NumberOfQueuedThings != 3 {
		t.Fatalf("continuous counts: %+v", pd)
	}
	// Leaving the group removes its pending execution.
	must(c.RemoveThingFromThingGroup(ctx, &sdkiot.RemoveThingFromThingGroupInput{ThingGroupName: aws.String("g"), ThingName: aws.String("g-0000")}))
	if e := must(f.svc.Execution("g-0000", "cont")); e.Status != "REMOVED" {
		t.Fatalf("leaver: %+v", e)
	}
	if e := must(f.svc.Execution("g-0000", "snap")); e.Status != "QUEUED" {
		t.Fatalf("snapshot execution of a leaver: %+v", e)
	}
	// A continuous job is not completed when its executions end.
	for _, th := range []string{"g-0001", "late"} {
		must(f.svc.UpdateExecution(th, "cont", iotUpdate("SUCCEEDED")))
	}
	if pd := checkCounts(t, f, "cont"); *pd.NumberOfRemovedThings != 1 || *pd.NumberOfSucceededThings != 2 {
		t.Fatalf("counts: %+v", pd)
	}
	if j := must(f.svc.Job("cont")); j.Status != "IN_PROGRESS" {
		t.Fatalf("continuous job %s", j.Status)
	}
}
