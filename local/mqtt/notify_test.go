package mqtt_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/otactl/otactl/local/jobs"
	"github.com/otactl/otactl/local/mqtt"
)

// listedJobs returns the summaries a notify payload lists under status.
func listedJobs(t *testing.T, m map[string]any, status string) []map[string]any {
	t.Helper()
	var out []map[string]any
	list, _ := field(m, "jobs", status).([]any)
	for _, s := range list {
		out = append(out, s.(map[string]any))
	}
	return out
}

// ids renders summaries as jobId#executionNumber, for comparing lists.
func ids(list []map[string]any) string {
	var out []string
	for _, s := range list {
		out = append(out, fmt.Sprintf("%v#%v", s["jobId"], s["executionNumber"]))
	}
	return strings.Join(out, ",")
}

// TestNotifyNextOnRetry: with jobExecutionsRetryConfig {FAILED, 1}, the
// device (paho, MQTT 5) reports FAILED, gets update/accepted, and then
// notify-next names the same job again with executionNumber 2; notify lists
// the retry as QUEUED. When the retry fails too, nothing is pending and
// notify-next carries only a timestamp, as AWS sends it.
func TestNotifyNextOnRetry(t *testing.T) {
	e := newEnv(t, mqtt.Config{})
	// The job engine owns the retry policy (it counts attempts per
	// failure type), as in otactl local.
	eng := jobs.New(e.svc, e.st, jobs.RealClock{})
	if err := eng.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	e.thing("dev-1")
	d := connect(t, e, "dev-1")
	base := "$aws/things/dev-1/jobs/"
	d.sub(base+"notify", base+"notify-next")

	if _, err := e.api.CreateJob(bg, &sdkiot.CreateJobInput{JobId: aws.String("job-1"), Document: aws.String(doc1),
		Targets: []string{"arn:aws:iot:us-east-1:" + account + ":thing/dev-1"},
		JobExecutionsRetryConfig: &types.JobExecutionsRetryConfig{CriteriaList: []types.RetryCriteria{
			{FailureType: types.RetryableFailureTypeFailed, NumberOfRetries: aws.Int32(1)}}}}); err != nil {
		t.Fatal(err)
	}
	m := d.collect(2)
	if n := m[base+"notify-next"]; field(n, "execution", "jobId") != "job-1" || field(n, "execution", "executionNumber") != 1.0 {
		t.Fatalf("notify-next for the new job = %v", n)
	}

	for attempt := 1.0; attempt <= 2; attempt++ {
		d.pubJSON(base+"start-next", map[string]any{"clientToken": "s"})
		if a := d.nextJSON(base + "start-next/accepted"); field(a, "execution", "executionNumber") != attempt {
			t.Fatalf("attempt %v: start-next/accepted = %v", attempt, a)
		}
		// IN_PROGRESS now: the list changed, the next execution did not.
		if n := d.nextJSON(base + "notify"); ids(listedJobs(t, n, "IN_PROGRESS")) != fmt.Sprintf("job-1#%v", attempt) {
			t.Fatalf("attempt %v: notify after start-next = %v", attempt, n)
		}
		d.pubJSON(base+"job-1/update", map[string]any{"status": "FAILED", "statusDetails": map[string]string{"reason": "self-test failed"},
			"executionNumber": attempt, "clientToken": "f", "includeJobExecutionState": true})
		// The answer comes first, then what the update caused. It shows the
		// execution as the device left it (FAILED), not the retry.
		if a := d.nextJSON(base + "job-1/update/accepted"); a["clientToken"] != "f" ||
			field(a, "executionState", "status") != "FAILED" {
			t.Fatalf("attempt %v: update/accepted = %v", attempt, a)
		}
		m = d.collect(2)
		next, list := m[base+"notify-next"], m[base+"notify"]
		if attempt == 1 {
			// The retry: same job, the next execution number, queued.
			if field(next, "execution", "jobId") != "job-1" || field(next, "execution", "executionNumber") != 2.0 ||
				field(next, "execution", "status") != "QUEUED" || field(next, "execution", "jobDocument", "afr_ota") == nil || next["timestamp"] == nil {
				t.Fatalf("notify-next after the first failure = %v", next)
			}
			if ids(listedJobs(t, list, "QUEUED")) != "job-1#2" || listedJobs(t, list, "IN_PROGRESS") != nil {
				t.Fatalf("notify after the first failure = %v", list)
			}
			d.pub(base+"$next/get", nil)
			if g := d.nextJSON(base + "$next/get/accepted"); field(g, "execution", "executionNumber") != 2.0 {
				t.Fatalf("$next/get after the retry = %v", g)
			}
			continue
		}
		// No retries left: nothing pending.
		if _, ok := next["execution"]; ok || next["timestamp"] == nil {
			t.Fatalf("notify-next after the last failure = %v", next)
		}
		if jobs, ok := field(list, "jobs").(map[string]any); !ok || len(jobs) != 0 {
			t.Fatalf("notify after the last failure = %v", list)
		}
	}
	ex, err := e.api.DescribeJobExecution(bg, &sdkiot.DescribeJobExecutionInput{JobId: aws.String("job-1"), ThingName: aws.String("dev-1")})
	if err != nil || ex.Execution.Status != types.JobExecutionStatusFailed || aws.ToInt64(ex.Execution.ExecutionNumber) != 2 {
		t.Fatalf("execution at the end: %+v, %v", ex, err)
	}
}

