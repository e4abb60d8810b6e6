package jobsdata

import (
	"errors"
	"math"
	"net/http"
	"strconv"
	"unicode"

	"github.com/otactl/otactl/internal/lazyre"
	"github.com/otactl/otactl/local/wire"
)

// The four operations: each reads and checks its request (the model's
// constraints), calls Jobs and renders AWS's response shape. The status
// rules are the store's.

const (
	nextJobID      = "$next"
	maxStepTimeout = 10080 // minutes (7 days), the model's documented range
	maxDetailValue = 1024
)

var (
	thingNameRe = lazyre.New(`^[a-zA-Z0-9:_-]{1,128}$`)
	jobIDRe     = lazyre.New(`^[a-zA-Z0-9_-]{1,64}$`)
	detailKeyRe = lazyre.New(`^[a-zA-Z0-9:_-]{1,128}$`)
)

// deviceStatuses are the statuses a device may report (the others belong to
// the service: QUEUED, TIMED_OUT, REMOVED, CANCELED).
var deviceStatuses = map[string]bool{"IN_PROGRESS": true, "SUCCEEDED": true, "FAILED": true, "REJECTED": true}

// Wire shapes (the model's JobExecution, JobExecutionSummary and
// JobExecutionState). Times are seconds since the epoch.

type executionJSON struct {
	JobID                            string            `json:"jobId"`
	ThingName                        string            `json:"thingName"`
	Status                           string            `json:"status"`
	StatusDetails                    map[string]string `json:"statusDetails,omitempty"`
	QueuedAt                         int64             `json:"queuedAt"`
	StartedAt                        *int64            `json:"startedAt,omitempty"`
	LastUpdatedAt                    int64             `json:"lastUpdatedAt"`
	ApproximateSecondsBeforeTimedOut *int64            `json:"approximateSecondsBeforeTimedOut,omitempty"`
	VersionNumber                    int64             `json:"versionNumber"`
	ExecutionNumber                  int64             `json:"executionNumber"`
	JobDocument                      *string           `json:"jobDocument,omitempty"`
}

