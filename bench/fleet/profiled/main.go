// Command profiled is otactl with profiling switches for bench/fleet
// -profile: SIGUSR1 starts a CPU profile into $OTACTL_PROFILE_DIR/cpu-N.pprof,
// SIGUSR2 stops it and writes heap-N.pprof and goroutine-N.txt beside it
// (N counts the SIGUSR2s from 1), so that a profile covers one phase of a
// run (the fleet, not seeding). It is a
// separate binary so that otactl itself carries no profiling switches.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"syscall"

	"github.com/otactl/otactl/internal/cli"
)

func main() {
	if dir := os.Getenv("OTACTL_PROFILE_DIR"); dir != "" {
		go serveSignals(dir)
	}
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}

func serveSignals(dir string) {
	sig := make(chan os.Signal, 2)
	signal.Notify(sig, syscall.SIGUSR1, syscall.SIGUSR2)
	var cpu *os.File
	n := 1
	for s := range sig {
		switch {
		case s == syscall.SIGUSR1 && cpu == nil:
			// The allocations of the phase are heap-N less heap-start-N
			// (go tool pprof -sample_index=alloc_space -diff_base).
			write(filepath.Join(dir, fmt.Sprintf("heap-start-%d.pprof", n)), "heap", 0)
			f, err := os.Create(filepath.Join(dir, fmt.Sprintf("cpu-%d.pprof", n)))
			if err == nil && pprof.StartCPUProfile(f) == nil {
				cpu = f
			}
		case s == syscall.SIGUSR2:
			if cpu != nil {
				pprof.StopCPUProfile()
				cpu.Close()
				cpu = nil
			}
			runtime.GC()
			write(filepath.Join(dir, fmt.Sprintf("heap-%d.pprof", n)), "heap", 0)
			write(filepath.Join(dir, fmt.Sprintf("goroutine-%d.txt", n)), "goroutine", 1)
			writeMemStats(filepath.Join(dir, fmt.Sprintf("memstats-%d.txt", n)))
			// What a long idle would come to: each GC halves the stacks
			// that use under a quarter of theirs; freed memory returned.
			for i := 0; i < 4; i++ {
				runtime.GC()
			}
			debug.FreeOSMemory()
			writeMemStats(filepath.Join(dir, fmt.Sprintf("memstats-%d-settled.txt", n)))
			fmt.Fprintln(os.Stderr, "profiled: profiles", n, "written to", dir)
			n++
		}
	}
}

func write(path, profile string, debug int) {
	f, err := os.Create(path)
	if err != nil {
		return
	}
	defer f.Close()
	_ = pprof.Lookup(profile).WriteTo(f, debug)
}

// writeMemStats writes where the process's memory is (heap, stacks, what
// the runtime holds but does not use), in MiB.
func writeMemStats(path string) {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	mib := func(v uint64) float64 { return float64(v) / (1 << 20) }
	out := fmt.Sprintf("Sys %.1f\nHeapInuse %.1f\nHeapIdle %.1f\nHeapReleased %.1f\nStackInuse %.1f\nStackSys %.1f\nMSpanInuse %.1f\nGCSys %.1f\nOtherSys %.1f\nNumGoroutine %d\nNumGC %d\n",
		mib(m.Sys), mib(m.HeapInuse), mib(m.HeapIdle), mib(m.HeapReleased), mib(m.StackInuse), mib(m.StackSys),
		mib(m.MSpanInuse), mib(m.GCSys), mib(m.OtherSys), runtime.NumGoroutine(), m.NumGC)
	_ = os.WriteFile(path, []byte(out), 0o644)
}
