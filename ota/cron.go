package ota

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Cron is an AWS cron expression, cron(Minutes Hours Day-of-month Month
// Day-of-week Year), as maintenance windows use it. Times are UTC.
type Cron struct {
	expr  string
	sched cron.Schedule
	years yearSet
}

// fiveFields parses minutes, hours, day-of-month, month and day-of-week.
var fiveFields = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow)

// ParseCron parses an AWS cron expression. robfig/cron parses the first five
// fields once AWS's day-of-week numbering (1-7, Sunday=1) is mapped to its
// own (0-6); the year field is checked here. L, W and # are not supported.
func ParseCron(expr string) (*Cron, error) {
	inner, ok := strings.CutPrefix(strings.TrimSpace(expr), "cron(")
	if !ok || !strings.HasSuffix(inner, ")") {
		return nil, fmt.Errorf("must be an AWS cron expression cron(MIN HOUR DAY-OF-MONTH MONTH DAY-OF-WEEK YEAR), got %q", expr)
	}
	fields := strings.Fields(strings.TrimSuffix(inner, ")"))
	if len(fields) != 6 {
		return nil, fmt.Errorf("cron expression %q must have 6 fields (MIN HOUR DAY-OF-MONTH MONTH DAY-OF-WEEK YEAR), got %d", expr, len(fields))
	}
	dom, dow := fields[2], fields[4]
	if (dom == "?") == (dow == "?") {
		return nil, fmt.Errorf("cron expression %q: exactly one of day-of-month and day-of-week must be ?", expr)
	}
	for _, f := range fields {
		if strings.ContainsAny(f, "LW#") && !isMonthOrDayName(f) {
			return nil, fmt.Errorf("cron expression %q: L, W and # are not supported by otactl", expr)
		}
	}
	awsDow, err := mapDayOfWeek(dow)
	if err != nil {
		return nil, fmt.Errorf("cron expression %q: day-of-week: %v", expr, err)
	}
	years, err := parseYears(fields[5])
	if err != nil {
		return nil, fmt.Errorf("cron expression %q: year: %v", expr, err)
	}
	sched, err := fiveFields.Parse(strings.Join([]string{fields[0], fields[1], dom, fields[3], awsDow}, " "))
	if err != nil {
		return nil, fmt.Errorf("cron expression %q: %v", expr, err)
	}
	return &Cron{expr: expr, sched: sched, years: years}, nil
}

// isMonthOrDayName tells JUL or WED (which contain L or W) from the L and W operators.
func isMonthOrDayName(f string) bool {
	for _, part := range strings.FieldsFunc(f, func(r rune) bool { return r == ',' || r == '-' || r == '/' }) {
		if strings.ContainsAny(part, "LW#") && !isName(part) {
			return false
		}
	}
	return true
}

func isName(s string) bool {
	if len(s) != 3 {
		return false
	}
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

func (c *Cron) String() string { return c.expr }

// Next returns the first match strictly after t, or the zero time when the
// year field allows no later match.
func (c *Cron) Next(t time.Time) time.Time {
	t = t.UTC()
	for i := 0; i < 400; i++ {
		if y, ok := c.years.nextFrom(t.Year()); !ok {
			return time.Time{}
		} else if y > t.Year() {
			t = time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC).Add(-time.Second)
		}
		n := c.sched.Next(t)
		if n.IsZero() || c.years.has(n.Year()) {
			return n
		}
		t = n
	}
	return time.Time{}
}

// mapDayOfWeek maps AWS day numbers 1-7 (Sunday=1) to robfig's 0-6, leaving
// names, *, ? and step values alone.
func mapDayOfWeek(f string) (string, error) {
	if f == "*" || f == "?" {
		return f, nil
	}
	parts := strings.Split(f, ",")
	for i, p := range parts {
		rng, step, hasStep := strings.Cut(p, "/")
		ends := strings.Split(rng, "-")
		for j, e := range ends {
			n, err := strconv.Atoi(e)
			if err != nil {
				continue // a name such as MON, or *
			}
			if n < 1 || n > 7 {
				return "", fmt.Errorf("day numbers are 1-7 (1 is Sunday), got %d", n)
			}
			ends[j] = strconv.Itoa(n - 1)
		}
		parts[i] = strings.Join(ends, "-")
		if hasStep {
			parts[i] += "/" + step
		}
	}
	return strings.Join(parts, ","), nil
}

const minYear, maxYear = 1970, 2199

// yearSet is the years a cron expression allows; nil means every year.
type yearSet map[int]bool

func parseYears(f string) (yearSet, error) {
	if f == "*" {
		return nil, nil
	}
	set := yearSet{}
	for _, p := range strings.Split(f, ",") {
		rng, stepStr, hasStep := strings.Cut(p, "/")
		step := 1
		if hasStep {
			s, err := strconv.Atoi(stepStr)
			if err != nil || s < 1 {
				return nil, fmt.Errorf("bad step %q", stepStr)
			}
			step = s
		}
		lo, hi := minYear, maxYear
		if rng != "*" {
			a, b, isRange := strings.Cut(rng, "-")
			var err error
			if lo, err = strconv.Atoi(a); err != nil {
				return nil, fmt.Errorf("bad year %q", a)
			}
			hi = lo
			if isRange {
				if hi, err = strconv.Atoi(b); err != nil {
					return nil, fmt.Errorf("bad year %q", b)
				}
			} else if hasStep {
				hi = maxYear
			}
		}
		if lo < minYear || hi > maxYear || lo > hi {
			return nil, fmt.Errorf("years must be %d-%d, got %q", minYear, maxYear, p)
		}
		for y := lo; y <= hi; y += step {
			set[y] = true
		}
	}
	return set, nil
}

func (s yearSet) has(y int) bool { return s == nil || s[y] }

// nextFrom returns the first allowed year >= y.
func (s yearSet) nextFrom(y int) (int, bool) {
	if s == nil {
		return y, true
	}
	for ; y <= maxYear; y++ {
		if s[y] {
			return y, true
		}
	}
	return 0, false
}
