package iot

import "github.com/otactl/otactl/local/store"

// More Go methods for the job engine (local/jobs).

// StopRollout ends the rollout of an IN_PROGRESS job (schedulingConfig
// endBehavior STOP_ROLLOUT): targets without an execution never get one,
// executions already rolled out go on, and the job completes when they end.
func (s *Service) StopRollout(jobID string) (Job, error) {
	var out Job
	var evs []Event
	err := s.st.Update(func(tx *store.Tx) error {
		evs = nil
		j, err := s.loadJob(tx, jobID)
		if err != nil {
			return err
		}
		if j.Status != JobInProgress {
			return stateTransition("job %s is %s, not IN_PROGRESS", jobID, j.Status)
		}
		j.RolloutPending = false
		j.LastUpdatedAt = s.now()
		s.settle(j, j.LastUpdatedAt)
		evs = append(evs, Event{Kind: JobChanged, JobID: jobID})
		out = *j
		return tx.Put(tJobs, jobID, j)
	})
	if err != nil {
		return Job{}, err
	}
	s.emit(evs...)
	return out, nil
}
