package iot

import (
	"encoding/json"

	"github.com/otactl/otactl/local/store"
)

// Go methods for the job engine (local/jobs): reading jobs and executions,
// and rolling a job's executions out in waves instead of all at once.

// Jobs returns the jobs in status ("" = all), in job id order.
func (s *Service) Jobs(status string) ([]Job, error) {
	var out []Job
	err := s.st.View(func(tx *store.Tx) error {
		return tx.List(tJobs, "", func(_ string, raw []byte) error {
			var j Job
			if err := json.Unmarshal(raw, &j); err != nil {
				return err
			}
			if status == "" || j.Status == status {
				out = append(out, j)
			}
			return nil
		})
	})
	return out, err
}

// Executions returns the executions of jobID in status ("" = all), in
// thing name order.
func (s *Service) Executions(jobID, status string) ([]Execution, error) {
	var out []Execution
	err := s.st.View(func(tx *store.Tx) error {
		if !tx.Has(tJobs, jobID) {
			return notFound("Job %s cannot be found.", jobID)
		}
		return tx.List(tExecs, jobID+"/", func(_ string, raw []byte) error {
			var e Execution
			if err := json.Unmarshal(raw, &e); err != nil {
				return err
			}
			if status == "" || e.Status == status {
				out = append(out, e)
			}
			return nil
		})
	})
	return out, err
}

// QueueExecutions queues executions of an IN_PROGRESS job on up to n of
// its target things that have none yet (in thing name order), and returns
// those things. It is how the engine rolls out a job whose executions
// DeferRollout held back; when every target has its execution the job is
// no longer held from completing.
func (s *Service) QueueExecutions(jobID string, n int) ([]string, error) {
	var created []string
	var evs []Event
	err := s.st.Update(func(tx *store.Tx) error {
		created, evs = nil, nil
		j, err := s.loadJob(tx, jobID)
		if err != nil {
			return err
		}
		if j.Status != JobInProgress {
			return stateTransition("job %s is %s, not IN_PROGRESS", jobID, j.Status)
		}
		things, err := s.expandTargets(tx, j.Targets)
		if err != nil {
			return err
		}
		var todo []string
		for _, t := range things {
			if !tx.Has(tExecs, jobID+"/"+t) {
				todo = append(todo, t)
			}
		}
		if n < len(todo) {
			todo = todo[:n]
		} else {
			j.RolloutPending = false
		}
		if created, err = s.createExecutions(tx, j, todo, true); err != nil {
			return err
		}
		if len(created) > 0 {
			evs = append(evs, Event{Kind: ExecutionsCreated, JobID: jobID, Things: created})
		}
		if s.settle(j, s.now()) {
			evs = append(evs, Event{Kind: JobChanged, JobID: jobID})
		}
		return tx.Put(tJobs, jobID, j)
	})
	if err != nil {
		return nil, err
	}
	s.emit(evs...)
	return created, nil
}
