package iot

import (
	"encoding/json"
	"fmt"

	"github.com/otactl/otactl/local/store"
)

// A retry gives a thing's execution of a job a new execution number; AWS
// keeps the earlier attempt, which DescribeJobExecution and
// DeleteJobExecution reach by its executionNumber. tExecs holds the latest
// attempt (what the Jobs APIs and the counts work on); the earlier ones,
// all terminal, are kept here.
const tAttempts = "iot.attempts" // jobId/thing/executionNumber (20 digits) → Execution

func attemptKey(jobID, thing string, number int64) string {
	return fmt.Sprintf("%s/%s/%020d", jobID, thing, number)
}

// ExecutionNumbered returns attempt number of jobID on thing: the latest
// execution, or an earlier attempt a retry replaced.
func (s *Service) ExecutionNumbered(thing, jobID string, number int64) (Execution, error) {
	var out Execution
	err := s.st.View(func(tx *store.Tx) error {
		e, err := loadExec(tx, jobID, thing)
		if err == nil && e.ExecutionNumber == number {
			out = *e
			return nil
		}
		ok, gerr := tx.Get(tAttempts, attemptKey(jobID, thing, number), &out)
		if gerr != nil {
			return gerr
		}
		if !ok {
			return notFound("Job execution %d of job %s on thing %s cannot be found.", number, jobID, thing)
		}
		return nil
	})
	return out, err
}

// EarlierAttempts returns the attempts of jobID on thing that retries
// replaced, oldest first.
func (s *Service) EarlierAttempts(thing, jobID string) ([]Execution, error) {
	var out []Execution
	err := s.st.View(func(tx *store.Tx) error {
		return tx.List(tAttempts, jobID+"/"+thing+"/", func(_ string, raw []byte) error {
			var e Execution
			if err := json.Unmarshal(raw, &e); err != nil {
				return err
			}
			out = append(out, e)
			return nil
		})
	})
	return out, err
}

// deleteAttempt removes one earlier attempt; false when there is none.
func deleteAttempt(tx *store.Tx, jobID, thing string, number int64) (bool, error) {
	k := attemptKey(jobID, thing, number)
	if !tx.Has(tAttempts, k) {
		return false, nil
	}
	return true, tx.Delete(tAttempts, k)
}

// deleteAttempts removes the earlier attempts of every thing of a job.
func deleteAttempts(tx *store.Tx, jobID string) error {
	for _, k := range keysUnder(tx, tAttempts, jobID+"/") {
		if err := tx.Delete(tAttempts, jobID+"/"+k); err != nil {
			return err
		}
	}
	return nil
}
