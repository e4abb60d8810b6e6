package local

import (
	"time"

	"github.com/otactl/otactl/local/iot"
	"github.com/otactl/otactl/local/jobsdata"
	"github.com/otactl/otactl/local/s3"
)

// The HTTPS Jobs data plane (iot-jobs-data) over the IoT control plane's
// execution records: devices that report over HTTP change the same
// executions, with the same rules and events, as those on MQTT.

// jobsData builds the data plane over things.
func (s *Server) jobsData(things *iot.Service) *jobsdata.Service {
	return jobsdata.New(s.env, jobsdata.Deps{Jobs: jobsDataJobs{things}, Presigner: jobsDataPresigner{s.s3}})
}

// jobsDataJobs is jobsdata.Jobs. The store's errors are already AWS's
// codes (*wire.Error); they pass through.
type jobsDataJobs struct{ svc *iot.Service }

func toJobsData(e iot.Execution) jobsdata.Execution {
	return jobsdata.Execution{
		JobID: e.JobID, ThingName: e.ThingName, Status: e.Status, StatusDetails: e.StatusDetails,
		QueuedAt: e.QueuedAt, StartedAt: e.StartedAt, LastUpdatedAt: e.LastUpdatedAt,
		VersionNumber: e.VersionNumber, ExecutionNumber: e.ExecutionNumber, TimeoutAt: e.TimeoutAt(),
	}
}

func (a jobsDataJobs) PendingExecutions(thing string) ([]jobsdata.Execution, error) {
	es, err := a.svc.PendingExecutions(thing)
	if err != nil {
		return nil, err
	}
	out := make([]jobsdata.Execution, len(es))
	for i, e := range es {
		out[i] = toJobsData(e)
	}
	return out, nil
}

func (a jobsDataJobs) Execution(thing, jobID string) (jobsdata.Execution, error) {
	e, err := a.svc.Execution(thing, jobID)
	return toJobsData(e), err
}

func (a jobsDataJobs) ExecutionNumbered(thing, jobID string, number int64) (jobsdata.Execution, error) {
	e, err := a.svc.ExecutionNumbered(thing, jobID, number)
	return toJobsData(e), err
}

func (a jobsDataJobs) StartNextExecution(thing string, details map[string]string, stepTimeout int64) (*jobsdata.Execution, error) {
	e, err := a.svc.StartNextExecution(thing, details, stepTimeout)
	if err != nil || e == nil {
		return nil, err
	}
	out := toJobsData(*e)
	return &out, nil
}

func (a jobsDataJobs) UpdateExecution(thing, jobID string, u jobsdata.Update) (jobsdata.Execution, error) {
	e, err := a.svc.UpdateExecution(thing, jobID, iot.ExecutionUpdate{
		Status: u.Status, StatusDetails: u.StatusDetails, ExpectedVersion: u.ExpectedVersion,
		ExecutionNumber: u.ExecutionNumber, StepTimeoutInMinutes: u.StepTimeout,
	})
	return toJobsData(e), err
}

func (a jobsDataJobs) Document(jobID string) (string, time.Duration, error) {
	j, err := a.svc.Job(jobID)
	if err != nil {
		return "", 0, err
	}
	doc, err := a.svc.JobDocument(jobID)
	if err != nil {
		return "", 0, err
	}
	var expires time.Duration
	if pc := j.PresignedURLConfig; pc != nil {
		expires = time.Duration(pc.ExpiresInSec) * time.Second
	}
	return doc, expires, nil
}

// jobsDataPresigner is jobsdata.Presigner: URLs on the server's own address.
type jobsDataPresigner struct{ s *s3.Service }

func (p jobsDataPresigner) PresignGet(bucket, key, version string, expires time.Duration) (string, error) {
	return p.s.PresignGet(bucket, key, version, expires, "")
}
