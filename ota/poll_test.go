package ota

import (
	"testing"
	"time"
)

// callTimes is when the pipeline calls DescribeSigningJob under p, the
// first call at 0, until horizon.
func callTimes(p pollSchedule, horizon time.Duration) []time.Duration {
	at, wait := []time.Duration{0}, p.First
	for t := wait; t <= horizon; t += wait {
		at = append(at, t)
		wait = p.Next(wait)
	}
	return at
}

func TestSigningPollNext(t *testing.T) {
	ms := time.Millisecond
	for _, c := range []struct{ wait, next time.Duration }{
		{0, 5 * ms}, // no wait yet: the first
		{-ms, 5 * ms},
		{5 * ms, 10 * ms},
		{10 * ms, 20 * ms},
		{20 * ms, 40 * ms},
		{1280 * ms, 2560 * ms},
		{2560 * ms, 5 * time.Second}, // doubling would pass the cap
		{2500 * ms, 5 * time.Second}, // exactly half the cap
		{5 * time.Second, 5 * time.Second},
		{time.Minute, 5 * time.Second}, // a longer override comes back to the cap
		{3 * ms, 6 * ms},               // a PollInterval override doubles too
	} {
		if got := signingPoll.Next(c.wait); got != c.next {
			t.Errorf("Next(%v) = %v, want %v", c.wait, got, c.next)
		}
	}
}

// TestSigningPollCalls checks what poll.go promises about the number of
// DescribeSigningJob calls (Signer's per-second quotas) and how late the
// end of a job is seen.
func TestSigningPollCalls(t *testing.T) {
	for _, c := range []struct {
		horizon time.Duration
		calls   int
	}{
		{time.Second, 8},
		{5 * time.Second, 10},
		{5115 * time.Millisecond, 11},
		{10 * time.Minute, 129},
	} {
		if got := len(callTimes(signingPoll, c.horizon)); got != c.calls {
			t.Errorf("calls in the first %v = %d, want %d", c.horizon, got, c.calls)
		}
	}
	at := callTimes(signingPoll, 10*time.Minute)
	for i := 1; i < len(at); i++ {
		// A job that ends just after call i-1 is seen at call i: no later
		// than twice its age plus the first wait, or the cap.
		age := at[i-1] + time.Nanosecond
		if late := at[i] - age; late > age+signingPoll.First && late > signingPoll.Max {
			t.Errorf("a job done at %v is seen at %v", age, at[i])
		}
	}
	// At most one call per cap interval once the cap is reached.
	for i := 1; i < len(at); i++ {
		if at[i] > 6*time.Second && at[i]-at[i-1] < signingPoll.Max {
			t.Errorf("calls at %v and %v are closer than the cap", at[i-1], at[i])
		}
	}
}
