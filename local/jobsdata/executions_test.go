package jobsdata_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	sdks3 "github.com/aws/aws-sdk-go-v2/service/s3"
)

// doc has the characters Go's JSON encoder escapes by default (& < >), a
// non-ASCII letter and a line separator: a device must get them as they are.
const doc = `{"url":"https://example.com/fw.bin?a=1&b=2","cmp":"<v2>","name":"café","sep":"a` + "\u2028" + `b"}`

// TestDeviceFlow drives one device through the data plane: pending list,
// start-next, describe (document bytes), a version mismatch, the update to
// SUCCEEDED, an invalid transition and the terminal state, all over
// SigV4-signed HTTP against the full server.
func TestDeviceFlow(t *testing.T) {
	f := start(t)
	f.things("dev-1")
	f.job("job-a", doc, "dev-1")
	f.job("job-b", `{"op":"second"}`, "dev-1")

	var p pending
	r := f.call("GET", "/things/dev-1/jobs", "")
	if r.status != 200 {
		t.Fatalf("GetPendingJobExecutions: %d %s", r.status, r.body)
	}
	r.decode(t, &p)
	if got := ids(p.QueuedJobs); !reflect.DeepEqual(got, []string{"job-a", "job-b"}) || len(p.InProgressJobs) != 0 {
		t.Fatalf("pending = %s", r.body)
	}
	if q := p.QueuedJobs[0]; q.VersionNumber != 1 || q.ExecutionNumber != 1 || q.StartedAt != nil || q.QueuedAt < 1_600_000_000 || q.QueuedAt > 1e10 {
		t.Fatalf("queued summary (times are seconds) = %+v", q)
	}

	// StartNextPendingJobExecution: job-a, with details, step timer and document.
	r = f.call("PUT", "/things/dev-1/jobs/$next", `{"statusDetails":{"step":"download"},"stepTimeoutInMinutes":5}`)
	var started struct{ Execution execution }
	if r.status != 200 {
		t.Fatalf("StartNextPendingJobExecution: %d %s", r.status, r.body)
	}
	r.decode(t, &started)
	e := started.Execution
	if e.JobID != "job-a" || e.ThingName != "dev-1" || e.Status != "IN_PROGRESS" || e.StatusDetails["step"] != "download" ||
		e.VersionNumber != 2 || e.StartedAt == nil || e.ApproximateSecondsBeforeTimedOut == nil ||
		*e.ApproximateSecondsBeforeTimedOut < 1 || *e.ApproximateSecondsBeforeTimedOut > 300 {
		t.Fatalf("started = %s", r.body)
	}
	checkDocument(t, r.body, e.JobDocument)

	r = f.call("GET", "/things/dev-1/jobs", "")
	r.decode(t, &p)
	if !reflect.DeepEqual(ids(p.InProgressJobs), []string{"job-a"}) || !reflect.DeepEqual(ids(p.QueuedJobs), []string{"job-b"}) {
		t.Fatalf("pending after start = %s", r.body)
	}

	// DescribeJobExecution: the document by default, not with includeJobDocument=false; $next.
	var described struct{ Execution execution }
	r = f.call("GET", "/things/dev-1/jobs/job-a", "")
	if r.status != 200 {
		t.Fatalf("DescribeJobExecution: %d %s", r.status, r.body)
	}
	r.decode(t, &described)
	checkDocument(t, r.body, described.Execution.JobDocument)
	r = f.call("GET", "/things/dev-1/jobs/job-a?includeJobDocument=false&executionNumber=1", "")
	described.Execution = execution{}
	r.decode(t, &described)
	if r.status != 200 || described.Execution.JobDocument != nil || described.Execution.VersionNumber != 2 {
		t.Fatalf("without document: %d %s", r.status, r.body)
	}
	r = f.call("GET", "/things/dev-1/jobs/$next?includeJobDocument=false", "")
	described.Execution = execution{}
	r.decode(t, &described)
	if described.Execution.JobID != "job-a" || described.Execution.Status != "IN_PROGRESS" {
		t.Fatalf("$next = %s", r.body)
	}

	// A stale expectedVersion is refused with the current state; nothing changes.
	e2 := f.expectError(f.call("POST", "/things/dev-1/jobs/job-a", `{"status":"SUCCEEDED","expectedVersion":1}`), 409, "VersionConflictException")
	if s := e2.ExecutionState; s == nil || s.Status != "IN_PROGRESS" || s.VersionNumber != 2 || s.StatusDetails["step"] != "download" {
		t.Fatalf("mismatch state = %+v", s)
	}

	// The update, with the state and the document in the answer.
	r = f.call("POST", "/things/dev-1/jobs/job-a",
		`{"status":"SUCCEEDED","statusDetails":{"step":"done"},"expectedVersion":2,"executionNumber":1,"includeJobExecutionState":true,"includeJobDocument":true}`)
	var updated struct {
		ExecutionState *executionState
		JobDocument    *string
	}
	if r.status != 200 {
		t.Fatalf("UpdateJobExecution: %d %s", r.status, r.body)
	}
	r.decode(t, &updated)
	if s := updated.ExecutionState; s == nil || s.Status != "SUCCEEDED" || s.VersionNumber != 3 || s.StatusDetails["step"] != "done" {
		t.Fatalf("updated = %s", r.body)
	}
	checkDocument(t, r.body, updated.JobDocument)

	// The control plane sees the same record.
	out, err := f.iot.DescribeJobExecution(ctx, &sdkiot.DescribeJobExecutionInput{JobId: aws.String("job-a"), ThingName: aws.String("dev-1")})
	if err != nil || string(out.Execution.Status) != "SUCCEEDED" || out.Execution.VersionNumber != 3 {
		t.Fatalf("control plane: %+v %v", out, err)
	}

	// Out of a terminal state: InvalidStateTransitionException with the state;
	// describing it: TerminalStateException.
	e2 = f.expectError(f.call("POST", "/things/dev-1/jobs/job-a", `{"status":"IN_PROGRESS"}`), 409, "InvalidStateTransitionException")
	if s := e2.ExecutionState; s == nil || s.Status != "SUCCEEDED" || s.VersionNumber != 3 {
		t.Fatalf("transition state = %+v", s)
	}
	f.expectError(f.call("GET", "/things/dev-1/jobs/job-a", ""), 410, "TerminalStateException")

	// job-b is next; when it ends nothing is pending and start-next answers {}.
	r = f.call("PUT", "/things/dev-1/jobs/$next", "")
	started.Execution = execution{}
	r.decode(t, &started)
	if started.Execution.JobID != "job-b" || *started.Execution.JobDocument != `{"op":"second"}` {
		t.Fatalf("next = %s", r.body)
	}
	if r := f.call("POST", "/things/dev-1/jobs/job-b", `{"status":"REJECTED"}`); r.status != 200 || string(bytes.TrimSpace(r.body)) != "{}" {
		t.Fatalf("reject: %d %s", r.status, r.body)
	}
	for _, path := range []string{"/things/dev-1/jobs/$next", "/things/dev-1/jobs/%24next"} {
		if r := f.call("PUT", path, ""); r.status != 200 || string(bytes.TrimSpace(r.body)) != "{}" {
			t.Fatalf("start-next with nothing pending: %d %s", r.status, r.body)
		}
	}
	if r := f.call("GET", "/things/dev-1/jobs", ""); string(bytes.TrimSpace(r.body)) != `{"inProgressJobs":[],"queuedJobs":[]}` {
		t.Fatalf("nothing pending = %s", r.body)
	}
}

