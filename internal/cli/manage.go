package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/otactl/otactl/ota"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

func init() {
	extraCommands = append(extraCommands, newListCmd, newDescribeCmd, newCancelCmd, newDeleteCmd)
}

// manageCmd builds a command that reaches the cloud through an ota.Manager.
func manageCmd(use, short string, args cobra.PositionalArgs, run func(cmd *cobra.Command, m *ota.Manager, out *outputFlag, args []string) error) (*cobra.Command, *cloudFlags) {
	var cf cloudFlags
	var out outputFlag
	cmd := &cobra.Command{Use: use, Short: short, Args: args,
		RunE: func(cmd *cobra.Command, a []string) error {
			if err := out.check(); err != nil {
				return err
			}
			ctx, cancel := withTimeout(cmd.Context())
			defer cancel()
			cloud, err := newCloud(ctx, &cf)
			if err != nil {
				return err
			}
			cmd.SetContext(ctx)
			for i := range a {
				a[i] = updateArg(a[i]) // the id, AFR_OTA-<id> or the job ARN
			}
			return cloudError(run(cmd, &ota.Manager{Cloud: cloud}, &out, a))
		}}
	cf.register(cmd.Flags())
	out.register(cmd.Flags())
	return cmd, &cf
}

func newListCmd() *cobra.Command {
	var statuses []string
	cmd, _ := manageCmd("list", "List the OTA updates otactl made", cobra.NoArgs,
		func(cmd *cobra.Command, m *ota.Manager, out *outputFlag, _ []string) error {
			want, err := statusFilter(statuses, jobStatuses)
			if err != nil {
				return err
			}
			ups, err := m.List(cmd.Context())
			if err != nil {
				return err
			}
			kept := ups[:0]
			for _, u := range ups {
				if want == nil || want[u.Status] {
					kept = append(kept, u)
				}
			}
			ups = kept
			if out.json() {
				if ups == nil {
					ups = []ota.UpdateSummary{}
				}
				return printJSON(cmd.OutOrStdout(), ups)
			}
			var tb table // fits 80 columns
			tb.row("UPDATE", "STATUS", "SUCCEEDED", "TARGETS", "CREATED", "PROTOCOLS")
			for _, u := range ups {
				tb.row(u.UpdateID, u.Status, progressOf(u.Counts), firstTargets(u.Targets),
					stampUTC(u.CreatedAt), strings.Join(u.Protocols, "+"))
			}
			return tb.write(cmd.OutOrStdout())
		})
	cmd.Flags().StringSliceVar(&statuses, "status", nil, "only updates whose job has this status: "+strings.Join(jobStatuses, ", ")+" (repeatable)")
	cmd.Example = `  otactl list
  otactl list --status IN_PROGRESS,SCHEDULED
  otactl list -o json`
	return cmd
}

// jobStatuses and executionStatuses are AWS IoT's (JobStatus, JobExecutionStatus).
var (
	jobStatuses       = []string{"IN_PROGRESS", "CANCELED", "COMPLETED", "DELETION_IN_PROGRESS", "SCHEDULED"}
	executionStatuses = []string{"QUEUED", "IN_PROGRESS", "SUCCEEDED", "FAILED", "TIMED_OUT", "REJECTED", "REMOVED", "CANCELED"}
)

// statusFilter reads a --status list (any case); nil means every status.
func statusFilter(given, valid []string) (map[string]bool, error) {
	if len(given) == 0 {
		return nil, nil
	}
	want := map[string]bool{}
	for _, g := range given {
		st := strings.ToUpper(strings.TrimSpace(g))
		if !slices.Contains(valid, st) {
			return nil, invalid(fmt.Errorf("--status %s: must be one of %s", g, strings.Join(valid, ", ")))
		}
		want[st] = true
	}
	return want, nil
}

// progressOf is "succeeded/executions" of a job's counts, "-" for none.
func progressOf(counts map[string]int) string {
	total := 0
	for _, n := range counts {
		total += n
	}
	if total == 0 {
		return "-"
	}
	return fmt.Sprintf("%d/%d", counts["SUCCEEDED"], total)
}

// shortTargets shows thinggroup/name instead of the whole ARN.
func shortTargets(ts []string) string {
	out := make([]string, len(ts))
	for i, t := range ts {
		if j := strings.LastIndex(t, ":"); j >= 0 {
			t = t[j+1:]
		}
		out[i] = t
	}
	return strings.Join(out, ",")
}

