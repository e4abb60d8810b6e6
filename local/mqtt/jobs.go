package mqtt

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	mochi "github.com/mochi-mqtt/server/v2"
)

// The Jobs device MQTT API: $aws/things/{thing}/jobs/{get | start-next |
// {jobId}/get | {jobId}/update}, answered on the request topic + /accepted
// or /rejected (payload shapes from the AWS IoT Jobs device API).

const (
	maxClientToken = 64
	maxStepTimeout = 10080 // minutes (7 days)
	nextJobID      = "$next"
)

// jobRequest holds every field a Jobs request may carry; each operation
// reads its own. Unknown fields are ignored, wrong types are InvalidRequest.
type jobRequest struct {
	ClientToken              *string           `json:"clientToken"`
	Status                   *string           `json:"status"`
	StatusDetails            map[string]string `json:"statusDetails"`
	ExpectedVersion          *int64            `json:"expectedVersion"`
	ExecutionNumber          *int64            `json:"executionNumber"`
	IncludeJobExecutionState bool              `json:"includeJobExecutionState"`
	IncludeJobDocument       *bool             `json:"includeJobDocument"`
	StepTimeoutInMinutes     *int64            `json:"stepTimeoutInMinutes"`
}

// serveJobs answers one request published on $aws/things/{thing}/jobs/{rest}.
func (b *Broker) serveJobs(cl *mochi.Client, thing, rest string, payload []byte) {
	topic := thingPrefix + thing + "/jobs/" + rest
	if strings.HasSuffix(rest, "/accepted") || strings.HasSuffix(rest, "/rejected") ||
		rest == "notify" || rest == "notify-next" {
		return // answer and notification topics: nothing to serve
	}
	req, jerr := parseJobRequest(payload)
	var token *string
	if req != nil {
		token = req.ClientToken
	}
	respond := func(v any, err error) {
		if err != nil {
			b.reply(cl, topic+"/rejected", rejection(err, token))
			return
		}
		b.reply(cl, topic+"/accepted", mustJSON(v))
	}
	if !b.limits.allow(cl.ID) {
		respond(nil, &JobError{Code: CodeRequestThrottled, Message: "rate of Jobs requests exceeded"})
		return
	}
	op, jobID := jobOp(rest)
	if op == "" {
		respond(nil, &JobError{Code: CodeInvalidTopic, Message: "topic does not map to a Jobs API operation: " + topic})
		return
	}
	if jerr != nil {
		respond(nil, jerr)
		return
	}
	if b.deps.Jobs == nil {
		respond(nil, &JobError{Code: CodeInternalError, Message: "jobs are not available"})
		return
	}
	b.notifier.hold(thing)
	defer b.notifier.release(thing)
	switch op {
	case "get":
		respond(b.getPending(thing, req))
	case "start-next":
		respond(b.startNext(thing, req))
	case "describe":
		respond(b.describeExecution(thing, jobID, req))
	case "update":
		respond(b.updateExecution(thing, jobID, req))
	}
}

// jobOp maps the topic tail to an operation and job id.
func jobOp(rest string) (op, jobID string) {
	switch rest {
	case "get", "start-next":
		return rest, ""
	}
	id, action, ok := strings.Cut(rest, "/")
	if !ok || id == "" || strings.Contains(action, "/") {
		return "", ""
	}
	switch action {
	case "get":
		return "describe", id
	case "update":
		return "update", id
	}
	return "", ""
}

func parseJobRequest(payload []byte) (*jobRequest, error) {
	req := &jobRequest{}
	if len(bytes.TrimSpace(payload)) == 0 {
		return req, nil
	}
	if !utf8.Valid(payload) || !json.Valid(payload) {
		return nil, &JobError{Code: CodeInvalidJSON, Message: "the request is not valid UTF-8 JSON"}
	}
	if err := json.Unmarshal(payload, req); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, &JobError{Code: CodeInvalidRequest, Message: fmt.Sprintf("field %s: expected %s, got %s", te.Field, te.Type, te.Value)}
		}
		return nil, &JobError{Code: CodeInvalidJSON, Message: err.Error()}
	}
	if req.ClientToken != nil && (len(*req.ClientToken) == 0 || len(*req.ClientToken) > maxClientToken) {
		req.ClientToken = nil // not echoed when malformed
		return req, &JobError{Code: CodeInvalidRequest, Message: fmt.Sprintf("clientToken must be 1-%d characters", maxClientToken)}
	}
	if t := req.StepTimeoutInMinutes; t != nil && (*t < 1 || *t > maxStepTimeout) {
		return req, &JobError{Code: CodeInvalidRequest, Message: fmt.Sprintf("stepTimeoutInMinutes must be 1-%d", maxStepTimeout)}
	}
	for k, v := range req.StatusDetails {
		if k == "" || len(k) > 128 || v == "" || len(v) > 1024 {
			return req, &JobError{Code: CodeInvalidRequest, Message: "statusDetails keys must be 1-128 and values 1-1024 characters"}
		}
	}
	return req, nil
}

