package iot

import (
	"encoding/json"
	"errors"
	"sort"
	"time"

	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/local/wire"
	"github.com/otactl/otactl/ota"
)

// This file holds every rule about job and execution status, and the Go
// methods through which the MQTT Jobs API and the job engine drive them. The
// HTTP handlers use the same functions.

// Tables of jobs and executions.
const (
	tJobs       = "iot.jobs"      // job id → Job
	tExecs      = "iot.exec"      // jobId/thing → Execution
	tThingExecs = "iot.thingexec" // thing/jobId → "" (the executions of a thing)
	tGroupJobs  = "iot.groupjobs" // group/jobId → "" (the jobs that target a group)
)

// Job statuses.
const (
	JobInProgress         = "IN_PROGRESS"
	JobScheduled          = "SCHEDULED"
	JobCompleted          = "COMPLETED"
	JobCanceled           = "CANCELED"
	JobDeletionInProgress = "DELETION_IN_PROGRESS"
)

// Execution statuses.
const (
	StatusQueued     = "QUEUED"
	StatusInProgress = "IN_PROGRESS"
	StatusSucceeded  = "SUCCEEDED"
	StatusFailed     = "FAILED"
	StatusTimedOut   = "TIMED_OUT"
	StatusRejected   = "REJECTED"
	StatusRemoved    = "REMOVED"
	StatusCanceled   = "CANCELED"
)

// Terminal reports whether an execution in status can no longer change.
func Terminal(status string) bool {
	switch status {
	case StatusQueued, StatusInProgress:
		return false
	}
	return true
}

// deviceStatuses are the statuses a device may report.
var deviceStatuses = map[string]bool{StatusInProgress: true, StatusSucceeded: true, StatusFailed: true, StatusRejected: true}

// Execution is one job on one thing.
type Execution struct {
	JobID           string            `json:"jobId"`
	ThingName       string            `json:"thingName"`
	ThingArn        string            `json:"thingArn"`
	Status          string            `json:"status"`
	StatusDetails   map[string]string `json:"statusDetails,omitempty"`
	QueuedAt        time.Time         `json:"queuedAt"`
	StartedAt       time.Time         `json:"startedAt"`
	LastUpdatedAt   time.Time         `json:"lastUpdatedAt"`
	VersionNumber   int64             `json:"versionNumber"`
	ExecutionNumber int64             `json:"executionNumber"`
	RetryAttempt    int               `json:"retryAttempt"`
	ForceCanceled   bool              `json:"forceCanceled,omitempty"`
	// InProgressTimeoutAt is when the job's timeoutConfig times the execution
	// out (set when it enters IN_PROGRESS); StepTimeoutAt is the device's
	// stepTimeoutInMinutes. Zero means none. The job engine enforces them.
	InProgressTimeoutAt time.Time `json:"inProgressTimeoutAt"`
	StepTimeoutAt       time.Time `json:"stepTimeoutAt"`
}

