package cli

import (
	"github.com/spf13/cobra"
)

// fallbackExamples are the help examples of commands whose files do not
// set their own; a command's own Example always wins.
var fallbackExamples = map[string]string{
	"list": `  otactl list --endpoint-url http://127.0.0.1:4566
  otactl list -o json | jq -r '.[].otaUpdateId'`,
	"describe": `  otactl describe sensor-fw-1-4-0
  otactl describe AFR_OTA-sensor-fw-1-4-0 --executions
  otactl describe arn:aws:iot:eu-west-1:123456789012:job/AFR_OTA-sensor-fw-1-4-0 -o json`,
	"cancel": `  otactl cancel sensor-fw-1-4-0
  otactl cancel sensor-fw-1-4-0 --force   # also stop devices in progress`,
	"delete": `  otactl delete sensor-fw-1-4-0
  otactl delete sensor-fw-1-4-0 --purge-signed-objects
  otactl delete sensor-fw-1-4-0 --force   # a job with devices in progress`,
	"demo": `  otactl demo
  otactl demo --devices 50 --drop-rate 0.05
  otactl demo -o json | jq .update.job.status`,
}

// noProgress are commands that report nothing while they work: --quiet
// would do nothing there, so it is hidden (and still accepted, for the
// scripts that pass it).
var noProgress = map[string]bool{"list": true, "describe": true, "cancel": true, "delete": true}

// finishCommands applies what holds for every command of the tree: help
// examples, flags only where they do something, shell completions.
func finishCommands(root *cobra.Command) {
	for _, c := range root.Commands() {
		if c.Example == "" {
			c.Example = fallbackExamples[c.Name()]
		}
		if noProgress[c.Name()] {
			if f := c.Flags().Lookup("quiet"); f != nil {
				f.Hidden = true
			}
		}
	}
	registerCompletions(root)
}
