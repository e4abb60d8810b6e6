package device

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"
)

// execution is a job execution as the Jobs MQTT API sends it.
type execution struct {
	JobID           string            `json:"jobId"`
	Status          string            `json:"status"`
	StatusDetails   map[string]string `json:"statusDetails"`
	JobDocument     json.RawMessage   `json:"jobDocument"`
	VersionNumber   int64             `json:"versionNumber"`
	ExecutionNumber int64             `json:"executionNumber"`
}

type executionState struct {
	Status        string `json:"status"`
	VersionNumber int64  `json:"versionNumber"`
}

// RejectedError is a Jobs request answered on a rejected topic.
type RejectedError struct {
	Code    string
	Message string
	State   *executionState
}

func (e *RejectedError) Error() string { return e.Code + ": " + e.Message }

// errGone means the execution can no longer be updated (canceled, removed,
// timed out, already terminal): the agent leaves it.
type errGone struct{ err error }

func (e *errGone) Error() string { return "job execution is gone: " + e.err.Error() }
func (e *errGone) Unwrap() error { return e.err }

var errNoReply = errors.New("no answer to the Jobs request")

func (a *Agent) topic(rest string) string { return "$aws/things/" + a.cfg.ThingName + "/" + rest }

// jobTopics are what the agent subscribes to. The broker delivers answers
// to the requester anyway; subscribing keeps the agent correct on brokers
// (and policies) that only deliver to subscribers.
func (a *Agent) jobTopics() []string {
	return []string{a.topic("jobs/notify-next"), a.topic("jobs/$next/get/+"), a.topic("jobs/+/update/+")}
}

// call publishes a Jobs request and waits for its answer.
func (a *Agent) call(ctx context.Context, rest string, body map[string]any) (jobReply, error) {
	a.seq++
	token := "t" + strconv.FormatInt(int64(a.seq), 36)
	body["clientToken"] = token
	raw, err := json.Marshal(body)
	if err != nil {
		return jobReply{}, err
	}
	ch := a.in.wait(token)
	defer a.in.forget(token)
	cn := a.cn
	if err := cn.publish(ctx, a.cfg.ReplyTimeout, a.topic("jobs/"+rest), 1, raw); err != nil {
		return jobReply{}, fmt.Errorf("%w: %v", ErrConnLost, err)
	}
	t := time.NewTimer(a.cfg.ReplyTimeout)
	defer t.Stop()
	select {
	case r := <-ch:
		return r, nil
	case <-t.C:
		return jobReply{}, errNoReply
	case <-cn.dead:
		return jobReply{}, ErrConnLost
	case <-ctx.Done():
		return jobReply{}, ctx.Err()
	}
}

// callRetry is call with reconnects and throttling handled: a lost
// connection or a missing answer is retried a few times.
func (a *Agent) callRetry(ctx context.Context, rest string, body func() map[string]any) (jobReply, error) {
	var last error
	for try := 0; try < 5; try++ {
		r, err := a.call(ctx, rest, body())
		switch {
		case err == nil && !r.accepted && rejectedCode(r.body) == "RequestThrottled":
			last = &RejectedError{Code: "RequestThrottled"}
			if !sleep(ctx, time.Duration(100<<try)*time.Millisecond) {
				return r, ctx.Err()
			}
			continue
		case err == nil:
			return r, nil
		case ctx.Err() != nil:
			return r, ctx.Err()
		}
		last = err
		if err := a.reconnect(ctx, false, 0); err != nil {
			return jobReply{}, err
		}
	}
	return jobReply{}, fmt.Errorf("jobs/%s: %w", rest, last)
}

func rejectedCode(body []byte) string {
	var r struct {
		Code string `json:"code"`
	}
	_ = json.Unmarshal(body, &r)
	return r.Code
}

func decodeRejected(body []byte) *RejectedError {
	var r struct {
		Code           string          `json:"code"`
		Message        string          `json:"message"`
		ExecutionState *executionState `json:"executionState"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return &RejectedError{Code: "InvalidJson", Message: "unreadable rejection: " + string(body)}
	}
	return &RejectedError{Code: r.Code, Message: r.Message, State: r.ExecutionState}
}

// nextJob asks for the next pending execution ($next/get); nil when none.
// A notify-next that arrived before the question is answered by it, so it
// is forgotten rather than making the idle agent ask again.
func (a *Agent) nextJob(ctx context.Context) (*execution, error) {
	a.in.notified()
	r, err := a.callRetry(ctx, "$next/get", func() map[string]any { return map[string]any{} })
	if err != nil {
		return nil, err
	}
	if !r.accepted {
		return nil, decodeRejected(r.body)
	}
	var resp struct {
		Execution *execution `json:"execution"`
	}
	if err := json.Unmarshal(r.body, &resp); err != nil {
		return nil, fmt.Errorf("$next/get accepted: %w", err)
	}
	a.logf("next job", "pending", resp.Execution != nil)
	return resp.Execution, nil
}

// update reports the execution's status with expectedVersion, keeping the
// version it learns from each answer. A VersionMismatch on a live execution
// is retried at the current version; a terminal, canceled or removed
// execution is errGone.
func (a *Agent) update(ctx context.Context, ex *execution, status string, details map[string]string) error {
	for try := 0; try < 3; try++ {
		r, err := a.callRetry(ctx, ex.JobID+"/update", func() map[string]any {
			b := map[string]any{"status": status, "statusDetails": details, "expectedVersion": ex.VersionNumber,
				"includeJobExecutionState": true}
			if ex.ExecutionNumber > 0 {
				b["executionNumber"] = ex.ExecutionNumber
			}
			return b
		})
		if err != nil {
			return err
		}
		if r.accepted {
			var resp struct {
				ExecutionState *executionState `json:"executionState"`
			}
			if json.Unmarshal(r.body, &resp) == nil && resp.ExecutionState != nil {
				ex.VersionNumber = resp.ExecutionState.VersionNumber
				ex.Status = resp.ExecutionState.Status
			} else {
				ex.VersionNumber++
			}
			a.logf("update", "job", ex.JobID, "status", status, "details", details)
			return nil
		}
		rej := decodeRejected(r.body)
		switch rej.Code {
		case "VersionMismatch":
			if rej.State == nil || terminalStatus(rej.State.Status) {
				return &errGone{rej}
			}
			ex.VersionNumber = rej.State.VersionNumber
			a.conflicts++
			continue
		case "TerminalStateReached", "InvalidStateTransition", "ResourceNotFound":
			return &errGone{rej}
		}
		return rej
	}
	return &errGone{errors.New("version kept changing")}
}

func terminalStatus(s string) bool { return s != "QUEUED" && s != "IN_PROGRESS" }

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