// TimeoutAt is the earliest timeout of the execution (zero: none).
func (e *Execution) TimeoutAt() time.Time {
	a, b := e.InProgressTimeoutAt, e.StepTimeoutAt
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// ProcessDetails counts a job's executions by status. The counts are kept in
// the job record and changed only in the transaction that changes an
// execution, so they always agree with the execution records.
type ProcessDetails struct {
	Queued     int `json:"numberOfQueuedThings"`
	InProgress int `json:"numberOfInProgressThings"`
	Succeeded  int `json:"numberOfSucceededThings"`
	Failed     int `json:"numberOfFailedThings"`
	Rejected   int `json:"numberOfRejectedThings"`
	Canceled   int `json:"numberOfCanceledThings"`
	Removed    int `json:"numberOfRemovedThings"`
	TimedOut   int `json:"numberOfTimedOutThings"`
}

func (p *ProcessDetails) add(status string, d int) {
	switch status {
	case StatusQueued:
		p.Queued += d
	case StatusInProgress:
		p.InProgress += d
	case StatusSucceeded:
		p.Succeeded += d
	case StatusFailed:
		p.Failed += d
	case StatusRejected:
		p.Rejected += d
	case StatusCanceled:
		p.Canceled += d
	case StatusRemoved:
		p.Removed += d
	case StatusTimedOut:
		p.TimedOut += d
	}
}

// Pending is the number of executions not yet in a terminal state.
func (p ProcessDetails) Pending() int { return p.Queued + p.InProgress }

// Job is a job as stored: the CreateJob request (without its tags, which
// live in the tag table) and its state.
type Job struct {
	ota.JobRequest
	JobArn        string         `json:"jobArn"`
	Status        string         `json:"status"`
	ForceCanceled bool           `json:"forceCanceled,omitempty"`
	ReasonCode    string         `json:"reasonCode,omitempty"`
	Comment       string         `json:"comment,omitempty"`
	CreatedAt     time.Time      `json:"createdAt"`
	LastUpdatedAt time.Time      `json:"lastUpdatedAt"`
	CompletedAt   time.Time      `json:"completedAt"`
	Counts        ProcessDetails `json:"counts"`
	// ThingGroupIDs are the ids of the groups the job targets.
	ThingGroupIDs []string `json:"thingGroupIds,omitempty"`
	// RolloutPending is set while some targets have no execution yet
	// because the engine rolls them out (DeferRollout, QueueExecutions).
	RolloutPending bool `json:"rolloutPending,omitempty"`
}

// Continuous reports whether the job also targets things that join its groups later.
func (j *Job) Continuous() bool { return j.TargetSelection == "CONTINUOUS" }

func (s *Service) loadJob(tx *store.Tx, id string) (*Job, error) {
	var j Job
	ok, err := tx.Get(tJobs, id, &j)
	if err == nil && !ok {
		err = notFound("Job %s cannot be found.", id)
	}
	return &j, err
}

func loadExec(tx *store.Tx, jobID, thing string) (*Execution, error) {
	var e Execution
	ok, err := tx.Get(tExecs, jobID+"/"+thing, &e)
	if err == nil && !ok {
		err = notFound("Job execution of job %s on thing %s cannot be found.", jobID, thing)
	}
	return &e, err
}

// saveExec writes e, whose status was prev before the change ("" for a new
// execution), and moves the job's counts with it. The job is not saved.
func saveExec(tx *store.Tx, j *Job, prev string, e *Execution) error {
	if prev != "" {
		j.Counts.add(prev, -1)
	} else if err := tx.Put(tThingExecs, e.ThingName+"/"+e.JobID, ""); err != nil {
		return err
	}
	j.Counts.add(e.Status, 1)
	return tx.Put(tExecs, e.JobID+"/"+e.ThingName, e)
}

// settle completes a snapshot job whose executions have all ended.
func (s *Service) settle(j *Job, now time.Time) bool {
	if j.Status == JobInProgress && !j.Continuous() && !j.RolloutPending && j.Counts.Pending() == 0 {
		j.Status, j.CompletedAt, j.LastUpdatedAt = JobCompleted, now, now
		return true
	}
	return false
}

// createExecutions queues an execution of j on each thing that has none yet.
// things must be sorted (keys then go into the store in order, which keeps
// a 10,000-thing job to one fast transaction).
func (s *Service) createExecutions(tx *store.Tx, j *Job, things []string, fresh bool) ([]string, error) {
	now := s.now()
	created := make([]string, 0, len(things))
	for _, t := range things {
		if !fresh && tx.Has(tExecs, j.JobID+"/"+t) {
			continue
		}
		e := Execution{JobID: j.JobID, ThingName: t, ThingArn: s.thingArn(t), Status: StatusQueued,
			QueuedAt: now, LastUpdatedAt: now, VersionNumber: 1, ExecutionNumber: 1}
		if err := saveExec(tx, j, "", &e); err != nil {
			return nil, err
		}
		created = append(created, t)
	}
	if len(created) > 0 {
		j.LastUpdatedAt = now
	}
	return created, nil
}

// Job returns the job with id.
func (s *Service) Job(id string) (Job, error) {
	var j *Job
	err := s.st.View(func(tx *store.Tx) (err error) {
		j, err = s.loadJob(tx, id)
		return err
	})
	if err != nil {
		return Job{}, err
	}
	return *j, nil
}

// Execution returns the execution of jobID on thing.
func (s *Service) Execution(thing, jobID string) (Execution, error) {
	var e *Execution
	err := s.st.View(func(tx *store.Tx) (err error) {
		e, err = loadExec(tx, jobID, thing)
		return err
	})
	if err != nil {
		return Execution{}, err
	}
	return *e, nil
}

// PendingExecutions returns the thing's executions that are not terminal:
// IN_PROGRESS ones first, then QUEUED ones, each oldest first, as the Jobs
// API orders them (the first is the thing's next job). Executions of
// scheduled jobs do not exist yet.
func (s *Service) PendingExecutions(thing string) ([]Execution, error) {
	var out []Execution
	err := s.st.View(func(tx *store.Tx) (err error) {
		out, err = pendingTx(tx, thing)
		return err
	})
	return out, err
}

func pendingTx(tx *store.Tx, thing string) ([]Execution, error) {
	var out []Execution
	for _, jobID := range keysUnder(tx, tThingExecs, thing+"/") {
		e, err := loadExec(tx, jobID, thing)
		if err != nil {
			return nil, err
		}
		if !Terminal(e.Status) {
			out = append(out, *e)
		}
	}
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if (a.Status == StatusInProgress) != (b.Status == StatusInProgress) {
			return a.Status == StatusInProgress
		}
		if !a.QueuedAt.Equal(b.QueuedAt) {
			return a.QueuedAt.Before(b.QueuedAt)
		}
		return a.JobID < b.JobID
	})
	return out, nil
}

