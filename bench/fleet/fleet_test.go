package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

// TestRunSmall runs the benchmark's core with a handful of devices and a
// small image, so that CI proves the program still works: otactl local as
// its own process, seeded and updated through the SDK, the fleet, and the
// mosquitto baseline. The figures are not checked (no timing assertions).
func TestRunSmall(t *testing.T) {
	o := Options{Devices: 5, ImageSize: 64 << 10, BlockSize: 4096, Window: 8, ProgressEvery: 64, Publishers: 2,
		Timeout: 2 * time.Minute, Rounds: 2}
	if _, err := findMosquitto(); err != nil {
		if os.Getenv("OTACTL_CI") == "1" {
			t.Fatalf("%v: CI must have it (.ci/run installs the mosquitto package)", err)
		}
		t.Logf("SKIPPING THE BASELINE: %v; only otactl local is measured", err)
		o.NoBaseline = true
	}
	var log bytes.Buffer
	r, err := Run(context.Background(), o, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	ours := r.Ours
	if ours.Fleet.Succeeded != 5 || ours.Fleet.Bytes != 5*64<<10 {
		t.Fatalf("fleet: %d succeeded, %d bytes; want 5 and %d", ours.Fleet.Succeeded, ours.Fleet.Bytes, 5*64<<10)
	}
	if ours.PeakRSSMiB <= 0 || ours.DownloadMBps <= 0 {
		t.Fatalf("no peak RSS (%v MiB) or download rate (%v MB/s) measured", ours.PeakRSSMiB, ours.DownloadMBps)
	}
	if !o.NoBaseline {
		b := r.Baseline
		if b == nil || b.Bytes != 5*64<<10 || b.Messages != 16 || b.MBps <= 0 || r.Ratio <= 0 {
			t.Fatalf("baseline = %+v, ratio %v", b, r.Ratio)
		}
	}

	if len(r.Rounds) != 2 {
		t.Fatalf("%d rounds, want 2", len(r.Rounds))
	}

	var out bytes.Buffer
	printResult(&out, r)
	for _, want := range []string{"otactl local (download)", "peak server RSS"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
	raw, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	var back map[string]any
	if err := json.Unmarshal(raw, &back); err != nil || back["ours"] == nil {
		t.Fatalf("JSON result: %v %s", err, raw)
	}
}

func TestOptionsAreChecked(t *testing.T) {
	if _, err := Run(context.Background(), Options{Devices: 0, ImageSize: 1, BlockSize: 4096, Window: 8}, &bytes.Buffer{}); err == nil {
		t.Fatal("0 devices accepted")
	}
}

func TestProcReaders(t *testing.T) {
	st, err := procStatus(os.Getpid())
	if err != nil || st["VmHWM"] <= 0 || st["VmRSS"] <= 0 {
		t.Fatalf("procStatus = %v, %v", st, err)
	}
	if loadAvg() == "?" {
		t.Fatal("no load average")
	}
}