// checkDocument compares the document with the job's, byte for byte, and
// the raw body for escapes AWS does not send.
func checkDocument(t *testing.T, body []byte, got *string) {
	t.Helper()
	if got == nil || *got != doc {
		t.Fatalf("jobDocument = %v, want %s", got, doc)
	}
	for _, esc := range []string{`\u0026`, `\u003c`, `\u003e`} {
		if bytes.Contains(body, []byte(esc)) {
			t.Fatalf("body escapes %s: %s", esc, body)
		}
	}
	if !bytes.Contains(body, []byte(`fw.bin?a=1&b=2`)) || !bytes.Contains(body, []byte(`<v2>`)) || !bytes.Contains(body, []byte("café")) {
		t.Fatalf("body does not carry the document's characters: %s", body)
	}
}

// TestBadRequests: each refusal has AWS's code and status and changes nothing.
func TestBadRequests(t *testing.T) {
	f := start(t)
	f.things("dev-1", "dev-2")
	f.job("job-a", doc, "dev-1")
	cases := []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"describe a job the thing does not have", "GET", "/things/dev-2/jobs/job-a", "", 404, "ResourceNotFoundException"},
		{"update a job the thing does not have", "POST", "/things/dev-2/jobs/job-a", `{"status":"IN_PROGRESS"}`, 404, "ResourceNotFoundException"},
		{"describe a job that does not exist", "GET", "/things/dev-1/jobs/nope", "", 404, "ResourceNotFoundException"},
		{"another execution number", "GET", "/things/dev-1/jobs/job-a?executionNumber=2", "", 404, "ResourceNotFoundException"},
		{"update another execution number", "POST", "/things/dev-1/jobs/job-a", `{"status":"IN_PROGRESS","executionNumber":7}`, 404, "ResourceNotFoundException"},
		{"no status", "POST", "/things/dev-1/jobs/job-a", `{}`, 400, "InvalidRequestException"},
		{"a status the service sets", "POST", "/things/dev-1/jobs/job-a", `{"status":"CANCELED"}`, 400, "InvalidRequestException"},
		{"status QUEUED", "POST", "/things/dev-1/jobs/job-a", `{"status":"QUEUED"}`, 400, "InvalidRequestException"},
		{"unknown member", "POST", "/things/dev-1/jobs/job-a", `{"status":"IN_PROGRESS","force":true}`, 400, "InvalidRequestException"},
		{"wrong type", "POST", "/things/dev-1/jobs/job-a", `{"status":"IN_PROGRESS","expectedVersion":"1"}`, 400, "InvalidRequestException"},
		{"malformed JSON", "POST", "/things/dev-1/jobs/job-a", `{"status":`, 400, "InvalidRequestException"},
		{"step timeout 0", "POST", "/things/dev-1/jobs/job-a", `{"status":"IN_PROGRESS","stepTimeoutInMinutes":0}`, 400, "InvalidRequestException"},
		{"step timeout over 7 days", "PUT", "/things/dev-1/jobs/$next", `{"stepTimeoutInMinutes":10081}`, 400, "InvalidRequestException"},
		{"empty details value", "PUT", "/things/dev-1/jobs/$next", `{"statusDetails":{"k":""}}`, 400, "InvalidRequestException"},
		{"details key pattern", "POST", "/things/dev-1/jobs/job-a", `{"status":"IN_PROGRESS","statusDetails":{"a b":"c"}}`, 400, "InvalidRequestException"},
		{"details control character", "POST", "/things/dev-1/jobs/job-a", `{"status":"IN_PROGRESS","statusDetails":{"k":"a\nb"}}`, 400, "InvalidRequestException"},
		{"update $next", "POST", "/things/dev-1/jobs/$next", `{"status":"IN_PROGRESS"}`, 400, "InvalidRequestException"},
		{"thing name pattern", "GET", "/things/dev%201/jobs", "", 400, "InvalidRequestException"},
		{"job id too long", "GET", "/things/dev-1/jobs/" + strings.Repeat("j", 65), "", 400, "InvalidRequestException"},
		{"includeJobDocument not a boolean", "GET", "/things/dev-1/jobs/job-a?includeJobDocument=maybe", "", 400, "InvalidRequestException"},
		{"executionNumber not a number", "GET", "/things/dev-1/jobs/job-a?executionNumber=x", "", 400, "InvalidRequestException"},
		{"version 0 never matches", "POST", "/things/dev-1/jobs/job-a", `{"status":"IN_PROGRESS","expectedVersion":0}`, 409, "VersionConflictException"},
		{"no such operation", "DELETE", "/things/dev-1/jobs/job-a", "", 404, "UnknownOperationException"},
		{"StartCommandExecution is not served", "POST", "/command-executions", `{}`, 404, "UnknownOperationException"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f.t = t
			f.expectError(f.call(c.method, c.path, c.body), c.status, c.code)
		})
	}
	f.t = t
	out, err := f.iot.DescribeJobExecution(ctx, &sdkiot.DescribeJobExecutionInput{JobId: aws.String("job-a"), ThingName: aws.String("dev-1")})
	if err != nil || string(out.Execution.Status) != "QUEUED" || out.Execution.VersionNumber != 1 || len(out.Execution.StatusDetails.DetailsMap) != 0 {
		t.Fatalf("after refusals: %+v %v", out.Execution, err)
	}
}