// StartNextExecution is the Jobs API's StartNextPendingJobExecution: the
// thing's next pending execution moves to IN_PROGRESS (one already
// IN_PROGRESS stays so), with details (nil: unchanged) and the step timeout
// (minutes, 0: unchanged) applied. It returns nil when nothing is pending.
func (s *Service) StartNextExecution(thing string, details map[string]string, stepTimeoutMinutes int64) (*Execution, error) {
	if stepTimeoutMinutes > maxStepTimeoutMinutes {
		return nil, invalid("stepTimeoutInMinutes must be at most %d", maxStepTimeoutMinutes)
	}
	var out *Execution
	var evs []Event
	err := s.st.Update(func(tx *store.Tx) error {
		out, evs = nil, nil
		pending, err := pendingTx(tx, thing)
		if err != nil || len(pending) == 0 {
			return err
		}
		next := pending[0]
		if next.Status == StatusInProgress && details == nil && stepTimeoutMinutes == 0 {
			out = &next
			return nil
		}
		e, _, ev, err := s.transitionTx(tx, thing, next.JobID, func(_ *Job, e *Execution) error {
			e.Status = StatusInProgress
			if details != nil {
				e.StatusDetails = details
			}
			if stepTimeoutMinutes > 0 {
				e.StepTimeoutAt = s.now().Add(time.Duration(stepTimeoutMinutes) * time.Minute)
			}
			return nil
		})
		out, evs = &e, ev
		return err
	})
	if err != nil {
		return nil, err
	}
	s.emit(evs...)
	return out, nil
}

// maxStepTimeoutMinutes bounds a device's stepTimeoutInMinutes (7 days).
const maxStepTimeoutMinutes = 10080

// ExecutionUpdate is what a device sends to change its execution.
type ExecutionUpdate struct {
	Status        string            // IN_PROGRESS, SUCCEEDED, FAILED or REJECTED
	StatusDetails map[string]string // nil leaves the details unchanged
	// ExpectedVersion, when > 0, must equal the current versionNumber.
	ExpectedVersion int64
	// ExecutionNumber, when > 0, must be the execution's number.
	ExecutionNumber int64
	// StepTimeoutInMinutes, when > 0, (re)sets the step timer; -1 clears it.
	StepTimeoutInMinutes int64
}

