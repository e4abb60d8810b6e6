package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/otactl/otactl/campaign"
	"github.com/otactl/otactl/ota"
)

func init() { extraCommands = append(extraCommands, newCampaignCmd) }

// campaignFlags are shared by the campaign subcommands.
type campaignFlags struct {
	file           string
	cf             cloudFlags
	out            outputFlag
	at             string
	signingTimeout time.Duration
	force          bool
}

func newCampaignCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "campaign",
		Short: "Release an update in stages (canary, a share, the rest) with a gate after each",
		Long: `A campaign delivers one OTA update in ordered stages. A stage targets thing
groups, or a share (percent) of a group's things chosen by a hash of the thing
name (the same things every run), made into a static thing group named
<otaUpdateId>-<stage>. The firmware is signed and streamed once; each stage is
its own job with the same document, so every job option (rollout rate, abort
rules, retries, timeouts, windows) applies inside each stage.

A gate after each stage says when the next may start: at least minFinished
executions finished, minSuccessPercent of the stage's things succeeded, the
failed share below maxFailurePercent, and a bake time from the stage's start
or from the moment the thresholds were met. A failed gate pauses or aborts
the campaign (onFailure).

All state is in AWS (tags on the stage jobs and groups): any machine with
credentials and the spec can run status or advance. advance is idempotent:
run it from cron or a CI schedule. It exits 1 when it paused or aborted the
campaign because a gate failed.

  otactl campaign plan -f campaign.yaml       check and show the stages; changes nothing
  otactl campaign start -f campaign.yaml      sign, stream, first stage
  otactl campaign advance -f campaign.yaml    evaluate the gate; next stage if it passed
  otactl campaign status CAMPAIGN             (or -f campaign.yaml)
  otactl campaign pause|resume|abort CAMPAIGN (or -f campaign.yaml)

otactl rehearse campaign.yaml runs the whole campaign on a simulated fleet and clock.`,
	}
	for _, sub := range []struct {
		use, short string
		byID       bool
		run        func(*cobra.Command, *campaignFlags, string) error
	}{
		{"plan", "Check a campaign spec against AWS and show its stages and state; changes nothing", false, runCampaignPlan},
		{"start", "Check everything, make the share groups, sign and stream once, start the first stage", false, runCampaignStart},
		{"status", "Show each stage's job and the current gate's evaluation", true, runCampaignStatus},
		{"advance", "Evaluate the current stage's gate: start the next stage when it passed (idempotent)", false, runCampaignAdvance},
		{"pause", "Stop the campaign from advancing (the running stage's job goes on)", true, runCampaignState},
		{"resume", "Let a paused campaign advance again", true, runCampaignState},
		{"abort", "Cancel every running stage job; no later stage starts", true, runCampaignState},
	} {
		f := &campaignFlags{}
		use := sub.use + " -f SPEC"
		args := cobra.NoArgs
		if sub.byID {
			use, args = sub.use+" (CAMPAIGN | -f SPEC)", cobra.MaximumNArgs(1)
		}
		run, byID := sub.run, sub.byID
		c := &cobra.Command{Use: use, Short: sub.short, Args: args,
			RunE: func(cmd *cobra.Command, args []string) error {
				if err := f.out.check(); err != nil {
					return err
				}
				id := ""
				if len(args) == 1 {
					id = args[0]
				}
				switch {
				case id != "" && f.file != "":
					return invalid(errors.New("give a campaign id or -f SPEC, not both"))
				case id == "" && f.file == "":
					if byID {
						return invalid(errors.New("give a campaign id or -f SPEC"))
					}
					return invalid(errors.New("-f SPEC is required"))
				}
				return run(cmd, f, id)
			}}
		fs := c.Flags()
		fs.StringVarP(&f.file, "file", "f", "", "campaign spec file (YAML or JSON)")
		f.cf.register(fs)
		f.out.register(fs)
		fs.StringVar(&f.at, "at", "", "evaluate gates as of this time (RFC 3339), to see when a bake ends")
		fs.MarkHidden("at")
		if sub.use == "start" {
			fs.DurationVar(&f.signingTimeout, "signing-timeout", 10*time.Minute, "how long to wait for each signing job")
		}
		if sub.use == "abort" {
			fs.BoolVar(&f.force, "force", false, "also cancel executions in progress (devices mid-update)")
		}
		cmd.AddCommand(c)
	}
	return cmd
}