func newDescribeCmd() *cobra.Command {
	var executions bool
	var statuses []string
	var w watchFlags
	cmd, _ := manageCmd("describe UPDATE_ID", "Show an update: job status, windows, executions, stream, document", cobra.ExactArgs(1),
		func(cmd *cobra.Command, m *ota.Manager, out *outputFlag, args []string) error {
			want, err := statusFilter(statuses, executionStatuses)
			if err != nil {
				return err
			}
			if w.watch {
				return watch(cmd, m, args[0], &w, out)
			}
			d, err := m.Describe(cmd.Context(), args[0], executions || want != nil)
			if err != nil {
				return err
			}
			if want != nil {
				kept := d.Executions[:0]
				for _, e := range d.Executions {
					if want[e.Status] {
						kept = append(kept, e)
					}
				}
				d.Executions = kept
			}
			if out.json() {
				return printJSON(cmd.OutOrStdout(), d)
			}
			describeTo(cmd.OutOrStdout(), d)
			return nil
		})
	cmd.Flags().BoolVar(&executions, "executions", false, "list every device's execution")
	cmd.Flags().StringSliceVar(&statuses, "status", nil, "with --executions, only executions in this status: "+strings.Join(executionStatuses, ", ")+" (repeatable)")
	w.register(cmd.Flags())
	cmd.Example = `  otactl describe sensor-fw-1-4-0
  otactl describe sensor-fw-1-4-0 --executions --status FAILED,TIMED_OUT
  otactl describe sensor-fw-1-4-0 --watch          # live until the job ends; exit 0 if every device succeeded
  otactl describe sensor-fw-1-4-0 -o json`
	return cmd
}

func describeTo(out io.Writer, d *ota.UpdateDetails) {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	j := d.Job
	fmt.Fprintf(w, "Update\t%s\n", d.UpdateID)
	fmt.Fprintf(w, "Job\t%s\n", j.JobArn)
	fmt.Fprintf(w, "Status\t%s\n", j.Status)
	fmt.Fprintf(w, "Targets\t%s (%s)\n", strings.Join(j.Targets, ", "), orDefault(j.TargetSelection, "SNAPSHOT"))
	fmt.Fprintf(w, "Created\t%s\n", stampUTC(j.CreatedAt))
	for _, r := range d.Replaced {
		fmt.Fprintf(w, "Replaced\t%s (%s, created %s)\n", r.JobID, r.Status, stampUTC(r.CreatedAt))
	}
	if sc := j.SchedulingConfig; sc != nil {
		if sc.StartTime != "" || sc.EndTime != "" {
			fmt.Fprintf(w, "Schedule\tstart %s, end %s, then %s\n", scheduleStamp(sc.StartTime), scheduleStamp(sc.EndTime), orDefault(sc.EndBehavior, "-"))
		}
		for _, mw := range sc.MaintenanceWindows {
			fmt.Fprintf(w, "Window\t%s for %d min\n", mw.StartTime, mw.DurationInMinutes)
		}
		if o := d.OpenWindow; o != nil {
			fmt.Fprintf(w, "Window now\topen since %s, until %s\n", o.Opens.UTC().Format("15:04"), o.Closes.UTC().Format(windowStamp(o.Opens, o.Closes)))
		}
		for _, t := range d.NextWindows {
			fmt.Fprintf(w, "Next window\t%s\n", stampUTC(t))
		}
	}
	var counts []string
	for _, s := range []string{"QUEUED", "IN_PROGRESS", "SUCCEEDED", "FAILED", "TIMED_OUT", "REJECTED", "CANCELED", "REMOVED"} {
		if n := j.Counts[s]; n > 0 {
			counts = append(counts, fmt.Sprintf("%s %d", s, n))
		}
	}
	fmt.Fprintf(w, "Executions\t%s\n", orDefault(strings.Join(counts, ", "), "none yet"))
	if st := d.Stream; st != nil {
		fmt.Fprintf(w, "Stream\t%s (version %d)\n", st.ID, st.Version)
		for _, f := range st.Files {
			fmt.Fprintf(w, "  file %d\ts3://%s/%s\n", f.FileID, f.S3.Bucket, f.S3.Key)
			if f.S3.Version != "" {
				fmt.Fprintf(w, "\t  version %s\n", f.S3.Version)
			}
		}
	}
	for i, f := range d.DocSummary.Files {
		fmt.Fprintf(w, "files[%d]\t%s, %d bytes, fileid %d\n", i, orDefault(f.FilePath, "(no filepath)"), f.FileSize, f.FileID)
		fmt.Fprintf(w, "\t  certfile %s, %s\n", f.CertFile, f.SigKey)
	}
	w.Flush()
	if len(d.Executions) > 0 {
		fmt.Fprintln(out)
		var tb table // fits 80 columns
		tb.row("THING", "STATUS", "EXEC", "RETRY", "UPDATED (UTC)", "PACKAGES")
		sort.Slice(d.Executions, func(a, b int) bool { return thingLess(d.Executions[a].ThingArn, d.Executions[b].ThingArn) })
		for _, e := range d.Executions {
			tb.row(shortTargets([]string{e.ThingArn}), e.Status, fmt.Sprint(e.ExecutionNumber), fmt.Sprint(e.RetryAttempt),
				e.LastUpdt.UTC().Format("2006-01-02 15:04"), packageList(e.Packages))
		}
		tb.write(out)
	}
	fmt.Fprintln(out, "\nJob document:")
	if printIndented(out, []byte(d.Document)) != nil {
		fmt.Fprintln(out, d.Document) // not JSON: as it is
	}
}

