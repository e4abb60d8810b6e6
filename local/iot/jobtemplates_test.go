package iot_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
)

func TestJobTemplates(t *testing.T) {
	f := start(t)
	c := f.client
	f.group(t, "fleet", 2)
	tpl := must(c.CreateJobTemplate(ctx, &sdkiot.CreateJobTemplateInput{JobTemplateId: aws.String("fw"), Description: aws.String("firmware"),
		Document:           aws.String(`{"op":"template"}`),
		TimeoutConfig:      &types.TimeoutConfig{InProgressTimeoutInMinutes: aws.Int64(30)},
		AbortConfig:        &types.AbortConfig{CriteriaList: []types.AbortCriteria{{FailureType: types.JobExecutionFailureTypeFailed, Action: types.AbortActionCancel, ThresholdPercentage: aws.Float64(50), MinNumberOfExecutedThings: aws.Int32(2)}}},
		MaintenanceWindows: []types.MaintenanceWindow{{StartTime: aws.String("cron(0 2 ? * SAT *)"), DurationInMinutes: aws.Int32(120)}},
		Tags:               []types.Tag{{Key: aws.String("team"), Value: aws.String("fw")}},
	}))
	if *tpl.JobTemplateArn != env.ARN("iot", "jobtemplate/fw") || *tpl.JobTemplateId != "fw" {
		t.Fatalf("answer: %+v", tpl)
	}
	d := must(c.DescribeJobTemplate(ctx, &sdkiot.DescribeJobTemplateInput{JobTemplateId: aws.String("fw")}))
	if *d.Description != "firmware" || *d.Document != `{"op":"template"}` || *d.TimeoutConfig.InProgressTimeoutInMinutes != 30 ||
		len(d.MaintenanceWindows) != 1 || d.CreatedAt == nil {
		t.Fatalf("describe: %+v", d)
	}
	tags := must(c.ListTagsForResource(ctx, &sdkiot.ListTagsForResourceInput{ResourceArn: tpl.JobTemplateArn})).Tags
	if len(tags) != 1 || *tags[0].Key != "team" {
		t.Fatalf("tags: %v", tags)
	}
	_, err := c.CreateJobTemplate(ctx, &sdkiot.CreateJobTemplateInput{JobTemplateId: aws.String("fw"), Description: aws.String("again"), Document: aws.String("{}")})
	var conflict *types.ConflictException
	if wantCode(t, err, "ConflictException"); !asErr(err, &conflict) || aws.ToString(conflict.ResourceId) != "fw" {
		t.Fatalf("duplicate template: %v", err)
	}

	// A job from the template takes its document and configuration; the
	// request's own members win.
	must(c.CreateJob(ctx, &sdkiot.CreateJobInput{JobId: aws.String("from-tpl"), Targets: []string{groupArn("fleet")},
		JobTemplateArn: tpl.JobTemplateArn, TimeoutConfig: &types.TimeoutConfig{InProgressTimeoutInMinutes: aws.Int64(90)}}))
	j := must(c.DescribeJob(ctx, &sdkiot.DescribeJobInput{JobId: aws.String("from-tpl")})).Job
	if *j.JobTemplateArn != *tpl.JobTemplateArn || *j.TimeoutConfig.InProgressTimeoutInMinutes != 90 || j.AbortConfig == nil ||
		*j.AbortConfig.CriteriaList[0].MinNumberOfExecutedThings != 2 || j.SchedulingConfig == nil || len(j.SchedulingConfig.MaintenanceWindows) != 1 {
		t.Fatalf("job from the template: %+v", j)
	}
	if doc := must(c.GetJobDocument(ctx, &sdkiot.GetJobDocumentInput{JobId: aws.String("from-tpl")})).Document; *doc != `{"op":"template"}` {
		t.Fatalf("document: %s", *doc)
	}
	must(c.CreateJob(ctx, &sdkiot.CreateJobInput{JobId: aws.String("own-doc"), Targets: []string{groupArn("fleet")},
		JobTemplateArn: tpl.JobTemplateArn, Document: aws.String(`{"op":"own"}`)}))
	if doc := must(c.GetJobDocument(ctx, &sdkiot.GetJobDocumentInput{JobId: aws.String("own-doc")})).Document; *doc != `{"op":"own"}` {
		t.Fatalf("the request's document must win: %s", *doc)
	}
	// A template based on a job (jobArn) copies what it leaves out.
	must(c.CreateJobTemplate(ctx, &sdkiot.CreateJobTemplateInput{JobTemplateId: aws.String("copy"), Description: aws.String("copy"),
		JobArn: aws.String(env.ARN("iot", "job/from-tpl"))}))
	cp := must(c.DescribeJobTemplate(ctx, &sdkiot.DescribeJobTemplateInput{JobTemplateId: aws.String("copy")}))
	if *cp.Document != `{"op":"template"}` || *cp.TimeoutConfig.InProgressTimeoutInMinutes != 90 {
		t.Fatalf("template from a job: %+v", cp)
	}
	_, err = c.CreateJobTemplate(ctx, &sdkiot.CreateJobTemplateInput{JobTemplateId: aws.String("nojob"), Description: aws.String("x"),
		JobArn: aws.String(env.ARN("iot", "job/ghost"))})
	wantCode(t, err, "ResourceNotFoundException")

	page := must(c.ListJobTemplates(ctx, &sdkiot.ListJobTemplatesInput{MaxResults: aws.Int32(1)}))
	if len(page.JobTemplates) != 1 || *page.JobTemplates[0].JobTemplateId != "copy" || page.NextToken == nil {
		t.Fatalf("first page: %+v", page)
	}
	page = must(c.ListJobTemplates(ctx, &sdkiot.ListJobTemplatesInput{NextToken: page.NextToken}))
	if len(page.JobTemplates) != 1 || *page.JobTemplates[0].JobTemplateId != "fw" || *page.JobTemplates[0].Description != "firmware" || page.NextToken != nil {
		t.Fatalf("second page: %+v", page)
	}

	// documentParameters are for AWS managed templates only.
	_, err = c.CreateJob(ctx, &sdkiot.CreateJobInput{JobId: aws.String("params"), Targets: []string{groupArn("fleet")},
		JobTemplateArn: tpl.JobTemplateArn, DocumentParameters: map[string]string{"v": "1"}})
	if ae := wantCode(t, err, "InvalidRequestException"); !strings.Contains(ae.ErrorMessage(), "custom job template") {
		t.Fatalf("message: %s", ae.ErrorMessage())
	}
	_, err = c.CreateJob(ctx, &sdkiot.CreateJobInput{JobId: aws.String("managed"), Targets: []string{groupArn("fleet")},
		JobTemplateArn: aws.String("arn:aws:iot:us-east-1::jobtemplate/AWS-Reboot:1.0")})
	wantCode(t, err, "ResourceNotFoundException")

	must(c.DeleteJobTemplate(ctx, &sdkiot.DeleteJobTemplateInput{JobTemplateId: aws.String("fw")}))
	_, err = c.DescribeJobTemplate(ctx, &sdkiot.DescribeJobTemplateInput{JobTemplateId: aws.String("fw")})
	wantCode(t, err, "ResourceNotFoundException")
	_, err = c.DeleteJobTemplate(ctx, &sdkiot.DeleteJobTemplateInput{JobTemplateId: aws.String("fw")})
	wantCode(t, err, "ResourceNotFoundException")
	_, err = c.CreateJob(ctx, &sdkiot.CreateJobInput{JobId: aws.String("gone"), Targets: []string{groupArn("fleet")}, JobTemplateArn: tpl.JobTemplateArn})
	wantCode(t, err, "ResourceNotFoundException")
	if j := must(c.DescribeJob(ctx, &sdkiot.DescribeJobInput{JobId: aws.String("from-tpl")})).Job; j.AbortConfig == nil {
		t.Fatal("a job keeps what it took from a deleted template")
	}
}

