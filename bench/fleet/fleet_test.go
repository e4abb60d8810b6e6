package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otactl/otactl/bench/internal/localproc"
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
	o.Otactl = testOtactl(t)
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
	if localproc.LoadAvg() == "?" {
		t.Fatal("no load average")
	}
}

var built struct {
	once sync.Once
	dir  string
	bin  string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if built.dir != "" {
		os.RemoveAll(built.dir)
	}
	os.Exit(code)
}

// testOtactl builds otactl once for the tests of this package.
func testOtactl(t *testing.T) string {
	built.once.Do(func() {
		built.dir, built.err = os.MkdirTemp("", "otactl-bench-test-")
		if built.err != nil {
			return
		}
		built.bin, built.err = buildOtactl(context.Background(), built.dir, false, io.Discard)
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin
}

// TestScaleSmall runs the mutual-TLS scale mode with 20 devices and a
// rollout of 10 a minute: seeded over the SDK, certificates from
// device.Register, every device connected and idle, and exactly the first
// wave's 10 notified of the job. Figures are not checked (no timing
// assertions), only that each was measured.
func TestScaleSmall(t *testing.T) {
	o := ScaleOptions{Devices: 20, SeedConcurrency: 4, ConnectConcurrency: 8, Wave: 10, Otactl: testOtactl(t), Timeout: 2 * time.Minute}
	var log bytes.Buffer
	s, err := RunScale(context.Background(), o, &log)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if s.WaveDevices != 10 || s.Seed <= 0 || s.Connect <= 0 || s.Notified <= 0 || s.RSSIdleMiB <= 0 || s.PeakRSSMiB <= 0 {
		t.Fatalf("scale = %+v\n%s", s, log.String())
	}
	var out bytes.Buffer
	printScale(&out, s)
	for _, want := range []string{"things/s", "KiB per connection", "the first wave"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, out.String())
		}
	}
}
