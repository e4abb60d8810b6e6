package device

import (
	"reflect"
	"testing"
	"time"
)

// Retried counts devices that took one job more than once; two updates'
// jobs are not a retry (the review saw RETRIED 1 for a device whose
// executions all had RETRY 0).
func TestSummarizeRetried(t *testing.T) {
	results := []*Result{
		{Thing: "a", Status: "SUCCEEDED", Executions: 2, Jobs: []JobOutcome{{JobID: "AFR_OTA-1"}, {JobID: "AFR_OTA-2"}}},
		{Thing: "b", Status: "SUCCEEDED", Executions: 2, Jobs: []JobOutcome{{JobID: "AFR_OTA-1", ExecutionNumber: 1}, {JobID: "AFR_OTA-1", ExecutionNumber: 2}}},
		{Thing: "c", Status: "SUCCEEDED", Executions: 1, Jobs: []JobOutcome{{JobID: "AFR_OTA-1"}}},
	}
	if s := Summarize(results, time.Second); s.Retried != 1 || s.Executions != 5 {
		t.Fatalf("stats %+v", s)
	}
}

// Problems groups devices by status and reason with the thing's name
// taken out, the largest group first.
func TestReportProblems(t *testing.T) {
	rep := &Report{Devices: []*Result{
		{Thing: "dev-1", Status: StatusError, Err: "connect 127.0.0.1:8883 as dev-1: CONNECT: EOF"},
		{Thing: "dev-2", Status: "SUCCEEDED"},
		{Thing: "dev-3", Status: "FAILED", Jobs: []JobOutcome{{Reason: "rejected: 0xe7000000"}}},
		{Thing: "dev-10", Status: StatusError, Err: "connect 127.0.0.1:8883 as dev-10: CONNECT: EOF"},
	}}
	want := []Problem{
		{Status: StatusError, Reason: "connect 127.0.0.1:8883 as <thing>: CONNECT: EOF", Things: []string{"dev-1", "dev-10"}},
		{Status: "FAILED", Reason: "rejected: 0xe7000000", Things: []string{"dev-3"}},
	}
	if got := rep.Problems(); !reflect.DeepEqual(got, want) {
		t.Fatalf("Problems() = %+v", got)
	}
}
