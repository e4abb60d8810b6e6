package ota

import "time"

// pollSchedule is how the pipeline waits between DescribeSigningJob calls:
// the first wait is short, then each wait doubles up to a cap.
//
// Why these numbers (signingPoll):
//   - First 10 ms. A signer that finishes at once (otactl local signs a
//     1 MiB image in a few milliseconds) is seen finished after one short
//     wait instead of a fixed 200 ms: the wait was most of `otactl create`'s
//     wall time against otactl local. On AWS the job is never done that
//     fast, and the extra calls cost nothing but a few requests.
//   - Doubling. AWS Signer jobs take seconds. Doubling finds the end within
//     its own length again at worst (a job done at 2.6 s is seen by 5.1 s)
//     with few calls: the call times are 0, 10, 30, 70, 150, 310, 630 ms,
//     1.27, 2.55, 5.11 s: 7 calls in the first second, 9 in the first 5 s.
//   - Cap 5 s. After that one call every 5 s (0.2 per second) for as long as
//     the signing timeout allows: 128 calls in the default 10 minutes,
//     far under Signer's per-second API quotas even with several updates
//     created at once, and a job that ends is seen within 5 s.
//   - No server hint to honour: Signer's DescribeSigningJob sends none
//     (no Retry-After, no estimate). A ThrottlingException is retried by
//     the SDK's standard retryer with its own jittered backoff before the
//     pipeline sees it. The schedule has no jitter of its own: a caller
//     polls one job, and the doubling spreads calls apart quickly.
//
// Pipeline.PollInterval, when set, replaces First (tests and rehearsals);
// the doubling and the cap stay.
type pollSchedule struct {
	First time.Duration // the wait after the first call
	Max   time.Duration // no wait is longer
}

var signingPoll = pollSchedule{First: 10 * time.Millisecond, Max: 5 * time.Second}

// Next is the wait after one of wait: double, capped at Max.
func (p pollSchedule) Next(wait time.Duration) time.Duration {
	if wait <= 0 {
		return p.First
	}
	if wait >= p.Max/2 {
		return p.Max
	}
	return 2 * wait
}