type summaryJSON struct {
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

func startedAt(e Execution) *int64 {
	if e.StartedAt.IsZero() {
		return nil
	}
	t := e.StartedAt.Unix()
	return &t
}

func stateOf(e Execution) *executionStateJSON {
	return &executionStateJSON{Status: e.Status, StatusDetails: e.StatusDetails, VersionNumber: e.VersionNumber}
}

// execution renders a JobExecution, with its document when withDoc is set.
func (s *Service) execution(e Execution, withDoc bool) (*executionJSON, error) {
	out := &executionJSON{
		JobID: e.JobID, ThingName: e.ThingName, Status: e.Status, StatusDetails: e.StatusDetails,
		QueuedAt: e.QueuedAt.Unix(), StartedAt: startedAt(e), LastUpdatedAt: e.LastUpdatedAt.Unix(),
		VersionNumber: e.VersionNumber, ExecutionNumber: e.ExecutionNumber,
	}
	if !e.TimeoutAt.IsZero() {
		left := int64(math.Ceil(e.TimeoutAt.Sub(s.now()).Seconds()))
		out.ApproximateSecondsBeforeTimedOut = &left
		if left < 0 {
			*out.ApproximateSecondsBeforeTimedOut = 0 // due: the job engine times it out
		}
	}
	if withDoc {
		doc, err := s.deviceDocument(e.JobID)
		if err != nil {
			return nil, err
		}
		if doc != "" {
			out.JobDocument = &doc
		}
	}
	return out, nil
}

func thingName(r *http.Request) (string, error) {
	name := r.PathValue("thingName")
	if !thingNameRe.MatchString(name) {
		return "", invalid("thingName %q must be 1-128 characters of a-z, A-Z, 0-9, ':', '_' and '-'", name)
	}
	return name, nil
}

func jobID(r *http.Request, next bool) (string, error) {
	id := r.PathValue("jobId")
	if (next && id == nextJobID) || jobIDRe.MatchString(id) {
		return id, nil
	}
	if id == nextJobID {
		return "", invalid("jobId $next names the next pending execution only for DescribeJobExecution")
	}
	return "", invalid("jobId %q must be 1-64 characters of a-z, A-Z, 0-9, '_' and '-'", id)
}

// checkDetails applies the model's DetailsMap rules.
func checkDetails(field string, details map[string]string) error {
	for k, v := range details {
		if !detailKeyRe.MatchString(k) {
			return invalid("%s key %q must be 1-128 characters of a-z, A-Z, 0-9, ':', '_' and '-'", field, k)
		}
		if v == "" || len(v) > maxDetailValue {
			return invalid("%s[%s] must be 1-%d characters long", field, k, maxDetailValue)
		}
		for _, c := range v {
			if unicode.Is(unicode.C, c) {
				return invalid("%s[%s] must not contain control characters", field, k)
			}
		}
	}
	return nil
}

// GetPendingJobExecutions: the thing's executions that are not terminal.
func (s *Service) getPendingJobExecutions(r *http.Request) (any, error) {
	thing, err := thingName(r)
	if err != nil {
		return nil, err
	}
	pending, err := s.deps.Jobs.PendingExecutions(thing)
	if err != nil {
		return nil, err
	}
	out := struct {
		InProgressJobs []summaryJSON `json:"inProgressJobs"`
		QueuedJobs     []summaryJSON `json:"queuedJobs"`
	}{[]summaryJSON{}, []summaryJSON{}}
	for _, e := range pending {
		sum := summaryJSON{
			JobID: e.JobID, QueuedAt: e.QueuedAt.Unix(), StartedAt: startedAt(e), LastUpdatedAt: e.LastUpdatedAt.Unix(),
			VersionNumber: e.VersionNumber, ExecutionNumber: e.ExecutionNumber,
		}
		if e.Status == "IN_PROGRESS" {
			out.InProgressJobs = append(out.InProgressJobs, sum)
		} else {
			out.QueuedJobs = append(out.QueuedJobs, sum)
		}
	}
	return out, nil
}

type executionResponse struct {
	Execution *executionJSON `json:"execution,omitempty"`
}

// StartNextPendingJobExecution: the next pending execution, now
// IN_PROGRESS, with its document; {} when nothing is pending.
func (s *Service) startNextPendingJobExecution(r *http.Request) (any, error) {
	thing, err := thingName(r)
	if err != nil {
		return nil, err
	}
	var in struct {
		StatusDetails        map[string]string `json:"statusDetails"`        // DetailsMap
		StepTimeoutInMinutes *int64            `json:"stepTimeoutInMinutes"` // 1-10080
	}
	if err := wire.DecodeJSON(r, &in); err != nil {
		return nil, err
	}
	if err := checkDetails("statusDetails", in.StatusDetails); err != nil {
		return nil, err
	}
	var minutes int64
	if t := in.StepTimeoutInMinutes; t != nil {
		if *t < 1 || *t > maxStepTimeout {
			return nil, invalid("stepTimeoutInMinutes must be 1-%d, got %d", maxStepTimeout, *t)
		}
		minutes = *t
	}
	e, err := s.deps.Jobs.StartNextExecution(thing, in.StatusDetails, minutes)
	if err != nil || e == nil {
		return executionResponse{}, err
	}
	out, err := s.execution(*e, true)
	return executionResponse{out}, err
}

// DescribeJobExecution: one execution (the latest, or executionNumber),
// with its document unless includeJobDocument=false. A terminal execution
// is TerminalStateException, as the Jobs API's TerminalStateReached.
func (s *Service) describeJobExecution(r *http.Request) (any, error) {
	thing, err := thingName(r)
	if err != nil {
		return nil, err
	}
	id, err := jobID(r, true)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	withDoc := true
	if v := q.Get("includeJobDocument"); v != "" {
		if withDoc, err = strconv.ParseBool(v); err != nil {
			return nil, invalid("includeJobDocument must be true or false, got %q", v)
		}
	}
	var number *int64
	if v := q.Get("executionNumber"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, invalid("executionNumber must be a whole number, got %q", v)
		}
		number = &n
	}
	var e Execution
	if id == nextJobID {
		pending, err := s.deps.Jobs.PendingExecutions(thing)
		if err != nil || len(pending) == 0 {
			return executionResponse{}, err
		}
		e = pending[0] // IN_PROGRESS first, then QUEUED, oldest first
		if number != nil && *number != e.ExecutionNumber {
			return nil, notFound("job %s on thing %s has no execution number %d", e.JobID, thing, *number)
		}
	} else if number != nil {
		// An earlier attempt is found, and is terminal.
		if e, err = s.deps.Jobs.ExecutionNumbered(thing, id, *number); err != nil {
			return nil, err
		}
	} else if e, err = s.deps.Jobs.Execution(thing, id); err != nil {
		return nil, err
	}
	if !deviceVisible(e.Status) {
		return nil, terminalState("job execution %s on thing %s is %s", e.JobID, thing, e.Status)
	}
	out, err := s.execution(e, withDoc)
	return executionResponse{out}, err
}