// Wire shapes of the Jobs device API. Times are seconds since the epoch.

type jobExecutionJSON struct {
	JobID           string            `json:"jobId"`
	ThingName       string            `json:"thingName"`
	JobDocument     json.RawMessage   `json:"jobDocument,omitempty"`
	Status          string            `json:"status"`
	StatusDetails   map[string]string `json:"statusDetails,omitempty"`
	QueuedAt        int64             `json:"queuedAt"`
	StartedAt       *int64            `json:"startedAt,omitempty"`
	LastUpdatedAt   int64             `json:"lastUpdatedAt"`
	VersionNumber   int64             `json:"versionNumber"`
	ExecutionNumber int64             `json:"executionNumber"`
}

type jobSummaryJSON struct {
	JobID           string `json:"jobId"`
	QueuedAt        int64  `json:"queuedAt"`
	StartedAt       *int64 `json:"startedAt,omitempty"`
	LastUpdatedAt   int64  `json:"lastUpdatedAt"`
	VersionNumber   int64  `json:"versionNumber"`
	ExecutionNumber int64  `json:"executionNumber"`
}

type executionStateJSON struct {
	Status        string            `json:"status"`
	StatusDetails map[string]string `json:"statusDetails,omitempty"`
	VersionNumber int64             `json:"versionNumber"`
}

func summary(e Execution) jobSummaryJSON {
	return jobSummaryJSON{
		JobID: e.JobID, QueuedAt: e.QueuedAt.Unix(), StartedAt: startedAt(e),
		LastUpdatedAt: e.LastUpdatedAt.Unix(), VersionNumber: e.VersionNumber, ExecutionNumber: e.ExecutionNumber,
	}
}

func state(e Execution) *executionStateJSON {
	return &executionStateJSON{Status: e.Status, StatusDetails: e.StatusDetails, VersionNumber: e.VersionNumber}
}

func startedAt(e Execution) *int64 {
	if e.StartedAt.IsZero() {
		return nil
	}
	t := e.StartedAt.Unix()
	return &t
}

// execution renders a JobExecution, with the device's view of the job
// document when withDoc is set.
func (b *Broker) execution(e Execution, withDoc bool) (*jobExecutionJSON, error) {
	out := &jobExecutionJSON{
		JobID: e.JobID, ThingName: e.ThingName, Status: e.Status, StatusDetails: e.StatusDetails,
		QueuedAt: e.QueuedAt.Unix(), StartedAt: startedAt(e), LastUpdatedAt: e.LastUpdatedAt.Unix(),
		VersionNumber: e.VersionNumber, ExecutionNumber: e.ExecutionNumber,
	}
	if withDoc {
		doc, err := b.deviceDocument(e)
		if err != nil {
			return nil, err
		}
		out.JobDocument = doc
	}
	return out, nil
}

func now() int64 { return time.Now().Unix() }

func (b *Broker) getPending(thing string, req *jobRequest) (any, error) {
	pending, err := b.deps.Jobs.PendingExecutions(thing)
	if err != nil {
		return nil, err
	}
	inProgress, queued := []jobSummaryJSON{}, []jobSummaryJSON{}
	for _, e := range pending {
		if e.Status == "IN_PROGRESS" {
			inProgress = append(inProgress, summary(e))
		} else {
			queued = append(queued, summary(e))
		}
	}
	return struct {
		InProgressJobs []jobSummaryJSON `json:"inProgressJobs"`
		QueuedJobs     []jobSummaryJSON `json:"queuedJobs"`
		Timestamp      int64            `json:"timestamp"`
		ClientToken    *string          `json:"clientToken,omitempty"`
	}{inProgress, queued, now(), req.ClientToken}, nil
}

type executionResponse struct {
	Execution   *jobExecutionJSON `json:"execution,omitempty"`
	Timestamp   int64             `json:"timestamp"`
	ClientToken *string           `json:"clientToken,omitempty"`
}

