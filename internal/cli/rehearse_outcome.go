package cli

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/otactl/otactl/campaign"
	"github.com/otactl/otactl/local/jobs"
)

// rehearse's exit code is the rehearsal's outcome, so that a pipeline can
// gate on it: 1 when the job aborted, when targets never got the update,
// or when the simulated time ran out first; --fail-on chooses which of
// these fail (none: always 0 once the rehearsal ran). A campaign spec keeps
// the same three words: abort is the campaign aborting, not-rolled-out the
// devices no stage's job reached, unfinished a campaign that did not
// complete — paused on a failed gate, or still running when the time ran
// out — since a pipeline waiting on it would wait for a human either way.

// failOnChoices are --fail-on's values.
var failOnChoices = []string{"abort", "not-rolled-out", "unfinished"}

type failOnFlag struct{ on []string }

func (f *failOnFlag) register(fs *pflag.FlagSet) {
	fs.StringSliceVar(&f.on, "fail-on", failOnChoices, "outcomes that exit 1: "+strings.Join(failOnChoices, ", ")+" (a campaign: also paused on a failed gate), or none")
}

func (f *failOnFlag) check() error {
	for _, v := range f.on {
		if v != "none" && !slices.Contains(failOnChoices, v) {
			return invalid(fmt.Errorf("--fail-on %s: must be %s or none", v, strings.Join(failOnChoices, ", ")))
		}
	}
	return nil
}

// outcome is nil when the rehearsal ends as a pipeline would want.
func (f *failOnFlag) outcome(r *jobs.Rehearsal) error {
	var why []string
	if slices.Contains(f.on, "abort") && r.Aborted {
		why = append(why, fmt.Sprintf("the job aborted (%s)", strings.TrimSpace(r.ReasonCode+" "+r.Comment)))
	}
	if slices.Contains(f.on, "not-rolled-out") && r.NotRolledOut > 0 {
		why = append(why, fmt.Sprintf("%d of %d devices never got the update", r.NotRolledOut, r.Devices))
	}
	if slices.Contains(f.on, "unfinished") && !r.Finished {
		why = append(why, "the simulated time ran out before the job ended (--duration)")
	}
	if len(why) == 0 {
		return nil
	}
	return &exitError{ExitFailure, errors.New("rehearsal: " + strings.Join(why, "; ") + " (--fail-on none exits 0)")}
}

// campaignOutcome is outcome for a campaign rehearsal.
func (f *failOnFlag) campaignOutcome(r *jobs.CampaignRehearsal) error {
	var why []string
	if slices.Contains(f.on, "abort") && r.State == campaign.Aborted {
		why = append(why, "the campaign aborted"+lastEvent(r, "aborted"))
	}
	if slices.Contains(f.on, "not-rolled-out") && r.NotRolledOut > 0 {
		why = append(why, fmt.Sprintf("%d of %d devices never got the update", r.NotRolledOut, r.Devices))
	}
	if slices.Contains(f.on, "unfinished") {
		switch {
		case r.State == campaign.Paused:
			why = append(why, "the campaign paused on a failed gate and never completed"+lastEvent(r, "paused"))
		case r.State != campaign.Completed && r.State != campaign.Aborted:
			why = append(why, "the simulated time ran out before the campaign ended (--duration)")
		}
	}
	if len(why) == 0 {
		return nil
	}
	return &exitError{ExitFailure, errors.New("rehearsal: " + strings.Join(why, "; ") + " (--fail-on none exits 0)")}
}

// lastEvent is " (detail)" of the timeline's last event of kind (the
// detail names the stage).
func lastEvent(r *jobs.CampaignRehearsal, kind string) string {
	for i := len(r.Timeline) - 1; i >= 0; i-- {
		if ev := r.Timeline[i]; ev.Kind == kind {
			return " (" + ev.Detail + ")"
		}
	}
	return ""
}