// packageList shows package versions as name@version, sorted; "-" for none.
func packageList(p map[string]string) string {
	if len(p) == 0 {
		return "-"
	}
	out := make([]string, 0, len(p))
	for name, v := range p {
		out = append(out, name+"@"+v)
	}
	sort.Strings(out)
	return strings.Join(out, ",")
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// windowStamp shows the closing time alone when it is on the opening's day.
func windowStamp(opens, closes time.Time) string {
	if opens.UTC().YearDay() == closes.UTC().YearDay() {
		return "15:04 MST"
	}
	return "2006-01-02 15:04 MST"
}

func newCancelCmd() *cobra.Command {
	var force, yes bool
	cmd, _ := manageCmd("cancel UPDATE_ID", "Cancel an update's job (--force also stops devices in progress)", cobra.ExactArgs(1),
		func(cmd *cobra.Command, m *ota.Manager, out *outputFlag, args []string) error {
			if force && !yes {
				job, err := m.Lookup(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				if job.Status != "CANCELED" {
					if err := confirm(cmd, fmt.Sprintf("Cancel %s and stop %s?", job.JobID, affected(job.Counts))); err != nil {
						return err
					}
				}
			}
			c, err := m.CancelUpdate(cmd.Context(), args[0], force)
			if err != nil {
				return err
			}
			if out.json() {
				return printJSON(cmd.OutOrStdout(), c)
			}
			if c.AlreadyCanceled {
				fmt.Fprintf(cmd.OutOrStdout(), "Update %s is already canceled (job %s); nothing to do\n", c.UpdateID, c.JobID)
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Canceled update %s (job %s)\n", c.UpdateID, c.JobID)
			return nil
		})
	cmd.Flags().BoolVar(&force, "force", false, "also cancel executions that are in progress (asks first on a terminal)")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "with --force, do not ask")
	cmd.Example = `  otactl cancel sensor-fw-1-4-0
  otactl cancel sensor-fw-1-4-0 --force --yes   # also stop devices in progress, without asking`
	return cmd
}

// affected says how many devices a forced cancel or delete stops.
func affected(counts map[string]int) string {
	n := counts["QUEUED"] + counts["IN_PROGRESS"]
	if n == 1 {
		return "1 device queued or in progress"
	}
	return fmt.Sprintf("%d devices queued or in progress (%d in progress)", n, counts["IN_PROGRESS"])
}

// confirm asks question on a terminal and fails unless the answer is yes.
// Off a terminal it never asks: scripts say --force and mean it.
func confirm(cmd *cobra.Command, question string) error {
	in, ok := cmd.InOrStdin().(*os.File)
	if !ok || !term.IsTerminal(int(in.Fd())) {
		return nil
	}
	fmt.Fprintf(cmd.ErrOrStderr(), "%s [y/N] ", question)
	answer, _ := bufio.NewReader(in).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(answer)) {
	case "y", "yes":
		return nil
	}
	return &exitError{ExitFailure, errors.New("not confirmed; nothing was done (--yes skips the question)")}
}

func newDeleteCmd() *cobra.Command {
	var o ota.DeleteOptions
	var yes bool
	cmd, _ := manageCmd("delete UPDATE_ID", "Delete an update's job, then its stream", cobra.ExactArgs(1),
		func(cmd *cobra.Command, m *ota.Manager, out *outputFlag, args []string) error {
			if o.Force && !yes {
				job, err := m.Lookup(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				if err := confirm(cmd, fmt.Sprintf("Delete %s (%s) with %s?", job.JobID, job.Status, affected(job.Counts))); err != nil {
					return err
				}
			}
			del, err := m.Delete(cmd.Context(), args[0], o)
			if err != nil {
				if strings.Contains(err.Error(), "InvalidStateTransition") && !o.Force {
					return fmt.Errorf("%w\n  the job has not ended: cancel it first (otactl cancel %s), or rerun with --force", err, args[0])
				}
				return err
			}
			if out.json() {
				return printJSON(cmd.OutOrStdout(), deletedView(args[0], del))
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Deleted job %s\n", del.Job)
			if del.Stream != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "Deleted stream %s\n", del.Stream)
			}
			for _, j := range del.Replaced {
				fmt.Fprintf(cmd.OutOrStdout(), "Deleted replaced job %s\n", j)
			}
			for _, st := range del.OtherStreams {
				fmt.Fprintf(cmd.OutOrStdout(), "Deleted stream %s\n", st)
			}
			for _, v := range del.ObjectVersion {
				fmt.Fprintf(cmd.OutOrStdout(), "Deleted %s\n", v)
			}
			return nil
		})
	cmd.Flags().BoolVar(&o.Force, "force", false, "delete even if devices are queued or in progress (asks first on a terminal)")
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "with --force, do not ask")
	cmd.Flags().BoolVar(&o.KeepStream, "keep-stream", false, "keep the MQTT stream")
	cmd.Flags().BoolVar(&o.PurgeSignedObjects, "purge-signed-objects", false, "also delete the signed-object versions signing created")
	cmd.Example = `  otactl delete sensor-fw-1-4-0
  otactl delete sensor-fw-1-4-0 --force --yes --purge-signed-objects`
	return cmd
}
