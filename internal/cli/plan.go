package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/otactl/otactl/ota"
	"github.com/spf13/cobra"
)

func newPlanCmd() *cobra.Command {
	var sf specFlags
	var out outputFlag
	var region, account string
	var diff bool
	var cf cloudFlags
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show every call and the exact job document for an update, creating nothing",
		Long: `plan reads an update (a spec file, a CreateOTAUpdate request, or flags),
validates it against every rule AWS enforces and those devices need, and prints
the ordered AWS calls otactl create would make, the afr_ota job document (with
${...} placeholders for what only signing can know) and the CreateJob request.
No credentials are needed and nothing is created.

--diff also reads, with your credentials, what exists for the update (its job
through DescribeJob, the document, the stream, the tags and the signing jobs)
and prints field by field what otactl create would change: ~ in place with
UpdateJob, ! only with --replace (and why). It is a flag, not automatic, so
that plan stays an offline command whose output depends only on its input.
Without an existing update it prints the plan as without --diff.

plan takes every flag create takes (--signing-timeout, --replace, --quiet,
...), so that changing the one word turns a dry run into the real thing;
those that only matter when acting change nothing here.`,
		Example: `  otactl plan -f examples/firmware-update.yaml
  otactl plan --request create-ota-update.json --retries 2
  otactl plan --update-id fw-1-2-0 --bucket fw-bucket --file-key fw.bin \
      --signing-profile fwsigner --role ota-role --thing-group sensors \
      --retries 2 --timeout 30m --rollout-rate 50
  otactl plan -f examples/firmware-update.yaml --diff --endpoint-url http://127.0.0.1:4566`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := out.check(); err != nil {
				return err
			}
			now := time.Now()
			s, err := sf.spec(now)
			if err != nil {
				return invalid(err)
			}
			if region == "" {
				region = envRegion()
			}
			p, err := ota.NewPlan(s, ota.PlanEnv{Region: region, AccountID: account, Now: now})
			if err != nil {
				return invalid(sf.explain(err))
			}
			if diff {
				cf.region = region
				if p.Diff, err = readDiff(cmd, &cf, s); err != nil {
					return err
				}
				if p.Diff == nil {
					fmt.Fprintf(cmd.ErrOrStderr(), "Update %s does not exist: the plan creates it.\n", s.OTAUpdateID)
				}
			}
			// What AWS would accept but otactl advises against is a warning.
			p.Warnings = sf.noteFlags(append(append(ota.Advise(s), p.Warnings...), sf.warnings(s)...))
			if out.json() {
				return printJSON(cmd.OutOrStdout(), p)
			}
			if p.Diff != nil {
				printDiff(cmd.OutOrStdout(), p.Diff)
				return nil
			}
			return printPlan(cmd.OutOrStdout(), p)
		},
	}
	sf.register(cmd.Flags())
	out.register(cmd.Flags())
	cmd.Flags().BoolVar(&diff, "diff", false, "compare with the update that exists (needs credentials): what create would change")
	cmd.Flags().StringVar(&cf.profile, "profile", "", "AWS profile for --diff (default: $AWS_PROFILE)")
	cmd.Flags().StringVar(&cf.endpoint, "endpoint-url", "", "endpoint for --diff, e.g. http://127.0.0.1:4566 for otactl local (default: $AWS_ENDPOINT_URL)")
	var cr createOnlyFlags
	cr.register(cmd.Flags(), true)
	cmd.Flags().StringVar(&region, "region", "", "region the ARNs and URLs are built for (default: $AWS_REGION)")
	cmd.Flags().StringVar(&account, "account-id", "", "account id the ARNs are built for (default: a ${account} placeholder)")
	return cmd
}

// readDiff reads what exists for the update; nil when it does not exist.
func readDiff(cmd *cobra.Command, cf *cloudFlags, s *ota.Spec) (*ota.Diff, error) {
	ctx, cancel := withTimeout(cmd.Context())
	defer cancel()
	cloud, err := newCloud(ctx, cf)
	if err != nil {
		return nil, err
	}
	d, err := (&ota.Pipeline{Cloud: cloud}).Diff(ctx, s)
	if err != nil {
		return nil, createError(err)
	}
	return d, nil
}

// printDiff writes what otactl create would do to an update that exists.
func printDiff(w io.Writer, d *ota.Diff) {
	fmt.Fprintf(w, "Update %s exists: job %s (%s). Nothing has been changed.\n", d.UpdateID, d.JobID, d.JobStatus)
	if len(d.Replaced) > 0 {
		fmt.Fprintf(w, "It replaced: %s\n", strings.Join(d.Replaced, ", "))
	}
	if len(d.Changes) == 0 {
		fmt.Fprintln(w, "\nNo changes: otactl create would leave it unchanged.")
		return
	}
	fmt.Fprintln(w, "\nChanges (~ in place, ! only with --replace):")
	printChanges(w, d.Changes)
	if refused := d.Refused(); len(refused) > 0 {
		fmt.Fprintf(w, "\notactl create would refuse: %d change(s) cannot be made in place (exit 2).\n", len(refused))
		fmt.Fprintf(w, "otactl create --replace would cancel job %s and create job %s.\n", d.JobID, d.NextJobID)
		return
	}
	fmt.Fprintf(w, "\notactl create would change job %s in place (%d change(s)).\n", d.JobID, len(d.Changes))
}

func envRegion() string {
	if r := os.Getenv("AWS_REGION"); r != "" {
		return r
	}
	return os.Getenv("AWS_DEFAULT_REGION")
}

// printPlan writes the plan for a person to read.
func printPlan(w io.Writer, p *ota.Plan) error {
	fmt.Fprintf(w, "Plan for OTA update %s (job %s).\nNothing has been created.\n\n", p.UpdateID, p.JobID)
	fmt.Fprintln(w, "Steps:")
	for i, st := range p.Steps {
		fmt.Fprintf(w, "%3d. %s\n", i+1, st.Service+":"+st.Operation)
		fmt.Fprintf(w, "     %s\n", wrap(st.Why, tableWidth-5, "     "))
		if st.Operation == "CreateJob" {
			continue // printed in full below
		}
		// The input one member a line (destination.s3.bucketName: ...),
		// which reads and fits better than wrapped JSON.
		in, _ := json.Marshal(st.Input)
		for _, l := range flatten(in) {
			fmt.Fprintf(w, "       %s\n", l)
		}
	}
	fmt.Fprintln(w, "\nJob document (${...} is filled in by signing and upload):")
	if err := printIndented(w, p.JobDocument); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nCreateJob request:")
	req := p.CreateJob
	req.Document = "<the job document above>"
	raw, err := json.Marshal(req)
	if err != nil {
		return err
	}
	if err := printIndented(w, raw); err != nil {
		return err
	}
	for _, warn := range p.Warnings {
		fmt.Fprintln(w, "\nwarning:", warn)
	}
	return nil
}

func printIndented(w io.Writer, raw []byte) error {
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "  ", "  "); err != nil {
		return err
	}
	fmt.Fprintf(w, "  %s\n", unescapeHTML(buf.Bytes()))
	return nil
}

// unescapeHTML undoes encoding/json's \u003c-style escapes for display.
func unescapeHTML(b []byte) string {
	return strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(b))
}
