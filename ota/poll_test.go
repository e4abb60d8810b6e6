package ota

import (
	"testing"
	"time"
)

// callTimes is when the pipeline calls DescribeSigningJob under p, the
// first call at Wait(0) (the job's age at each call), until horizon.
func callTimes(p pollSchedule, horizon time.Duration) []time.Duration {
	var at []time.Duration
	for t := p.Wait(0); t <= horizon; t += p.Wait(t) {
		at = append(at, t)
	}
	return at
}

func TestSigningPollWait(t *testing.T) {
	ms := time.Millisecond
	for _, c := range []struct{ age, wait time.Duration }{
		{0, 5 * ms}, // before the first call: the floor
		{-ms, 5 * ms},
		{5 * ms, 5 * ms},
		{19 * ms, 5 * ms},
		{20 * ms, 5 * ms}, // a quarter reaches the floor
		{21 * ms, 5250 * time.Microsecond},
		{100 * ms, 25 * ms},
		{2600 * ms, 650 * ms},
		{20 * time.Second, 5 * time.Second}, // a quarter reaches the cap
		{30 * time.Second, 5 * time.Second},
		{time.Hour, 5 * time.Second},
	} {
		if got := signingPoll.Wait(c.age); got != c.wait {
			t.Errorf("Wait(%v) = %v, want %v", c.age, got, c.wait)
		}
	}
	// A PollInterval override replaces the floor only.
	p := signingPoll
	p.First = 50 * ms
	if got := p.Wait(10 * ms); got != 50*ms {
		t.Errorf("with First 50 ms, Wait(10 ms) = %v", got)
	}
	if got := p.Wait(time.Minute); got != 5*time.Second {
		t.Errorf("with First 50 ms, Wait(1 min) = %v", got)
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
		{20 * time.Millisecond, 4}, // 5, 10, 15, 20: none at once
		{time.Second, 21},
		{5 * time.Second, 28},
		{10 * time.Minute, 150},
	} {
		if got := len(callTimes(signingPoll, c.horizon)); got != c.calls {
			t.Errorf("calls in the first %v = %d, want %d", c.horizon, got, c.calls)
		}
	}
	at := callTimes(signingPoll, 10*time.Minute)
	if at[0] != signingPoll.First {
		t.Errorf("first call at %v, want %v (none at once)", at[0], signingPoll.First)
	}
	for i := 1; i < len(at); i++ {
		// A job that ends just after call i-1 is seen at call i: no later
		// than a quarter of its age, the floor, or the cap.
		done := at[i-1] + time.Nanosecond
		if late := at[i] - done; late > done/4 && late > signingPoll.First && late > signingPoll.Max {
			t.Errorf("a job done at %v is seen at %v", done, at[i])
		}
	}
	// Never more than one call per cap interval once the cap is reached,
	// never closer than the floor.
	for i := 1; i < len(at); i++ {
		gap := at[i] - at[i-1]
		if (at[i-1] >= 20*time.Second && gap < signingPoll.Max) || gap < signingPoll.First {
			t.Errorf("calls at %v and %v are %v apart", at[i-1], at[i], gap)
		}
	}
}
