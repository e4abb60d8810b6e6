package iot_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
)

func TestCreateJobStoresEveryField(t *testing.T) {
	f := start(t)
	c := f.client
	f.group(t, "fleet", 3)
	must(c.CreatePackage(ctx, &sdkiot.CreatePackageInput{PackageName: aws.String("fw")}))
	must(c.CreatePackageVersion(ctx, &sdkiot.CreatePackageVersionInput{PackageName: aws.String("fw"), VersionName: aws.String("1.2.0")}))
	pkgArn := env.ARN("iot", "package/fw/version/1.2.0")
	startAt := time.Now().UTC().Add(2 * time.Hour).Truncate(time.Minute)
	in := &sdkiot.CreateJobInput{
		JobId:           aws.String("AFR_OTA-full"),
		Targets:         []string{groupArn("fleet")},
		Document:        aws.String(`{"afr_ota":{"protocols":["MQTT"],"streamname":"AFR_OTA-s","files":[]}}`),
		Description:     aws.String("every field"),
		TargetSelection: types.TargetSelectionSnapshot,
		Tags:            []types.Tag{{Key: aws.String("campaign"), Value: aws.String("spring")}},
		TimeoutConfig:   &types.TimeoutConfig{InProgressTimeoutInMinutes: aws.Int64(60)},
		JobExecutionsRetryConfig: &types.JobExecutionsRetryConfig{CriteriaList: []types.RetryCriteria{
			{FailureType: types.RetryableFailureTypeFailed, NumberOfRetries: aws.Int32(2)},
			{FailureType: types.RetryableFailureTypeTimedOut, NumberOfRetries: aws.Int32(1)}}},
		SchedulingConfig: &types.SchedulingConfig{
			StartTime: aws.String(startAt.Format("2006-01-02T15:04")), EndTime: aws.String(startAt.Add(48 * time.Hour).Format("2006-01-02T15:04")),
			EndBehavior:        types.JobEndBehaviorCancel,
			MaintenanceWindows: []types.MaintenanceWindow{{StartTime: aws.String("cron(0 2 ? * SAT *)"), DurationInMinutes: aws.Int32(120)}}},
		JobExecutionsRolloutConfig: &types.JobExecutionsRolloutConfig{MaximumPerMinute: aws.Int32(50), ExponentialRate: &types.ExponentialRolloutRate{
			BaseRatePerMinute: aws.Int32(5), IncrementFactor: aws.Float64(2), RateIncreaseCriteria: &types.RateIncreaseCriteria{NumberOfSucceededThings: aws.Int32(10)}}},
		AbortConfig: &types.AbortConfig{CriteriaList: []types.AbortCriteria{{FailureType: types.JobExecutionFailureTypeFailed,
			Action: types.AbortActionCancel, ThresholdPercentage: aws.Float64(20), MinNumberOfExecutedThings: aws.Int32(10)}}},
		PresignedUrlConfig:         &types.PresignedUrlConfig{RoleArn: aws.String(roleArn), ExpiresInSec: aws.Int64(600)},
		DestinationPackageVersions: []string{pkgArn},
		NamespaceId:                aws.String("otactl"),
	}
	out := must(c.CreateJob(ctx, in))
	if *out.JobArn != env.ARN("iot", "job/AFR_OTA-full") || *out.JobId != "AFR_OTA-full" || *out.Description != "every field" {
		t.Fatalf("CreateJob: %+v", out)
	}
	j := must(c.DescribeJob(ctx, &sdkiot.DescribeJobInput{JobId: aws.String("AFR_OTA-full")})).Job
	if j.Status != types.JobStatusScheduled || j.TargetSelection != types.TargetSelectionSnapshot || *j.Description != "every field" ||
		fmt.Sprint(j.Targets) != fmt.Sprint(in.Targets) || j.CreatedAt == nil || j.LastUpdatedAt == nil || j.CompletedAt != nil {
		t.Fatalf("DescribeJob: %+v", j)
	}
	if *j.TimeoutConfig.InProgressTimeoutInMinutes != 60 || len(j.JobExecutionsRetryConfig.CriteriaList) != 2 ||
		*j.JobExecutionsRetryConfig.CriteriaList[1].NumberOfRetries != 1 ||
		*j.SchedulingConfig.StartTime != *in.SchedulingConfig.StartTime || j.SchedulingConfig.EndBehavior != types.JobEndBehaviorCancel ||
		*j.SchedulingConfig.MaintenanceWindows[0].DurationInMinutes != 120 ||
		*j.JobExecutionsRolloutConfig.MaximumPerMinute != 50 || *j.JobExecutionsRolloutConfig.ExponentialRate.IncrementFactor != 2 ||
		*j.JobExecutionsRolloutConfig.ExponentialRate.RateIncreaseCriteria.NumberOfSucceededThings != 10 ||
		*j.AbortConfig.CriteriaList[0].ThresholdPercentage != 20 || *j.AbortConfig.CriteriaList[0].MinNumberOfExecutedThings != 10 ||
		*j.PresignedUrlConfig.ExpiresInSec != 600 || *j.PresignedUrlConfig.RoleArn != roleArn ||
		j.DestinationPackageVersions[0] != pkgArn || *j.NamespaceId != "otactl" {
		t.Fatalf("DescribeJob lost a field: %+v", j)
	}
	// Scheduled: the next windows are shown, no execution exists yet.
	if len(j.ScheduledJobRollouts) != 7 || !strings.HasSuffix(*j.ScheduledJobRollouts[0].StartTime, "T02:00") {
		t.Fatalf("scheduledJobRollouts: %+v", j.ScheduledJobRollouts)
	}
	if e := must(c.ListJobExecutionsForJob(ctx, &sdkiot.ListJobExecutionsForJobInput{JobId: aws.String("AFR_OTA-full")})); len(e.ExecutionSummaries) != 0 {
		t.Fatalf("a scheduled job has executions: %+v", e.ExecutionSummaries)
	}
	doc := must(c.GetJobDocument(ctx, &sdkiot.GetJobDocumentInput{JobId: aws.String("AFR_OTA-full")}))
	if *doc.Document != *in.Document {
		t.Fatalf("GetJobDocument: %s", *doc.Document)
	}
	tags := must(c.ListTagsForResource(ctx, &sdkiot.ListTagsForResourceInput{ResourceArn: out.JobArn})).Tags
	if len(tags) != 1 || *tags[0].Key != "campaign" {
		t.Fatalf("job tags: %+v", tags)
	}

	// The engine starts it at startTime.
	started, err := f.svc.StartJob("AFR_OTA-full")
	if err != nil || started.Status != "IN_PROGRESS" || started.Counts.Queued != 3 {
		t.Fatalf("StartJob: %+v %v", started, err)
	}
	j = must(c.DescribeJob(ctx, &sdkiot.DescribeJobInput{JobId: aws.String("AFR_OTA-full")})).Job
	if j.Status != types.JobStatusInProgress || *j.JobProcessDetails.NumberOfQueuedThings != 3 || len(j.JobProcessDetails.ProcessingTargets) != 1 {
		t.Fatalf("started job: %+v", j.JobProcessDetails)
	}
	if _, err := f.svc.StartJob("AFR_OTA-full"); err == nil {
		t.Fatal("StartJob twice")
	}
}

