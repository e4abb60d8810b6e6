package jobs

import (
	"testing"
	"time"

	"github.com/otactl/otactl/ota"
)

// TestRehearseExampleSpec runs the README's example campaign for a week with
// 1,000 devices and 5% failures, and checks the summary against the records.
func TestRehearseExampleSpec(t *testing.T) {
	spec, err := ota.LoadSpecFile("../../examples/firmware-update.yaml")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	r, err := Rehearse(spec, RehearsalConfig{Devices: 1000, FailureRate: 0.05, Duration: 168 * time.Hour, Seed: 1, Start: start})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("status %s, counts %+v, windows %+v, retries %d, wall %v", r.Status, r.Counts, r.Windows, r.Retries, r.Wall)
	if !r.Consistent {
		t.Fatalf("summary %+v disagrees with the records %+v", r.Counts, r.Recounted)
	}
	if r.Status != "COMPLETED" || !r.Finished {
		t.Fatalf("status %s finished %v", r.Status, r.Finished)
	}
	if got := notified(r.Counts); got != 1000 {
		t.Fatalf("rolled out to %d things", got)
	}
	if r.Retries == 0 {
		t.Fatal("5% failures and no retry")
	}
	for _, w := range r.Windows {
		if w.Window == nil || w.FirstWave.Hour() < 2 || w.LastWave.Hour() >= 6 {
			t.Fatalf("wave outside the 02:00-06:00 window: %+v", w)
		}
		if w.MaxRate > 200 {
			t.Fatalf("rate above maximumPerMinute: %+v", w)
		}
	}
}

// BenchmarkRehearseWeek: the example campaign, 1,000 devices, 5% failures,
// 2% hangs, 1% offline, a simulated week (the job never completes: the
// offline devices stay queued).
func BenchmarkRehearseWeek(b *testing.B) {
	spec, err := ota.LoadSpecFile("../../examples/firmware-update.yaml")
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		r, err := Rehearse(spec, RehearsalConfig{Devices: 1000, FailureRate: 0.05, TimeoutRate: 0.02, OfflineRate: 0.01,
			Duration: 168 * time.Hour, Seed: int64(i), Start: time.Date(2030, 1, 7, 0, 0, 0, 0, time.UTC)})
		if err != nil || !r.Consistent {
			b.Fatal(err, r.Consistent)
		}
	}
}
