package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/otactl/otactl/local/jobs"
	"github.com/otactl/otactl/ota"
)

// TestRehearse runs the README's example spec on 1,000 simulated devices
// with 5% failures for a simulated week, as a user would, and checks that
// the JSON summary agrees with itself and with the engine's records.
func TestRehearse(t *testing.T) {
	var out, errb bytes.Buffer
	code := Main([]string{"rehearse", "../../examples/firmware-update.yaml", "--devices", "1000", "--failure-rate", "0.05",
		"--duration", "168h", "--seed", "7", "--start", "2030-01-07T00:00:00Z", "-o", "json"}, &out, &errb)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	var r struct {
		Status  string         `json:"status"`
		Counts  map[string]int `json:"jobProcessDetails"`
		Retries int            `json:"retries"`
		Rollout []struct {
			Things int `json:"things"`
		} `json:"rollout"`
		Timeline []struct {
			Kind string `json:"kind"`
		} `json:"timeline"`
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if r.Status != "COMPLETED" {
		t.Fatalf("status %s", r.Status)
	}
	// The engine's self-check (summary against its records) is not user
	// output: read it from the engine, same spec, same seed.
	spec, err := ota.LoadSpecFile("../../examples/firmware-update.yaml")
	if err != nil {
		t.Fatal(err)
	}
	direct, err := jobs.Rehearse(spec, jobs.RehearsalConfig{Devices: 1000, FailureRate: 0.05, Duration: 168 * time.Hour, Seed: 7,
		Start: time.Date(2030, 1, 7, 0, 0, 0, 0, time.UTC)})
	if err != nil || !direct.Consistent || direct.Retries != r.Retries {
		t.Fatalf("engine: err %v, consistent %v, retries %d vs %d", err, direct != nil && direct.Consistent, direct.Retries, r.Retries)
	}
	for _, k := range []string{"consistent", "recounted", "wallNanos"} {
		if strings.Contains(out.String(), `"`+k+`"`) {
			t.Errorf("self-check %q in the JSON output", k)
		}
	}
	total, rolled, retries := 0, 0, 0
	for _, n := range r.Counts {
		total += n
	}
	for _, w := range r.Rollout {
		rolled += w.Things
	}
	for _, ev := range r.Timeline {
		if ev.Kind == "retry" {
			retries++
		}
	}
	if total != 1000 || rolled != 1000 || retries != r.Retries || r.Retries == 0 {
		t.Fatalf("executions %d, rolled out %d, retries %d (timeline %d)", total, rolled, r.Retries, retries)
	}

	out.Reset()
	if code := Main([]string{"rehearse", "../../examples/firmware-update.yaml", "--devices", "20", "--start", "2030-01-07T00:00:00Z"}, &out, &errb); code != ExitOK ||
		!strings.Contains(out.String(), "window opened 2030-01-07 02:00") || strings.Contains(out.String(), "consistent") {
		t.Fatalf("table output (exit %d):\n%s", code, out.String())
	}
	for _, l := range strings.Split(out.String(), "\n") {
		if len([]rune(l)) > tableWidth || strings.TrimRight(l, " ") != l {
			t.Errorf("line over %d columns or with trailing space: %q", tableWidth, l)
		}
	}
	if code := Main([]string{"rehearse", "../../examples/firmware-update.yaml", "--failure-rate", "2"}, &out, &errb); code != ExitInvalid {
		t.Fatalf("bad rate: exit %d", code)
	}
}