// deviceVisible: executions a device may still read (not terminal).
func deviceVisible(status string) bool { return status == "QUEUED" || status == "IN_PROGRESS" }

// UpdateJobExecution: a device reports its status.
func (s *Service) updateJobExecution(r *http.Request) (any, error) {
	thing, err := thingName(r)
	if err != nil {
		return nil, err
	}
	id, err := jobID(r, false)
	if err != nil {
		return nil, err
	}
	var in struct {
		Status                   *string           `json:"status"`                   // required; a device status
		StatusDetails            map[string]string `json:"statusDetails"`            // DetailsMap; nil: unchanged
		StepTimeoutInMinutes     *int64            `json:"stepTimeoutInMinutes"`     // 1-10080, or -1 to clear
		ExpectedVersion          *int64            `json:"expectedVersion"`          // must equal versionNumber
		IncludeJobExecutionState bool              `json:"includeJobExecutionState"` // default false
		IncludeJobDocument       bool              `json:"includeJobDocument"`       // default false
		ExecutionNumber          *int64            `json:"executionNumber"`          // must be the execution's
	}
	if err := wire.DecodeJSON(r, &in); err != nil {
		return nil, err
	}
	if in.Status == nil {
		return nil, invalid("status is required")
	}
	if !deviceStatuses[*in.Status] {
		return nil, invalid("status must be IN_PROGRESS, SUCCEEDED, FAILED or REJECTED, got %q", *in.Status)
	}
	if err := checkDetails("statusDetails", in.StatusDetails); err != nil {
		return nil, err
	}
	u := Update{Status: *in.Status, StatusDetails: in.StatusDetails}
	if t := in.StepTimeoutInMinutes; t != nil {
		if *t != -1 && (*t < 1 || *t > maxStepTimeout) {
			return nil, invalid("stepTimeoutInMinutes must be 1-%d, or -1 to cancel the step timer, got %d", maxStepTimeout, *t)
		}
		u.StepTimeout = *t
	}
	if n := in.ExecutionNumber; n != nil {
		if *n < 1 {
			return nil, notFound("job %s on thing %s has no execution number %d", id, thing, *n)
		}
		u.ExecutionNumber = *n
	}
	if v := in.ExpectedVersion; v != nil {
		if *v < 1 {
			// Versions start at 1: nothing matches (the store's 0 means "unchecked").
			return nil, s.withState(versionMismatch("job execution %s on thing %s: expectedVersion %d does not match", id, thing, *v), thing, id)
		}
		u.ExpectedVersion = *v
	}
	e, err := s.deps.Jobs.UpdateExecution(thing, id, u)
	if err != nil {
		return nil, s.withState(err, thing, id)
	}
	out := struct {
		ExecutionState *executionStateJSON `json:"executionState,omitempty"`
		JobDocument    *string             `json:"jobDocument,omitempty"`
	}{}
	if in.IncludeJobExecutionState {
		out.ExecutionState = stateOf(e)
	}
	if in.IncludeJobDocument {
		doc, err := s.deviceDocument(id)
		if err != nil {
			return nil, err
		}
		if doc != "" {
			out.JobDocument = &doc
		}
	}
	return out, nil
}

// withState attaches the execution's current state to a refused transition
// or version mismatch, as AWS's error body carries it.
func (s *Service) withState(err error, thing, jobID string) error {
	var we *wire.Error
	if !errors.As(err, &we) || (we.Code != "InvalidStateTransitionException" && we.Code != "VersionConflictException") {
		return err
	}
	cur, cerr := s.deps.Jobs.Execution(thing, jobID)
	if cerr != nil {
		return err
	}
	return &stateError{err: we, state: &cur}
}
