package jobs

import (
	"fmt"
	"math"
	"time"

	"github.com/otactl/otactl/local/iot"
	"github.com/otactl/otactl/ota"
)

// The rules of CreateJob's advanced configuration as pure functions of a
// job's record and the time, so that each can be tested on its own.

// DefaultMaximumPerMinute is the rollout rate AWS applies when a job sets
// none (jobExecutionsRolloutConfig.maximumPerMinute defaults to 1000).
const DefaultMaximumPerMinute = 1000

// AbortReasonCode and the comment are what a job canceled by its abortConfig
// carries (CancelJob's reasonCode pattern: [A-Z0-9_]+).
const AbortReasonCode = "ABORT_CRITERIA_MET"

// defers reports whether the engine rolls j out itself (in waves, or only
// inside maintenance windows) rather than queuing every execution at once.
func defers(j *iot.Job) bool {
	if j.JobExecutionsRolloutConfig != nil {
		return true
	}
	sc := j.SchedulingConfig
	return sc != nil && len(sc.MaintenanceWindows) > 0
}

// notified is the number of things the job has been rolled out to.
func notified(p iot.ProcessDetails) int {
	return p.Queued + p.InProgress + p.Succeeded + p.Failed + p.Rejected + p.Canceled + p.Removed + p.TimedOut
}

// RatePerMinute is how many things j may be notified of in the next
// minute: maximumPerMinute, or with exponentialRate the base rate times
// incrementFactor for every numberOfNotifiedThings (or
// numberOfSucceededThings) reached so far, never above maximumPerMinute.
func RatePerMinute(j *iot.Job) int { return ratePerMinute(j, baseline{}) }

// baseline is what a job had notified and seen succeed when its rollout
// configuration was last changed by UpdateJob.
type baseline struct {
	Notified  int `json:"notified,omitempty"`
	Succeeded int `json:"succeeded,omitempty"`
}

// ratePerMinute is RatePerMinute with an exponential rate's increases
// counted from base: a rate set by UpdateJob starts at its base rate at
// the moment of the update rather than where the job's totals would put it.
func ratePerMinute(j *iot.Job, base baseline) int {
	rc := j.JobExecutionsRolloutConfig
	limit := DefaultMaximumPerMinute
	if rc == nil {
		return limit
	}
	if rc.MaximumPerMinute > 0 {
		limit = rc.MaximumPerMinute
	}
	er := rc.ExponentialRate
	if er == nil || er.BaseRatePerMinute <= 0 {
		return limit
	}
	steps := 0
	if n := er.RateIncreaseCriteria.NumberOfNotifiedThings; n > 0 {
		steps = max(notified(j.Counts)-base.Notified, 0) / n
	} else if n := er.RateIncreaseCriteria.NumberOfSucceededThings; n > 0 {
		steps = max(j.Counts.Succeeded-base.Succeeded, 0) / n
	}
	r := float64(er.BaseRatePerMinute) * math.Pow(er.IncrementFactor, float64(steps))
	if r >= float64(limit) || math.IsInf(r, 0) || math.IsNaN(r) {
		return limit
	}
	if r < 1 {
		return 1
	}
	return int(r)
}

// window is a parsed maintenance window.
type window struct {
	cron *ota.Cron
	dur  time.Duration
}

func windowsOf(j *iot.Job) []window {
	sc := j.SchedulingConfig
	if sc == nil {
		return nil
	}
	var out []window
	for _, w := range sc.MaintenanceWindows {
		if c, err := ota.ParseCron(w.StartTime); err == nil && w.DurationInMinutes > 0 {
			out = append(out, window{c, time.Duration(w.DurationInMinutes) * time.Minute})
		}
	}
	return out
}

// openWindow returns the start and end of the window t is in (zero: none).
func openWindow(ws []window, t time.Time) (start, end time.Time) {
	for _, w := range ws {
		// The latest opening in (t-dur, t] is within dur of t.
		if s := w.cron.Next(t.Add(-w.dur)); !s.IsZero() && !s.After(t) {
			if e := s.Add(w.dur); end.IsZero() || e.After(end) {
				start, end = s, e
			}
		}
	}
	return start, end
}

// nextOpening is the first window opening after t (zero: none ever).
func nextOpening(ws []window, t time.Time) time.Time {
	var best time.Time
	for _, w := range ws {
		if s := w.cron.Next(t); !s.IsZero() && (best.IsZero() || s.Before(best)) {
			best = s
		}
	}
	return best
}

// rolloutTime is the earliest time at or after t when j may roll out: t
// itself without windows, else t if a window is open, else the next opening.
func rolloutTime(ws []window, t time.Time) time.Time {
	if len(ws) == 0 {
		return t
	}
	if s, _ := openWindow(ws, t); !s.IsZero() {
		return t
	}
	return nextOpening(ws, t)
}

// retryAllowed is jobExecutionsRetryConfig: an execution that ended FAILED
// or TIMED_OUT (status) is queued again while the retries already spent on
// that failure type (done) are below its criterion's numberOfRetries; a
// type without its own criterion falls under ALL, which counts the retries
// of every type. Only an IN_PROGRESS job retries.
func retryAllowed(j *iot.Job, status string, done map[string]int) bool {
	rc := j.JobExecutionsRetryConfig
	if rc == nil || j.Status != iot.JobInProgress {
		return false
	}
	own, all := -1, -1
	for _, c := range rc.CriteriaList {
		switch c.FailureType {
		case status:
			own = c.NumberOfRetries
		case "ALL":
			all = c.NumberOfRetries
		}
	}
	if own >= 0 {
		return done[status] < own
	}
	total := 0
	for _, n := range done {
		total += n
	}
	return total < all
}

// abortHit returns the first abortConfig criterion j meets: at least
// minNumberOfExecutedThings things notified, and the things that ended with
// the failure type at least thresholdPercentage of them.
func abortHit(j *iot.Job) (ota.AbortCriteria, bool) {
	ac := j.AbortConfig
	if ac == nil {
		return ota.AbortCriteria{}, false
	}
	p := j.Counts
	n := notified(p)
	for _, c := range ac.CriteriaList {
		if n == 0 || n < c.MinNumberOfExecutedThings {
			continue
		}
		var failed int
		switch c.FailureType {
		case "FAILED":
			failed = p.Failed
		case "REJECTED":
			failed = p.Rejected
		case "TIMED_OUT":
			failed = p.TimedOut
		case "ALL":
			failed = p.Failed + p.Rejected + p.TimedOut
		}
		if failed > 0 && float64(failed)*100 >= c.ThresholdPercentage*float64(n) {
			return c, true
		}
	}
	return ota.AbortCriteria{}, false
}

func abortComment(c ota.AbortCriteria, j *iot.Job) string {
	p, n := j.Counts, notified(j.Counts)
	failed := map[string]int{"FAILED": p.Failed, "REJECTED": p.Rejected, "TIMED_OUT": p.TimedOut,
		"ALL": p.Failed + p.Rejected + p.TimedOut}[c.FailureType]
	return fmt.Sprintf("abortConfig: %d %s of %d things notified (%.2f%%, threshold %.2f%%, minNumberOfExecutedThings %d)",
		failed, c.FailureType, n, float64(failed)*100/float64(max(n, 1)), c.ThresholdPercentage, c.MinNumberOfExecutedThings)
}
