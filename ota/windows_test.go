package ota

import (
	"strings"
	"testing"
	"time"
)

func at(s string) time.Time {
	t, err := time.Parse("2006-01-02T15:04", s)
	if err != nil {
		panic(err)
	}
	return t
}

// The review's case: 03:45 UTC on a Tuesday, a nightly window 02:00 for
// 240 minutes is open until 06:00; the next openings follow it; nothing
// once the job is over or past its end.
func TestScheduleAt(t *testing.T) {
	nightly := []MaintenanceWindow{{StartTime: "cron(0 2 * * ? *)", DurationInMinutes: 240}}
	now := at("2026-12-01T03:45")
	cases := []struct {
		name   string
		sc     *SchedulingConfig
		status string
		open   string // "" for none
		next   []string
	}{
		{"open now", &SchedulingConfig{MaintenanceWindows: nightly}, "IN_PROGRESS", "2026-12-01T02:00-06:00",
			[]string{"2026-12-02T02:00", "2026-12-03T02:00", "2026-12-04T02:00"}},
		{"finished job", &SchedulingConfig{MaintenanceWindows: nightly}, "COMPLETED", "", nil},
		{"canceled job", &SchedulingConfig{MaintenanceWindows: nightly}, "CANCELED", "", nil},
		{"past its end", &SchedulingConfig{MaintenanceWindows: nightly, EndTime: "2026-12-01T03:00"}, "IN_PROGRESS", "", nil},
		{"windows stop at the end", &SchedulingConfig{MaintenanceWindows: nightly, EndTime: "2026-12-03T01:00"}, "IN_PROGRESS", "2026-12-01T02:00-06:00",
			[]string{"2026-12-02T02:00"}},
		{"open window cut at the end", &SchedulingConfig{MaintenanceWindows: nightly, EndTime: "2026-12-01T05:00"}, "IN_PROGRESS", "2026-12-01T02:00-05:00", nil},
		{"not started yet", &SchedulingConfig{MaintenanceWindows: nightly, StartTime: "2026-12-02T04:00"}, "SCHEDULED", "",
			[]string{"2026-12-03T02:00", "2026-12-04T02:00", "2026-12-05T02:00"}},
		{"closed now", &SchedulingConfig{MaintenanceWindows: []MaintenanceWindow{{StartTime: "cron(0 2 * * ? *)", DurationInMinutes: 60}}}, "IN_PROGRESS", "",
			[]string{"2026-12-02T02:00", "2026-12-03T02:00", "2026-12-04T02:00"}},
		{"no windows", &SchedulingConfig{StartTime: "2026-12-02T04:00"}, "SCHEDULED", "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := ScheduleAt(tc.sc, tc.status, now, 3)
			open := ""
			if s.OpenNow != nil {
				open = s.OpenNow.Opens.Format("2006-01-02T15:04") + "-" + s.OpenNow.Closes.Format("15:04")
			}
			var next []string
			for _, n := range s.Next {
				next = append(next, n.Format("2006-01-02T15:04"))
			}
			if open != tc.open || strings.Join(next, " ") != strings.Join(tc.next, " ") {
				t.Fatalf("open %q next %v, want %q %v", open, next, tc.open, tc.next)
			}
		})
	}
}

// The README's old flag example on a Tuesday: Saturday windows, start in an
// hour, end two days later: nothing rolls out. A daily window does.
func TestNoWindowBetween(t *testing.T) {
	sat := []MaintenanceWindow{{StartTime: "cron(0 2 ? * SAT *)", DurationInMinutes: 120}}
	daily := []MaintenanceWindow{{StartTime: "cron(0 2 * * ? *)", DurationInMinutes: 120}}
	now := at("2026-12-01T03:48") // a Tuesday
	cases := []struct {
		name string
		sc   *SchedulingConfig
		none bool
	}{
		{"saturday window, tuesday to thursday", &SchedulingConfig{StartTime: "2026-12-01T04:48", EndTime: "2026-12-03T04:48", MaintenanceWindows: sat}, true},
		{"saturday window, end after saturday 02:00", &SchedulingConfig{StartTime: "2026-12-01T04:48", EndTime: "2026-12-05T02:30", MaintenanceWindows: sat}, false},
		{"daily window", &SchedulingConfig{StartTime: "2026-12-01T04:48", EndTime: "2026-12-03T04:48", MaintenanceWindows: daily}, false},
		{"start inside an open window", &SchedulingConfig{StartTime: "2026-12-05T03:00", EndTime: "2026-12-05T04:00", MaintenanceWindows: sat}, false},
		{"end at the opening", &SchedulingConfig{StartTime: "2026-12-04T04:00", EndTime: "2026-12-05T02:00", MaintenanceWindows: sat}, true},
		{"no start: from now", &SchedulingConfig{EndTime: "2026-12-03T04:48", MaintenanceWindows: sat}, true},
		{"no end", &SchedulingConfig{StartTime: "2026-12-01T04:48", MaintenanceWindows: sat}, false},
		{"no windows", &SchedulingConfig{StartTime: "2026-12-01T04:48", EndTime: "2026-12-03T04:48"}, false},
		{"bad cron is validation's", &SchedulingConfig{EndTime: "2026-12-03T04:48", MaintenanceWindows: []MaintenanceWindow{{StartTime: "cron(nope)", DurationInMinutes: 60}}}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			why := NoWindowBetween(tc.sc, now)
			if (why != "") != tc.none {
				t.Fatalf("NoWindowBetween = %q, want a reason: %v", why, tc.none)
			}
			if tc.none && !strings.Contains(why, "rolls out nothing") {
				t.Fatalf("reason %q", why)
			}
		})
	}
	spec := &Spec{JobConfig: JobConfig{SchedulingConfig: cases[0].sc}}
	if w := strings.Join(AdviseAt(spec, now), "\n"); !strings.Contains(w, "schedulingConfig.maintenanceWindows: no maintenance window is open between startTime 2026-12-01T04:48 and endTime 2026-12-03T04:48 UTC (the first opens 2026-12-05 02:00 UTC)") {
		t.Fatalf("advice: %s", w)
	}
}
