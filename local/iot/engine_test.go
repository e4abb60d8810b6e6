package iot_test

import (
	"fmt"
	"testing"

	"github.com/otactl/otactl/local/iot"
)

// TestRolloutInWaves: with DeferRollout the engine queues executions itself;
// the job does not complete while targets are still to be rolled out.
func TestRolloutInWaves(t *testing.T) {
	f := start(t)
	things := f.group(t, "g", 5)
	f.svc.DeferRollout = func(j *iot.Job) bool { return j.JobID == "waves" }
	f.job(t, "waves", groupArn("g"))
	if es := must(f.svc.Executions("waves", "")); len(es) != 0 {
		t.Fatalf("deferred job has executions: %d", len(es))
	}
	wave := must(f.svc.QueueExecutions("waves", 2))
	if fmt.Sprint(wave) != fmt.Sprint(things[:2]) {
		t.Fatalf("first wave: %v", wave)
	}
	for _, th := range wave {
		must(f.svc.UpdateExecution(th, "waves", iotUpdate("SUCCEEDED")))
	}
	if j := must(f.svc.Job("waves")); j.Status != "IN_PROGRESS" || !j.RolloutPending {
		t.Fatalf("job completed with targets left: %+v", j)
	}
	wave = must(f.svc.QueueExecutions("waves", 10))
	if fmt.Sprint(wave) != fmt.Sprint(things[2:]) {
		t.Fatalf("second wave: %v", wave)
	}
	if es := must(f.svc.Executions("waves", "QUEUED")); len(es) != 3 {
		t.Fatalf("queued: %d", len(es))
	}
	for _, th := range wave {
		must(f.svc.UpdateExecution(th, "waves", iotUpdate("FAILED")))
	}
	if j := must(f.svc.Job("waves")); j.Status != "COMPLETED" || j.RolloutPending {
		t.Fatalf("job after every wave ended: %+v", j)
	}
	checkCounts(t, f, "waves")
	if _, err := f.svc.QueueExecutions("waves", 1); err == nil {
		t.Fatal("queued executions of a completed job")
	}
	f.job(t, "direct", groupArn("g"))
	if js := must(f.svc.Jobs("IN_PROGRESS")); len(js) != 1 || js[0].JobID != "direct" || js[0].Counts.Queued != 5 {
		t.Fatalf("Jobs(IN_PROGRESS): %+v", js)
	}
	if _, err := f.svc.Executions("nope", ""); err == nil {
		t.Fatal("Executions of a missing job")
	}
}
