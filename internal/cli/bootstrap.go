package cli

import (
	"errors"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/otactl/otactl/bootstrap"
)

func init() { extraCommands = append(extraCommands, newBootstrapCmd) }

type bootstrapFlags struct {
	cloud   cloudFlags
	cfg     bootstrap.Config
	destroy bool
}

func newBootstrapCmd() *cobra.Command {
	var f bootstrapFlags
	cmd := &cobra.Command{
		Use:   "bootstrap",
		Short: "Create every prerequisite of an OTA update (bucket, role, signing, devices) or remove them",
		Long: `Create, in one idempotent run, what AWS's "OTA update prerequisites" list: a versioned
S3 bucket with default encryption (SSE-S3; a KMS default already on the bucket is
kept) and public access blocked; the OTA update service role (trust for
iot.amazonaws.com, AmazonFreeRTOSOTAUpdate, S3 access to the bucket, iam:PassRole); a
code-signing key and certificate (ECDSA P-256, or yours with --cert/--key) imported
into ACM, the key kept in --out with mode 0600; a Signer profile for the platform with
the certificate's path on the device (certname); optionally N devices (things in a
group, keys made here, certificates, a least-privilege IoT policy) with a folder each
(certificate, key, root CA, endpoint, client id and a header with the FreeRTOS demo
settings); and a spec file for otactl create -f.

Every resource is tagged otactl:bootstrap=<name> (things carry it as an attribute).
Running it again reuses what is there and creates what is missing; a resource of the
same name without the tag is someone else's and is never changed or deleted.
--destroy removes exactly what bootstrap made, refusing while an update in progress
uses it unless --force.

` + exitCodeHelp,
		Example: `  otactl bootstrap --devices 3 --endpoint-url http://127.0.0.1:4566 --root-ca ~/.otactl/local/ca.pem
  otactl bootstrap --name sensors --things sensor-1,sensor-2 --firmware build/sensor.bin
  otactl bootstrap --name sensors --cert signer.crt --key signer.key
  otactl bootstrap --name sensors --destroy`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runBootstrap(cmd, &f) },
	}
	fs := cmd.Flags()
	f.cloud.register(fs)
	c := &f.cfg
	fs.StringVar(&c.Name, "name", "otactl", "name of this bootstrap: the tag value and part of every resource name")
	fs.StringVar(&c.Bucket, "bucket", "", "S3 bucket (default otactl-<name>-<account>-<region>)")
	fs.StringVar(&c.Role, "role", "", "OTA update service role (default otactl-<name>-ota-role)")
	fs.StringVar(&c.Profile, "profile-name", "", "Signer profile (default otactl_<name>)")
	fs.StringVar(&c.Platform, "platform", bootstrap.DefaultPlatform, "Signer platform")
	fs.StringVar(&c.CertName, "certname", "code_sign.crt", "path of the code-signing certificate on the device (the job document's certfile)")
	fs.StringVar(&c.CertFile, "cert", "", "your code-signing certificate (PEM) instead of a new ECDSA P-256 one")
	fs.StringVar(&c.KeyFile, "key", "", "the private key (PEM) of --cert")
	fs.IntVar(&c.Devices, "devices", 0, "make N devices named <name>-device-1..N")
	fs.StringSliceVar(&c.Things, "things", nil, "make devices with these thing names")
	fs.StringVar(&c.Group, "thing-group", "", "thing group of the devices (default otactl-<name>-devices)")
	fs.StringVar(&c.Policy, "policy", "", "IoT policy of the devices (default otactl-<name>-device)")
	fs.StringVar(&c.OutDir, "out", "", "folder for the key, device folders and spec (default ./otactl-bootstrap-<name>)")
	fs.StringVar(&c.RootCA, "root-ca", "", "broker root CA copied into each device folder (otactl local: <data dir>/ca.pem); default: the folder names Amazon's")
	fs.StringVar(&c.Firmware, "firmware", "", "firmware image uploaded to the bucket for the spec")
	fs.BoolVar(&f.destroy, "destroy", false, "remove what bootstrap made (by its tag)")
	fs.BoolVar(&c.Force, "force", false, "with --destroy: even while an update in progress uses the resources")
	return cmd
}

func runBootstrap(cmd *cobra.Command, f *bootstrapFlags) error {
	if f.cfg.Force && !f.destroy {
		return invalid(errors.New("--force goes with --destroy"))
	}
	ctx := cmd.Context()
	cloud, err := newCloud(ctx, &f.cloud)
	if err != nil {
		return invalid(err)
	}
	run := bootstrap.Run
	if f.destroy {
		run = bootstrap.Destroy
	}
	rep, err := run(ctx, cloud.Bootstrap(), f.cfg)
	out := cmd.OutOrStdout()
	printBootstrap(out, rep)
	if err != nil {
		var se *bootstrap.StepError
		if errors.As(err, &se) && se.Invalid {
			return invalid(err)
		}
		return err
	}
	if !f.destroy {
		printNext(out, rep)
	}
	return nil
}

func printBootstrap(w io.Writer, rep *bootstrap.Report) {
	if rep == nil {
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, l := range rep.Lines {
		note := ""
		if l.Note != "" {
			note = "(" + l.Note + ")"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", l.State, l.Kind, l.Name, note)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d created, %d reused, %d left alone, %d deleted\n",
		rep.Count(bootstrap.Created), rep.Count(bootstrap.Reused), rep.Count(bootstrap.LeftAlone), rep.Count(bootstrap.Deleted))
}

func printNext(w io.Writer, rep *bootstrap.Report) {
	if rep.SpecPath == "" {
		return
	}
	fmt.Fprintf(w, "\nNext:\n  otactl create -f %s\n", rep.SpecPath)
	if len(rep.Things) > 0 {
		fmt.Fprintf(w, "  device folders: one per thing (%d), with the endpoint %s\n", len(rep.Things), rep.Endpoint)
		if rep.AmazonCA {
			fmt.Fprintf(w, "  root CA: not downloaded; put Amazon Root CA 1 (%s) in each folder as %s\n", bootstrap.AmazonRootCA, bootstrap.AmazonCAFile)
		}
	}
}
