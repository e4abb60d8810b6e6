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
	cmd := &cobra.Command{
		Use:   "plan",
		Short: "Show every call and the exact job document for an update, creating nothing",
		Long: `plan reads an update (a spec file, a CreateOTAUpdate request, or flags),
validates it against every rule AWS enforces and those devices need, and prints
the ordered AWS calls otactl create would make, the afr_ota job document (with
${...} placeholders for what only signing can know) and the CreateJob request.
No credentials are needed and nothing is created.`,
		Example: `  otactl plan -f examples/firmware-update.yaml
  otactl plan --request create-ota-update.json --retries 2
  otactl plan --update-id fw-1-2-0 --bucket fw-bucket --file-key fw.bin \
      --signing-profile fwsigner --role ota-role --thing-group sensors \
      --retries 2 --timeout 30m --rollout-rate 50`,
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
				return invalid(err)
			}
			// What AWS would accept but otactl advises against is a warning.
			p.Warnings = append(ota.Advise(s), p.Warnings...)
			if out.json() {
				return printJSON(cmd.OutOrStdout(), p)
			}
			return printPlan(cmd.OutOrStdout(), p)
		},
	}
	sf.register(cmd.Flags())
	out.register(cmd.Flags())
	cmd.Flags().StringVar(&region, "region", "", "region the ARNs and URLs are built for (default: $AWS_REGION)")
	cmd.Flags().StringVar(&account, "account-id", "", "account id the ARNs are built for (default: a ${account} placeholder)")
	return cmd
}

func envRegion() string {
	if r := os.Getenv("AWS_REGION"); r != "" {
		return r
	}
	return os.Getenv("AWS_DEFAULT_REGION")
}

// printPlan writes the plan for a person to read.
func printPlan(w io.Writer, p *ota.Plan) error {
	fmt.Fprintf(w, "Plan for OTA update %s (job %s). Nothing has been created.\n\n", p.UpdateID, p.JobID)
	fmt.Fprintln(w, "Steps:")
	for i, st := range p.Steps {
		fmt.Fprintf(w, "%3d. %-28s %s\n", i+1, st.Service+":"+st.Operation, st.Why)
		if st.Operation == "CreateJob" {
			continue // printed in full below
		}
		in, _ := json.Marshal(st.Input)
		fmt.Fprintf(w, "       %s\n", unescapeHTML(in))
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
