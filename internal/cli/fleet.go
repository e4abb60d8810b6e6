package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/otactl/otactl/awscloud"
	"github.com/otactl/otactl/device"
	"github.com/otactl/otactl/local"
	"github.com/otactl/otactl/local/mqtt"
)

func init() { extraCommands = append(extraCommands, newFleetCmd) }

// fleetFlags are otactl fleet's flags.
type fleetFlags struct {
	cloud                  cloudFlags
	out                    outputFlag
	things                 []string
	count                  int
	prefix                 string
	endpoint               string
	createThings           bool
	group                  string
	policy                 string
	cert, key, ca, certDir string
	// Fleet provisioning by claim: the template, and the claim certificate
	// the devices share (fleet_setup.go).
	claimTemplate, claimCert, claimKey string
	signingCerts                       []string
	signingProfile                     string
	blockSize, window, chunk           int
	preferHTTP                         bool
	requestTimeout, idle               time.Duration
	timeout                            time.Duration
	faults                             device.Faults
	offlineFor                         time.Duration

	api       *awscloud.Cloud                   // the control plane, once reached
	tlsConfig func(string) (*tls.Config, error) // per device; nil for plain MQTT
}

func newFleetCmd() *cobra.Command {
	var f fleetFlags
	cmd := &cobra.Command{
		Use:   "fleet",
		Short: "Run simulated devices (the FreeRTOS OTA agent protocol) against an endpoint",
		Long: `Run N simulated devices, each its own MQTT connection with its thing name as
client id, that take their OTA jobs like the FreeRTOS OTA agent: $next job,
afr_ota document, download over MQTT streams (CBOR, bitmaps of missing blocks)
or pre-signed HTTP URLs, signature check with the code-signing certificate,
self-test and status reports. Faults can be injected to exercise retries.

Against otactl local it needs no connection flags: the endpoint comes from
DescribeEndpoint; a mutual-TLS endpoint is trusted through otactl local's CA
(./.otactl/ca.pem, where otactl local runs; else --ca) and each device gets
a certificate from CreateCertificateFromCsr, kept in <data dir>/fleet-certs,
with the thing policy (--policy) attached. --signing-profile NAME fetches the
code-signing certificate the devices trust (Signer GetSigningProfile, ACM
GetCertificate); --signing-cert FILE gives it directly.

Progress goes to stderr: a bar on a terminal, a line whenever it changes
otherwise ("1 of 1 devices connected, waiting for jobs", ...). Ctrl-C stops
the devices and prints what they did so far (exit 130).

Exits 0 only if every device ended SUCCEEDED.`,
		Example: `  otactl fleet --thing sensor-1 --signing-profile fleet_signer           # against otactl local
  otactl fleet --devices 100 --create-things --add-to-group sensors --fail-first 1 --drop-rate 0.02 --signing-profile fleet_signer
  otactl fleet --thing sensor-1,sensor-2 --cert-dir certs/ --ca AmazonRootCA1.pem --signing-cert ecdsa=signer.crt
  otactl fleet --devices 25 --prefix dev- --endpoint 127.0.0.1:1883 --signing-cert signer.crt  # plain listener`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runFleet(cmd, &f) },
	}
	fs := cmd.Flags()
	f.cloud.register(fs)
	f.out.register(fs)
	fs.StringSliceVar(&f.things, "thing", nil, "thing name of a device (repeatable, or comma-separated)")
	fs.StringSliceVar(&f.things, "things", nil, "same as --thing")
	deprecate(fs, "things", "use --thing (repeatable, as in create)")
	fs.IntVar(&f.count, "devices", 0, "number of devices, named <prefix>1 ... <prefix>N")
	fs.IntVar(&f.count, "count", 0, "same as --devices")
	deprecate(fs, "count", "use --devices (as in demo and rehearse)")
	fs.StringVar(&f.prefix, "prefix", "dev-", "name prefix with --devices")
	fs.StringVar(&f.endpoint, "endpoint", "", "MQTT endpoint host:port (default: the IoT control plane's DescribeEndpoint)")
	fs.BoolVar(&f.createThings, "create-things", false, "register the things first (CreateThing; with --thing-group, the group; with --cert-dir, certificates for things that have none, from CreateCertificateFromCsr with keys made here, and --policy attached)")
	fs.StringVar(&f.group, "add-to-group", "", "thing group the things are added to with --create-things")
	fs.StringVar(&f.group, "thing-group", "", "same as --add-to-group")
	deprecate(fs, "thing-group", "use --add-to-group (in create, --thing-group is a target)")
	fs.StringVar(&f.policy, "policy", device.DefaultPolicyName, "IoT policy attached to the certificates --create-things makes or finds in --cert-dir (created, thing-scoped, when missing; \"\" for none)")
	fs.StringVar(&f.cert, "cert", "", "client certificate PEM for mutual TLS (every device)")
	fs.StringVar(&f.key, "key", "", "client private key PEM for --cert")
	fs.StringVar(&f.ca, "ca", "", "CA certificate PEM that signs the broker's certificate (default: ./"+local.DefaultDataDir+"/"+mqtt.CAFile+", otactl local's, when it exists; else the system roots)")
	fs.StringVar(&f.claimTemplate, "provision-template", "", "provision each device without a certificate by claim, as the AWS IoT Device SDKs' fleet provisioning samples do: with --claim-cert/--claim-key it asks for its own certificate over MQTT (CreateCertificateFromCsr, a key made here) and registers with this FLEET_PROVISIONING template (parameters ThingName and SerialNumber = its name)")
	fs.StringVar(&f.claimCert, "claim-cert", "", "claim certificate PEM the devices share, with --provision-template")
	fs.StringVar(&f.claimKey, "claim-key", "", "claim certificate's private key PEM")
	fs.StringVar(&f.certDir, "cert-dir", "", "directory of per-device certificates DIR/<thing>.crt and DIR/<thing>.key (mutual TLS); made for things that have none (default against otactl local: <data dir>/"+fleetCertDir+")")
	fs.StringArrayVar(&f.signingCerts, "signing-cert", nil, "code-signing certificate PEM the devices trust: FILE for every certfile, or NAME=FILE for the certfile NAME (repeatable)")
	fs.StringVar(&f.signingProfile, "signing-profile", "", "Signer profile whose certificate the devices trust for every certfile (fetched with GetSigningProfile and ACM GetCertificate)")
	fs.IntVar(&f.blockSize, "block-size", 4096, "MQTT stream block size in bytes (256-131072)")
	fs.IntVar(&f.window, "window", 8, "blocks asked for per stream request")
	fs.IntVar(&f.chunk, "http-chunk", 64*1024, "bytes per HTTP Range request")
	fs.BoolVar(&f.preferHTTP, "prefer-http", false, "download over HTTP when a job allows both MQTT and HTTP")
	fs.DurationVar(&f.requestTimeout, "request-timeout", 2*time.Second, "wait for a stream request's blocks before asking again")
	fs.DurationVar(&f.idle, "idle", 5*time.Second, "a device stops when nothing is pending for this long after a job")
	fs.DurationVar(&f.timeout, "run-timeout", 10*time.Minute, "stop every device after this long (the whole run)")
	fs.DurationVar(&f.timeout, "timeout", 10*time.Minute, "same as --run-timeout")
	deprecate(fs, "timeout", "use --run-timeout (in plan and create, --in-progress-timeout is per device)")
	fs.Float64Var(&f.faults.DropRate, "drop-rate", 0, "fault: fraction of blocks lost (asked for again)")
	fs.Float64Var(&f.faults.CorruptRate, "corrupt-rate", 0, "fault: chance that a download has a corrupted block (signature check fails: FAILED)")
	fs.IntVar(&f.faults.FailFirst, "fail-first", 0, "fault: the first N executions of each device fail their self-test")
	fs.BoolVar(&f.faults.RejectSignature, "reject-signature", false, "fault: every signature check fails")
	fs.Float64Var(&f.faults.OfflineRate, "offline-rate", 0, "fault: chance that a download goes offline once and resumes")
	fs.DurationVar(&f.offlineFor, "offline-for", time.Second, "how long a device stays offline")
	fs.DurationVar(&f.faults.Slow, "slow", 0, "fault: delay per block received")
	fs.Int64Var(&f.faults.Seed, "seed", 1, "seed of the injected faults")
	return cmd
}