// TestJobTemplateRules: what CreateJobTemplate's reference requires, sent
// raw (the SDK would refuse some of it client-side).
func TestJobTemplateRules(t *testing.T) {
	f := start(t)
	for _, tc := range []struct{ path, body, msg string }{
		{"/job-templates/t1", `{"document":"{}"}`, "description: is required"},
		{"/job-templates/t1", `{"description":"d"}`, "one of jobArn, document or documentSource"},
		{"/job-templates/t.1", `{"description":"d","document":"{}"}`, "jobTemplateId"},
		{"/job-templates/t1", `{"description":"d","document":"{}","maintenanceWindows":[{"startTime":"cron(0 2 ? * SAT *)","durationInMinutes":1431}]}`, "maintenanceWindows[0].durationInMinutes"},
		{"/job-templates/t1", `{"description":"d","document":"{}","timeoutConfig":{"inProgressTimeoutInMinutes":0}}`, "timeoutConfig"},
		{"/job-templates/t1", `{"description":"line\nbreak","document":"{}"}`, "control characters"},
	} {
		status, code, body := f.raw(t, "PUT", tc.path, tc.body)
		if status != http.StatusBadRequest || code != "InvalidRequestException" || !strings.Contains(body, tc.msg) {
			t.Errorf("%s %s: %d %s %s (want ...%s...)", tc.path, tc.body, status, code, body, tc.msg)
		}
	}
	if _, err := f.client.DescribeJobTemplate(ctx, &sdkiot.DescribeJobTemplateInput{JobTemplateId: aws.String("t1")}); err == nil {
		t.Fatal("a refused template was stored")
	}
}

// TestBeforeSubstitution: GetJobDocument shows the document with
// documentParameters substituted, or as given; DescribeJob takes the flag
// too and refuses one that is not a boolean.
func TestBeforeSubstitution(t *testing.T) {
	f := start(t)
	c := f.client
	f.group(t, "fleet", 1)
	must(c.CreateJob(ctx, &sdkiot.CreateJobInput{JobId: aws.String("p"), Targets: []string{groupArn("fleet")},
		Document: aws.String(`{"url":"${aws:iot:parameter:url}"}`), DocumentParameters: map[string]string{"url": "https://x/fw.bin"}}))
	after := must(c.GetJobDocument(ctx, &sdkiot.GetJobDocumentInput{JobId: aws.String("p")})).Document
	before := must(c.GetJobDocument(ctx, &sdkiot.GetJobDocumentInput{JobId: aws.String("p"), BeforeSubstitution: true})).Document
	if *after != `{"url":"https://x/fw.bin"}` || *before != `{"url":"${aws:iot:parameter:url}"}` {
		t.Fatalf("after %s, before %s", *after, *before)
	}
	d := must(c.DescribeJob(ctx, &sdkiot.DescribeJobInput{JobId: aws.String("p"), BeforeSubstitution: true}))
	if d.Job.DocumentParameters["url"] != "https://x/fw.bin" {
		t.Fatalf("documentParameters: %v", d.Job.DocumentParameters)
	}
	if status, code, _ := f.raw(t, "GET", "/jobs/p?beforeSubstitution=maybe", ""); status != http.StatusBadRequest || code != "InvalidRequestException" {
		t.Fatalf("beforeSubstitution=maybe: %d %s", status, code)
	}
}
