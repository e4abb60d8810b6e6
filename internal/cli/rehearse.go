package cli

import (
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"github.com/spf13/cobra"

	"github.com/otactl/otactl/campaign"
	"github.com/otactl/otactl/local/jobs"
	"github.com/otactl/otactl/ota"
)

func init() { extraCommands = append(extraCommands, newRehearseCmd) }

func newRehearseCmd() *cobra.Command {
	var cfg jobs.RehearsalConfig
	var out outputFlag
	var start string
	var report string
	var advanceEvery time.Duration
	cmd := &cobra.Command{
		Use:   "rehearse SPEC",
		Short: "Rehearse a campaign's schedule, windows, rollout, retries and abort rules on a simulated fleet",
		Long: `rehearse runs the job configuration of SPEC (schedulingConfig, maintenance
windows, jobExecutionsRolloutConfig, timeoutConfig, jobExecutionsRetryConfig,
abortConfig) through the same job engine as otactl local, with a simulated
clock and a simulated fleet, and prints the timeline: when each wave rolled
out, in which window, the retries, timeouts and aborts, and the outcome.
Nothing is signed, uploaded or created anywhere; thing group targets are
filled with --devices simulated things.

Given a campaign spec (update + stages, see otactl campaign), rehearse runs
the campaign itself: the share groups, each stage's job, and otactl campaign
advance every --advance-every of simulated time, printing when each stage
started, how its gate was evaluated, and the outcome.`,
		Example: `  otactl rehearse examples/firmware-update.yaml --devices 1000 --failure-rate 0.05
  otactl rehearse spec.yaml --timeout-rate 0.02 --offline-rate 0.01 --duration 72h -o json
  otactl rehearse examples/campaign.yaml --devices 1000 --failure-rate 0.02`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := out.check(); err != nil {
				return err
			}
			for name, r := range map[string]float64{"--failure-rate": cfg.FailureRate, "--timeout-rate": cfg.TimeoutRate, "--offline-rate": cfg.OfflineRate} {
				if r < 0 || r > 1 {
					return invalid(fmt.Errorf("%s must be between 0 and 1, got %v", name, r))
				}
			}
			if cfg.FailureRate+cfg.TimeoutRate > 1 {
				return invalid(fmt.Errorf("--failure-rate plus --timeout-rate must be at most 1"))
			}
			if cfg.Devices < 1 || cfg.Devices > 100000 {
				return invalid(fmt.Errorf("--devices must be 1-100000, got %d", cfg.Devices))
			}
			if start != "" {
				t, err := time.Parse(time.RFC3339, start)
				if err != nil {
					return invalid(fmt.Errorf("--start: want RFC 3339 (2026-01-02T15:04:05Z): %v", err))
				}
				cfg.Start = t
			}
			if raw, err := os.ReadFile(args[0]); err == nil && campaign.IsCampaign(raw) {
				return rehearseCampaign(cmd, args[0], cfg, advanceEvery, &out)
			}
			spec, err := ota.LoadSpecFile(args[0])
			if err != nil {
				return invalid(err)
			}
			r, err := jobs.Rehearse(spec, cfg)
			if err != nil {
				return err
			}
			if err := writeRehearsalReport(report, r); err != nil {
				return err
			}
			if out.json() {
				return printJSON(cmd.OutOrStdout(), r)
			}
			printRehearsal(cmd.OutOrStdout(), r)
			return nil
		},
	}
	f := cmd.Flags()
	f.IntVar(&cfg.Devices, "devices", 1000, "simulated devices in the target thing groups")
	f.Float64Var(&cfg.FailureRate, "failure-rate", 0, "chance that an attempt ends FAILED")
	f.Float64Var(&cfg.TimeoutRate, "timeout-rate", 0, "chance that an attempt never reports (ends only by a timeout)")
	f.Float64Var(&cfg.OfflineRate, "offline-rate", 0, "share of devices that never come online")
	f.DurationVar(&cfg.Duration, "duration", 168*time.Hour, "simulated time to run at most")
	f.Int64Var(&cfg.Seed, "seed", 1, "random seed of the simulated fleet")
	f.StringVar(&start, "start", "", "simulated start time, RFC 3339 (default: now)")
	f.StringVar(&report, "report", "", "also write FILE.html: one self-contained page plotting the timeline (statuses, rollout rate, windows, retries, abort)")
	f.DurationVar(&advanceEvery, "advance-every", 15*time.Minute, "campaign specs: how often otactl campaign advance runs (as from cron), in simulated time")
	out.register(f)
	return cmd
}