// runner loads the spec (if any) and builds a campaign runner over AWS.
func (f *campaignFlags) runner(cmd *cobra.Command) (*campaign.Runner, *campaign.Spec, func(), error) {
	var spec *campaign.Spec
	if f.file != "" {
		s, err := campaign.LoadFile(f.file)
		if err != nil {
			return nil, nil, nil, invalid(err)
		}
		spec = s
	}
	now := time.Now
	if f.at != "" {
		t, err := time.Parse(time.RFC3339, f.at)
		if err != nil {
			return nil, nil, nil, invalid(fmt.Errorf("--at: want RFC 3339: %v", err))
		}
		now = func() time.Time { return t }
	}
	// plan and start report the spec's problems with AWS's (missing
	// groups) at once; the others need a well-formed spec to read state.
	if spec != nil && cmd.Name() != "plan" && cmd.Name() != "start" {
		if errs := campaign.Validate(spec, now()); len(errs) > 0 {
			return nil, nil, nil, invalid(errs)
		}
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
	cmd.SetContext(ctx)
	cloud, err := newCloud(ctx, &f.cf)
	if err != nil {
		stop()
		return nil, nil, nil, err
	}
	progress := f.cf.progress(cmd.ErrOrStderr())
	r := &campaign.Runner{Cloud: cloud, Now: now, Progress: progress,
		Publisher: &ota.Pipeline{Cloud: cloud, Now: now, SigningTimeout: f.signingTimeout, Progress: progress}}
	done := func() {
		if progress != nil {
			fmt.Fprint(cmd.ErrOrStderr(), "\r\033[K")
		}
		stop()
	}
	return r, spec, done, nil
}

// campaignError maps a campaign failure to its exit code.
func campaignError(err error) error {
	var es ota.Errors
	switch {
	case errors.As(err, &es), errors.Is(err, campaign.ErrUpdateChanged):
		return invalid(err)
	}
	return cloudError(err)
}

func runCampaignPlan(cmd *cobra.Command, f *campaignFlags, _ string) error {
	r, spec, done, err := f.runner(cmd)
	if err != nil {
		return err
	}
	defer done()
	p, err := r.Plan(cmd.Context(), spec)
	if err != nil {
		return campaignError(err)
	}
	if f.out.json() {
		return printJSON(cmd.OutOrStdout(), p)
	}
	w := cmd.OutOrStdout()
	fmt.Fprintf(w, "Campaign %s: %d stages, the update signed and streamed once\n", p.CampaignID, len(p.Stages))
	for i, st := range p.Stages {
		what := "thing groups " + strings.Join(st.Groups, ", ")
		if st.Share != nil {
			verb := "to be made"
			if st.Materialised {
				verb = "made"
			}
			what = fmt.Sprintf("%v%% of %s → static group %s (%s)", st.Share.Percent, st.Share.Group, st.Groups[0], verb)
		}
		fmt.Fprintf(w, "  %d. %-10s job %s\n     %s: %d things %s\n     gate: %s\n", i+1, st.Name, st.JobID, what, len(st.Things), sampleThings(st.Things), gateText(spec.Stages[i].Gate))
	}
	fmt.Fprintln(w)
	printCampaignStatus(w, p.Status)
	return nil
}

func sampleThings(ts []string) string {
	if len(ts) <= 4 {
		return "(" + strings.Join(ts, ", ") + ")"
	}
	return fmt.Sprintf("(%s, ... %d more)", strings.Join(ts[:3], ", "), len(ts)-3)
}

func gateText(g campaign.Gate) string {
	parts := []string{fmt.Sprintf("at least %d finished", g.MinFinished), fmt.Sprintf("success ≥ %v%%", g.MinSuccessPercent)}
	if g.MaxFailurePercent != nil {
		parts = append(parts, fmt.Sprintf("failures < %v%%", *g.MaxFailurePercent))
	}
	from := g.BakeFrom
	if from == "" {
		from = campaign.BakeFromStageStart
	}
	on := g.OnFailure
	if on == "" {
		on = campaign.OnFailurePause
	}
	parts = append(parts, fmt.Sprintf("bake %s from %s", g.BakeDuration(), from), "on failure "+on)
	return strings.Join(parts, ", ")
}

func runCampaignStart(cmd *cobra.Command, f *campaignFlags, _ string) error {
	r, spec, done, err := f.runner(cmd)
	if err != nil {
		return err
	}
	defer done()
	rep, err := r.Start(cmd.Context(), spec)
	return printReport(cmd, f, rep, err)
}

func runCampaignAdvance(cmd *cobra.Command, f *campaignFlags, _ string) error {
	r, spec, done, err := f.runner(cmd)
	if err != nil {
		return err
	}
	defer done()
	rep, err := r.Advance(cmd.Context(), spec)
	if err := printReport(cmd, f, rep, err); err != nil {
		return err
	}
	if rep.Action == campaign.Paused || rep.Action == campaign.Aborted {
		return fmt.Errorf("campaign %s %s: a gate failed", rep.CampaignID, rep.Action)
	}
	return nil
}

func runCampaignStatus(cmd *cobra.Command, f *campaignFlags, id string) error {
	r, spec, done, err := f.runner(cmd)
	if err != nil {
		return err
	}
	defer done()
	if spec != nil {
		id = spec.ID()
	}
	st, err := r.Status(cmd.Context(), id, spec)
	if err != nil {
		return campaignError(err)
	}
	if st.Current < 0 && spec == nil {
		return notFound(fmt.Errorf("campaign %s: no stage job found", id))
	}
	if f.out.json() {
		return printJSON(cmd.OutOrStdout(), st)
	}
	printCampaignStatus(cmd.OutOrStdout(), st)
	return nil
}

func runCampaignState(cmd *cobra.Command, f *campaignFlags, id string) error {
	r, spec, done, err := f.runner(cmd)
	if err != nil {
		return err
	}
	defer done()
	if spec != nil {
		id = spec.ID()
	}
	var rep *campaign.Report
	switch cmd.Name() {
	case "pause":
		rep, err = r.Pause(cmd.Context(), id, spec)
	case "resume":
		rep, err = r.Resume(cmd.Context(), id, spec)
	default:
		rep, err = r.Abort(cmd.Context(), id, spec, f.force)
	}
	return printReport(cmd, f, rep, err)
}

func printReport(cmd *cobra.Command, f *campaignFlags, rep *campaign.Report, err error) error {
	if err != nil {
		return campaignError(err)
	}
	if f.out.json() {
		return printJSON(cmd.OutOrStdout(), rep)
	}
	w := cmd.OutOrStdout()
	change := "no change"
	if rep.Changed {
		change = rep.Action
	}
	fmt.Fprintf(w, "%s %s: %s — %s\n\n", rep.Operation, rep.CampaignID, change, rep.Message)
	printCampaignStatus(w, rep.Status)
	return nil
}

func printCampaignStatus(w io.Writer, st *campaign.Status) {
	if st == nil {
		return
	}
	fmt.Fprintf(w, "Campaign %s: %s", st.CampaignID, st.State)
	if cur := st.CurrentStage(); cur != nil {
		fmt.Fprintf(w, " (stage %d of %d: %s)", cur.Index+1, len(st.Stages), cur.Name)
	}
	fmt.Fprintln(w)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "  STAGE\tJOB\tSTATUS\tSTARTED\tTHINGS\tSUCCEEDED\tFAILED\tGATE")
	for _, ss := range st.Stages {
		if !ss.Started {
			fmt.Fprintf(tw, "  %s\t%s\tnot started\t\t\t\t\t%s\n", ss.Name, ss.JobID, "")
			continue
		}
		c := ss.Counts
		gate := ""
		if ev := ss.Evaluation; ev != nil {
			gate = ev.Verdict
			if len(ev.Reasons) > 0 {
				gate += ": " + strings.Join(ev.Reasons, "; ")
			}
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\n", ss.Name, ss.JobID, ss.JobStatus, ss.StartedAt.UTC().Format("2006-01-02 15:04"),
			ss.Things, c["SUCCEEDED"], c["FAILED"]+c["TIMED_OUT"]+c["REJECTED"], gate)
	}
	tw.Flush()
}
