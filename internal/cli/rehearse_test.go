package cli

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
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
		Status     string         `json:"status"`
		Consistent bool           `json:"consistent"`
		Counts     map[string]int `json:"jobProcessDetails"`
		Recounted  map[string]int `json:"recounted"`
		Retries    int            `json:"retries"`
		Rollout    []struct {
			Things int `json:"things"`
		} `json:"rollout"`
		Timeline []struct {
			Kind string `json:"kind"`
		} `json:"timeline"`
	}
	if err := json.Unmarshal(out.Bytes(), &r); err != nil {
		t.Fatalf("%v\n%s", err, out.String())
	}
	if !r.Consistent || r.Status != "COMPLETED" {
		t.Fatalf("status %s, consistent %v", r.Status, r.Consistent)
	}
	total, rolled, retries := 0, 0, 0
	for k, n := range r.Counts {
		total += n
		if r.Recounted[k] != n {
			t.Fatalf("%s: summary %d, records %d", k, n, r.Recounted[k])
		}
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
		!strings.Contains(out.String(), "window opened 2030-01-07 02:00") {
		t.Fatalf("table output (exit %d):\n%s", code, out.String())
	}
	if code := Main([]string{"rehearse", "../../examples/firmware-update.yaml", "--failure-rate", "2"}, &out, &errb); code != ExitInvalid {
		t.Fatalf("bad rate: exit %d", code)
	}
}