// thingNames resolves --thing / --devices.
func (f *fleetFlags) thingNames() ([]string, error) {
	switch {
	case len(f.things) > 0 && f.count > 0:
		return nil, errors.New("use --thing or --devices, not both")
	case len(f.things) > 0:
		return f.things, nil
	case f.count > 0:
		names := make([]string, f.count)
		for i := range names {
			names[i] = fmt.Sprintf("%s%d", f.prefix, i+1)
		}
		return names, nil
	}
	return nil, errors.New("name the devices: --thing a,b or --devices N [--prefix dev-]")
}

func (f *fleetFlags) check() error {
	if err := f.out.check(); err != nil {
		return err
	}
	rate := func(name string, v float64) error {
		if v < 0 || v > 1 {
			return fmt.Errorf("--%s must be between 0 and 1, got %g", name, v)
		}
		return nil
	}
	var errs []error
	errs = append(errs, rate("drop-rate", f.faults.DropRate), rate("corrupt-rate", f.faults.CorruptRate), rate("offline-rate", f.faults.OfflineRate))
	if f.faults.FailFirst < 0 {
		errs = append(errs, errors.New("--fail-first must be 0 or more"))
	}
	if f.blockSize < 256 || f.blockSize > 131072 {
		errs = append(errs, fmt.Errorf("--block-size must be 256-131072, got %d", f.blockSize))
	}
	if f.window < 1 || f.window*f.blockSize > 131072 && f.window > 1 {
		errs = append(errs, fmt.Errorf("--window must be at least 1 and ask for at most 128 KiB (%d blocks of %d bytes)", max(1, 131072/f.blockSize), f.blockSize))
	}
	if (f.cert == "") != (f.key == "") {
		errs = append(errs, errors.New("--cert and --key go together"))
	}
	if f.cert != "" && f.certDir != "" {
		errs = append(errs, errors.New("use --cert/--key or --cert-dir, not both"))
	}
	if (f.claimTemplate == "") != (f.claimCert == "") || (f.claimCert == "") != (f.claimKey == "") {
		errs = append(errs, errors.New("--provision-template, --claim-cert and --claim-key go together"))
	}
	if f.claimTemplate != "" && (f.cert != "" || f.createThings) {
		errs = append(errs, errors.New("--provision-template provisions the devices itself: not with --cert or --create-things"))
	}
	if f.group != "" && !f.createThings {
		errs = append(errs, errors.New("--add-to-group needs --create-things"))
	}
	if len(f.signingCerts) == 0 && f.signingProfile == "" {
		errs = append(errs, errors.New("--signing-profile NAME or --signing-cert FILE is required: the code-signing certificate the devices trust"))
	}
	if f.timeout <= 0 || f.idle <= 0 || f.requestTimeout <= 0 {
		errs = append(errs, errors.New("--run-timeout, --idle and --request-timeout must be positive"))
	}
	if f.endpoint != "" && !strings.Contains(f.endpoint, ":") {
		errs = append(errs, fmt.Errorf("--endpoint must be host:port, got %q", f.endpoint))
	}
	return errors.Join(errs...)
}