const stamp = "2006-01-02 15:04"

func printRehearsal(w io.Writer, r *jobs.Rehearsal) {
	fmt.Fprintf(w, "Rehearsal of %s: %d devices (%d offline), from %s UTC\n\n", r.JobID, r.Devices, r.Offline, r.Start.Format(stamp))
	fmt.Fprintln(w, "Timeline:")
	type line struct {
		at   time.Time
		text string
	}
	var lines []line
	for _, ev := range r.Timeline {
		switch ev.Kind {
		case jobs.EventStarted, jobs.EventEnded, jobs.EventAborted, jobs.EventCompleted, jobs.EventCanceled:
			lines = append(lines, line{ev.At, fmt.Sprintf("%-9s %s", ev.Kind, ev.Detail)})
		}
	}
	for _, u := range r.Windows {
		where := "no maintenance window"
		if u.Window != nil {
			where = "window opened " + u.Window.Format(stamp)
		}
		lines = append(lines, line{u.FirstWave, fmt.Sprintf("rollout   %d things in %d waves until %s (%d-%d/min, %s)",
			u.Things, u.Waves, u.LastWave.Format("15:04"), u.MinRate, u.MaxRate, where)})
	}
	// Retries and timeouts, one line per day they happened on.
	type tally struct {
		first             time.Time
		retries, timeouts int
	}
	days := map[string]*tally{}
	for _, ev := range r.Timeline {
		if ev.Kind != jobs.EventRetry && ev.Kind != jobs.EventTimedOut {
			continue
		}
		d := ev.At.Format("2006-01-02")
		if days[d] == nil {
			days[d] = &tally{first: ev.At}
		}
		if ev.Kind == jobs.EventRetry {
			days[d].retries++
		} else {
			days[d].timeouts++
		}
	}
	for _, t := range days {
		lines = append(lines, line{t.first, fmt.Sprintf("failures  %d retried, %d timed out that day", t.retries, t.timeouts)})
	}
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].at.Before(lines[j].at) })
	for _, l := range lines {
		fmt.Fprintf(w, "  %s  %s\n", l.at.Format(stamp), l.text)
	}
	fmt.Fprintf(w, "\nRetries: %d   Timeouts: %d   Aborted: %v\n", r.Retries, r.TimedOut, r.Aborted)
	c := r.Counts
	fmt.Fprintf(w, "Outcome at %s UTC: job %s", r.End.Format(stamp), r.Status)
	if r.ReasonCode != "" {
		fmt.Fprintf(w, " (%s: %s)", r.ReasonCode, r.Comment)
	}
	if !r.Finished {
		fmt.Fprint(w, " — the simulated time ran out first")
	}
	fmt.Fprintln(w)
	fmt.Fprintf(w, "  succeeded %d  failed %d  timed out %d  rejected %d  canceled %d  removed %d  queued %d  in progress %d  not rolled out %d\n",
		c.Succeeded, c.Failed, c.TimedOut, c.Rejected, c.Canceled, c.Removed, c.Queued, c.InProgress, r.NotRolledOut)
	for pv, n := range r.Packages {
		fmt.Fprintf(w, "  %d devices now report %s\n", n, pv)
	}
	fmt.Fprintf(w, "Rehearsed in %s of wall time (summary consistent with the records: %v)\n", r.Wall.Round(time.Millisecond), r.Consistent)
}
