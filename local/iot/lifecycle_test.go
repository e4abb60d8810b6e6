package iot_test

import (
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/otactl/otactl/local/iot"
	"github.com/otactl/otactl/local/store"
)

func TestCancelAndDeleteJobExecution(t *testing.T) {
	f := start(t)
	c := f.client
	th := f.group(t, "g", 3)
	f.job(t, "j", groupArn("g"))
	must(f.svc.UpdateExecution(th[1], "j", iotUpdate("IN_PROGRESS")))

	must(c.CancelJobExecution(ctx, &sdkiot.CancelJobExecutionInput{JobId: aws.String("j"), ThingName: aws.String(th[0]),
		StatusDetails: map[string]string{"why": "operator"}}))
	e := must(c.DescribeJobExecution(ctx, &sdkiot.DescribeJobExecutionInput{JobId: aws.String("j"), ThingName: aws.String(th[0])})).Execution
	if e.Status != types.JobExecutionStatusCanceled || *e.ForceCanceled || e.StatusDetails.DetailsMap["why"] != "operator" {
		t.Fatalf("canceled execution: %+v", e)
	}
	_, err := c.CancelJobExecution(ctx, &sdkiot.CancelJobExecutionInput{JobId: aws.String("j"), ThingName: aws.String(th[1])})
	wantCode(t, err, "InvalidStateTransitionException")
	_, err = c.CancelJobExecution(ctx, &sdkiot.CancelJobExecutionInput{JobId: aws.String("j"), ThingName: aws.String(th[1]), Force: true, ExpectedVersion: aws.Int64(9)})
	wantCode(t, err, "VersionConflictException")
	must(c.CancelJobExecution(ctx, &sdkiot.CancelJobExecutionInput{JobId: aws.String("j"), ThingName: aws.String(th[1]), Force: true, ExpectedVersion: aws.Int64(2)}))
	_, err = c.CancelJobExecution(ctx, &sdkiot.CancelJobExecutionInput{JobId: aws.String("j"), ThingName: aws.String(th[1])})
	wantCode(t, err, "InvalidStateTransitionException")
	checkCounts(t, f, "j")

	// Deleting: a queued one needs force, the number must match.
	_, err = c.DeleteJobExecution(ctx, &sdkiot.DeleteJobExecutionInput{JobId: aws.String("j"), ThingName: aws.String(th[2]), ExecutionNumber: aws.Int64(1)})
	wantCode(t, err, "InvalidStateTransitionException")
	_, err = c.DeleteJobExecution(ctx, &sdkiot.DeleteJobExecutionInput{JobId: aws.String("j"), ThingName: aws.String(th[0]), ExecutionNumber: aws.Int64(2)})
	wantCode(t, err, "ResourceNotFoundException")
	must(c.DeleteJobExecution(ctx, &sdkiot.DeleteJobExecutionInput{JobId: aws.String("j"), ThingName: aws.String(th[0]), ExecutionNumber: aws.Int64(1)}))
	must(c.DeleteJobExecution(ctx, &sdkiot.DeleteJobExecutionInput{JobId: aws.String("j"), ThingName: aws.String(th[2]), ExecutionNumber: aws.Int64(1), Force: true}))
	pd := checkCounts(t, f, "j")
	if *pd.NumberOfCanceledThings != 1 || *pd.NumberOfQueuedThings != 0 {
		t.Fatalf("after deletes: %+v", pd)
	}
	// Nothing is pending any more: the job is done.
	if j := must(f.svc.Job("j")); j.Status != "COMPLETED" {
		t.Fatalf("job %s", j.Status)
	}
	if l := must(c.ListJobExecutionsForThing(ctx, &sdkiot.ListJobExecutionsForThingInput{ThingName: aws.String(th[0])})); len(l.ExecutionSummaries) != 0 {
		t.Fatalf("deleted execution listed: %+v", l.ExecutionSummaries)
	}
}

