package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/otactl/otactl/campaign"
	"github.com/otactl/otactl/local/jobs"
)

// rehearseCampaign is otactl rehearse of a campaign spec.
// Its exit code is the campaign's outcome, by --fail-on (rehearse_outcome.go).
func rehearseCampaign(cmd *cobra.Command, path string, cfg jobs.RehearsalConfig, every time.Duration, out *outputFlag, failOn *failOnFlag) error {
	if every < time.Minute {
		return invalid(fmt.Errorf("--advance-every must be at least 1m, got %s", every))
	}
	spec, err := campaign.LoadFile(path)
	if err != nil {
		return invalid(err)
	}
	r, err := jobs.RehearseCampaign(spec, cfg, every)
	if err != nil {
		return campaignError(err)
	}
	if out.json() {
		if err := printJSON(cmd.OutOrStdout(), r); err != nil {
			return err
		}
	} else {
		printCampaignRehearsal(cmd.OutOrStdout(), r)
	}
	return failOn.campaignOutcome(r)
}

func printCampaignRehearsal(w io.Writer, r *jobs.CampaignRehearsal) {
	fmt.Fprintf(w, "Rehearsal of campaign %s: %d devices (%d offline), from %s UTC, advance every %s\n\n",
		r.CampaignID, r.Devices, r.Offline, r.Start.Format(stamp), r.AdvanceEvery)
	fmt.Fprintln(w, "Timeline:")
	for _, ev := range r.Timeline {
		fmt.Fprintf(w, "  %s  %-8s %-9s %s\n", ev.At.Format(stamp), ev.Stage, ev.Kind, ev.Detail)
	}
	fmt.Fprintln(w, "\nStages:")
	for _, s := range r.Stages {
		if !s.Started {
			fmt.Fprintf(w, "  %-8s not started\n", s.Name)
			continue
		}
		c := s.Counts
		fmt.Fprintf(w, "  %-8s %4d things, started %s, job %s: succeeded %d failed %d timed out %d in progress %d queued %d canceled %d\n",
			s.Name, s.Things, s.StartedAt.Format(stamp), s.Status, c.Succeeded, c.Failed, c.TimedOut, c.InProgress, c.Queued, c.Canceled)
	}
	fmt.Fprintf(w, "\nOutcome at %s UTC: campaign %s", r.End.Format(stamp), r.State)
	if !r.Finished {
		fmt.Fprint(w, " — the simulated time ran out first")
	}
	if r.NotRolledOut > 0 {
		fmt.Fprintf(w, "\n  %d of %d devices never got the update", r.NotRolledOut, r.Devices)
	}
	fmt.Fprintf(w, "\nRehearsed in %s of wall time (%d advances)\n", r.Wall.Round(time.Millisecond), r.Advances)
}
