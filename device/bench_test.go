package device_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/otactl/otactl/device"
	"github.com/otactl/otactl/device/devicetest"
)

// BenchmarkFleet runs a fleet (OTACTL_BENCH_DEVICES, default 100) that
// downloads a 1 MiB image over MQTT streams in 4 KiB blocks from the local
// broker, and reports the aggregate rate and completion percentiles:
//
//	OTACTL_BENCH_DEVICES=1000 go test -run '^$' -bench Fleet -benchtime 1x ./device
func BenchmarkFleet(b *testing.B) {
	n := 100
	if v, err := strconv.Atoi(os.Getenv("OTACTL_BENCH_DEVICES")); err == nil && v > 0 {
		n = v
	}
	for i := 0; i < b.N; i++ {
		e := devicetest.Start(b)
		things := make([]string, n)
		for j := range things {
			things[j] = fmt.Sprintf("bench-%d", j)
		}
		e.Things(things...)
		e.Job(devicetest.Update{ID: fmt.Sprintf("bench%d", i), Image: devicetest.Firmware(1 << 20)}, things...)
		base := e.Config("")
		base.KeepFiles, base.ProgressEvery, base.Reboot = false, -1, false
		base.RequestTimeout, base.ReplyTimeout = 5*time.Second, 30*time.Second
		f := &device.Fleet{Things: things, Base: base}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		b.ResetTimer()
		rep, err := f.Run(ctx)
		b.StopTimer()
		cancel()
		if err != nil {
			b.Fatal(err)
		}
		s := rep.Stats
		if !s.AllSucceeded() {
			b.Fatalf("%d of %d devices failed: %v", s.Failed, s.Devices, s.ByStatus)
		}
		b.ReportMetric(s.MBps, "MB/s")
		b.ReportMetric(s.P50.Seconds(), "p50-s")
		b.ReportMetric(s.P99.Seconds(), "p99-s")
		b.ReportMetric(float64(s.Bytes)/4096/s.Elapsed.Seconds(), "blocks/s")
	}
}
