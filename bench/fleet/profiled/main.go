// Command profiled is otactl with profiling switches for bench/fleet
// -profile: SIGUSR1 starts a CPU profile into $OTACTL_PROFILE_DIR/cpu.pprof,
// SIGUSR2 stops it and writes heap.pprof and goroutine.txt beside it, so
// that the profile covers the fleet run only (not seeding). It is a
// separate binary so that otactl itself carries no profiling switches.
package main

import (
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
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
	for s := range sig {
		switch {
		case s == syscall.SIGUSR1 && cpu == nil:
			f, err := os.Create(filepath.Join(dir, "cpu.pprof"))
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
			write(filepath.Join(dir, "heap.pprof"), "heap", 0)
			write(filepath.Join(dir, "goroutine.txt"), "goroutine", 1)
			fmt.Fprintln(os.Stderr, "profiled: profiles written to", dir)
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
