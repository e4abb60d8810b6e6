package jobs

import (
	"encoding/json"
	"strings"

	"github.com/otactl/otactl/local/iot"
	"github.com/otactl/otactl/local/store"
)

// Retries are counted per failure type (jobExecutionsRetryConfig has a
// numberOfRetries per type), which the execution record does not hold: the
// engine keeps the counts in memory and in its own table.

// tRetries holds jobId/thing → failure type → retries spent.
const tRetries = "jobs.retries"

// retryPolicy is iot.Service.RetryPolicy. It runs inside the transaction
// that ends the execution, so it only touches memory; observe stores the
// counts once the retry is committed.
func (e *Engine) retryPolicy(j *iot.Job, x *iot.Execution) bool {
	key := x.JobID + "/" + x.ThingName
	e.mu.Lock()
	defer e.mu.Unlock()
	done := e.retries[key]
	if !retryAllowed(j, x.Status, done) {
		return false
	}
	if done == nil {
		done = map[string]int{}
		e.retries[key] = done
	}
	done[x.Status]++
	e.failures[key] = x.Status
	return true
}

// saveRetries stores the counts of a committed retry and returns the
// failure type it retried.
func (e *Engine) saveRetries(jobID, thing string) string {
	key := jobID + "/" + thing
	e.mu.Lock()
	failure := e.failures[key]
	delete(e.failures, key)
	done := map[string]int{}
	for k, v := range e.retries[key] {
		done[k] = v
	}
	e.mu.Unlock()
	e.st.Put(tRetries, key, done)
	return failure
}

func (e *Engine) loadRetries() error {
	return e.st.List(tRetries, "", func(key string, raw []byte) error {
		var done map[string]int
		if err := json.Unmarshal(raw, &done); err != nil {
			return err
		}
		e.mu.Lock()
		e.retries[key] = done
		e.mu.Unlock()
		return nil
	})
}

// forgetRetries drops the counts of a deleted job.
func (e *Engine) forgetRetries(jobID string) {
	var keys []string
	e.st.List(tRetries, jobID+"/", func(key string, _ []byte) error {
		keys = append(keys, key)
		return nil
	})
	e.st.Update(func(tx *store.Tx) error {
		for _, k := range keys {
			tx.Delete(tRetries, k)
		}
		return nil
	})
	e.mu.Lock()
	for k := range e.retries {
		if strings.HasPrefix(k, jobID+"/") {
			delete(e.retries, k)
		}
	}
	e.mu.Unlock()
}
