// Command otactl creates and manages AWS IoT OTA updates with the full CreateJob
// configuration, and runs an embedded, AWS-compatible OTA environment locally.
package main

import (
	"os"

	"github.com/otactl/otactl/internal/cli"
)

func main() { os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr)) }
