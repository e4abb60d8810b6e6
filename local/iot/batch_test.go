package iot_test

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/otactl/otactl/local/iot"
)

// Devices' reports share commits (store.Batch). Refused ones (a stale
// expectedVersion) fail alone, and every accepted report is counted once
// and announced once, after its commit.
func TestConcurrentReportsShareCommits(t *testing.T) {
	f := start(t)
	things := f.group(t, "batch", 24)
	f.job(t, "b", groupArn("batch"))
	var changed atomic.Int64
	f.svc.Subscribe(func(e iot.Event) {
		if e.Kind == iot.ExecutionChanged && e.JobID == "b" {
			changed.Add(1)
		}
	})
	var accepted, refused atomic.Int64
	var wg sync.WaitGroup
	for i, th := range things {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 1; r <= 3; r++ {
				u := iot.ExecutionUpdate{Status: "IN_PROGRESS", StatusDetails: map[string]string{"receive": "r"}}
				if i%3 == 0 && r == 2 {
					u.ExpectedVersion = 99 // refused
				}
				if _, err := f.svc.UpdateExecution(th, "b", u); err != nil {
					if u.ExpectedVersion != 99 {
						t.Error(err)
					}
					refused.Add(1)
					continue
				}
				accepted.Add(1)
			}
		}()
	}
	wg.Wait()
	if refused.Load() != 8 || changed.Load() != accepted.Load() {
		t.Fatalf("refused %d (want 8), accepted %d, announced %d", refused.Load(), accepted.Load(), changed.Load())
	}
	pd := checkCounts(t, f, "b")
	if *pd.NumberOfInProgressThings != 24 {
		t.Fatalf("in progress: %+v", pd)
	}
	for i, th := range things {
		e, err := f.svc.Execution(th, "b")
		want := int64(4)
		if i%3 == 0 {
			want = 3
		}
		if err != nil || e.VersionNumber != want {
			t.Fatalf("%s: version %d, want %d (%v)", th, e.VersionNumber, want, err)
		}
	}
}
