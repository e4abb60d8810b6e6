package cli

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/spf13/cobra"

	"github.com/otactl/otactl/awscloud"
	"github.com/otactl/otactl/device"
	"github.com/otactl/otactl/internal/demo"
	"github.com/otactl/otactl/local"
	"github.com/otactl/otactl/local/mqtt"
	"github.com/otactl/otactl/ota"
)

func init() { extraCommands = append(extraCommands, newDemoCmd) }

type demoFlags struct {
	devices      int
	firmwareSize int
	failFirst    int
	dropRate     float64
	keep         bool
	timeout      time.Duration
	out          outputFlag
	quiet        bool
}

func newDemoCmd() *cobra.Command {
	var f demoFlags
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the whole OTA pipeline locally: otactl local, create, a simulated fleet, describe",
		Long: `demo needs no AWS account and no setup. In one process it starts otactl local
(S3, Signer, IoT on a free HTTP port; the Jobs and stream data plane on a free
MQTT port) with a temporary data directory, uploads a generated firmware image
to a versioned bucket, creates a signing profile whose key otactl local
generates, registers a group of devices, runs otactl create with retries, a
timeout and a rollout rate, then runs the simulated fleet with a few devices
failing their first attempt so that retries show, and ends with the describe
table. Exit 0 only if every device succeeded.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runDemo(cmd, &f) },
	}
	fs := cmd.Flags()
	fs.IntVar(&f.devices, "devices", 25, "number of simulated devices")
	fs.IntVar(&f.firmwareSize, "firmware-size", 256*1024, "size of the generated firmware image in bytes")
	fs.IntVar(&f.failFirst, "failing-devices", 3, "devices whose first attempt fails (the job's retries bring them through)")
	fs.IntVar(&f.failFirst, "fail-first", 3, "same as --failing-devices")
	deprecate(fs, "fail-first", "use --failing-devices (in fleet, --fail-first N fails each device's first N executions)")
	fs.Float64Var(&f.dropRate, "drop-rate", 0.02, "fraction of stream blocks every device loses and asks for again")
	fs.BoolVar(&f.keep, "keep", false, "keep the data directory")
	fs.DurationVar(&f.timeout, "run-timeout", 3*time.Minute, "give up after this long (the whole run)")
	fs.DurationVar(&f.timeout, "timeout", 3*time.Minute, "same as --run-timeout")
	deprecate(fs, "timeout", "use --run-timeout (in plan and create, --in-progress-timeout is per device)")
	fs.BoolVarP(&f.quiet, "quiet", "q", false, "no progress bar")
	f.out.register(fs)
	return cmd
}

func runDemo(cmd *cobra.Command, f *demoFlags) error {
	if err := f.out.check(); err != nil {
		return err
	}
	var bad []string
	if f.devices < 1 {
		bad = append(bad, fmt.Sprintf("--devices must be at least 1, got %d", f.devices))
	}
	if f.failFirst < 0 || f.failFirst > f.devices {
		bad = append(bad, fmt.Sprintf("--failing-devices must be 0 to --devices (%d), got %d", f.devices, f.failFirst))
	}
	if f.firmwareSize < 1 {
		bad = append(bad, fmt.Sprintf("--firmware-size must be at least 1 byte, got %d", f.firmwareSize))
	}
	if f.dropRate < 0 || f.dropRate >= 1 {
		bad = append(bad, fmt.Sprintf("--drop-rate must be at least 0 and below 1, got %g", f.dropRate))
	}
	if len(bad) > 0 {
		return invalid(inputErrors(bad))
	}
	ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	w := cmd.OutOrStdout()
	if f.out.json() {
		w = io.Discard // the steps are narration; JSON output is the final report
	}
	started := time.Now()

	dir, err := os.MkdirTemp("", "otactl-demo-")
	if err != nil {
		return err
	}
	if !f.keep {
		defer os.RemoveAll(dir)
	}
	srv, err := local.New(local.Config{Addr: "127.0.0.1:0", DataDir: dir})
	if err != nil {
		return err
	}
	defer srv.Close()
	if err := srv.Start(); err != nil {
		return err
	}
	broker, err := srv.StartMQTT(mqtt.Config{TLSAddr: "127.0.0.1:0"})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "1. otactl local: AWS APIs on %s\n   MQTT (mutual TLS) on %s, data in %s\n", srv.URL(), broker.TLSAddr(), dir)

	cfg := aws.Config{Region: srv.Config().Region, BaseEndpoint: aws.String(srv.URL()),
		Credentials: credentials.NewStaticCredentialsProvider(local.DefaultAccessKeyID, local.DefaultSecretAccessKey, "")}
	things := make([]string, f.devices)
	for i := range things {
		things[i] = fmt.Sprintf("demo-device-%02d", i+1)
	}
	seed := demo.Seed{Bucket: "demo-firmware", Key: "firmware/sensor-1.0.0.bin", FirmwareSize: f.firmwareSize,
		Profile: "demo_signer", CertName: "demo_code_sign.crt", Group: "demo-fleet", Things: things, ThingsInGroups: true}
	seeded, err := demo.Prepare(ctx, cfg, seed)
	if err != nil {
		return fmt.Errorf("preparing the environment: %w", err)
	}
	tlsFor, err := demoCredentials(ctx, cfg, dir, things)
	if err != nil {
		return fmt.Errorf("preparing the devices' credentials: %w", err)
	}
	// Lines fit 80 columns: one fact a line.
	fmt.Fprintf(w, "2. uploaded a %d-byte firmware to s3://%s/%s\n   (version %s)\n", f.firmwareSize, seed.Bucket, seed.Key, seeded.FirmwareVersion)
	fmt.Fprintf(w, "   created signing profile %s (ECDSA P-256, key made by otactl local)\n", seed.Profile)
	fmt.Fprintf(w, "   registered %d devices in thing group %s, each with its own key, a\n   certificate from CreateCertificateFromCsr and IoT policy %s\n",
		f.devices, seed.Group, device.DefaultPolicyName)

	spec := demoSpec(seed)
	p := &ota.Pipeline{Cloud: awscloud.FromConfig(cfg), PollInterval: 20 * time.Millisecond, CreatePackageVersions: true}
	res, err := p.Run(ctx, spec)
	if err != nil {
		return fmt.Errorf("otactl create: %w", err)
	}
	fmt.Fprintf(w, "3. otactl create %s: retries %d on FAILED, timeout %d min,\n   rollout %d/min, package version %s\n", spec.OTAUpdateID,
		spec.JobExecutionsRetryConfig.CriteriaList[0].NumberOfRetries, spec.TimeoutConfig.InProgressTimeoutInMinutes,
		spec.JobExecutionsRolloutConfig.MaximumPerMinute, spec.DestinationPackageVersions[0])
	// create's "Watch it: otactl describe ..." does not apply: the demo's
	// environment ends with it.
	var created strings.Builder
	printCreated(&created, res)
	for _, line := range strings.SplitAfter(created.String(), "\n") {
		if !strings.HasPrefix(line, "Watch it:") {
			fmt.Fprint(&indent{w: w}, line)
		}
	}

	trust, err := device.TrustPEM(seeded.SigningCertPEM)
	if err != nil {
		return err
	}
	failing := map[string]bool{}
	for _, th := range things[:f.failFirst] {
		failing[th] = true
	}
	fleet := &device.Fleet{
		Things: things,
		TLSFor: tlsFor,
		Base: device.Config{Endpoint: broker.TLSAddr(), Trust: trust, ExitOnSuccess: true, Reboot: true,
			RequestTimeout: 500 * time.Millisecond},
		FaultsFor: func(thing string) device.Faults {
			ft := device.Faults{DropRate: f.dropRate, Seed: 1}
			if failing[thing] {
				ft.FailFirst = 1
			}
			return ft
		},
	}
	fmt.Fprintf(w, "4. %d simulated devices take the job over MQTT (%d fail their first\n   attempt, every device loses %.0f%% of blocks)\n",
		f.devices, f.failFirst, f.dropRate*100)
	flags := fleetFlags{}
	flags.cloud.quiet = f.quiet
	flags.out = f.out
	fleet.Progress = flags.fleetProgress(cmd.ErrOrStderr(), f.devices)
	rep, err := fleet.Run(ctx)
	if err != nil {
		return err
	}
	if err := printFleet(&indent{w: w}, rep); err != nil {
		return err
	}

	m := &ota.Manager{Cloud: awscloud.FromConfig(cfg)}
	d, err := m.Describe(ctx, spec.OTAUpdateID, true)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "5. otactl describe %s --executions\n", spec.OTAUpdateID)
	if !f.out.json() {
		describeTo(w, d)
		fmt.Fprintf(w, "\nDone in %s.\n", time.Since(started).Round(100*time.Millisecond))
		if f.keep {
			fmt.Fprintf(w, "The environment's data is kept in %s; to look at it again:\n  otactl local --data-dir %s &\n  otactl describe %s --executions\n", dir, dir, spec.OTAUpdateID)
		}
	} else if err := printJSON(cmd.OutOrStdout(), map[string]any{"create": createdView(res), "fleet": rep, "update": d}); err != nil {
		return err
	}
	if !rep.Stats.AllSucceeded() {
		return &exitError{ExitFailure, fmt.Errorf("%d of %d devices did not succeed", rep.Stats.Devices-rep.Stats.Succeeded, rep.Stats.Devices)}
	}
	return nil
}

// demoCredentials gives every device what a real one has: a key made on the
// device, a certificate the control plane signed, the least-privilege thing
// policy (device.ThingPolicy) and the CA that signs the broker's
// certificate. It returns the fleet's per-device TLS configuration.
func demoCredentials(ctx context.Context, cfg aws.Config, dir string, things []string) (func(string) (*tls.Config, error), error) {
	certs := filepath.Join(dir, "certs")
	reg := device.Registration{CertDir: certs, Policy: device.DefaultPolicyName}
	if err := device.Register(ctx, iot.NewFromConfig(cfg), things, reg); err != nil {
		return nil, err
	}
	f := fleetFlags{certDir: certs, ca: filepath.Join(dir, mqtt.CAFile)}
	return f.tlsFor()
}

// demoSpec is the demo's update: the profile signs the image, MQTT, retries,
// a timeout and a rollout rate that CreateOTAUpdate could not pass.
func demoSpec(s demo.Seed) *ota.Spec {
	return &ota.Spec{
		OTAUpdateID: "demo-fw-1-0-0",
		Description: "otactl demo: sensor firmware 1.0.0",
		Targets:     []string{s.Group},
		RoleArn:     "otactl-demo-role",
		Files: []ota.File{{
			FileName:     "/ota/sensor.bin",
			FileLocation: ota.FileLocation{S3Location: &ota.S3Location{Bucket: s.Bucket, Key: s.Key}},
			CodeSigning:  ota.CodeSigning{StartSigningJobParameter: &ota.StartSigningJobParameter{SigningProfileName: s.Profile}},
		}},
		JobConfig: ota.JobConfig{
			JobExecutionsRetryConfig:   &ota.RetryConfig{CriteriaList: []ota.RetryCriteria{{FailureType: "FAILED", NumberOfRetries: 2}}},
			TimeoutConfig:              &ota.TimeoutConfig{InProgressTimeoutInMinutes: 10},
			JobExecutionsRolloutConfig: &ota.RolloutConfig{MaximumPerMinute: 1000},
			DestinationPackageVersions: []string{"sensor-fw@1.0.0"},
		},
	}
}

// indent prefixes every line written through it, so the steps' output nests.
type indent struct {
	w   io.Writer
	mid bool // inside a line: the prefix is already written
}

func (i *indent) Write(p []byte) (int, error) {
	out := make([]byte, 0, len(p)+8)
	for _, c := range p {
		if !i.mid {
			out = append(out, ' ', ' ', ' ')
		}
		out = append(out, c)
		i.mid = c != '\n'
	}
	if _, err := i.w.Write(out); err != nil {
		return 0, err
	}
	return len(p), nil
}