// UpdateExecution applies a device's update with the rules of the Jobs API:
// only the device statuses, never out of a terminal state, the expected
// version must match. Errors are *wire.Error with codes
// ResourceNotFoundException, InvalidRequestException,
// InvalidStateTransitionException and VersionConflictException.
func (s *Service) UpdateExecution(thing, jobID string, u ExecutionUpdate) (Execution, error) {
	// Devices' reports share commits (store.Batch), except a FAILED one
	// with a RetryPolicy: that asks the policy, which counts attempts, and
	// a batch may run its function twice.
	batch := u.Status != StatusFailed || s.RetryPolicy == nil
	// The answer is the execution as the device left it (FAILED, say),
	// as AWS answers; a retry it caused is the next execution number, which
	// notify-next announces.
	_, reported, err := s.transition(batch, thing, jobID, func(j *Job, e *Execution) error {
		if !deviceStatuses[u.Status] {
			return invalid("status must be IN_PROGRESS, SUCCEEDED, FAILED or REJECTED, got %q", u.Status)
		}
		if Terminal(e.Status) {
			return stateTransition("job execution %s on %s is already %s", jobID, thing, e.Status)
		}
		if u.ExecutionNumber > 0 && u.ExecutionNumber != e.ExecutionNumber {
			return notFound("job execution %s on %s has no execution number %d", jobID, thing, u.ExecutionNumber)
		}
		if u.ExpectedVersion > 0 && u.ExpectedVersion != e.VersionNumber {
			return versionConflict("job execution %s on %s is at version %d, expected %d", jobID, thing, e.VersionNumber, u.ExpectedVersion)
		}
		if u.StepTimeoutInMinutes > maxStepTimeoutMinutes {
			return invalid("stepTimeoutInMinutes must be at most %d", maxStepTimeoutMinutes)
		}
		now := s.now()
		e.Status = u.Status
		if u.StatusDetails != nil {
			e.StatusDetails = u.StatusDetails
		}
		switch {
		case u.StepTimeoutInMinutes > 0:
			e.StepTimeoutAt = now.Add(time.Duration(u.StepTimeoutInMinutes) * time.Minute)
		case u.StepTimeoutInMinutes < 0:
			e.StepTimeoutAt = time.Time{}
		}
		return nil
	})
	return reported, err
}

// Transition changes the execution of jobID on thing with fn, in one
// transaction that also keeps the job's counts, timestamps and status
// consistent: the version number goes up, startedAt and the in-progress
// timeout are set on entering IN_PROGRESS, RetryPolicy may queue a new
// attempt of a failed one, and a snapshot job whose executions have all
// ended is COMPLETED. The job engine uses it to time out, cancel or remove
// executions; fn returning an error changes nothing.
func (s *Service) Transition(thing, jobID string, fn func(j *Job, e *Execution) error) (Execution, error) {
	out, _, err := s.transition(false, thing, jobID, fn)
	return out, err
}

// transition is Transition, in a shared commit when batch is set: then fn
// may run more than once, each time on freshly loaded records, and only
// the last run's result and events count (they are assigned, not added).
// It returns the execution as stored and as fn left it (they differ when a
// retry replaced a failed attempt by the next one).
func (s *Service) transition(batch bool, thing, jobID string, fn func(j *Job, e *Execution) error) (Execution, Execution, error) {
	var out, reported Execution
	var evs []Event
	var refused error
	run := func(tx *store.Tx) (err error) {
		refused = nil
		out, reported, evs, err = s.transitionTx(tx, thing, jobID, fn)
		var we *wire.Error
		if batch && errors.As(err, &we) {
			// A refused update has written nothing (the checks come first):
			// it need not fail, and so replay, the others' shared commit.
			refused, err = err, nil
		}
		return err
	}
	var err error
	if batch {
		err = s.st.Batch(run)
	} else {
		err = s.st.Update(run)
	}
	if err == nil {
		err = refused
	}
	if err != nil {
		return Execution{}, Execution{}, err
	}
	s.emit(evs...)
	return out, reported, nil
}

