package mqtt_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"

	"github.com/otactl/otactl/local/mqtt"
)

const doc1 = `{"afr_ota":{"protocols":["MQTT"],"streamname":"AFR_OTA-1","files":[{"filepath":null,"filesize":10,"fileid":0,"certfile":"c","sig-sha256-ecdsa":"x"}]}}`

func field(m map[string]any, path ...string) any {
	var v any = m
	for _, p := range path {
		mm, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = mm[p]
	}
	return v
}

// TestJobsAPI walks a device through a job without subscribing to anything:
// every accepted and rejected answer still reaches it, as on AWS.
func TestJobsAPI(t *testing.T) {
	e := newEnv(t, mqtt.Config{})
	e.thing("dev-1")
	e.job("job-1", doc1, "dev-1")
	d := connect(t, e, "dev-1")
	base := "$aws/things/dev-1/jobs/"

	d.pubJSON(base+"get", map[string]any{"clientToken": "t1"})
	m := d.nextJSON(base + "get/accepted")
	if m["clientToken"] != "t1" || len(m["inProgressJobs"].([]any)) != 0 || field(m["queuedJobs"].([]any)[0].(map[string]any), "jobId") != "job-1" {
		t.Fatalf("get/accepted = %v", m)
	}
	if _, ok := m["timestamp"].(float64); !ok {
		t.Errorf("no timestamp in %v", m)
	}

	d.pub(base+"$next/get", nil)
	m = d.nextJSON(base + "$next/get/accepted")
	if field(m, "execution", "jobId") != "job-1" || field(m, "execution", "status") != "QUEUED" ||
		field(m, "execution", "thingName") != "dev-1" || field(m, "execution", "jobDocument", "afr_ota", "streamname") != "AFR_OTA-1" {
		t.Fatalf("$next/get/accepted = %v", m)
	}
	if _, ok := m["clientToken"]; ok {
		t.Errorf("clientToken echoed though none was sent: %v", m)
	}

	d.pubJSON(base+"start-next", map[string]any{"clientToken": "s", "statusDetails": map[string]string{"step": "1"}, "stepTimeoutInMinutes": 10})
	m = d.nextJSON(base + "start-next/accepted")
	if field(m, "execution", "status") != "IN_PROGRESS" || field(m, "execution", "versionNumber") != 2.0 ||
		field(m, "execution", "statusDetails", "step") != "1" || field(m, "execution", "startedAt") == nil || m["clientToken"] != "s" {
		t.Fatalf("start-next/accepted = %v", m)
	}

	d.pubJSON(base+"job-1/update", map[string]any{"status": "IN_PROGRESS", "statusDetails": map[string]string{"receive": "1/2"},
		"expectedVersion": 2, "includeJobExecutionState": true, "includeJobDocument": true, "clientToken": "u1"})
	m = d.nextJSON(base + "job-1/update/accepted")
	if field(m, "executionState", "status") != "IN_PROGRESS" || field(m, "executionState", "versionNumber") != 3.0 ||
		field(m, "executionState", "statusDetails", "receive") != "1/2" || field(m, "jobDocument", "afr_ota") == nil || m["clientToken"] != "u1" {
		t.Fatalf("update/accepted = %v", m)
	}

	// The control plane sees what the device reported.
	de, err := e.api.DescribeJobExecution(bg, &sdkiot.DescribeJobExecutionInput{JobId: aws.String("job-1"), ThingName: aws.String("dev-1")})
	if err != nil {
		t.Fatal(err)
	}
	if de.Execution.StatusDetails.DetailsMap["receive"] != "1/2" || de.Execution.VersionNumber != 3 || de.Execution.Status != "IN_PROGRESS" {
		t.Fatalf("DescribeJobExecution = %+v", de.Execution)
	}

	// Without the include flags the answer is just the timestamp.
	d.pubJSON(base+"job-1/update", map[string]any{"status": "IN_PROGRESS"})
	m = d.nextJSON(base + "job-1/update/accepted")
	if _, ok := m["executionState"]; ok || m["jobDocument"] != nil {
		t.Errorf("update/accepted without include flags = %v", m)
	}

	// VersionMismatch carries the current state.
	d.pubJSON(base+"job-1/update", map[string]any{"status": "SUCCEEDED", "expectedVersion": 1, "clientToken": "v"})
	m = d.nextJSON(base + "job-1/update/rejected")
	if m["code"] != "VersionMismatch" || field(m, "executionState", "versionNumber") != 4.0 || m["clientToken"] != "v" || m["message"] == "" {
		t.Fatalf("VersionMismatch = %v", m)
	}

	d.pubJSON(base+"job-1/update", map[string]any{"status": "SUCCEEDED", "statusDetails": map[string]string{"reason": "accepted v2"}})
	d.nextJSON(base + "job-1/update/accepted")

	// Out of a terminal state: InvalidStateTransition, with the state.
	d.pubJSON(base+"job-1/update", map[string]any{"status": "IN_PROGRESS"})
	m = d.nextJSON(base + "job-1/update/rejected")
	if m["code"] != "InvalidStateTransition" || field(m, "executionState", "status") != "SUCCEEDED" {
		t.Fatalf("InvalidStateTransition = %v", m)
	}
	// Describing a finished execution: TerminalStateReached.
	d.pubJSON(base+"job-1/get", map[string]any{"clientToken": "g"})
	m = d.nextJSON(base + "job-1/get/rejected")
	if m["code"] != "TerminalStateReached" || m["clientToken"] != "g" {
		t.Fatalf("TerminalStateReached = %v", m)
	}
	// Nothing is next now.
	d.pub(base+"$next/get", []byte(`{}`))
	m = d.nextJSON(base + "$next/get/accepted")
	if _, ok := m["execution"]; ok {
		t.Fatalf("$next after the job = %v", m)
	}
	d.pub(base+"start-next", []byte(`{}`))
	m = d.nextJSON(base + "start-next/accepted")
	if _, ok := m["execution"]; ok {
		t.Fatalf("start-next with nothing pending = %v", m)
	}
}

