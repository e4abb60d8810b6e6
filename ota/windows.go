package ota

import (
	"fmt"
	"sort"
	"time"
)

// Maintenance windows as a reader of a schedule needs them: the window open
// now, the next openings that still matter, and whether any window opens
// between a job's start and end at all (AWS accepts a job whose windows all
// fall outside that span, and then rolls out nothing).

// Opening is one opening of a maintenance window.
type Opening struct {
	Opens  time.Time `json:"opens"`
	Closes time.Time `json:"closes"`
}

// OpenAt returns the window open at t (the one that closes last when
// several are), if any.
func OpenAt(ws []MaintenanceWindow, t time.Time) (Opening, bool) {
	var best Opening
	found := false
	for _, w := range ws {
		o, ok := firstOpeningEndingAfter(w, t)
		if !ok || o.Opens.After(t) {
			continue
		}
		if !found || o.Closes.After(best.Closes) {
			best, found = o, true
		}
	}
	return best, found
}

// firstOpeningEndingAfter is w's first opening that is still open after t
// (open at t, or the next one).
func firstOpeningEndingAfter(w MaintenanceWindow, t time.Time) (Opening, bool) {
	c, err := ParseCron(w.StartTime)
	if err != nil || w.DurationInMinutes <= 0 {
		return Opening{}, false
	}
	d := time.Duration(w.DurationInMinutes) * time.Minute
	// An opening within the last d is open now; Next is strictly after,
	// so step back one minute more (cron has minute resolution).
	o := c.Next(t.Add(-d - time.Minute))
	for !o.IsZero() && !o.Add(d).After(t) {
		o = c.Next(o)
	}
	if o.IsZero() {
		return Opening{}, false
	}
	return Opening{Opens: o, Closes: o.Add(d)}, true
}

// Schedule is a job's maintenance windows as of a moment.
type Schedule struct {
	// OpenNow is the window open at that moment, within start and end.
	OpenNow *Opening `json:"openNow,omitempty"`
	// Next are the next openings after it (at most n), none at or after
	// the end time; none for a job that is over.
	Next []time.Time `json:"next,omitempty"`
}

// ScheduleAt is sc's window view at now for a job in status: nothing for
// a job that is over or past its end time.
func ScheduleAt(sc *SchedulingConfig, status string, now time.Time, n int) Schedule {
	var s Schedule
	if sc == nil || len(sc.MaintenanceWindows) == 0 || jobOver(status) {
		return s
	}
	start, end := scheduleSpan(sc, time.Time{})
	if !end.IsZero() && !now.Before(end) {
		return s
	}
	from := now
	if start.After(now) {
		from = start
	}
	if o, ok := OpenAt(sc.MaintenanceWindows, from); ok && !start.After(now) {
		if !end.IsZero() && o.Closes.After(end) {
			o.Closes = end
		}
		s.OpenNow = &o
	}
	for _, t := range NextWindows(sc.MaintenanceWindows, from.Add(-time.Nanosecond), n+1) {
		if !t.After(now) || (s.OpenNow != nil && t.Equal(s.OpenNow.Opens)) {
			continue
		}
		if !end.IsZero() && !t.Before(end) {
			break
		}
		s.Next = append(s.Next, t)
	}
	if len(s.Next) > n {
		s.Next = s.Next[:n]
	}
	return s
}

// jobOver reports a job status in which nothing more rolls out.
func jobOver(status string) bool {
	switch status {
	case "COMPLETED", "CANCELED", "DELETION_IN_PROGRESS":
		return true
	}
	return false
}

// scheduleSpan reads startTime (default: def) and endTime (zero: none).
func scheduleSpan(sc *SchedulingConfig, def time.Time) (start, end time.Time) {
	start = def
	if t, err := ParseScheduleTime(sc.StartTime); err == nil {
		start = t
	}
	if t, err := ParseScheduleTime(sc.EndTime); err == nil {
		end = t
	}
	return start, end
}

// NoWindowBetween explains why a schedule rolls out nothing: it has an end
// time and maintenance windows, and no window is open at any moment between
// startTime (now when none) and endTime. AWS accepts such a job; at
// endTime its endBehavior applies to a job that never rolled out. It
// returns "" when some window falls in the span, or when it cannot tell.
func NoWindowBetween(sc *SchedulingConfig, now time.Time) string {
	if sc == nil || sc.EndTime == "" || len(sc.MaintenanceWindows) == 0 {
		return ""
	}
	start, end := scheduleSpan(sc, now.UTC().Truncate(time.Minute))
	if end.IsZero() || !end.After(start) {
		return ""
	}
	var next []time.Time
	for _, w := range sc.MaintenanceWindows {
		o, ok := firstOpeningEndingAfter(w, start)
		if !ok {
			if _, err := ParseCron(w.StartTime); err != nil {
				return "" // validation reports the expression
			}
			continue
		}
		if o.Opens.Before(end) {
			return ""
		}
		next = append(next, o.Opens)
	}
	sort.Slice(next, func(a, b int) bool { return next[a].Before(next[b]) })
	first := "no later opening"
	if len(next) > 0 {
		first = "the first opens " + next[0].Format("2006-01-02 15:04 MST")
	}
	return fmt.Sprintf("no maintenance window is open between startTime %s and endTime %s UTC (%s): AWS accepts the job but rolls out nothing; move endTime after a window or add one",
		start.Format(scheduleTimeLayout), end.Format(scheduleTimeLayout), first)
}
