package ota

import "time"

// pollSchedule is how the pipeline waits between DescribeSigningJob calls:
// the first wait is short, then each wait doubles up to a cap.
//
// Why these numbers (signingPoll):
//   - First 5 ms. A signer that finishes at once (otactl local signs a
//     1 MiB image in about 10 ms) is seen finished within a few
//     milliseconds of the end instead of after a fixed 200 ms: that wait
//     was most of `otactl create`'s wall time against otactl local. On AWS
//     the job is never done that fast, and the early calls cost only a few
//     requests.
//   - Doubling. AWS Signer jobs take seconds. Doubling sees the end at
//     most about the job's own age late (a job done at 2.6 s is seen at
//     5.1 s) with few calls: the calls go out at 0, 5, 15, 35, 75, 155, 315,
//     635 ms, 1.275, 2.555, 5.115 s: 8 in the first second, 10 in 5 s.
//   - Cap 5 s. After that one call every 5 s (0.2 per second) for as long as
//     the signing timeout allows: 129 calls in the default 10 minutes, far
//     under Signer's per-second API quotas even with several updates
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

var signingPoll = pollSchedule{First: 5 * time.Millisecond, Max: 5 * time.Second}

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