func TestCreateJobErrors(t *testing.T) {
	f := start(t)
	c := f.client
	f.group(t, "fleet", 2)
	out := f.job(t, "j1", groupArn("fleet"))
	_, err := c.CreateJob(ctx, &sdkiot.CreateJobInput{JobId: aws.String("j1"), Targets: []string{groupArn("fleet")}, Document: aws.String("{}")})
	var exists *types.ResourceAlreadyExistsException
	if wantCode(t, err, "ResourceAlreadyExistsException"); !asErr(err, &exists) || *exists.ResourceId != "j1" || *exists.ResourceArn != *out.JobArn {
		t.Fatalf("duplicate job: %v", err)
	}
	big := `{"pad":"` + strings.Repeat("x", 32768) + `"}`
	for name, tc := range map[string]struct {
		in   sdkiot.CreateJobInput
		code string
		msg  string
	}{
		"missing thing":      {sdkiot.CreateJobInput{Targets: []string{thingArn("ghost")}}, "ResourceNotFoundException", "ghost"},
		"missing group":      {sdkiot.CreateJobInput{Targets: []string{groupArn("ghosts")}}, "ResourceNotFoundException", "ghosts"},
		"not an ARN":         {sdkiot.CreateJobInput{Targets: []string{"fleet"}}, "InvalidRequestException", "targets[0]"},
		"another account":    {sdkiot.CreateJobInput{Targets: []string{"arn:aws:iot:us-east-1:999999999999:thinggroup/fleet"}}, "ResourceNotFoundException", "account"},
		"oversized document": {sdkiot.CreateJobInput{Document: aws.String(big)}, "InvalidRequestException", "32768"},
		"document not JSON":  {sdkiot.CreateJobInput{Document: aws.String("not json")}, "InvalidRequestException", "JSON"},
		"no document":        {sdkiot.CreateJobInput{Document: aws.String("")}, "InvalidRequestException", "document"},
		"timeout too long": {sdkiot.CreateJobInput{TimeoutConfig: &types.TimeoutConfig{InProgressTimeoutInMinutes: aws.Int64(10081)}},
			"InvalidRequestException", "inProgressTimeoutInMinutes"},
		"start in the past": {sdkiot.CreateJobInput{SchedulingConfig: &types.SchedulingConfig{StartTime: aws.String("2020-01-01T00:00")}},
			"InvalidRequestException", "startTime"},
		"unknown package version": {sdkiot.CreateJobInput{DestinationPackageVersions: []string{env.ARN("iot", "package/fw/version/9")}},
			"InvalidRequestException", "package"},
		"documentSource missing": {sdkiot.CreateJobInput{Document: aws.String(""), DocumentSource: aws.String("https://s3.amazonaws.com/docs/none.json")},
			"InvalidRequestException", "documentSource"},
	} {
		in := tc.in
		in.JobId = aws.String("bad-" + strings.ReplaceAll(name, " ", "-"))
		if in.Targets == nil {
			in.Targets = []string{groupArn("fleet")}
		}
		if in.Document == nil {
			in.Document = aws.String(`{"op":"x"}`)
		} else if *in.Document == "" {
			in.Document = nil
		}
		_, err := c.CreateJob(ctx, &in)
		ae := wantCode(t, err, tc.code)
		if !strings.Contains(ae.ErrorMessage(), tc.msg) {
			t.Errorf("%s: message %q does not mention %q", name, ae.ErrorMessage(), tc.msg)
		}
		if _, err := c.DescribeJob(ctx, &sdkiot.DescribeJobInput{JobId: in.JobId}); err == nil {
			t.Errorf("%s: the refused job exists", name)
		}
	}
	// Several broken rules are reported together.
	_, err = c.CreateJob(ctx, &sdkiot.CreateJobInput{JobId: aws.String("multi"), Targets: []string{groupArn("fleet")}, Document: aws.String("{}"),
		TimeoutConfig:            &types.TimeoutConfig{InProgressTimeoutInMinutes: aws.Int64(0)},
		JobExecutionsRetryConfig: &types.JobExecutionsRetryConfig{CriteriaList: []types.RetryCriteria{{FailureType: "SOMETIMES", NumberOfRetries: aws.Int32(1)}}}})
	if ae := wantCode(t, err, "InvalidRequestException"); !strings.Contains(ae.ErrorMessage(), "timeoutConfig") || !strings.Contains(ae.ErrorMessage(), "failureType") {
		t.Fatalf("not every rule reported: %s", ae.ErrorMessage())
	}

	// A document read from S3 (documentSource).
	must(c.CreateJob(ctx, &sdkiot.CreateJobInput{JobId: aws.String("from-s3"), Targets: []string{groupArn("fleet")},
		DocumentSource: aws.String("https://docs.s3.us-east-1.amazonaws.com/job.json")}))
	if d := must(c.GetJobDocument(ctx, &sdkiot.GetJobDocumentInput{JobId: aws.String("from-s3")})); *d.Document != `{"op":"from-s3"}` {
		t.Fatalf("documentSource document: %s", *d.Document)
	}
	if d := must(c.DescribeJob(ctx, &sdkiot.DescribeJobInput{JobId: aws.String("from-s3")})); *d.DocumentSource != "https://docs.s3.us-east-1.amazonaws.com/job.json" {
		t.Fatalf("documentSource: %v", d.DocumentSource)
	}
	_, err = c.GetJobDocument(ctx, &sdkiot.GetJobDocumentInput{JobId: aws.String("nope")})
	wantCode(t, err, "ResourceNotFoundException")
	_, err = c.DescribeJob(ctx, &sdkiot.DescribeJobInput{JobId: aws.String("nope")})
	wantCode(t, err, "ResourceNotFoundException")
}

