package ota

import "time"

// pollSchedule is how the pipeline waits for a signing job: the first
// DescribeSigningJob goes First after StartSigningJob returned, and each
// later one a fixed fraction of the job's age (the time since
// StartSigningJob returned) after the one before, at least First and at
// most Max.
//
// Why (signingPoll):
//   - No call at once. A job is never done within the round trip that
//     started it: on AWS signing takes a second or more, and otactl local
//     signs a 1 MiB image in about 3-4 ms. A call at age 0 only spent a
//     request of Signer's per-second quota (on AWS) and CPU the signer
//     could use (on otactl local, the same two cores).
//   - A quarter of the age. A job is seen finished at most a quarter of
//     its age late (plus one call's round trip): a job done at 2.6 s is
//     seen by about 3.2 s, one done at 12 ms by 15 ms. The waits grow by
//     a quarter each call, so the calls thin out as fast as the job is
//     slow: 21 in the first second, 28 in the first 5 s, then one per Max.
//     The schedule this replaced doubled each wait (5, 10, 20 … ms): fewer
//     calls (8 in the first second, 10 in 5 s), but a job was seen up to
//     its own age late (done at 2.6 s, seen at 5.1 s; done at 16 ms, seen
//     at 35 ms).
//   - First 5 ms. otactl local signs a 1 MiB image in about 3-4 ms (more
//     on a busy machine): the call at 5 ms usually sees it done, and
//     polling every 5 ms while the job is younger than 20 ms sees it within
//     about 5 ms of its end. A shorter floor buys a millisecond or two for
//     more calls that compete with the signer for the same cores. On AWS
//     the first three calls (in 15 ms) are wasted, a burst Signer's
//     per-second quotas absorb; from the second call on, a call's own
//     round trip there (tens of ms) outweighs the floor anyway.
//   - Cap 5 s. After about 20 s, one call every 5 s (0.2 per second) for as
//     long as the signing timeout allows: 150 calls in the default
//     10 minutes, far under Signer's per-second quotas even with several
//     updates created at once, and a job that ends is seen within 5 s.
//   - No server hint to honour: Signer's DescribeSigningJob sends none
//     (no Retry-After, no estimate). A ThrottlingException is retried by
//     the SDK's standard retryer with its own jittered backoff before the
//     pipeline sees it. No jitter of its own: a caller polls one job, and
//     the waits spread apart as the job ages.
//
// Pipeline.PollInterval, when set, replaces First (tests and rehearsals);
// the growth and the cap stay.
type pollSchedule struct {
	First time.Duration // the least wait
	Max   time.Duration // no wait is longer
	Share int           // a wait is age/Share
}

var signingPoll = pollSchedule{First: 5 * time.Millisecond, Max: 5 * time.Second, Share: 4}

// Wait is the wait after a call made when the job was age old; Wait(0)
// is the wait before the first call.
func (p pollSchedule) Wait(age time.Duration) time.Duration {
	w := age / time.Duration(p.Share)
	if w < p.First {
		return p.First
	}
	return min(w, p.Max)
}