// TestPresignedDocument: a placeholder becomes a presigned URL to the local
// S3, & unescaped, that downloads the object.
func TestPresignedDocument(t *testing.T) {
	f := start(t)
	s3c := f.env.S3()
	if _, err := s3c.CreateBucket(ctx, &sdks3.CreateBucketInput{Bucket: aws.String("firmware")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutObject(ctx, &sdks3.PutObjectInput{Bucket: aws.String("firmware"), Key: aws.String("image.bin"), Body: strings.NewReader("firmware-bytes")}); err != nil {
		t.Fatal(err)
	}
	f.things("dev-1")
	f.job("ota", `{"url":"${aws:iot:s3-presigned-url:https://s3.amazonaws.com/firmware/image.bin}"}`, "dev-1")
	r := f.call("GET", "/things/dev-1/jobs/ota", "")
	var d struct{ Execution execution }
	r.decode(t, &d)
	if d.Execution.JobDocument == nil || bytes.Contains(r.body, []byte(`\u0026`)) {
		t.Fatalf("describe: %s", r.body)
	}
	var got struct{ URL string }
	if err := json.Unmarshal([]byte(*d.Execution.JobDocument), &got); err != nil || !strings.Contains(got.URL, "X-Amz-Signature=") || !strings.Contains(got.URL, "&") {
		t.Fatalf("document %s: %v", *d.Execution.JobDocument, err)
	}
	resp, err := http.Get(got.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || string(body) != "firmware-bytes" {
		t.Fatalf("GET %s: %d %s", got.URL, resp.StatusCode, body)
	}
}