// TestNotifyNextFollowsNext: notify-next follows what $next names through a
// device starting a later job, a cancel and removals; notify follows the
// IN_PROGRESS and QUEUED lists (IN_PROGRESS first, then queue order).
func TestNotifyNextFollowsNext(t *testing.T) {
	e := newEnv(t, mqtt.Config{})
	e.thing("dev-1")
	d := connect(t, e, "dev-1")
	base := "$aws/things/dev-1/jobs/"
	d.sub(base+"notify", base+"notify-next")
	e.job("job-1", doc1, "dev-1")
	d.collect(2)
	e.job("job-2", doc1, "dev-1")
	d.nextJSON(base + "notify")
	e.job("job-3", doc1, "dev-1")
	if n := d.nextJSON(base + "notify"); ids(listedJobs(t, n, "QUEUED")) != "job-1#1,job-2#1,job-3#1" {
		t.Fatalf("notify with three queued = %v", n)
	}

	// The device starts job-2: an IN_PROGRESS execution comes before the
	// queued ones, so $next names job-2 now.
	d.pubJSON(base+"job-2/update", map[string]any{"status": "IN_PROGRESS"})
	d.nextJSON(base + "job-2/update/accepted")
	m := d.collect(2)
	if field(m[base+"notify-next"], "execution", "jobId") != "job-2" || field(m[base+"notify-next"], "execution", "status") != "IN_PROGRESS" {
		t.Fatalf("notify-next after starting job-2 = %v", m[base+"notify-next"])
	}
	if n := m[base+"notify"]; ids(listedJobs(t, n, "IN_PROGRESS")) != "job-2#1" || ids(listedJobs(t, n, "QUEUED")) != "job-1#1,job-3#1" {
		t.Fatalf("notify after starting job-2 = %v", n)
	}

	// Canceling the execution $next names: job-1 is next again.
	if _, err := e.api.CancelJobExecution(bg, &sdkiot.CancelJobExecutionInput{JobId: aws.String("job-2"), ThingName: aws.String("dev-1"),
		Force: true}); err != nil {
		t.Fatal(err)
	}
	m = d.collect(2)
	if field(m[base+"notify-next"], "execution", "jobId") != "job-1" {
		t.Fatalf("notify-next after the cancel = %v", m[base+"notify-next"])
	}
	if n := m[base+"notify"]; ids(listedJobs(t, n, "QUEUED")) != "job-1#1,job-3#1" || listedJobs(t, n, "IN_PROGRESS") != nil {
		t.Fatalf("notify after the cancel = %v", n)
	}

	// Removing a later execution changes the list only (a notify-next here
	// would be the second one collect(2) reads below, and fail it).
	remove := func(job string) {
		t.Helper()
		if _, err := e.api.DeleteJobExecution(bg, &sdkiot.DeleteJobExecutionInput{JobId: aws.String(job), ThingName: aws.String("dev-1"),
			ExecutionNumber: aws.Int64(1), Force: true}); err != nil {
			t.Fatal(err)
		}
	}
	remove("job-3")
	if n := d.nextJSON(base + "notify"); ids(listedJobs(t, n, "QUEUED")) != "job-1#1" {
		t.Fatalf("notify after removing job-3 = %v", n)
	}
	// Removing the last one: nothing is next.
	remove("job-1")
	m = d.collect(2)
	if _, ok := m[base+"notify-next"]["execution"]; ok {
		t.Fatalf("notify-next with nothing pending = %v", m[base+"notify-next"])
	}
	if jobs, ok := field(m[base+"notify"], "jobs").(map[string]any); !ok || len(jobs) != 0 {
		t.Fatalf("notify with nothing pending = %v", m[base+"notify"])
	}
}
