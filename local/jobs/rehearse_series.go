package jobs

import (
	"time"

	"github.com/otactl/otactl/local/iot"
	"github.com/otactl/otactl/ota"
)

// The series a rehearsal's report plots (otactl rehearse --report) and
// the web console draws: a job's execution counts over time, and the
// maintenance windows to shade.

// Sample is a job's execution counts by status after the last change in
// one minute (At is that change's time).
type Sample struct {
	At     time.Time          `json:"at"`
	Counts iot.ProcessDetails `json:"counts"`
}

// Span is one maintenance window: from its opening to its close.
type Span struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// maxSpans bounds WindowSpans' answer (and 12×maxSpans the openings it
// looks at: a window every minute for a week is 10,080 openings).
const maxSpans = 2000

// WindowSpans returns the maintenance windows of sc that are open at some
// time in [from, to), in order, overlapping ones merged; nil without
// windows.
func WindowSpans(sc *ota.SchedulingConfig, from, to time.Time) []Span {
	if sc == nil {
		return nil
	}
	ws := windowsOf(&iot.Job{JobRequest: ota.JobRequest{JobConfig: ota.JobConfig{SchedulingConfig: sc}}})
	if len(ws) == 0 {
		return nil
	}
	var out []Span
	if s, e := openWindow(ws, from); !s.IsZero() {
		out = append(out, Span{s, e})
	}
	// Every opening in [from, to), one by one (windows of different
	// lengths may overlap), each merged into the span it overlaps.
	t := from.Add(-time.Nanosecond)
	for i := 0; len(out) < maxSpans && i < 12*maxSpans; i++ {
		s := nextOpening(ws, t)
		if s.IsZero() || !s.Before(to) {
			break
		}
		_, e := openWindow(ws, s)
		if n := len(out); n > 0 && !s.After(out[n-1].End) {
			out[n-1].End = maxTime(out[n-1].End, e)
		} else {
			out = append(out, Span{s, e})
		}
		t = s
	}
	return out
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// progress follows one job's counts from the service's events, as the job
// record keeps them (saveExec), and keeps one Sample per minute with a
// change: cheap enough for a rehearsal of 100,000 devices.
type progress struct {
	jobID   string
	now     func() time.Time
	counts  iot.ProcessDetails
	samples []Sample
}

func (p *progress) observe(ev iot.Event) {
	if ev.JobID != p.jobID {
		return
	}
	switch ev.Kind {
	case iot.ExecutionsCreated:
		p.counts.Queued += len(ev.Things)
	case iot.ExecutionChanged:
		if ev.Execution == nil {
			return
		}
		move(&p.counts, ev.PreviousStatus, -1)
		move(&p.counts, ev.Execution.Status, 1)
	default:
		return
	}
	p.record(p.now(), p.counts)
}

// record keeps c as the sample of at's minute.
func (p *progress) record(at time.Time, c iot.ProcessDetails) {
	if n := len(p.samples); n > 0 && p.samples[n-1].At.Truncate(time.Minute).Equal(at.Truncate(time.Minute)) {
		p.samples[n-1] = Sample{at, c}
		return
	}
	p.samples = append(p.samples, Sample{at, c})
}

// move adds d to status's count ("" counts nothing).
func move(p *iot.ProcessDetails, status string, d int) {
	var one iot.ProcessDetails
	addStatus(&one, status)
	p.Queued += d * one.Queued
	p.InProgress += d * one.InProgress
	p.Succeeded += d * one.Succeeded
	p.Failed += d * one.Failed
	p.Rejected += d * one.Rejected
	p.Canceled += d * one.Canceled
	p.Removed += d * one.Removed
	p.TimedOut += d * one.TimedOut
}
