package cli

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/otactl/otactl/ota"
	"github.com/spf13/cobra"
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
			return cloudError(run(cmd, &ota.Manager{Cloud: cloud}, &out, a))
		}}
	cf.register(cmd.Flags())
	out.register(cmd.Flags())
	return cmd, &cf
}

func newListCmd() *cobra.Command {
	cmd, _ := manageCmd("list", "List the OTA updates otactl made", cobra.NoArgs,
		func(cmd *cobra.Command, m *ota.Manager, out *outputFlag, _ []string) error {
			ups, err := m.List(cmd.Context())
			if err != nil {
				return err
			}
			if out.json() {
				if ups == nil {
					ups = []ota.UpdateSummary{}
				}
				return printJSON(cmd.OutOrStdout(), ups)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "UPDATE\tSTATUS\tTARGETS\tCREATED\tPROTOCOLS")
			for _, u := range ups {
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", u.UpdateID, u.Status, shortTargets(u.Targets),
					u.CreatedAt.UTC().Format(time.RFC3339), strings.Join(u.Protocols, "+"))
			}
			return tw.Flush()
		})
	return cmd
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
	cmd, _ := manageCmd("describe UPDATE_ID", "Show an update: job status, windows, executions, stream, document", cobra.ExactArgs(1),
		func(cmd *cobra.Command, m *ota.Manager, out *outputFlag, args []string) error {
			d, err := m.Describe(cmd.Context(), args[0], executions)
			if err != nil {
				return err
			}
			if out.json() {
				return printJSON(cmd.OutOrStdout(), d)
			}
			describeTo(cmd.OutOrStdout(), d)
			return nil
		})
	cmd.Flags().BoolVar(&executions, "executions", false, "list every device's execution")
	return cmd
}

func describeTo(out io.Writer, d *ota.UpdateDetails) {
	w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	j := d.Job
	fmt.Fprintf(w, "Update\t%s\n", d.UpdateID)
	fmt.Fprintf(w, "Job\t%s\n", j.JobArn)
	fmt.Fprintf(w, "Status\t%s\n", j.Status)
	fmt.Fprintf(w, "Targets\t%s (%s)\n", strings.Join(j.Targets, ", "), orDefault(j.TargetSelection, "SNAPSHOT"))
	fmt.Fprintf(w, "Created\t%s\n", j.CreatedAt.UTC().Format(time.RFC3339))
	for _, r := range d.Replaced {
		fmt.Fprintf(w, "Replaced\t%s (%s, created %s)\n", r.JobID, r.Status, r.CreatedAt.UTC().Format(time.RFC3339))
	}
	if sc := j.SchedulingConfig; sc != nil {
		if sc.StartTime != "" || sc.EndTime != "" {
			fmt.Fprintf(w, "Schedule\tstart %s, end %s, then %s\n", orDefault(sc.StartTime, "-"), orDefault(sc.EndTime, "-"), orDefault(sc.EndBehavior, "-"))
		}
		for _, mw := range sc.MaintenanceWindows {
			fmt.Fprintf(w, "Window\t%s for %d min\n", mw.StartTime, mw.DurationInMinutes)
		}
		for _, t := range d.NextWindows {
			fmt.Fprintf(w, "Next window\t%s\n", t.UTC().Format("2006-01-02 15:04 MST"))
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
			fmt.Fprintf(w, "  file %d\ts3://%s/%s?versionId=%s\n", f.FileID, f.S3.Bucket, f.S3.Key, f.S3.Version)
		}
	}
	for i, f := range d.DocSummary.Files {
		fmt.Fprintf(w, "files[%d]\t%s, %d bytes, fileid %d, certfile %s, %s\n", i, orDefault(f.FilePath, "(no filepath)"), f.FileSize, f.FileID, f.CertFile, f.SigKey)
	}
	w.Flush()
	if len(d.Executions) > 0 {
		fmt.Fprintln(out)
		ew := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(ew, "THING\tSTATUS\tEXECUTION\tRETRY\tUPDATED\tPACKAGES")
		sort.Slice(d.Executions, func(a, b int) bool { return d.Executions[a].ThingArn < d.Executions[b].ThingArn })
		for _, e := range d.Executions {
			fmt.Fprintf(ew, "%s\t%s\t%d\t%d\t%s\t%s\n", shortTargets([]string{e.ThingArn}), e.Status, e.ExecutionNumber, e.RetryAttempt,
				e.LastUpdt.UTC().Format(time.RFC3339), packageList(e.Packages))
		}
		ew.Flush()
	}
	fmt.Fprintf(out, "\nJob document:\n%s\n", d.Document)
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

func newCancelCmd() *cobra.Command {
	var force bool
	cmd, _ := manageCmd("cancel UPDATE_ID", "Cancel an update's job (--force also stops devices in progress)", cobra.ExactArgs(1),
		func(cmd *cobra.Command, m *ota.Manager, out *outputFlag, args []string) error {
			if err := m.Cancel(cmd.Context(), args[0], force); err != nil {
				return err
			}
			if out.json() {
				return printJSON(cmd.OutOrStdout(), map[string]any{"otaUpdateId": args[0], "canceled": true, "force": force})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "Canceled update %s\n", args[0])
			return nil
		})
	cmd.Flags().BoolVar(&force, "force", false, "also cancel executions that are in progress")
	return cmd
}

func newDeleteCmd() *cobra.Command {
	var o ota.DeleteOptions
	cmd, _ := manageCmd("delete UPDATE_ID", "Delete an update's job, then its stream", cobra.ExactArgs(1),
		func(cmd *cobra.Command, m *ota.Manager, out *outputFlag, args []string) error {
			del, err := m.Delete(cmd.Context(), args[0], o)
			if err != nil {
				return err
			}
			if out.json() {
				return printJSON(cmd.OutOrStdout(), del)
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
	cmd.Flags().BoolVar(&o.Force, "force", false, "delete even if devices are in progress")
	cmd.Flags().BoolVar(&o.KeepStream, "keep-stream", false, "keep the MQTT stream")
	cmd.Flags().BoolVar(&o.PurgeSignedObjects, "purge-signed-objects", false, "also delete the signed-object versions signing created")
	return cmd
}