func (f *fleetFlags) trust(ctx context.Context) (*device.Trust, error) {
	t := &device.Trust{}
	if f.signingProfile != "" {
		c, err := f.control(ctx)
		if err != nil {
			return nil, err
		}
		raw, err := signingProfileCert(ctx, c, f.signingProfile)
		if err != nil {
			return nil, err
		}
		if t.Default, err = device.ParseCertificatePEM(raw); err != nil {
			return nil, fmt.Errorf("--signing-profile %s: %w", f.signingProfile, err)
		}
	}
	for _, sc := range f.signingCerts {
		name, file, named := strings.Cut(sc, "=")
		if !named {
			file = sc
		}
		raw, err := os.ReadFile(file)
		if err != nil {
			return nil, invalid(fmt.Errorf("--signing-cert: %w", err))
		}
		if !named {
			c, err := device.ParseCertificatePEM(raw)
			if err != nil {
				return nil, invalid(fmt.Errorf("--signing-cert %s: %w", file, err))
			}
			t.Default = c
			continue
		}
		if err := t.Add(name, raw); err != nil {
			return nil, invalid(fmt.Errorf("--signing-cert %s: %w", sc, err))
		}
	}
	return t, nil
}

// tlsFor returns the per-device TLS configuration, or nil for plain MQTT.
func (f *fleetFlags) tlsFor() (func(string) (*tls.Config, error), error) {
	if f.cert == "" && f.certDir == "" {
		return nil, nil
	}
	var roots *x509.CertPool
	if f.ca != "" {
		raw, err := os.ReadFile(f.ca)
		if err != nil {
			return nil, err
		}
		roots = x509.NewCertPool()
		if !roots.AppendCertsFromPEM(raw) {
			return nil, fmt.Errorf("--ca %s: no PEM certificates", f.ca)
		}
	}
	var shared *tls.Certificate
	if f.cert != "" {
		c, err := tls.LoadX509KeyPair(f.cert, f.key)
		if err != nil {
			return nil, fmt.Errorf("--cert/--key: %w", err)
		}
		shared = &c
	}
	return func(thing string) (*tls.Config, error) {
		c := shared
		if c == nil {
			crt, key := device.CertPaths(f.certDir, thing)
			pair, err := tls.LoadX509KeyPair(crt, key)
			if err != nil {
				return nil, fmt.Errorf("--cert-dir: %w", err)
			}
			c = &pair
		}
		return &tls.Config{Certificates: []tls.Certificate{*c}, RootCAs: roots, MinVersion: tls.VersionTLS12}, nil
	}, nil
}