func TestListJobs(t *testing.T) {
	f := start(t)
	c := f.client
	f.group(t, "a", 2)
	f.group(t, "b", 1)
	for i := 0; i < 5; i++ {
		f.job(t, fmt.Sprintf("a-%d", i), groupArn("a"))
	}
	f.job(t, "b-0", groupArn("b"))
	f.job(t, "thing-0", thingArn("b-0000"))
	must(c.CreateJob(ctx, &sdkiot.CreateJobInput{JobId: aws.String("cont"), Targets: []string{groupArn("b")}, Document: aws.String("{}"),
		TargetSelection: types.TargetSelectionContinuous, NamespaceId: aws.String("ns1")}))
	must(c.CancelJob(ctx, &sdkiot.CancelJobInput{JobId: aws.String("a-4")}))

	ids := func(in *sdkiot.ListJobsInput) string {
		var out []string
		p := sdkiot.NewListJobsPaginator(c, in)
		for p.HasMorePages() {
			for _, j := range must(p.NextPage(ctx)).Jobs {
				out = append(out, *j.JobId)
			}
		}
		return strings.Join(out, ",")
	}
	if got := ids(&sdkiot.ListJobsInput{MaxResults: aws.Int32(3)}); got != "a-0,a-1,a-2,a-3,a-4,b-0,cont,thing-0" {
		t.Fatalf("all jobs: %s", got)
	}
	if got := ids(&sdkiot.ListJobsInput{ThingGroupName: aws.String("a"), MaxResults: aws.Int32(2)}); got != "a-0,a-1,a-2,a-3,a-4" {
		t.Fatalf("by group name: %s", got)
	}
	gid := *must(c.DescribeThingGroup(ctx, &sdkiot.DescribeThingGroupInput{ThingGroupName: aws.String("b")})).ThingGroupId
	if got := ids(&sdkiot.ListJobsInput{ThingGroupId: aws.String(gid)}); got != "b-0,cont" {
		t.Fatalf("by group id: %s", got)
	}
	if got := ids(&sdkiot.ListJobsInput{Status: types.JobStatusCanceled}); got != "a-4" {
		t.Fatalf("by status: %s", got)
	}
	if got := ids(&sdkiot.ListJobsInput{TargetSelection: types.TargetSelectionContinuous}); got != "cont" {
		t.Fatalf("by target selection: %s", got)
	}
	if got := ids(&sdkiot.ListJobsInput{NamespaceId: aws.String("ns1")}); got != "cont" {
		t.Fatalf("by namespace: %s", got)
	}
	page := must(c.ListJobs(ctx, &sdkiot.ListJobsInput{ThingGroupName: aws.String("b")}))
	if len(page.Jobs) != 2 || *page.Jobs[0].ThingGroupId != gid || page.Jobs[0].CreatedAt == nil || page.Jobs[0].Status != types.JobStatusInProgress {
		t.Fatalf("job summary: %+v", page.Jobs[0])
	}
	_, err := c.ListJobs(ctx, &sdkiot.ListJobsInput{Status: "DONE"})
	wantCode(t, err, "InvalidRequestException")
}