func TestJobsRejections(t *testing.T) {
	e := newEnv(t, mqtt.Config{})
	e.thing("dev-1")
	e.job("job-1", doc1, "dev-1")
	d := connect(t, e, "dev-1")
	base := "$aws/things/dev-1/jobs/"
	cases := []struct {
		topic, payload, code string
	}{
		{"nope/get", `{}`, "ResourceNotFound"},
		{"nope/update", `{"status":"IN_PROGRESS"}`, "ResourceNotFound"},
		{"bogus", `{}`, "InvalidTopic"},
		{"job-1/frobnicate", `{}`, "InvalidTopic"},
		{"job-1/update", `{"status":`, "InvalidJson"},
		{"get", "\xff\xfe", "InvalidJson"},
		{"job-1/update", `{"status":5}`, "InvalidRequest"},
		{"job-1/update", `{"status":"CANCELED"}`, "InvalidRequest"},
		{"job-1/update", `{}`, "InvalidRequest"},
		{"job-1/update", `{"status":"IN_PROGRESS","statusDetails":{"a":1}}`, "InvalidRequest"},
		{"job-1/update", `{"status":"IN_PROGRESS","stepTimeoutInMinutes":99999}`, "InvalidRequest"},
		{"get", `{"clientToken":"` + strings.Repeat("x", 65) + `"}`, "InvalidRequest"},
		{"$next/update", `{"status":"IN_PROGRESS"}`, "InvalidRequest"},
		{"job-1/get", `{"executionNumber":7}`, "ResourceNotFound"},
	}
	for _, c := range cases {
		d.pub(base+c.topic, []byte(c.payload))
		m := d.nextJSON(base + c.topic + "/rejected")
		if m["code"] != c.code {
			t.Errorf("%s %s: code %v, want %s (%v)", c.topic, c.payload, m["code"], c.code, m)
		}
		if m["message"] == "" || m["timestamp"] == nil {
			t.Errorf("%s: rejected lacks message or timestamp: %v", c.topic, m)
		}
	}
	// None of that changed the execution.
	ex, err := e.api.DescribeJobExecution(bg, &sdkiot.DescribeJobExecutionInput{JobId: aws.String("job-1"), ThingName: aws.String("dev-1")})
	if err != nil || ex.Execution.Status != "QUEUED" || ex.Execution.VersionNumber != 1 {
		t.Fatalf("execution after rejections: %+v, %v", ex, err)
	}
}

