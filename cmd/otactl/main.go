// Command otactl creates and manages AWS IoT OTA updates with the full CreateJob
// configuration, and runs an embedded, AWS-compatible OTA environment locally.
package main

import (
	"os"
	"runtime/debug"
	"strings"

	"github.com/otactl/otactl/internal/cli"
)

func main() {
	shortRunGC(os.Args[1:])
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}

// shortLived are the commands that make a few calls and exit.
var shortLived = map[string]bool{"create": true, "plan": true, "describe": true, "list": true,
	"cancel": true, "delete": true, "version": true, "help": true, "completion": true}

// shortRunGC: a short command collects no garbage until its heap reaches
// 64 MiB (then the collector runs as usual). `otactl create` allocates
// ~10 MB in all and lives ~20 ms; with the default GOGC=100 and its 4 MB
// first goal it ran two collections, whose marking, sweeping and write
// barriers cost 3-5 ms of its ~20 ms CPU (perf stat, 15 runs, GOGC=off
// GOMEMLIMIT=64MiB against the default). The server and fleet commands
// keep the default: they run for hours and have memory targets. A GOGC
// or GOMEMLIMIT of the user's wins.
func shortRunGC(args []string) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			continue // a flag before the command (--debug)
		}
		if shortLived[a] {
			debug.SetGCPercent(-1)
			debug.SetMemoryLimit(64 << 20)
		}
		return
	}
}