func TestCancelAndDeleteJob(t *testing.T) {
	f := start(t)
	c := f.client
	things := f.group(t, "fleet", 4)
	f.job(t, "j", groupArn("fleet"))
	// One device is working on it, one finished.
	must(f.svc.UpdateExecution(things[0], "j", iotUpdate("IN_PROGRESS")))
	must(f.svc.UpdateExecution(things[1], "j", iotUpdate("SUCCEEDED")))

	_, err := c.DeleteJob(ctx, &sdkiot.DeleteJobInput{JobId: aws.String("j")})
	wantCode(t, err, "InvalidStateTransitionException")

	must(c.CancelJob(ctx, &sdkiot.CancelJobInput{JobId: aws.String("j"), ReasonCode: aws.String("BAD_BUILD"), Comment: aws.String("oops")}))
	j := must(c.DescribeJob(ctx, &sdkiot.DescribeJobInput{JobId: aws.String("j")})).Job
	pd := j.JobProcessDetails
	if j.Status != types.JobStatusCanceled || *j.ReasonCode != "BAD_BUILD" || *j.Comment != "oops" || *j.ForceCanceled ||
		*pd.NumberOfCanceledThings != 2 || *pd.NumberOfInProgressThings != 1 || *pd.NumberOfSucceededThings != 1 || *pd.NumberOfQueuedThings != 0 {
		t.Fatalf("after cancel: %+v %+v", j, pd)
	}
	// Without force the device may still finish; with force it is canceled too.
	if e := must(f.svc.Execution(things[0], "j")); e.Status != "IN_PROGRESS" {
		t.Fatalf("in-progress execution after cancel: %s", e.Status)
	}
	must(c.CancelJob(ctx, &sdkiot.CancelJobInput{JobId: aws.String("j"), Force: true}))
	e := must(c.DescribeJobExecution(ctx, &sdkiot.DescribeJobExecutionInput{JobId: aws.String("j"), ThingName: aws.String(things[0])})).Execution
	if e.Status != types.JobExecutionStatusCanceled || !*e.ForceCanceled {
		t.Fatalf("force-canceled execution: %+v", e)
	}
	if j := must(c.DescribeJob(ctx, &sdkiot.DescribeJobInput{JobId: aws.String("j")})).Job; !*j.ForceCanceled || *j.JobProcessDetails.NumberOfCanceledThings != 3 {
		t.Fatalf("after force cancel: %+v", j.JobProcessDetails)
	}
	_, err = f.svc.UpdateExecution(things[0], "j", iotUpdate("SUCCEEDED"))
	wantCode(t, err, "InvalidStateTransitionException")

	// A canceled job can be deleted without force; everything about it goes.
	must(c.DeleteJob(ctx, &sdkiot.DeleteJobInput{JobId: aws.String("j")}))
	_, err = c.DescribeJob(ctx, &sdkiot.DescribeJobInput{JobId: aws.String("j")})
	wantCode(t, err, "ResourceNotFoundException")
	if l := must(c.ListJobExecutionsForThing(ctx, &sdkiot.ListJobExecutionsForThingInput{ThingName: aws.String(things[0])})); len(l.ExecutionSummaries) != 0 {
		t.Fatalf("executions outlived their job: %+v", l.ExecutionSummaries)
	}
	if l := must(c.ListJobs(ctx, &sdkiot.ListJobsInput{ThingGroupName: aws.String("fleet")})); len(l.Jobs) != 0 {
		t.Fatalf("deleted job still listed")
	}

	// An in-progress job goes with force.
	f.job(t, "k", groupArn("fleet"))
	must(c.DeleteJob(ctx, &sdkiot.DeleteJobInput{JobId: aws.String("k"), Force: true}))
	_, err = c.CancelJob(ctx, &sdkiot.CancelJobInput{JobId: aws.String("k")})
	wantCode(t, err, "ResourceNotFoundException")

	// A completed job cannot be canceled.
	f.job(t, "done", thingArn(things[2]))
	must(f.svc.UpdateExecution(things[2], "done", iotUpdate("SUCCEEDED")))
	_, err = c.CancelJob(ctx, &sdkiot.CancelJobInput{JobId: aws.String("done")})
	wantCode(t, err, "InvalidStateTransitionException")
	_, err = c.CancelJob(ctx, &sdkiot.CancelJobInput{JobId: aws.String("done"), ReasonCode: aws.String("lower case")})
	wantCode(t, err, "InvalidRequestException")
}