func (b *Broker) startNext(thing string, req *jobRequest) (any, error) {
	e, err := b.deps.Jobs.StartNextExecution(thing, req.StatusDetails, req.StepTimeoutInMinutes)
	if err != nil {
		return nil, err
	}
	resp := executionResponse{Timestamp: now(), ClientToken: req.ClientToken}
	if e != nil {
		b.notifier.changed(thing)
		if resp.Execution, err = b.execution(*e, true); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

func (b *Broker) describeExecution(thing, jobID string, req *jobRequest) (any, error) {
	withDoc := req.IncludeJobDocument == nil || *req.IncludeJobDocument
	resp := executionResponse{Timestamp: now(), ClientToken: req.ClientToken}
	if jobID == nextJobID {
		pending, err := b.deps.Jobs.PendingExecutions(thing)
		if err != nil {
			return nil, err
		}
		if next := nextOf(pending); next != nil {
			if resp.Execution, err = b.execution(*next, withDoc); err != nil {
				return nil, err
			}
		}
		return resp, nil
	}
	e, err := b.deps.Jobs.Execution(thing, jobID)
	if err != nil {
		return nil, err
	}
	if req.ExecutionNumber != nil && *req.ExecutionNumber != e.ExecutionNumber {
		return nil, &JobError{Code: CodeResourceNotFound, Message: fmt.Sprintf("no execution number %d of job %s on %s", *req.ExecutionNumber, jobID, thing)}
	}
	if terminal(e.Status) {
		return nil, &JobError{Code: CodeTerminalStateReached, Message: fmt.Sprintf("job execution %s on %s is %s", jobID, thing, e.Status), State: &e}
	}
	if resp.Execution, err = b.execution(e, withDoc); err != nil {
		return nil, err
	}
	return resp, nil
}

// deviceStatuses are the statuses a device may report.
var deviceStatuses = map[string]bool{"IN_PROGRESS": true, "SUCCEEDED": true, "FAILED": true, "REJECTED": true}

func (b *Broker) updateExecution(thing, jobID string, req *jobRequest) (any, error) {
	if jobID == nextJobID {
		return nil, &JobError{Code: CodeInvalidRequest, Message: "$next may only be used with get"}
	}
	if req.Status == nil {
		return nil, &JobError{Code: CodeInvalidRequest, Message: "status is required"}
	}
	if !deviceStatuses[*req.Status] {
		return nil, &JobError{Code: CodeInvalidRequest, Message: "status must be IN_PROGRESS, SUCCEEDED, FAILED or REJECTED, got " + *req.Status}
	}
	e, err := b.deps.Jobs.UpdateExecution(thing, jobID, Update{
		Status: *req.Status, StatusDetails: req.StatusDetails, ExpectedVersion: req.ExpectedVersion,
		ExecutionNumber: req.ExecutionNumber, StepTimeout: req.StepTimeoutInMinutes,
	})
	if err != nil {
		return nil, err
	}
	b.notifier.changed(thing)
	resp := struct {
		ExecutionState *executionStateJSON `json:"executionState,omitempty"`
		JobDocument    json.RawMessage     `json:"jobDocument,omitempty"`
		Timestamp      int64               `json:"timestamp"`
		ClientToken    *string             `json:"clientToken,omitempty"`
	}{Timestamp: now(), ClientToken: req.ClientToken}
	if req.IncludeJobExecutionState {
		resp.ExecutionState = state(e)
	}
	if req.IncludeJobDocument != nil && *req.IncludeJobDocument {
		if resp.JobDocument, err = b.deviceDocument(e); err != nil {
			return nil, err
		}
	}
	return resp, nil
}

func terminal(status string) bool {
	switch status {
	case "QUEUED", "IN_PROGRESS":
		return false
	}
	return true
}

// nextOf is what $next names: the first IN_PROGRESS execution, else the
// first QUEUED one, in queue order.
func nextOf(pending []Execution) *Execution {
	for i := range pending {
		if pending[i].Status == "IN_PROGRESS" {
			return &pending[i]
		}
	}
	for i := range pending {
		if pending[i].Status == "QUEUED" {
			return &pending[i]
		}
	}
	return nil
}

// rejection renders an error as the Jobs API's ErrorResponse.
func rejection(err error, token *string) []byte {
	var je *JobError
	if !errors.As(err, &je) {
		je = &JobError{Code: CodeInternalError, Message: err.Error()}
	}
	out := struct {
		Code           string              `json:"code"`
		Message        string              `json:"message"`
		ClientToken    *string             `json:"clientToken,omitempty"`
		Timestamp      int64               `json:"timestamp"`
		ExecutionState *executionStateJSON `json:"executionState,omitempty"`
	}{Code: je.Code, Message: je.Message, ClientToken: token, Timestamp: now()}
	if je.State != nil {
		out.ExecutionState = state(*je.State)
	}
	return mustJSON(out)
}

// mustJSON encodes a payload for a device. &, < and > stay as they are
// (json.Marshal would write \u0026, \u003c, \u003e, also inside a job
// document passed as json.RawMessage): AWS sends the document's own
// characters, and devices such as the FreeRTOS OTA agent do not unescape
// the presigned URL they find in it.
func mustJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		// Only our own response structs come here; they always encode.
		panic(fmt.Sprintf("mqtt: encode response: %v", err))
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}