func runFleet(cmd *cobra.Command, f *fleetFlags) error {
	if err := f.check(); err != nil {
		return invalid(err)
	}
	things, err := f.thingNames()
	if err != nil {
		return invalid(err)
	}
	if f.ca == "" {
		f.ca = localCA()
	}
	sigCtx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(sigCtx, f.timeout)
	defer cancel()
	stderr := cmd.ErrOrStderr()
	trust, err := f.trust(ctx)
	if err != nil {
		return err
	}
	if f.createThings || f.endpoint == "" {
		if err := f.useControlPlane(ctx, things); err != nil {
			return err
		}
	}
	if err := f.setUpTLS(ctx, stderr, things); err != nil {
		return err
	}
	faults := f.faults
	faults.OfflineFor = f.offlineFor
	fleet := &device.Fleet{
		Things: things,
		TLSFor: f.tlsConfig,
		Base: device.Config{
			Endpoint: f.endpoint, Trust: trust, BlockSize: f.blockSize, Window: f.window, HTTPChunk: f.chunk,
			PreferHTTP: f.preferHTTP, RequestTimeout: f.requestTimeout, IdleTimeout: f.idle,
			ExitOnSuccess: true, Reboot: true, Faults: faults,
		},
	}
	fleet.Progress = f.fleetProgress(stderr, len(things))
	rep, err := fleet.Run(ctx)
	if err != nil {
		return invalid(err)
	}
	interrupted := sigCtx.Err() != nil
	if interrupted {
		fmt.Fprintln(stderr, "otactl fleet: interrupted; what the devices did so far:")
	}
	out := cmd.OutOrStdout()
	if f.out.json() {
		if err := printJSON(out, fleetOutput{rep, rep.Problems()}); err != nil {
			return err
		}
	} else if err := printFleet(out, rep); err != nil {
		return err
	}
	if interrupted {
		return &exitError{exitInterrupted, errors.New("interrupted")}
	}
	if !rep.Stats.AllSucceeded() {
		return &exitError{ExitFailure, fmt.Errorf("%d of %d devices did not succeed", rep.Stats.Failed, rep.Stats.Devices)}
	}
	return nil
}

// fleetOutput is fleet's --output json: the report and its problems grouped.
type fleetOutput struct {
	*device.Report
	Problems []device.Problem `json:"problems"`
}

// useControlPlane registers the things and finds the endpoint through the
// IoT control plane (AWS or otactl local).
func (f *fleetFlags) useControlPlane(ctx context.Context, things []string) error {
	cloud, err := f.control(ctx)
	if err != nil {
		if f.createThings {
			return err
		}
		return fmt.Errorf("no MQTT endpoint: %w; pass --endpoint HOST:PORT, or --endpoint-url of the control plane that answers DescribeEndpoint", err)
	}
	if f.createThings {
		reg := device.Registration{Group: f.group}
		if f.cert == "" {
			reg.CertDir, reg.Policy = f.certDir, f.policy
		}
		if err := device.Register(ctx, cloud.IoT(), things, reg); err != nil {
			return err
		}
	}
	if f.endpoint == "" {
		ep, err := device.Endpoint(ctx, cloud.IoT(), f.cert != "" || f.certDir != "" || f.ca != "")
		if err != nil {
			return fmt.Errorf("no MQTT endpoint: %w; is otactl local running (AWS_ENDPOINT_URL, --endpoint-url)? Otherwise pass --endpoint HOST:PORT", err)
		}
		f.endpoint = ep
	}
	return nil
}

// fleetProgress reports a fleet's progress on w: a bar on a terminal, a
// line whenever the picture changes otherwise (CI logs), nothing with
// --quiet. The fleet's last report (every device done) finishes the bar and
// its line, so that what is printed next starts on a line of its own.
func (f *fleetFlags) fleetProgress(w io.Writer, devices int) func(device.Progress) {
	if f.cloud.quiet {
		return nil
	}
	bar := f.progressBar(w, devices)
	if bar == nil {
		return progressLines(w)
	}
	var once sync.Once
	return func(p device.Progress) {
		bar.Describe(progressText(p))
		_ = bar.Set(p.Done)
		if p.Done == p.Devices {
			once.Do(func() {
				_ = bar.Finish()
				fmt.Fprintln(w)
			})
		}
	}
}

