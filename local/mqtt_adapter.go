package local

import (
	"errors"
	"time"

	"github.com/otactl/otactl/local/iot"
	"github.com/otactl/otactl/local/mqtt"
	"github.com/otactl/otactl/local/wire"
)

// MQTTIoT adapts otactl local's IoT control plane (local/iot) to what the
// broker needs: mqtt.Jobs, mqtt.Streams, mqtt.Identities and
// mqtt.Principals. The executions the device side changes are the control
// plane's own records, with its transition rules; the policies a connection
// is judged by are the control plane's policies and attachments.
type MQTTIoT struct{ svc *iot.Service }

// NewMQTTIoT wraps the IoT service.
func NewMQTTIoT(svc *iot.Service) *MQTTIoT { return &MQTTIoT{svc: svc} }

// Watch makes b follow the control plane: notify and notify-next when a
// thing's pending executions change (jobs created, canceled, deleted,
// executions finished or timed out by the job engine), and a new look at
// every connection's policies when anything that decides them changes.
func (a *MQTTIoT) Watch(b *mqtt.Broker) {
	a.svc.Subscribe(func(e iot.Event) {
		switch e.Kind {
		case iot.ExecutionsCreated:
			b.PendingChanged(e.Things...)
		case iot.ExecutionChanged:
			if e.Execution != nil {
				b.PendingChanged(e.Execution.ThingName)
			}
		case iot.JobDeleted:
			b.PendingChanged(e.Things...)
		case iot.PoliciesChanged:
			b.PoliciesChanged()
		}
	})
}

// ForCertificate implements mqtt.Principals.
func (a *MQTTIoT) ForCertificate(certificateID, clientID string) (mqtt.Principal, error) {
	p, err := a.svc.ConnectionPrincipal(certificateID, clientID)
	return mqtt.Principal{CertificateStatus: p.CertificateStatus, Thing: p.Thing, Policies: p.Policies}, err
}

// ForPlain implements mqtt.Principals.
func (a *MQTTIoT) ForPlain(policyName, clientID string) (mqtt.Principal, error) {
	p, err := a.svc.NamedPolicyPrincipal(policyName, clientID)
	return mqtt.Principal{Thing: p.Thing, Policies: p.Policies}, err
}

func fromIoT(e iot.Execution) mqtt.Execution {
	return mqtt.Execution{
		JobID: e.JobID, ThingName: e.ThingName, Status: e.Status, StatusDetails: e.StatusDetails,
		QueuedAt: e.QueuedAt, StartedAt: e.StartedAt, LastUpdatedAt: e.LastUpdatedAt,
		VersionNumber: e.VersionNumber, ExecutionNumber: e.ExecutionNumber,
	}
}

// jobErr maps the control plane's errors to the Jobs API's codes; with
// state errors it attaches the execution's current state.
func (a *MQTTIoT) jobErr(err error, thing, jobID string) error {
	var we *wire.Error
	if !errors.As(err, &we) {
		return err
	}
	code := mqtt.CodeInternalError
	switch we.Code {
	case "ResourceNotFoundException":
		code = mqtt.CodeResourceNotFound
	case "InvalidRequestException":
		code = mqtt.CodeInvalidRequest
	case "InvalidStateTransitionException":
		code = mqtt.CodeInvalidStateTransition
	case "VersionConflictException":
		code = mqtt.CodeVersionMismatch
	case "ThrottlingException", "LimitExceededException":
		code = mqtt.CodeRequestThrottled
	}
	je := &mqtt.JobError{Code: code, Message: we.Message}
	if code == mqtt.CodeInvalidStateTransition || code == mqtt.CodeVersionMismatch {
		if cur, err := a.svc.Execution(thing, jobID); err == nil {
			st := fromIoT(cur)
			je.State = &st
		}
	}
	return je
}

// PendingExecutions implements mqtt.Jobs.
func (a *MQTTIoT) PendingExecutions(thing string) ([]mqtt.Execution, error) {
	es, err := a.svc.PendingExecutions(thing)
	if err != nil {
		return nil, a.jobErr(err, thing, "")
	}
	out := make([]mqtt.Execution, len(es))
	for i, e := range es {
		out[i] = fromIoT(e)
	}
	return out, nil
}

// Execution implements mqtt.Jobs.
func (a *MQTTIoT) Execution(thing, jobID string) (mqtt.Execution, error) {
	e, err := a.svc.Execution(thing, jobID)
	if err != nil {
		return mqtt.Execution{}, a.jobErr(err, thing, jobID)
	}
	return fromIoT(e), nil
}

// UpdateExecution implements mqtt.Jobs.
func (a *MQTTIoT) UpdateExecution(thing, jobID string, u mqtt.Update) (mqtt.Execution, error) {
	in := iot.ExecutionUpdate{Status: u.Status, StatusDetails: u.StatusDetails}
	if u.ExpectedVersion != nil {
		if *u.ExpectedVersion < 1 {
			// Versions start at 1: nothing can match (the service's 0 means "unchecked").
			cur, err := a.Execution(thing, jobID)
			if err != nil {
				return mqtt.Execution{}, err
			}
			return mqtt.Execution{}, &mqtt.JobError{Code: mqtt.CodeVersionMismatch, Message: "expectedVersion does not match", State: &cur}
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
		return mqtt.Execution{}, a.jobErr(err, thing, jobID)
	}
	return fromIoT(e), nil
}

// StartNextExecution implements mqtt.Jobs.
func (a *MQTTIoT) StartNextExecution(thing string, details map[string]string, stepTimeout *int64) (*mqtt.Execution, error) {
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

// Document implements mqtt.Jobs.
func (a *MQTTIoT) Document(jobID string) (string, time.Duration, error) {
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

// Stream implements mqtt.Streams.
func (a *MQTTIoT) Stream(id string) (mqtt.Stream, error) {
	si, err := a.svc.Stream(id)
	if err != nil {
		var we *wire.Error
		if errors.As(err, &we) && we.Code == "ResourceNotFoundException" {
			return mqtt.Stream{}, mqtt.ErrNotFound
		}
		return mqtt.Stream{}, err
	}
	out := mqtt.Stream{ID: si.StreamID, Version: int64(si.StreamVersion), Description: si.Description}
	for _, f := range si.Files {
		out.Files = append(out.Files, mqtt.StreamFile{FileID: f.FileID, Bucket: f.S3Location.Bucket, Key: f.S3Location.Key, Version: f.S3Location.Version})
	}
	return out, nil
}

// CertificateActive implements mqtt.Identities.
func (a *MQTTIoT) CertificateActive(id string) bool { return a.svc.CertificateActive(id) }

// CertificateAttached implements mqtt.Identities.
func (a *MQTTIoT) CertificateAttached(id, thing string) bool {
	return a.svc.CertificateAttached(id, thing)
}
