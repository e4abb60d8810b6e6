package campaign

import (
	"fmt"
	"sort"
	"time"
)

// Verdicts of a gate.
const (
	// Waiting: the thresholds are not met yet and can still be.
	Waiting = "waiting"
	// Baking: the thresholds are met; the bake time has not passed.
	Baking = "baking"
	// Passed: the next stage may start.
	Passed = "passed"
	// Failed: the failure rate reached its limit, or the stage's job ended
	// without meeting the thresholds. The spec's onFailure applies.
	Failed = "failed"
)

// Observation is what a gate is evaluated on, all read from AWS.
type Observation struct {
	// Things is how many things the stage targets (the rates' denominator).
	Things int
	// JobStatus is the stage job's status; StartedAt its creation time.
	JobStatus string
	StartedAt time.Time
	// Executions are the job's executions (current status, last update).
	Executions []Outcome
}

// Outcome is one execution's status and when it last changed.
type Outcome struct {
	Status string
	At     time.Time
}

// Evaluation is a gate's verdict and the figures it was reached on.
type Evaluation struct {
	Verdict        string     `json:"verdict"`
	Things         int        `json:"things"`
	Finished       int        `json:"finished"`
	Succeeded      int        `json:"succeeded"`
	Failures       int        `json:"failures"`
	SuccessPercent float64    `json:"successPercent"`
	FailurePercent float64    `json:"failurePercent"`
	ThresholdMetAt *time.Time `json:"thresholdMetAt,omitempty"`
	BakeEndsAt     *time.Time `json:"bakeEndsAt,omitempty"`
	// Reasons say, in words, what holds the gate (or why it failed).
	Reasons []string `json:"reasons,omitempty"`
}

func isFinished(status string) bool {
	switch status {
	case "SUCCEEDED", "FAILED", "TIMED_OUT", "REJECTED":
		return true
	}
	return false
}

func isFailure(status string) bool {
	return status == "FAILED" || status == "TIMED_OUT" || status == "REJECTED"
}

func jobEnded(status string) bool {
	return status == "COMPLETED" || status == "CANCELED" || status == "DELETION_IN_PROGRESS"
}

// Evaluate applies g to o at now. It is pure: the same observation gives
// the same verdict, which is what makes advance idempotent. The moment the
// thresholds were met is replayed from the executions' last-update times:
// with rates over the stage's things, each count only grows, so the first
// moment every threshold held is well defined.
func Evaluate(g Gate, o Observation, now time.Time) Evaluation {
	ev := Evaluation{Things: o.Things}
	den := o.Things
	if len(o.Executions) > den {
		den = len(o.Executions)
	}
	pct := func(n int) float64 {
		if den == 0 {
			return 0
		}
		return 100 * float64(n) / float64(den)
	}
	var done []Outcome
	for _, x := range o.Executions {
		if isFinished(x.Status) {
			done = append(done, x)
		}
	}
	sort.SliceStable(done, func(i, j int) bool { return done[i].At.Before(done[j].At) })
	met := func(finished, succeeded int) bool {
		return finished >= g.MinFinished && pct(succeeded) >= g.MinSuccessPercent-1e-9
	}
	var metAt *time.Time
	if met(0, 0) {
		t := o.StartedAt
		metAt = &t
	}
	for _, x := range done {
		ev.Finished++
		if x.Status == "SUCCEEDED" {
			ev.Succeeded++
		} else {
			ev.Failures++
		}
		if metAt == nil && met(ev.Finished, ev.Succeeded) {
			t := x.At
			if t.Before(o.StartedAt) {
				t = o.StartedAt
			}
			metAt = &t
		}
	}
	ev.SuccessPercent, ev.FailurePercent = round2(pct(ev.Succeeded)), round2(pct(ev.Failures))

	if m := g.MaxFailurePercent; m != nil && pct(ev.Failures) >= *m-1e-9 {
		ev.Verdict = Failed
		ev.Reasons = append(ev.Reasons, fmt.Sprintf("failures %d of %d things (%.4g%%) reached maxFailurePercent %v%%", ev.Failures, den, pct(ev.Failures), *m))
		return ev
	}
	if metAt == nil {
		if ev.Finished < g.MinFinished {
			ev.Reasons = append(ev.Reasons, fmt.Sprintf("%d of minFinished %d executions finished", ev.Finished, g.MinFinished))
		}
		if pct(ev.Succeeded) < g.MinSuccessPercent-1e-9 {
			ev.Reasons = append(ev.Reasons, fmt.Sprintf("succeeded %d of %d things (%.4g%%), below minSuccessPercent %v%%", ev.Succeeded, den, pct(ev.Succeeded), g.MinSuccessPercent))
		}
		if jobEnded(o.JobStatus) {
			ev.Verdict = Failed
			ev.Reasons = append(ev.Reasons, "the stage's job is "+o.JobStatus+": the thresholds can no longer be met")
			return ev
		}
		ev.Verdict = Waiting
		return ev
	}
	ev.ThresholdMetAt = metAt
	from := o.StartedAt
	if g.bakeFrom() == BakeFromThresholdMet {
		from = *metAt
	}
	end := from.Add(g.BakeDuration())
	ev.BakeEndsAt = &end
	if now.Before(end) {
		ev.Verdict = Baking
		ev.Reasons = append(ev.Reasons, fmt.Sprintf("thresholds met at %s; baking %s from %s until %s",
			metAt.UTC().Format(time.RFC3339), g.BakeDuration(), g.bakeFrom(), end.UTC().Format(time.RFC3339)))
		return ev
	}
	ev.Verdict = Passed
	return ev
}

func round2(f float64) float64 { return float64(int64(f*100+0.5)) / 100 }