func (s *Service) transitionTx(tx *store.Tx, thing, jobID string, fn func(j *Job, e *Execution) error) (Execution, Execution, []Event, error) {
	j, err := s.loadJob(tx, jobID)
	if err != nil {
		return Execution{}, Execution{}, nil, err
	}
	e, err := loadExec(tx, jobID, thing)
	if err != nil {
		return Execution{}, Execution{}, nil, err
	}
	prev := e.Status
	if err := fn(j, e); err != nil {
		return Execution{}, Execution{}, nil, err
	}
	reported := s.stamp(j, prev, e)
	if reported.ExecutionNumber != e.ExecutionNumber { // a retry: keep the attempt
		if err := tx.Put(tAttempts, attemptKey(jobID, thing, reported.ExecutionNumber), reported); err != nil {
			return Execution{}, Execution{}, nil, err
		}
	}
	if err := saveExec(tx, j, prev, e); err != nil {
		return Execution{}, Execution{}, nil, err
	}
	evs := []Event{{Kind: ExecutionChanged, JobID: jobID, Execution: e, PreviousStatus: prev}}
	if s.settle(j, e.LastUpdatedAt) {
		evs = append(evs, Event{Kind: JobChanged, JobID: jobID})
	}
	return *e, reported, evs, tx.Put(tJobs, jobID, j)
}

// stamp sets what every change of an execution implies, and returns the
// execution as the change left it, before a retry replaced it.
func (s *Service) stamp(j *Job, prev string, e *Execution) Execution {
	now := s.now()
	e.VersionNumber++
	e.LastUpdatedAt = now
	if prev == StatusQueued && e.Status == StatusInProgress {
		e.StartedAt = now
		if t := j.TimeoutConfig; t != nil && t.InProgressTimeoutInMinutes > 0 {
			e.InProgressTimeoutAt = now.Add(time.Duration(t.InProgressTimeoutInMinutes) * time.Minute)
		}
	}
	if Terminal(e.Status) {
		e.InProgressTimeoutAt, e.StepTimeoutAt = time.Time{}, time.Time{}
	}
	reported := *e
	if Terminal(e.Status) {
		if (e.Status == StatusFailed || e.Status == StatusTimedOut) && s.RetryPolicy != nil && s.RetryPolicy(j, e) {
			// A new attempt: the next execution number, queued again.
			*e = Execution{JobID: e.JobID, ThingName: e.ThingName, ThingArn: e.ThingArn, Status: StatusQueued,
				QueuedAt: now, LastUpdatedAt: now, VersionNumber: 1, ExecutionNumber: e.ExecutionNumber + 1,
				RetryAttempt: e.RetryAttempt + 1}
		}
	}
	j.LastUpdatedAt = now
	return reported
}

// StartJob moves a SCHEDULED job to IN_PROGRESS and queues its executions;
// the job engine calls it at the job's startTime.
func (s *Service) StartJob(jobID string) (Job, error) {
	var out Job
	var evs []Event
	err := s.st.Update(func(tx *store.Tx) error {
		j, err := s.loadJob(tx, jobID)
		if err != nil {
			return err
		}
		if j.Status != JobScheduled {
			return stateTransition("job %s is %s, not SCHEDULED", jobID, j.Status)
		}
		things, err := s.expandTargets(tx, j.Targets)
		if err != nil {
			return err
		}
		j.Status = JobInProgress
		j.LastUpdatedAt = s.now()
		evs = []Event{{Kind: JobChanged, JobID: jobID}}
		if s.DeferRollout != nil && s.DeferRollout(j) {
			j.RolloutPending = len(things) > 0
		} else {
			created, err := s.createExecutions(tx, j, things, true)
			if err != nil {
				return err
			}
			evs = append(evs, Event{Kind: ExecutionsCreated, JobID: jobID, Things: created})
		}
		s.settle(j, j.LastUpdatedAt)
		out = *j
		return tx.Put(tJobs, jobID, j)
	})
	if err != nil {
		return Job{}, err
	}
	s.emit(evs...)
	return out, nil
}

