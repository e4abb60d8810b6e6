package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"github.com/otactl/otactl/ota"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func init() { extraCommands = append(extraCommands, newCreateCmd) }

func newCreateCmd() *cobra.Command {
	var sf specFlags
	var cf cloudFlags
	var out outputFlag
	var cr createOnlyFlags
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Create an OTA update: sign, stream, job document and CreateJob with every job option",
		Long: `create performs what AWS IoT CreateOTAUpdate does, step by step (see otactl plan),
with every CreateJob option.

Before anything is signed or created it checks every precondition it can
read (bucket versioning, objects, signing profile, targets, stream, package
versions, job id) and reports all that fail at once (exit 2; 1 when a check
itself could not run). When a step fails, what this run created (stream,
job) is removed and the error names the step. Ctrl-C while waiting for
signing stops cleanly.

On an update that exists, create applies the spec: nothing differs →
"unchanged"; what UpdateJob can change (description, presignedUrlConfig,
jobExecutionsRolloutConfig, abortConfig, timeoutConfig,
jobExecutionsRetryConfig, tags, targets added to a CONTINUOUS job) is changed
on the running job and each change is listed; anything else (files,
signatures, protocols, a SNAPSHOT job's targets, scheduling, package
versions) is refused naming each field (exit 2). --replace then cancels the
running job and creates the update's next job (AFR_OTA-<id>-r2, -r3, ...);
otactl describe lists the jobs it replaced. otactl plan --diff shows all of
this without changing anything.`,
		Example: `  otactl create -f examples/firmware-update.yaml --endpoint-url http://127.0.0.1:4566
  otactl create -f examples/firmware-update.yaml --replace   # a new firmware for a running update
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
				return invalid(sf.explain(errs))
			}
			for _, w := range sf.warnings(s) {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning:", w)
			}
			if why := ota.NoWindowBetween(s.SchedulingConfig, time.Now()); why != "" {
				fmt.Fprintln(cmd.ErrOrStderr(), "warning: schedulingConfig:", why)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
			defer stop()
			cloud, err := newCloud(ctx, &cf)
			if err != nil {
				return err
			}
			p := &ota.Pipeline{Cloud: cloud, SigningTimeout: cr.signingTimeout, CreatePackageVersions: cr.createPackages,
				Progress: cf.progress(cmd.ErrOrStderr()), Replace: cr.replace}
			res, err := p.Run(ctx, s)
			if p.Progress != nil {
				fmt.Fprint(cmd.ErrOrStderr(), "\r\033[K")
			}
			if err != nil {
				if ctx.Err() != nil { // Ctrl-C
					return interruptedCreate(err)
				}
				return createError(err)
			}
			if out.json() {
				return printJSON(cmd.OutOrStdout(), createdView(res))
			}
			printCreated(cmd.OutOrStdout(), res)
			return nil
		},
	}
	sf.register(cmd.Flags())
	cf.register(cmd.Flags())
	out.register(cmd.Flags())
	cr.register(cmd.Flags(), false)
	// plan's flags, so that one word turns a dry run into the real thing:
	// create reads the account from the credentials and always compares
	// with what exists.
	var account string
	var diff bool
	cmd.Flags().StringVar(&account, "account-id", "", "plan's flag: create uses the account of the credentials and changes nothing with it")
	cmd.Flags().BoolVar(&diff, "diff", false, "plan's flag: create always compares with the update that exists")
	return cmd
}

// createOnlyFlags are create's flags about acting. plan takes them too
// (and ignores them) so that one word turns a dry run into the real thing.
type createOnlyFlags struct {
	signingTimeout          time.Duration
	createPackages, replace bool
	quiet                   bool
}

func (c *createOnlyFlags) register(fs *pflag.FlagSet, forPlan bool) {
	note := ""
	if forPlan {
		note = " (create's flag: plan accepts it and changes nothing)"
		fs.BoolVarP(&c.quiet, "quiet", "q", false, "no progress output"+note)
	}
	fs.DurationVar(&c.signingTimeout, "signing-timeout", 10*time.Minute, "how long to wait for each signing job"+note)
	fs.BoolVar(&c.createPackages, "create-package-version", false, "create destination package versions (package@version) that do not exist"+note)
	fs.BoolVar(&c.replace, "replace", false, "an update that exists and differs: cancel its job and create the next one (AFR_OTA-<id>-r2, ...)"+note)
}

// createError gives create's failures their exit code. A missing resource
// the spec names is invalid input (2), never "the update does not exist"
// (3): check reports those before anything is created.
func createError(err error) error {
	var ce *ota.CheckError
	var change *ota.ChangeError
	var es ota.Errors
	switch {
	case errors.As(err, &ce) && ce.Invalid(), errors.As(err, &change), errors.As(err, &es):
		return invalid(err)
	}
	return &exitError{ExitFailure, err}
}

func printCreated(w io.Writer, r *ota.Result) {
	switch {
	case r.Unchanged:
		fmt.Fprintf(w, "Update %s already exists, unchanged: it is as the spec says (job %s).\n", r.UpdateID, r.JobArn)
	case r.Updated:
		fmt.Fprintf(w, "Updated OTA update %s in place (job %s):\n", r.UpdateID, r.JobArn)
		printChanges(w, r.Changes)
	default:
		if r.Replaced != "" {
			fmt.Fprintf(w, "Replaced job %s (canceled) of update %s:\n", r.Replaced, r.UpdateID)
			printChanges(w, r.Changes)
		}
		fmt.Fprintf(w, "Created OTA update %s\n", r.UpdateID)
		fmt.Fprintf(w, "  job     %s\n", r.JobArn)
		if r.StreamID != "" {
			fmt.Fprintf(w, "  stream  %s\n", r.StreamID)
		}
		for i, f := range r.Files {
			// One fact a line, so that lines stay within 80 columns
			// (an S3 URL alone may not).
			fmt.Fprintf(w, "  files[%d] %d bytes, %s, certfile %s\n", i, f.Size, f.SigKey, f.CertFile)
			if f.SigningJobID != "" {
				fmt.Fprintf(w, "    signing job %s\n", f.SigningJobID)
			}
			if f.Raw != nil {
				fmt.Fprintf(w, "    devices download\n      s3://%s/%s\n      ?versionId=%s\n", f.Raw.Bucket, f.Raw.Key, f.Raw.Version)
			}
		}
	}
	for _, warn := range r.Warnings {
		fmt.Fprintln(w, "warning:", warn)
	}
	fmt.Fprintf(w, "Watch it: otactl describe %s --watch\n", r.UpdateID)
}

// printChanges lists changes one a line: ~ in place, ! not in place.
func printChanges(w io.Writer, cs []ota.Change) {
	for _, c := range cs {
		mark := "~"
		if !c.InPlace {
			mark = "!"
		}
		fmt.Fprintf(w, "  %s %s: %s → %s", mark, c.Path, ota.Show(c.Current), ota.Show(c.Desired))
		if c.Why != "" {
			fmt.Fprintf(w, " (%s)", c.Why)
		}
		fmt.Fprintln(w)
	}
}

// withTimeout bounds management calls.
func withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, 5*time.Minute)
}

// createdJSON is create's JSON: the same members on every run, the outcome
// named rather than implied by which members are there.
type createdJSON struct {
	UpdateID string `json:"otaUpdateId"`
	JobID    string `json:"jobId"`
	JobArn   string `json:"jobArn"`
	// Outcome: created, unchanged (an earlier run made it as the spec says),
	// updated (changed in place) or replaced (--replace made the next job).
	Outcome       string           `json:"outcome"`
	StreamID      string           `json:"streamId,omitempty"`
	ReplacedJobID string           `json:"replacedJobId,omitempty"`
	Changes       []ota.Change     `json:"changes"`
	Files         []ota.FileResult `json:"files"`
	Warnings      []string         `json:"warnings"`
}

func createdView(r *ota.Result) createdJSON {
	v := createdJSON{UpdateID: r.UpdateID, JobID: r.JobID, JobArn: r.JobArn, StreamID: r.StreamID,
		ReplacedJobID: r.Replaced, Changes: r.Changes, Files: r.Files, Warnings: r.Warnings, Outcome: "created"}
	switch {
	case r.Unchanged:
		v.Outcome = "unchanged"
	case r.Updated:
		v.Outcome = "updated"
	case r.Replaced != "":
		v.Outcome = "replaced"
	}
	if v.Changes == nil {
		v.Changes = []ota.Change{}
	}
	if v.Files == nil {
		v.Files = []ota.FileResult{}
	}
	if v.Warnings == nil {
		v.Warnings = []string{}
	}
	return v
}