func TestJobsThrottled(t *testing.T) {
	e := newEnv(t, mqtt.Config{JobsRate: 0.001, JobsBurst: 2})
	e.thing("dev-1")
	d := connect(t, e, "dev-1")
	base := "$aws/things/dev-1/jobs/"
	for i := 0; i < 2; i++ {
		d.pub(base+"get", []byte(`{"clientToken":"ok"}`))
		d.nextJSON(base + "get/accepted")
	}
	d.pub(base+"get", []byte(`{"clientToken":"late"}`))
	if m := d.nextJSON(base + "get/rejected"); m["code"] != "RequestThrottled" || m["clientToken"] != "late" {
		t.Fatalf("third request: %v", m)
	}
}

// collect reads n messages and indexes them by topic.
func (d *device) collect(n int) map[string]map[string]any {
	d.t.Helper()
	out := map[string]map[string]any{}
	for i := 0; i < n; i++ {
		select {
		case p := <-d.msgs:
			var m map[string]any
			if err := json.Unmarshal(p.Payload, &m); err != nil {
				d.t.Fatal(err)
			}
			if _, dup := out[p.Topic]; dup {
				d.t.Fatalf("two messages on %s", p.Topic)
			}
			out[p.Topic] = m
		case <-timeAfter():
			d.t.Fatalf("got %d of %d messages: %v", i, n, out)
		}
	}
	return out
}

func TestNotifications(t *testing.T) {
	e := newEnv(t, mqtt.Config{})
	e.thing("dev-1")
	d := connect(t, e, "dev-1")
	base := "$aws/things/dev-1/jobs/"
	if rc := d.sub(base+"notify", base+"notify-next"); rc[0] != 1 || rc[1] != 1 {
		t.Fatalf("suback %v", rc)
	}

	// A new job: the list and the next job change.
	e.job("job-1", doc1, "dev-1")
	m := d.collect(2)
	if field(m[base+"notify"], "jobs", "QUEUED").([]any)[0].(map[string]any)["jobId"] != "job-1" {
		t.Fatalf("notify = %v", m[base+"notify"])
	}
	if field(m[base+"notify-next"], "execution", "jobId") != "job-1" || field(m[base+"notify-next"], "execution", "jobDocument", "afr_ota") == nil {
		t.Fatalf("notify-next = %v", m[base+"notify-next"])
	}

	// A second job: the list changes, the next job does not. (Were a
	// notify-next sent here, the next read would fail on its topic.)
	e.job("job-2", strings.Replace(doc1, "AFR_OTA-1", "AFR_OTA-2", 1), "dev-1")
	if n := d.nextJSON(base + "notify"); len(field(n, "jobs", "QUEUED").([]any)) != 2 {
		t.Fatalf("notify after job-2 = %v", n)
	}

	// Canceling job-1 makes job-2 next.
	if _, err := e.api.CancelJob(bg, &sdkiot.CancelJobInput{JobId: aws.String("job-1")}); err != nil {
		t.Fatal(err)
	}
	m = d.collect(2)
	if field(m[base+"notify-next"], "execution", "jobId") != "job-2" || len(field(m[base+"notify"], "jobs", "QUEUED").([]any)) != 1 {
		t.Fatalf("after cancel: %v", m)
	}

	// Starting job-2 changes the list (it is IN_PROGRESS now), not the
	// next job; finishing it empties both.
	d.pub(base+"start-next", []byte(`{}`))
	d.nextJSON(base + "start-next/accepted")
	if n := d.nextJSON(base + "notify"); field(n, "jobs", "IN_PROGRESS").([]any)[0].(map[string]any)["jobId"] != "job-2" || field(n, "jobs", "QUEUED") != nil {
		t.Fatalf("notify after start-next = %v", n)
	}
	d.pubJSON(base+"job-2/update", map[string]any{"status": "FAILED", "statusDetails": map[string]string{"reason": "rejected: 0x1"}})
	// The answer comes before the notifications the update caused.
	d.nextJSON(base + "job-2/update/accepted")
	m = d.collect(2)
	if _, ok := m[base+"notify-next"]["execution"]; ok || m[base+"notify-next"]["timestamp"] == nil {
		t.Fatalf("notify-next with nothing pending = %v", m[base+"notify-next"])
	}
	if jobs := field(m[base+"notify"], "jobs").(map[string]any); len(jobs) != 0 {
		t.Fatalf("notify with nothing pending = %v", m[base+"notify"])
	}
}

