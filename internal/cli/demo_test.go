package cli

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestDemoEndToEnd(t *testing.T) {
	code, out, errOut := run(t, "demo", "--devices", "8", "--failing-devices", "2")
	if code != 0 {
		t.Fatalf("demo: exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"Created OTA update demo-fw-1-0-0", "Status      COMPLETED", "SUCCEEDED 8", "demo-device-08", "sensor-fw@1.0.0", `"afr_ota"`} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}

	code, out, errOut = run(t, "demo", "--devices", "5", "--failing-devices", "1", "-o", "json")
	if code != 0 {
		t.Fatalf("demo json: exit %d\n%s", code, errOut)
	}
	var rep struct {
		Fleet struct {
			Stats struct{ Devices, Succeeded, Retried int }
		}
		Update struct {
			Executions []struct {
				Status          string
				ExecutionNumber int64
				Packages        map[string]string
			}
		}
	}
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("demo JSON: %v\n%s", err, out)
	}
	s := rep.Fleet.Stats
	if s.Devices != 5 || s.Succeeded != 5 || s.Retried != 1 {
		t.Fatalf("fleet stats %+v: want 5 devices, 5 succeeded, 1 retried", s)
	}
	retried := 0
	for _, e := range rep.Update.Executions {
		if e.Status != "SUCCEEDED" {
			t.Fatalf("execution %+v did not succeed", e)
		}
		if e.Packages["sensor-fw"] != "1.0.0" {
			t.Fatalf("execution %+v: the device should now report sensor-fw 1.0.0", e)
		}
		if e.ExecutionNumber == 2 {
			retried++
		}
	}
	if retried != 1 {
		t.Fatalf("the engine's records should show one retried execution, got %d", retried)
	}

	if code, _, _ := run(t, "demo", "--devices", "0"); code != ExitInvalid {
		t.Fatalf("--devices 0: exit %d, want %d", code, ExitInvalid)
	}
}