// progressText says what the devices are doing.
func progressText(p device.Progress) string {
	switch {
	case p.Done == 0 && p.Working == 0 && p.Connected == 0:
		return fmt.Sprintf("connecting %d devices", p.Devices)
	case p.Done == 0 && p.Working == 0:
		return fmt.Sprintf("%d of %d devices connected, waiting for jobs", p.Connected, p.Devices)
	}
	s := fmt.Sprintf("%d of %d devices done (%d succeeded, %d failed)", p.Done, p.Devices, p.Succeeded, p.Failed)
	if p.Working > 0 {
		s += fmt.Sprintf(", %d working", p.Working)
	}
	if p.Waiting > 0 {
		s += fmt.Sprintf(", %d waiting for jobs", p.Waiting)
	}
	return s
}

// progressLines prints a line when the picture changes, and the transfer
// rate with it; a steady picture is repeated every 30 s so that a log shows
// the run is alive.
func progressLines(w io.Writer) func(device.Progress) {
	var last string
	var lastAt time.Time
	return func(p device.Progress) {
		text := progressText(p)
		if text == last && time.Since(lastAt) < 30*time.Second {
			return
		}
		last, lastAt = text, time.Now()
		if p.Bytes > 0 {
			text += fmt.Sprintf(", %.2f MB/s", p.MBps())
		}
		fmt.Fprintf(w, "otactl fleet: %s\n", text)
	}
}

// progressBar is shown on a terminal, unless --output json.
func (f *fleetFlags) progressBar(w io.Writer, n int) *progressbar.ProgressBar {
	if f.out.json() {
		return nil
	}
	if fd, ok := w.(*os.File); !ok || !term.IsTerminal(int(fd.Fd())) {
		return nil
	}
	return progressbar.NewOptions(n, progressbar.OptionSetWriter(w), progressbar.OptionShowCount(),
		progressbar.OptionSetElapsedTime(true), progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionSetDescription("devices done"))
}

// printFleet prints the summary and the devices that did not succeed,
// grouped by reason: a hundred devices refused for one cause are one line.
func printFleet(w io.Writer, rep *device.Report) error {
	s := rep.Stats
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DEVICES\tSUCCEEDED\tFAILED\tRETRIED\tBYTES\tMB/S\tP50\tP99\tELAPSED")
	fmt.Fprintf(tw, "%d\t%d\t%d\t%d\t%d\t%.2f\t%s\t%s\t%s\n", s.Devices, s.Succeeded, s.Failed, s.Retried, s.Bytes, s.MBps,
		s.P50.Round(time.Millisecond), s.P99.Round(time.Millisecond), s.Elapsed.Round(time.Millisecond))
	if err := tw.Flush(); err != nil {
		return err
	}
	problems := rep.Problems()
	if len(problems) == 0 {
		return nil
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "THINGS\tSTATUS\tREASON")
	for _, p := range problems {
		sort.Slice(p.Things, func(i, j int) bool { return thingLess(p.Things[i], p.Things[j]) })
		names := abbreviate(p.Things, 3)
		reason := p.Reason
		if len(p.Things) == 1 {
			reason = strings.ReplaceAll(reason, "<thing>", p.Things[0])
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", names, p.Status, orDefault(reason, "-"))
		if hint := connectHint(reason); hint != "" {
			fmt.Fprintf(tw, "\t\t%s\n", hint)
		}
	}
	return tw.Flush()
}

// connectHint says what to check when the broker closed a device's
// connection during CONNECT: on AWS IoT and otactl local that is a
// certificate or policy refusal, which the broker does not explain.
func connectHint(reason string) string {
	if !strings.Contains(reason, "connect ") || !(strings.Contains(reason, "EOF") || strings.Contains(reason, "reset") || strings.Contains(reason, "refused")) {
		return ""
	}
	return "→ the broker closed the connection: check that the certificate is registered and ACTIVE, attached to the thing, and that a policy attached to it allows iot:Connect as the thing (--policy); a plain listener takes no certificates"
}

// thingLess orders names with numbers by value: dev-2 before dev-10.
func thingLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := leadingDigits(a), leadingDigits(b)
		if da > 0 && db > 0 {
			na, nb := strings.TrimLeft(a[:da], "0"), strings.TrimLeft(b[:db], "0")
			if len(na) != len(nb) {
				return len(na) < len(nb)
			}
			if na != nb {
				return na < nb
			}
			a, b = a[da:], b[db:]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func leadingDigits(s string) int {
	n := 0
	for n < len(s) && s[n] >= '0' && s[n] <= '9' {
		n++
	}
	return n
}
