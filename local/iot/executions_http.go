package iot

import (
	"math"
	"net/http"
	"strconv"

	"github.com/otactl/otactl/local/store"
)

var execStatuses = map[string]bool{StatusQueued: true, StatusInProgress: true, StatusSucceeded: true, StatusFailed: true,
	StatusTimedOut: true, StatusRejected: true, StatusRemoved: true, StatusCanceled: true}

type execSummary struct {
	Status          string   `json:"status"`
	QueuedAt        *float64 `json:"queuedAt,omitempty"`
	StartedAt       *float64 `json:"startedAt,omitempty"`
	LastUpdatedAt   *float64 `json:"lastUpdatedAt,omitempty"`
	ExecutionNumber int64    `json:"executionNumber"`
	RetryAttempt    int      `json:"retryAttempt"`
}

func summaryOf(e *Execution) execSummary {
	return execSummary{e.Status, at(e.QueuedAt), at(e.StartedAt), at(e.LastUpdatedAt), e.ExecutionNumber, e.RetryAttempt}
}

// execListQuery reads the page and the status filter of the execution listings.
func execListQuery(r *http.Request) (page, string, error) {
	p, err := parsePage(r)
	if err != nil {
		return p, "", err
	}
	st := r.URL.Query().Get("status")
	if st != "" && !execStatuses[st] {
		return p, "", invalid("status must be a job execution status (QUEUED, IN_PROGRESS, SUCCEEDED, FAILED, TIMED_OUT, REJECTED, REMOVED, CANCELED), got %q", st)
	}
	return p, st, nil
}

func (s *Service) listJobExecutionsForJob(r *http.Request) (any, error) {
	id := r.PathValue("jobId")
	p, status, err := execListQuery(r)
	if err != nil {
		return nil, err
	}
	type item struct {
		ThingArn            string      `json:"thingArn"`
		JobExecutionSummary execSummary `json:"jobExecutionSummary"`
	}
	return listView(s.st, "executionSummaries", func(tx *store.Tx) ([]item, string, error) {
		if !tx.Has(tJobs, id) {
			return nil, "", notFound("Job %s cannot be found.", id)
		}
		return pageOf(tx, tExecs, id+"/", p, records(func(e *Execution) (item, bool) {
			if status != "" && e.Status != status {
				return item{}, false
			}
			return item{e.ThingArn, summaryOf(e)}, true
		}))
	})
}

func (s *Service) listJobExecutionsForThing(r *http.Request) (any, error) {
	thing := r.PathValue("thingName")
	p, status, err := execListQuery(r)
	if err != nil {
		return nil, err
	}
	onlyJob, ns := r.URL.Query().Get("jobId"), r.URL.Query().Get("namespaceId")
	type item struct {
		JobID               string      `json:"jobId"`
		JobExecutionSummary execSummary `json:"jobExecutionSummary"`
	}
	return listView(s.st, "executionSummaries", func(tx *store.Tx) ([]item, string, error) {
		return pageOf(tx, tThingExecs, thing+"/", p, func(k string, _ []byte) (item, bool, error) {
			jobID := k[len(thing)+1:]
			if onlyJob != "" && jobID != onlyJob {
				return item{}, false, nil
			}
			e, err := loadExec(tx, jobID, thing)
			if err != nil {
				return item{}, false, err
			}
			if status != "" && e.Status != status {
				return item{}, false, nil
			}
			if ns != "" {
				if j, err := s.loadJob(tx, jobID); err != nil || j.NamespaceID != ns {
					return item{}, false, nil
				}
			}
			return item{jobID, summaryOf(e)}, true, nil
		})
	})
}

func (s *Service) describeJobExecution(r *http.Request) (any, error) {
	thing, jobID := r.PathValue("thingName"), r.PathValue("jobId")
	var e Execution
	var err error
	if v := r.URL.Query().Get("executionNumber"); v != "" {
		n, perr := strconv.ParseInt(v, 10, 64)
		if perr != nil {
			return nil, invalid("executionNumber must be a whole number, got %q", v)
		}
		e, err = s.ExecutionNumbered(thing, jobID, n)
	} else {
		e, err = s.Execution(thing, jobID)
	}
	if err != nil {
		return nil, err
	}
	return map[string]any{"execution": s.executionOut(&e)}, nil
}

// executionOut is an Execution in DescribeJobExecution's shape.
func (s *Service) executionOut(e *Execution) map[string]any {
	out := map[string]any{
		"jobId": e.JobID, "status": e.Status, "forceCanceled": e.ForceCanceled, "thingArn": e.ThingArn,
		"statusDetails": map[string]any{"detailsMap": nonNil(e.StatusDetails)},
		"queuedAt":      at(e.QueuedAt), "lastUpdatedAt": at(e.LastUpdatedAt),
		"executionNumber": e.ExecutionNumber, "versionNumber": e.VersionNumber,
	}
	if !e.StartedAt.IsZero() {
		out["startedAt"] = at(e.StartedAt)
	}
	if t := e.TimeoutAt(); !t.IsZero() && !Terminal(e.Status) {
		out["approximateSecondsBeforeTimedOut"] = int64(math.Max(0, t.Sub(s.now()).Seconds()))
	}
	return out
}

func (s *Service) cancelJobExecution(r *http.Request) (any, error) {
	var in struct {
		ExpectedVersion int64             `json:"expectedVersion"`
		StatusDetails   map[string]string `json:"statusDetails"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	force, err := boolQuery(r, "force")
	if err != nil {
		return nil, err
	}
	if _, err := s.CancelExecution(r.PathValue("thingName"), r.PathValue("jobId"), force, in.ExpectedVersion, in.StatusDetails); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (s *Service) deleteJobExecution(r *http.Request) (any, error) {
	n, err := strconv.ParseInt(r.PathValue("executionNumber"), 10, 64)
	if err != nil {
		return nil, invalid("executionNumber must be a number, got %q", r.PathValue("executionNumber"))
	}
	force, err := boolQuery(r, "force")
	if err != nil {
		return nil, err
	}
	if err := s.DeleteExecution(r.PathValue("thingName"), r.PathValue("jobId"), n, force); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}