// TestPresignedDocument: the placeholder becomes a presigned URL, in any
// string of the document, with the job's expiry.
func TestPresignedDocument(t *testing.T) {
	e := newEnv(t, mqtt.Config{})
	e.thing("dev-1")
	doc := `{"afr_ota":{"protocols":["HTTP"],"files":[` +
		`{"fileid":0,"update_data_url":"${aws:iot:s3-presigned-url:https://s3.us-east-1.amazonaws.com/bucket/fw.bin}","auth_scheme":"aws.s3.presigned"},` +
		`{"fileid":1,"update_data_url":"${aws:iot:s3-presigned-url-v2:https://bucket2.s3.us-east-1.amazonaws.com/dir/fw2.bin}"}]},` +
		`"note":"get ${aws:iot:s3-presigned-url:https://s3.amazonaws.com/b3/k3?versionId=v9} please"}`
	e.job("job-http", doc, "dev-1")
	d := connect(t, e, "dev-1")
	d.pub("$aws/things/dev-1/jobs/$next/get", nil)
	m := d.nextJSON("$aws/things/dev-1/jobs/$next/get/accepted")
	files := field(m, "execution", "jobDocument", "afr_ota", "files").([]any)
	if got := files[0].(map[string]any)["update_data_url"]; got != "http://s3.local/bucket/fw.bin?versionId=&X-Amz-Expires=900" {
		t.Errorf("path-style placeholder → %v", got)
	}
	if got := files[1].(map[string]any)["update_data_url"]; got != "http://s3.local/bucket2/dir/fw2.bin?versionId=&X-Amz-Expires=900" {
		t.Errorf("virtual-hosted v2 placeholder → %v", got)
	}
	if got := field(m, "execution", "jobDocument", "note"); got != "get http://s3.local/b3/k3?versionId=v9&X-Amz-Expires=900 please" {
		t.Errorf("placeholder inside a string → %v", got)
	}
	// The control plane keeps the placeholder.
	gd, err := e.api.GetJobDocument(bg, &sdkiot.GetJobDocumentInput{JobId: aws.String("job-http")})
	if err != nil || !strings.Contains(*gd.Document, "${aws:iot:s3-presigned-url:") {
		t.Fatalf("GetJobDocument = %v, %v", gd, err)
	}
}

// TestNotifyOnDelete: deleting a job tells the things it had executions
// on that their next job changed.
func TestNotifyOnDelete(t *testing.T) {
	e := newEnv(t, mqtt.Config{})
	e.thing("dev-1")
	d := connect(t, e, "dev-1")
	base := "$aws/things/dev-1/jobs/"
	d.sub(base + "notify-next")
	e.job("job-1", doc1, "dev-1")
	if m := d.nextJSON(base + "notify-next"); field(m, "execution", "jobId") != "job-1" {
		t.Fatalf("notify-next = %v", m)
	}
	if _, err := e.api.DeleteJob(bg, &sdkiot.DeleteJobInput{JobId: aws.String("job-1"), Force: true}); err != nil {
		t.Fatal(err)
	}
	if m := d.nextJSON(base + "notify-next"); m["execution"] != nil {
		t.Fatalf("notify-next after delete = %v", m)
	}
}
