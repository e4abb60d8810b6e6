// Package cli builds otactl's commands: one file per command. Commands turn
// flags into domain calls and print results; they make no AWS calls of their own.
package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/otactl/otactl/awscloud"
	"github.com/spf13/cobra"
)

// Exit codes, documented in `otactl help`.
const (
	ExitOK       = 0 // success
	ExitFailure  = 1 // the operation failed (cloud error, device failures, ...)
	ExitInvalid  = 2 // invalid input: bad flags, spec or request; nothing was done
	ExitNotFound = 3 // the named update, job or resource does not exist
)

const exitCodeHelp = `Exit codes:
  0  success
  1  the operation failed (an AWS or local-environment error, a failed device)
  2  invalid input (flags, spec file, request JSON); nothing was created
  3  the named update does not exist`

// exitError carries an exit code with the error that caused it.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

// invalid marks err as invalid input (exit code 2).
func invalid(err error) error { return &exitError{ExitInvalid, err} }

// notFound marks err as a missing resource (exit code 3).
func notFound(err error) error { return &exitError{ExitNotFound, err} }

// NewRoot builds the otactl command tree.
func NewRoot(stdout, stderr io.Writer) *cobra.Command {
	root, _ := newRoot(stdout, stderr)
	return root
}

// newRoot also returns what to do once the command has run: write the
// YAML or text of --output yaml|text, or the result of --query.
func newRoot(stdout, stderr io.Writer) (*cobra.Command, func() error) {
	var ro *reshapeOut
	root := &cobra.Command{
		Use:   "otactl",
		Short: "Create and manage AWS IoT OTA updates with the full CreateJob configuration",
		Long: `otactl performs the steps of AWS IoT CreateOTAUpdate itself (sign, stream,
afr_ota job document, CreateJob) so that every advanced job option is available:
retries, scheduling, maintenance windows, rollout rates, abort rules and
Software Package Catalog versions. It plans before acting, manages what it made,
and runs the whole pipeline locally with no AWS account.

` + exitCodeHelp,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(flagError)
	root.Version = readVersion().String()
	root.SetVersionTemplate("{{.Version}}\n")
	var debug bool
	root.PersistentFlags().BoolVar(&debug, "debug", false, "log every AWS call to stderr: operation, URL, HTTP status, request id, duration")
	root.PersistentPreRunE = func(cmd *cobra.Command, _ []string) error {
		warnDeprecated(cmd)
		if ro = reshapeFor(cmd); ro != nil {
			// Commands print JSON; --query and yaml|text reshape it on the way out.
			cmd.SetOut(ro)
		}
		if debug {
			cmd.SetContext(awscloud.WithDebug(cmd.Context(), cmd.ErrOrStderr()))
		}
		return nil
	}
	root.AddCommand(newPlanCmd())
	for _, add := range extraCommands {
		root.AddCommand(add())
	}
	finishCommands(root)
	return root, func() error {
		if ro == nil {
			return nil
		}
		return ro.flush()
	}
}

// extraCommands lets each command file register itself, so that adding a
// command touches only its own file.
var extraCommands []func() *cobra.Command

// Main runs otactl with args and returns the process exit code.
func Main(args []string, stdout, stderr io.Writer) int {
	root, finish := newRoot(stdout, stderr)
	root.SetArgs(args)
	cmd, err := root.ExecuteC()
	if ferr := finish(); err == nil {
		err = ferr
	}
	if err == nil {
		return ExitOK
	}
	fmt.Fprintln(stderr, "otactl:", plainCloudError(usageError(cmd, err)))
	var ee *exitError
	if errors.As(err, &ee) {
		return ee.code
	}
	if isUsageError(err) {
		return ExitInvalid
	}
	return ExitFailure
}

// isUsageError recognises cobra's own argument errors (unknown command, wrong
// number of arguments), which are invalid input.
func isUsageError(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "accepts ", "requires at least", "unknown flag", "unknown shorthand"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}