func TestScheduledJobCancelAndDeleteEvents(t *testing.T) {
	f := start(t)
	c := f.client
	th := f.group(t, "g", 2)
	startAt := time.Now().UTC().Add(time.Hour).Format("2006-01-02T15:04")
	must(c.CreateJob(ctx, &sdkiot.CreateJobInput{JobId: aws.String("later"), Targets: []string{groupArn("g")}, Document: aws.String("{}"),
		SchedulingConfig: &types.SchedulingConfig{StartTime: aws.String(startAt)}}))
	if p := must(f.svc.PendingExecutions(th[0])); len(p) != 0 {
		t.Fatalf("a scheduled job is pending: %+v", p)
	}
	_, err := c.DeleteJob(ctx, &sdkiot.DeleteJobInput{JobId: aws.String("later")})
	wantCode(t, err, "InvalidStateTransitionException")
	must(c.CancelJob(ctx, &sdkiot.CancelJobInput{JobId: aws.String("later")}))
	if j := must(f.svc.Job("later")); j.Status != "CANCELED" {
		t.Fatalf("canceled scheduled job: %s", j.Status)
	}
	if _, err := f.svc.StartJob("later"); err == nil {
		t.Fatal("a canceled job started")
	}

	var deleted []iot.Event
	f.svc.Subscribe(func(e iot.Event) {
		if e.Kind == iot.JobDeleted {
			deleted = append(deleted, e)
		}
	})
	f.job(t, "now", groupArn("g"))
	must(c.DeleteJob(ctx, &sdkiot.DeleteJobInput{JobId: aws.String("now"), Force: true}))
	if len(deleted) != 1 || fmt.Sprint(deleted[0].Things) != fmt.Sprint(th) {
		t.Fatalf("JobDeleted events: %+v", deleted)
	}
}

// TestRestart: everything lives in the store; a new service over the same
// directory serves the same things, jobs and executions.
func TestRestart(t *testing.T) {
	current = t
	dir := t.TempDir()
	open := func() (*store.Store, *iot.Service, *sdkiot.Client, func()) {
		st, err := store.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		svc := iot.New(st, env, nil)
		srv := httptest.NewServer(svc)
		return st, svc, newClient(srv.URL), func() { srv.Close(); st.Close() }
	}
	_, svc, c, stop := open()
	must(c.CreateThingGroup(ctx, &sdkiot.CreateThingGroupInput{ThingGroupName: aws.String("g")}))
	must(c.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String("d")}))
	must(c.AddThingToThingGroup(ctx, &sdkiot.AddThingToThingGroupInput{ThingGroupName: aws.String("g"), ThingName: aws.String("d")}))
	must(c.CreateJob(ctx, &sdkiot.CreateJobInput{JobId: aws.String("j"), Targets: []string{groupArn("g")}, Document: aws.String(`{"x":1}`)}))
	must(svc.UpdateExecution("d", "j", iot.ExecutionUpdate{Status: "IN_PROGRESS", StatusDetails: map[string]string{"receive": "3/9"}}))
	stop()

	_, svc, c, stop = open()
	defer stop()
	e := must(svc.Execution("d", "j"))
	if e.Status != "IN_PROGRESS" || e.StatusDetails["receive"] != "3/9" || e.VersionNumber != 2 {
		t.Fatalf("execution after restart: %+v", e)
	}
	if j := must(c.DescribeJob(ctx, &sdkiot.DescribeJobInput{JobId: aws.String("j")})).Job; *j.JobProcessDetails.NumberOfInProgressThings != 1 {
		t.Fatalf("job after restart: %+v", j.JobProcessDetails)
	}
	if l := must(c.ListThingsInThingGroup(ctx, &sdkiot.ListThingsInThingGroupInput{ThingGroupName: aws.String("g")})); len(l.Things) != 1 {
		t.Fatalf("group after restart: %v", l.Things)
	}
}
