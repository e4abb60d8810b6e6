package cli

import (
	"context"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/otactl/otactl/ota"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// completeEnums gives shell completion the values of enum flags.
func completeEnums(fs *pflag.FlagSet, enums map[string][]string) {
	for name, values := range enums {
		if f := fs.Lookup(name); f != nil {
			vals := values
			if f.Annotations == nil {
				f.Annotations = map[string][]string{}
			}
			// cobra reads completions from a registry keyed by the flag;
			// the command is not known here, so keep them on the flag
			// and let finishCommands register them.
			f.Annotations[enumAnnotation] = vals
		}
	}
}

const enumAnnotation = "otactl_enum"

// registerCompletions walks the tree: enum flags complete their values,
// and commands that take an UPDATE_ID complete the updates that exist.
func registerCompletions(c *cobra.Command) {
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if vals, ok := f.Annotations[enumAnnotation]; ok {
			_ = c.RegisterFlagCompletionFunc(f.Name, cobra.FixedCompletions(vals, cobra.ShellCompDirectiveNoFileComp))
		}
	})
	if strings.Contains(c.Use, "UPDATE_ID") && c.ValidArgsFunction == nil {
		c.ValidArgsFunction = completeUpdateIDs
	}
	for _, sub := range c.Commands() {
		registerCompletions(sub)
	}
}

// replacedJob matches the suffix of an update's later jobs (create --replace).
var replacedJob = regexp.MustCompile(`-r[0-9]+$`)

// completeUpdateIDs lists the OTA updates in the account (ListJobs through
// the Cloud, with the command's --profile/--region/--endpoint-url), quietly
// offering nothing when AWS cannot be reached.
func completeUpdateIDs(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
	none := cobra.ShellCompDirectiveNoFileComp
	if len(args) > 0 {
		return nil, none
	}
	var cf cloudFlags
	cf.profile, _ = cmd.Flags().GetString("profile")
	cf.region, _ = cmd.Flags().GetString("region")
	cf.endpoint, _ = cmd.Flags().GetString("endpoint-url")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	cloud, err := newCloud(ctx, &cf)
	if err != nil {
		return nil, none
	}
	jobs, err := cloud.ListJobs(ctx)
	if err != nil {
		return nil, none
	}
	return updateIDs(jobs, toComplete), none
}

// updateIDs are the update ids of OTA jobs (AFR_OTA-<id>), an update's
// replacement jobs (-r2, -r3) folded into it.
func updateIDs(jobs []ota.JobSummary, prefix string) []string {
	seen := map[string]bool{}
	for _, j := range jobs {
		if id, ok := strings.CutPrefix(j.JobID, ota.JobIDPrefix); ok {
			seen[id] = true
		}
	}
	var out []string
	for id := range seen {
		if base := replacedJob.ReplaceAllString(id, ""); base != id && seen[base] {
			continue
		}
		if strings.HasPrefix(id, prefix) {
			out = append(out, id)
		}
	}
	sort.Slice(out, func(a, b int) bool { return thingLess(out[a], out[b]) })
	return out
}
