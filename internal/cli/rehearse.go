package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
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
	var sf specFlags
	var start string
	var report string
	var advanceEvery time.Duration
	var failOn failOnFlag
	cmd := &cobra.Command{
		Use:   "rehearse [SPEC]",
		Short: "Rehearse a campaign's schedule, windows, rollout, retries and abort rules on a simulated fleet",
		Long: `rehearse runs the job configuration of an update (schedulingConfig, maintenance
windows, jobExecutionsRolloutConfig, timeoutConfig, jobExecutionsRetryConfig,
abortConfig) through the same job engine as otactl local, with a simulated
clock and a simulated fleet, and prints the timeline: when each wave rolled
out, in which window, the retries, timeouts and aborts, and the outcome.
Nothing is signed, uploaded or created anywhere; thing group targets are
filled with --devices simulated things.

The update is given as plan and create take it: SPEC (or -f SPEC), --request
FILE, or the update flags; the job flags (--retries, --rollout-rate, ...)
override the file as they do there. --start is when the simulated clock
starts (` + timeForms + `, or +1h from now); the
spec's own schedulingConfig is rehearsed as written.

Given a campaign spec (update + stages, see otactl campaign), rehearse runs
the campaign itself: the share groups, each stage's job, and otactl campaign
advance every --advance-every of simulated time, printing when each stage
started, how its gate was evaluated, and the outcome.

The exit code is the outcome, so that a pipeline can gate on it: 1 when the
job aborted, when some devices never got the update, or when the simulated
time ran out before the job ended; for a campaign, 1 when it aborted, when
it paused on a failed gate and never completed, when some devices no stage
reached, or when the time ran out first. --fail-on picks which of these
fail; --fail-on none exits 0 whatever the outcome.`,
		Example: `  otactl rehearse examples/firmware-update.yaml --devices 1000 --failure-rate 0.05
  otactl rehearse -f spec.yaml --retries 3 --timeout-rate 0.02 --never-online-rate 0.01 --duration 72h -o json
  otactl rehearse --request create-ota-update.json --start 2026-12-05T00:00
  otactl rehearse examples/campaign.yaml --devices 1000 --failure-rate 0.02
  otactl rehearse examples/campaign.yaml --failure-rate 0.2 --fail-on none   # exit 0 even if a gate pauses it`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := out.check(); err != nil {
				return err
			}
			if err := failOn.check(); err != nil {
				return err
			}
			if len(args) == 1 {
				if sf.file != "" || sf.request != "" {
					return invalid(fmt.Errorf("give the spec once: as SPEC, -f SPEC or --request FILE"))
				}
				sf.file = args[0]
			}
			for name, r := range map[string]float64{"--failure-rate": cfg.FailureRate, "--timeout-rate": cfg.TimeoutRate, "--never-online-rate": cfg.OfflineRate} {
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
				t, err := parseTimeFlag("--start", start, time.Now())
				if err != nil {
					return invalid(err)
				}
				cfg.Start = t
			}
			if sf.file != "" {
				if raw, err := os.ReadFile(sf.file); err == nil && campaign.IsCampaign(raw) {
					return rehearseCampaign(cmd, sf.file, cfg, advanceEvery, &out, &failOn)
				}
			}
			if sf.file == "" && sf.request == "" && !sf.changed("update-id") {
				return invalid(fmt.Errorf("rehearse needs the update: SPEC, -f SPEC, --request FILE, or --update-id with --thing-group or --thing"))
			}
			spec, err := sf.spec(time.Now())
			if err != nil {
				return invalid(err)
			}
			packageARNs(spec)
			r, err := jobs.Rehearse(spec, cfg)
			if err != nil {
				return rehearseError(&sf, err)
			}
			if err := writeRehearsalReport(report, r); err != nil {
				return fmt.Errorf("--report %s: %w", report, err)
			}
			if out.json() {
				if err := printJSON(cmd.OutOrStdout(), rehearsalView(r)); err != nil {
					return err
				}
			} else {
				printRehearsal(cmd.OutOrStdout(), r)
			}
			return failOn.outcome(r)
		},
	}
	f := cmd.Flags()
	sf.noSchedule = true
	sf.register(f)
	f.IntVar(&cfg.Devices, "devices", 1000, "simulated devices in the target thing groups")
	f.Float64Var(&cfg.FailureRate, "failure-rate", 0, "chance that an attempt ends FAILED")
	f.Float64Var(&cfg.TimeoutRate, "timeout-rate", 0, "chance that an attempt never reports (ends only by a timeout)")
	f.Float64Var(&cfg.OfflineRate, "never-online-rate", 0, "share of devices that never come online")
	f.Float64Var(&cfg.OfflineRate, "offline-rate", 0, "same as --never-online-rate")
	deprecate(f, "offline-rate", "use --never-online-rate (in fleet, --offline-rate is a download that drops and resumes)")
	f.DurationVar(&cfg.Duration, "duration", 168*time.Hour, "simulated time to run at most")
	f.Int64Var(&cfg.Seed, "seed", 1, "random seed of the simulated fleet")
	f.StringVar(&start, "start", "", "when the simulated clock starts: "+timeForms+", or +1h (default: now)")
	f.StringVar(&report, "report", "", "also write FILE.html: one self-contained page plotting the timeline (statuses, rollout rate, windows, retries, abort)")
	f.DurationVar(&advanceEvery, "advance-every", 15*time.Minute, "campaign specs: how often otactl campaign advance runs (as from cron), in simulated time")
	failOn.register(f)
	out.register(f)
	return cmd
}

