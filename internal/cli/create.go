package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/otactl/otactl/ota"
	"github.com/spf13/cobra"
)

func init() { extraCommands = append(extraCommands, newCreateCmd) }

func newCreateCmd() *cobra.Command {
	var sf specFlags
	var cf cloudFlags
	var out outputFlag
	var signingTimeout time.Duration
	var createPackages bool
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create an OTA update: sign, stream, job document and CreateJob with every job option",
		Long: `create performs what AWS IoT CreateOTAUpdate does, step by step (see otactl plan),
with every CreateJob option. It is safe to run twice: a second run finds what
the first made and exits 0 ("already exists, unchanged"). When a step fails,
what this run created (stream, job) is removed and the error names the step.
Ctrl-C while waiting for signing stops cleanly.`,
		Example: `  otactl create -f examples/firmware-update.yaml --endpoint-url http://127.0.0.1:4566
  otactl create --update-id fw-1-2-0 --bucket fw-bucket --file-key fw.bin \
      --signing-profile fwsigner --role ota-role --thing-group sensors --retries 2`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := out.check(); err != nil {
				return err
			}
			s, err := sf.spec(time.Now())
			if err != nil {
				return invalid(err)
			}
			if errs := ota.Validate(s, time.Now()); len(errs) > 0 {
				return invalid(errs)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			cloud, err := newCloud(ctx, &cf)
			if err != nil {
				return err
			}
			p := &ota.Pipeline{Cloud: cloud, SigningTimeout: signingTimeout, CreatePackageVersions: createPackages,
				Progress: cf.progress(cmd.ErrOrStderr())}
			res, err := p.Run(ctx, s)
			if p.Progress != nil {
				fmt.Fprint(cmd.ErrOrStderr(), "\r\033[K")
			}
			if err != nil {
				return cloudError(err)
			}
			if out.json() {
				return printJSON(cmd.OutOrStdout(), res)
			}
			printCreated(cmd.OutOrStdout(), res)
			return nil
		},
	}
	sf.register(cmd.Flags())
	cf.register(cmd.Flags())
	out.register(cmd.Flags())
	cmd.Flags().DurationVar(&signingTimeout, "signing-timeout", 10*time.Minute, "how long to wait for each signing job")
	cmd.Flags().BoolVar(&createPackages, "create-package-version", false, "create destination package versions (package@version) that do not exist")
	return cmd
}

func printCreated(w io.Writer, r *ota.Result) {
	if r.Unchanged {
		fmt.Fprintf(w, "Update %s already exists, unchanged (job %s).\n", r.UpdateID, r.JobArn)
		fmt.Fprintf(w, "To apply a changed spec, delete it first: otactl delete %s\n", r.UpdateID)
	} else {
		fmt.Fprintf(w, "Created OTA update %s\n", r.UpdateID)
		fmt.Fprintf(w, "  job     %s\n", r.JobArn)
		if r.StreamID != "" {
			fmt.Fprintf(w, "  stream  %s\n", r.StreamID)
		}
		for i, f := range r.Files {
			fmt.Fprintf(w, "  files[%d] %d bytes, %s, certfile %s", i, f.Size, f.SigKey, f.CertFile)
			if f.SigningJobID != "" {
				fmt.Fprintf(w, ", signing job %s", f.SigningJobID)
			}
			if f.Raw != nil {
				fmt.Fprintf(w, "\n           devices download s3://%s/%s?versionId=%s", f.Raw.Bucket, f.Raw.Key, f.Raw.Version)
			}
			fmt.Fprintln(w)
		}
	}
	for _, warn := range r.Warnings {
		fmt.Fprintln(w, "warning:", warn)
	}
	fmt.Fprintf(w, "Watch it: otactl describe %s\n", r.UpdateID)
}

// withTimeout bounds management calls.
func withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, 5*time.Minute)
}
