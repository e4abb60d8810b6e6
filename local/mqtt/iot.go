package mqtt

import (
	"errors"
	"time"

	"github.com/otactl/otactl/local/iot"
	"github.com/otactl/otactl/local/wire"
)

// IoT adapts otactl local's IoT control plane (local/iot) to what the broker
// needs: Jobs, Streams and Identities. The executions the device side
// changes are the control plane's own records, with its transition rules.
type IoT struct{ svc *iot.Service }

// NewIoT wraps the IoT service.
func NewIoT(svc *iot.Service) *IoT { return &IoT{svc: svc} }

// Watch makes b announce notify and notify-next when the control plane
// changes a thing's pending executions (jobs created, canceled, deleted,
// executions finished or timed out by the job engine).
func (a *IoT) Watch(b *Broker) {
	a.svc.Subscribe(func(e iot.Event) {
		switch e.Kind {
		case iot.ExecutionsCreated:
			b.PendingChanged(e.Things...)
		case iot.ExecutionChanged:
			if e.Execution != nil {
				b.PendingChanged(e.Execution.ThingName)
			}
		case iot.JobDeleted:
			// The event does not name the things; look again at all the
			// things that had something pending.
			b.notifier.changedKnown()
		}
	})
}

func fromIoT(e iot.Execution) Execution {
	return Execution{
		JobID: e.JobID, ThingName: e.ThingName, Status: e.Status, StatusDetails: e.StatusDetails,
		QueuedAt: e.QueuedAt, StartedAt: e.StartedAt, LastUpdatedAt: e.LastUpdatedAt,
		VersionNumber: e.VersionNumber, ExecutionNumber: e.ExecutionNumber,
	}
}

// jobErr maps the control plane's errors to the Jobs API's codes; with
// state errors it attaches the execution's current state.
func (a *IoT) jobErr(err error, thing, jobID string) error {
	var we *wire.Error
	if !errors.As(err, &we) {
		return err
	}
	code := CodeInternalError
	switch we.Code {
	case "ResourceNotFoundException":
		code = CodeResourceNotFound
	case "InvalidRequestException":
		code = CodeInvalidRequest
	case "InvalidStateTransitionException":
		code = CodeInvalidStateTransition
	case "VersionConflictException":
		code = CodeVersionMismatch
	case "ThrottlingException", "LimitExceededException":
		code = CodeRequestThrottled
	}
	je := &JobError{Code: code, Message: we.Message}
	if code == CodeInvalidStateTransition || code == CodeVersionMismatch {
		if cur, err := a.svc.Execution(thing, jobID); err == nil {
			st := fromIoT(cur)
			je.State = &st
		}
	}
	return je
}

// PendingExecutions implements Jobs.
func (a *IoT) PendingExecutions(thing string) ([]Execution, error) {
	es, err := a.svc.PendingExecutions(thing)
	if err != nil {
		return nil, a.jobErr(err, thing, "")
	}
	out := make([]Execution, len(es))
	for i, e := range es {
		out[i] = fromIoT(e)
	}
	return out, nil
}

// Execution implements Jobs.
func (a *IoT) Execution(thing, jobID string) (Execution, error) {
	e, err := a.svc.Execution(thing, jobID)
	if err != nil {
		return Execution{}, a.jobErr(err, thing, jobID)
	}
	return fromIoT(e), nil
}

// UpdateExecution implements Jobs.
func (a *IoT) UpdateExecution(thing, jobID string, u Update) (Execution, error) {
	in := iot.ExecutionUpdate{Status: u.Status, StatusDetails: u.StatusDetails}
	if u.ExpectedVersion != nil {
		if *u.ExpectedVersion < 1 {
			// Versions start at 1: nothing can match (the service's 0 means "unchecked").
			cur, err := a.Execution(thing, jobID)
			if err != nil {
				return Execution{}, err
			}
			return Execution{}, &JobError{Code: CodeVersionMismatch, Message: "expectedVersion does not match", State: &cur}
		}
		in.ExpectedVersion = *u.ExpectedVersion
	}
	if u.ExecutionNumber != nil {
		in.ExecutionNumber = *u.ExecutionNumber
	}
	if u.StepTimeout != nil {
		in.StepTimeoutInMinutes = *u.StepTimeout
	}
	e, err := a.svc.UpdateExecution(thing, jobID, in)
	if err != nil {
		return Execution{}, a.jobErr(err, thing, jobID)
	}
	return fromIoT(e), nil
}

// StartNextExecution implements Jobs.
func (a *IoT) StartNextExecution(thing string, details map[string]string, stepTimeout *int64) (*Execution, error) {
	var minutes int64
	if stepTimeout != nil {
		minutes = *stepTimeout
	}
	e, err := a.svc.StartNextExecution(thing, details, minutes)
	if err != nil {
		return nil, a.jobErr(err, thing, "")
	}
	if e == nil {
		return nil, nil
	}
	out := fromIoT(*e)
	return &out, nil
}

// Document implements Jobs.
func (a *IoT) Document(jobID string) (string, time.Duration, error) {
	j, err := a.svc.Job(jobID)
	if err != nil {
		return "", 0, a.jobErr(err, "", jobID)
	}
	doc, err := a.svc.JobDocument(jobID)
	if err != nil {
		return "", 0, a.jobErr(err, "", jobID)
	}
	var expires time.Duration
	if pc := j.PresignedURLConfig; pc != nil {
		expires = time.Duration(pc.ExpiresInSec) * time.Second
	}
	return doc, expires, nil
}

// Stream implements Streams.
func (a *IoT) Stream(id string) (Stream, error) {
	si, err := a.svc.Stream(id)
	if err != nil {
		var we *wire.Error
		if errors.As(err, &we) && we.Code == "ResourceNotFoundException" {
			return Stream{}, ErrNotFound
		}
		return Stream{}, err
	}
	out := Stream{ID: si.StreamID, Version: int64(si.StreamVersion), Description: si.Description}
	for _, f := range si.Files {
		out.Files = append(out.Files, StreamFile{FileID: f.FileID, Bucket: f.S3Location.Bucket, Key: f.S3Location.Key, Version: f.S3Location.Version})
	}
	return out, nil
}

// CertificateActive implements Identities.
func (a *IoT) CertificateActive(id string) bool { return a.svc.CertificateActive(id) }

// CertificateAttached implements Identities.
func (a *IoT) CertificateAttached(id, thing string) bool { return a.svc.CertificateAttached(id, thing) }