// rehearsalView is the rehearsal's JSON without the engine's self-checks
// (the recount and its verdict, the wall time), which tests read from
// jobs.Rehearse itself.
func rehearsalView(r *jobs.Rehearsal) any {
	raw, err := json.Marshal(r)
	if err != nil {
		return r
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return r
	}
	for _, k := range []string{"consistent", "recounted", "wallNanos"} {
		delete(m, k)
	}
	return m
}

const stamp = "2006-01-02 15:04"

func printRehearsal(w io.Writer, r *jobs.Rehearsal) {
	fmt.Fprintf(w, "Rehearsal of %s\n%d devices (%d never online), from %s UTC\n\n", r.JobID, r.Devices, r.Offline, r.Start.Format(stamp))
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
		lines = append(lines, line{u.FirstWave, fmt.Sprintf("rollout   %d things in %d waves until %s, %d-%d/min, %s",
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
		var parts []string
		if t.retries > 0 {
			parts = append(parts, fmt.Sprintf("%d retried", t.retries))
		}
		if t.timeouts > 0 {
			parts = append(parts, fmt.Sprintf("%d timed out", t.timeouts))
		}
		lines = append(lines, line{t.first, "failures  " + strings.Join(parts, ", ") + " that day"})
	}
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].at.Before(lines[j].at) })
	for _, l := range lines {
		// 20 columns of time, the kind in 10, the detail wrapped under itself.
		kind, detail, _ := strings.Cut(l.text, " ")
		fmt.Fprintf(w, "  %s  %s\n", l.at.Format(stamp), strings.TrimSpace(fmt.Sprintf("%-9s %s", kind,
			wrap(strings.TrimSpace(detail), tableWidth-30, strings.Repeat(" ", 30)))))
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
	fmt.Fprintf(w, "  succeeded %d, failed %d, timed out %d, rejected %d, canceled %d, removed %d\n",
		c.Succeeded, c.Failed, c.TimedOut, c.Rejected, c.Canceled, c.Removed)
	fmt.Fprintf(w, "  queued %d, in progress %d, not rolled out %d\n", c.Queued, c.InProgress, r.NotRolledOut)
	for pv, n := range r.Packages {
		fmt.Fprintf(w, "  %d devices now report %s\n", n, pv)
	}
	fmt.Fprintf(w, "Rehearsed in %s of wall time.\n", r.Wall.Round(time.Millisecond))
}

// packageARNs writes package@version references as the ARNs CreateJob
// takes (plan and create resolve them against the account; a rehearsal has
// none, so the engine's defaults stand in).
func packageARNs(s *ota.Spec) {
	for i, v := range s.DestinationPackageVersions {
		if name, version, ok := strings.Cut(v, "@"); ok && !strings.HasPrefix(v, "arn:") {
			s.DestinationPackageVersions[i] = "arn:aws:iot:us-east-1:000000000000:package/" + name + "/version/" + version
		}
	}
}

// rehearseError turns the engine's refusal of the job (its CreateJob
// answers InvalidRequestException, as AWS would) into invalid input with
// AWS's message, not the wire's.
func rehearseError(sf *specFlags, err error) error {
	msg := err.Error()
	i := strings.Index(msg, "{")
	var body struct {
		Type    string `json:"__type"`
		Message string `json:"message"`
	}
	if i >= 0 && json.Unmarshal([]byte(msg[i:]), &body) == nil && body.Type == "InvalidRequestException" {
		// "path: rule" in the words of the input (a flag, the file's line).
		path, rule, ok := strings.Cut(body.Message, ": ")
		if !ok {
			path, rule = "", body.Message
		}
		return invalid(sf.explain(ota.Errors{{Path: path, Rule: rule}}))
	}
	return sf.explain(err)
}
