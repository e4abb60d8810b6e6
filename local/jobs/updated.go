package jobs

import (
	"encoding/json"
	"sort"
	"strings"
	"time"

	"github.com/otactl/otactl/local/iot"
)

// UpdateJob on a running job: local/iot stores the new configuration and
// emits JobChanged, which makes the job due at once; the engine then tells
// the change from any other (a device's report) by comparing the members
// with those it last applied (jobState.Config). From that moment:
//   - rollout: the next wave goes at the new rate (still one wave a minute,
//     so a faster rate cannot squeeze an extra wave into the current
//     minute), and an exponential rate starts again at its base rate, its
//     increases counted from the counts at the update (jobState.Base);
//   - abort: the new criteria are checked right away against the job's
//     counts, and after every execution that ends;
//   - timeout: executions that start from then on get the new in-progress
//     timeout (local/iot sets it when an execution goes IN_PROGRESS); the
//     ones already running keep the deadline they started with;
//   - retry: executions that fail from then on are retried by the new criteria.

// updatable are the members UpdateJob changes that the engine acts on.
func updatable(j *iot.Job) map[string]string {
	out := map[string]string{}
	for name, v := range map[string]any{
		"jobExecutionsRolloutConfig": j.JobExecutionsRolloutConfig, "abortConfig": j.AbortConfig,
		"timeoutConfig": j.TimeoutConfig, "jobExecutionsRetryConfig": j.JobExecutionsRetryConfig,
	} {
		raw, _ := json.Marshal(v)
		out[name] = string(raw)
	}
	return out
}

// noteUpdate records the configuration j runs with and, when it differs
// from what the engine applied before, the moment of the change.
func (e *Engine) noteUpdate(j *iot.Job, st *jobState, now time.Time) {
	cur := updatable(j)
	if st.Config == nil { // the first look at the job (or a store from before updates were tracked)
		st.Config = cur
		e.saveState(j.JobID, *st)
		return
	}
	var changed []string
	for name, v := range cur {
		if st.Config[name] != v {
			changed = append(changed, name)
		}
	}
	if len(changed) == 0 {
		return
	}
	sort.Strings(changed)
	if st.Config["jobExecutionsRolloutConfig"] != cur["jobExecutionsRolloutConfig"] {
		st.Base = baseline{Notified: notified(j.Counts), Succeeded: j.Counts.Succeeded}
	}
	st.Config = cur
	e.saveState(j.JobID, *st)
	e.emit(Event{At: now, Kind: EventUpdated, JobID: j.JobID, Rate: ratePerMinute(j, st.Base),
		Detail: strings.Join(changed, ", ")})
}