// cancelExecutions cancels the job's QUEUED executions, and its IN_PROGRESS
// ones when force is set.
func (s *Service) cancelExecutions(tx *store.Tx, j *Job, force bool) ([]Event, error) {
	var evs []Event
	var changed []Execution
	err := tx.List(tExecs, j.JobID+"/", func(_ string, raw []byte) error {
		var e Execution
		if err := json.Unmarshal(raw, &e); err != nil {
			return err
		}
		if e.Status == StatusQueued || (force && e.Status == StatusInProgress) {
			changed = append(changed, e)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	now := s.now()
	for i := range changed {
		e := &changed[i]
		prev := e.Status
		e.Status, e.ForceCanceled = StatusCanceled, prev == StatusInProgress
		e.VersionNumber++
		e.LastUpdatedAt = now
		e.InProgressTimeoutAt, e.StepTimeoutAt = time.Time{}, time.Time{}
		if err := saveExec(tx, j, prev, e); err != nil {
			return nil, err
		}
		evs = append(evs, Event{Kind: ExecutionChanged, JobID: j.JobID, Execution: e, PreviousStatus: prev})
	}
	return evs, nil
}

// CancelExecution is CancelJobExecution: a QUEUED execution becomes
// CANCELED, an IN_PROGRESS one only with force; expectedVersion (> 0) must
// match; details (nil: unchanged) replace the status details.
func (s *Service) CancelExecution(thing, jobID string, force bool, expectedVersion int64, details map[string]string) (Execution, error) {
	return s.Transition(thing, jobID, func(_ *Job, e *Execution) error {
		switch {
		case Terminal(e.Status):
			return stateTransition("job execution %s on %s is already %s", jobID, thing, e.Status)
		case e.Status == StatusInProgress && !force:
			return stateTransition("job execution %s on %s is IN_PROGRESS; canceling it needs force", jobID, thing)
		case expectedVersion > 0 && expectedVersion != e.VersionNumber:
			return versionConflict("job execution %s on %s is at version %d, expected %d", jobID, thing, e.VersionNumber, expectedVersion)
		}
		e.ForceCanceled = e.Status == StatusInProgress
		e.Status = StatusCanceled
		if details != nil {
			e.StatusDetails = details
		}
		return nil
	})
}

// DeleteExecution is DeleteJobExecution: the record of one execution goes
// (executionNumber is the latest attempt's or an earlier one's). Only a
// terminal execution may go unless force is set.
func (s *Service) DeleteExecution(thing, jobID string, executionNumber int64, force bool) error {
	var evs []Event
	err := s.st.Update(func(tx *store.Tx) error {
		evs = nil
		j, err := s.loadJob(tx, jobID)
		if err != nil {
			return err
		}
		e, err := loadExec(tx, jobID, thing)
		if err != nil {
			return err
		}
		if e.ExecutionNumber != executionNumber {
			// An earlier attempt (always terminal) goes alone; the counts
			// and the latest attempt stay.
			if ok, err := deleteAttempt(tx, jobID, thing, executionNumber); ok || err != nil {
				return err
			}
			return notFound("job execution %s on %s has no execution number %d", jobID, thing, executionNumber)
		}
		if !Terminal(e.Status) && !force {
			return stateTransition("job execution %s on %s is %s; deleting it needs force", jobID, thing, e.Status)
		}
		j.Counts.add(e.Status, -1)
		if err := tx.Delete(tExecs, jobID+"/"+thing); err != nil {
			return err
		}
		if err := tx.Delete(tThingExecs, thing+"/"+jobID); err != nil {
			return err
		}
		prev := e.Status
		e.Status = "" // gone
		evs = append(evs, Event{Kind: ExecutionChanged, JobID: jobID, Execution: e, PreviousStatus: prev})
		if s.settle(j, s.now()) {
			evs = append(evs, Event{Kind: JobChanged, JobID: jobID})
		}
		return tx.Put(tJobs, jobID, j)
	})
	if err == nil {
		s.emit(evs...)
	}
	return err
}
