package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/otactl/otactl/device"
	"github.com/otactl/otactl/internal/mqttwire"

	"github.com/otactl/otactl/bench/internal/localproc"
)

// The scale run (-scale N): N devices connect to otactl local over mutual
// TLS, each with its own certificate (device.Register: a P-256 key made
// here, CreateCertificateFromCsr, the thing policy), subscribe to
// notify-next and stay idle. It measures what a large fleet costs the
// broker before any download: seeding the things, connecting, the memory
// each idle connection holds, and how fast a job's rollout wave reaches
// its devices.

// Targets from issue 15.
const (
	targetSeedPerSecond = 3000
	targetIdleKiB       = 30
	targetScaleRSSMiB   = 1024
	targetWave          = time.Second
)

// Scale is what a scale run measured.
type Scale struct {
	Devices int    `json:"devices"`
	Server  string `json:"server"`
	// Seed is CreateThing and AddThingToThingGroup for every thing, at
	// most SeedConcurrency requests at a time.
	Seed            time.Duration `json:"seedNs"`
	SeedConcurrency int           `json:"seedConcurrency"`
	SeedPerSecond   float64       `json:"seedThingsPerSecond"`
	// SeedServerCPU and SeedClientCPU are the CPU time seeding took in
	// otactl local and in the SDK clients (this process): what the load
	// of other programs changes least.
	SeedServerCPU time.Duration `json:"seedServerCpuNs"`
	SeedClientCPU time.Duration `json:"seedClientCpuNs"`
	// Register is device.Register making the certificates (not a target).
	Register time.Duration `json:"registerNs"`
	// Connect is from the first TLS dial to the last SUBACK, at most
	// ConnectConcurrency handshakes at a time.
	Connect            time.Duration `json:"connectNs"`
	ConnectConcurrency int           `json:"connectConcurrency"`
	// RSSBeforeMiB is the server's VmRSS with no device connected (seeded),
	// RSSIdleMiB with every device connected and idle for IdleSettle.
	RSSBeforeMiB float64       `json:"rssBeforeMiB"`
	RSSIdleMiB   float64       `json:"rssIdleMiB"`
	IdleSettle   time.Duration `json:"idleSettleNs"`
	// IdleKiBPerConnection is (RSSIdle-RSSBefore)/Devices.
	IdleKiBPerConnection float64 `json:"idleKiBPerConnection"`
	PeakRSSMiB           float64 `json:"peakRssMiB"`
	// Wave is the job's rollout rate (executions a minute; 0: none, every
	// device at once); WaveDevices the devices the first wave notifies.
	Wave        int `json:"maximumPerMinute"`
	WaveDevices int `json:"waveDevices"`
	// Notified is from CreateJob's request to the last of the first wave's
	// devices receiving notify-next.
	Notified     time.Duration `json:"notifiedNs"`
	NotifiedP50  time.Duration `json:"notifiedP50Ns"`
	ServerCPU    time.Duration `json:"serverCpuNs"` // connecting and the wave
	LoadBefore   string        `json:"loadAverageBefore"`
	LoadAfter    string        `json:"loadAverageAfter"`
	SeedOK       bool          `json:"seedMeetsTarget"`
	IdleOK       bool          `json:"idleMeetsTarget"`
	RSSOK        bool          `json:"rssMeetsTarget"`
	NotifiedOK   bool          `json:"notifiedMeetsTarget"`
	CertDir      string        `json:"certDir"`
	ServerOutput string        `json:"-"`
}

// ScaleOptions is one scale run.
type ScaleOptions struct {
	Devices            int
	SeedConcurrency    int
	ConnectConcurrency int
	Wave               int // maximumPerMinute; 0: no rollout configuration
	IdleSettle         time.Duration
	Otactl             string
	Timeout            time.Duration
	ProfileDir         string // profiles: 1 seeding, 2 connecting and idle, 3 the wave
}

// RunScale seeds, registers and connects o.Devices over mutual TLS and
// starts one job on them.
func RunScale(ctx context.Context, o ScaleOptions, log io.Writer) (*Scale, error) {
	if o.Devices < 1 || o.SeedConcurrency < 1 || o.ConnectConcurrency < 1 || o.Wave < 0 {
		return nil, errors.New("-scale, -seed-concurrency and -connect-concurrency must be positive, -wave at least 0")
	}
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	dir, err := os.MkdirTemp("", "otactl-scale-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if o.Otactl == "" {
		if o.Otactl, err = buildOtactl(ctx, dir, o.ProfileDir != "", log); err != nil {
			return nil, err
		}
	}
	s := &Scale{Devices: o.Devices, SeedConcurrency: o.SeedConcurrency, ConnectConcurrency: o.ConnectConcurrency,
		Wave: o.Wave, IdleSettle: o.IdleSettle, LoadBefore: localproc.LoadAvg(), CertDir: filepath.Join(dir, "certs")}
	var env []string
	if o.ProfileDir != "" {
		if err := os.MkdirAll(o.ProfileDir, 0o755); err != nil {
			return nil, err
		}
		env = []string{"OTACTL_PROFILE_DIR=" + o.ProfileDir}
	}
	var srv *server
	// phase starts (SIGUSR1) or ends (SIGUSR2) a profiled phase.
	phase := func(sig os.Signal) {
		if o.ProfileDir != "" {
			srv.signal(sig)
			if sig == syscall.SIGUSR2 {
				time.Sleep(time.Second) // the profiles are written
			}
		}
	}
	srv, err = startServerEnv("otactl local", o.Otactl, env, "local", "--addr", "127.0.0.1:0", "--mqtt-addr", "",
		"--mqtts-addr", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data"))
	if err != nil {
		return nil, err
	}
	defer srv.close()
	readyCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	addrs, err := srv.waitFor(readyCtx, "export AWS_ENDPOINT_URL=", "# MQTT (mutual TLS): ")
	cancel()
	if err != nil {
		return nil, err
	}
	endpoint := addrs[0]
	mqtts, caPath, ok := strings.Cut(addrs[1], ", CA certificate ")
	if !ok {
		return nil, fmt.Errorf("cannot read the TLS listener line %q", addrs[1])
	}
	s.Server = fmt.Sprintf("otactl local (pid %d): %s, MQTT over mutual TLS %s", srv.pid, endpoint, mqtts)
	fmt.Fprintf(log, "scale: %s\n", s.Server)

	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDLOCAL", "secret", "")}
	// One HTTP connection per concurrent request, kept alive.
	cfg.HTTPClient = seedHTTPClient(o.SeedConcurrency)
	ic := iot.NewFromConfig(cfg)
	things := make([]string, o.Devices)
	for i := range things {
		things[i] = fmt.Sprintf("scale-%05d", i)
	}
	const group = "scale-fleet"
	if _, err := ic.CreateThingGroup(ctx, &iot.CreateThingGroupInput{ThingGroupName: aws.String(group)}); err != nil {
		return nil, fmt.Errorf("CreateThingGroup: %w", err)
	}
	phase(syscall.SIGUSR1)
	stopClient := profileClient(o.ProfileDir, "client-seed.pprof")
	scpu0, ccpu0 := srv.cpu(), localproc.SelfCPU()
	t0 := time.Now()
	if err := parallel(ctx, o.Devices, o.SeedConcurrency, func(i int) error {
		if _, err := ic.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String(things[i])}); err != nil {
			return fmt.Errorf("CreateThing %s: %w", things[i], err)
		}
		_, err := ic.AddThingToThingGroup(ctx, &iot.AddThingToThingGroupInput{ThingName: aws.String(things[i]), ThingGroupName: aws.String(group)})
		if err != nil {
			return fmt.Errorf("AddThingToThingGroup %s: %w", things[i], err)
		}
		return nil
	}); err != nil {
		return nil, err
	}
	s.Seed = time.Since(t0)
	s.SeedServerCPU, s.SeedClientCPU = srv.cpu()-scpu0, localproc.SelfCPU()-ccpu0
	stopClient()
	phase(syscall.SIGUSR2)
	s.SeedPerSecond = float64(o.Devices) / s.Seed.Seconds()
	fmt.Fprintf(log, "scale: seeded %d things into %s in %v (%.0f things/s, %d requests at a time; CPU %v server, %v clients; load %s)\n",
		o.Devices, group, s.Seed.Round(time.Millisecond), s.SeedPerSecond, o.SeedConcurrency,
		s.SeedServerCPU, s.SeedClientCPU.Round(10*time.Millisecond), localproc.LoadAvg())

	t0 = time.Now()
	if err := device.Register(ctx, ic, things, device.Registration{CertDir: s.CertDir, Policy: device.DefaultPolicyName}); err != nil {
		return nil, fmt.Errorf("registering certificates: %w", err)
	}
	s.Register = time.Since(t0)
	fmt.Fprintf(log, "scale: %d certificates (CreateCertificateFromCsr, policy %s) in %v\n", o.Devices, device.DefaultPolicyName, s.Register.Round(time.Millisecond))

	roots, err := loadRoots(caPath)
	if err != nil {
		return nil, err
	}
	time.Sleep(o.IdleSettle) // the server settles after seeding, as it will after connecting
	st, err := procStatus(srv.pid)
	if err != nil {
		return nil, err
	}
	s.RSSBeforeMiB = st["VmRSS"]

	devs := make([]*idleDevice, o.Devices)
	var notified atomic.Int64
	allNotified := make(chan struct{})
	phase(syscall.SIGUSR1)
	cpu0 := srv.cpu()
	t0 = time.Now()
	err = parallel(ctx, o.Devices, o.ConnectConcurrency, func(i int) error {
		d, err := connectIdle(ctx, mqtts, things[i], s.CertDir, roots, func() {
			if int(notified.Add(1)) == o.Devices {
				close(allNotified)
			}
		})
		devs[i] = d
		return err
	})
	defer func() {
		for _, d := range devs {
			if d != nil {
				d.c.Disconnect()
			}
		}
	}()
	if err != nil {
		return nil, err
	}
	s.Connect = time.Since(t0)
	fmt.Fprintf(log, "scale: %d devices connected over mutual TLS and subscribed in %v (%d handshakes at a time)\n",
		o.Devices, s.Connect.Round(time.Millisecond), o.ConnectConcurrency)
	time.Sleep(o.IdleSettle)
	if st, err = procStatus(srv.pid); err != nil {
		return nil, err
	}
	s.RSSIdleMiB = st["VmRSS"]
	s.IdleKiBPerConnection = (s.RSSIdleMiB - s.RSSBeforeMiB) * 1024 / float64(o.Devices)
	phase(syscall.SIGUSR2)
	fmt.Fprintf(log, "scale: server RSS %.0f MiB before, %.0f MiB with %d idle devices (%.1f KiB each)\n",
		s.RSSBeforeMiB, s.RSSIdleMiB, o.Devices, s.IdleKiBPerConnection)

	// One job on the group: its first wave is maximumPerMinute executions
	// (every device without a rollout configuration).
	s.WaveDevices = o.Devices
	in := &iot.CreateJobInput{JobId: aws.String("scale-1"), Targets: []string{groupArn(ctx, ic, group)},
		Document: aws.String(`{"operation":"scale-bench"}`), TargetSelection: types.TargetSelectionSnapshot}
	if o.Wave > 0 {
		in.JobExecutionsRolloutConfig = &types.JobExecutionsRolloutConfig{MaximumPerMinute: aws.Int32(int32(o.Wave))}
		s.WaveDevices = min(o.Wave, o.Devices)
	}
	phase(syscall.SIGUSR1)
	t0 = time.Now()
	for _, d := range devs {
		d.since = t0
	}
	if _, err := ic.CreateJob(ctx, in); err != nil {
		return nil, fmt.Errorf("CreateJob: %w", err)
	}
	// The wave is over when WaveDevices have been notified; a later wave
	// comes a minute on, so waiting a few seconds more shows none early.
	deadline := time.After(30 * time.Second)
	for int(notified.Load()) < s.WaveDevices {
		select {
		case <-allNotified:
		case <-deadline:
			return s, fmt.Errorf("%d of the first wave's %d devices notified in 30 s", notified.Load(), s.WaveDevices)
		case <-ctx.Done():
			return s, context.Cause(ctx)
		case <-time.After(5 * time.Millisecond):
		}
	}
	var times []time.Duration
	for _, d := range devs {
		if at := d.notifiedAt(); at > 0 {
			times = append(times, at)
		}
	}
	s.Notified, s.NotifiedP50 = device.Percentile(times, 100), device.Percentile(times, 50)
	s.ServerCPU = srv.cpu() - cpu0
	phase(syscall.SIGUSR2)
	s.PeakRSSMiB, _ = srv.memory()
	fmt.Fprintf(log, "scale: wave of %d devices notified %v after CreateJob (median %v)\n",
		s.WaveDevices, s.Notified.Round(time.Millisecond), s.NotifiedP50.Round(time.Millisecond))
	s.LoadAfter = localproc.LoadAvg()
	s.SeedOK = s.SeedPerSecond >= targetSeedPerSecond
	s.IdleOK = s.IdleKiBPerConnection <= targetIdleKiB
	s.RSSOK = s.PeakRSSMiB <= targetScaleRSSMiB
	s.NotifiedOK = s.Notified <= targetWave
	return s, nil
}

// groupArn is the group's ARN (a job's target).
func groupArn(ctx context.Context, ic *iot.Client, group string) string {
	out, err := ic.DescribeThingGroup(ctx, &iot.DescribeThingGroupInput{ThingGroupName: aws.String(group)})
	if err != nil {
		return "arn:aws:iot:us-east-1:000000000000:thinggroup/" + group
	}
	return aws.ToString(out.ThingGroupArn)
}

func loadRoots(path string) (*x509.CertPool, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("the broker's CA certificate: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(raw) {
		return nil, fmt.Errorf("%s: no PEM certificate", path)
	}
	return roots, nil
}

// idleDevice is one connected device waiting for notify-next.
type idleDevice struct {
	c     *mqttwire.Client
	since time.Time // set before the job is created

	mu sync.Mutex
	at time.Duration // since since, when notify-next first named an execution
}

func (d *idleDevice) notifiedAt() time.Duration {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.at
}

// connectIdle dials with the thing's own certificate, connects as the
// thing (the thing policy's client id) and subscribes to notify-next.
func connectIdle(ctx context.Context, addr, thing, certDir string, roots *x509.CertPool, first func()) (*idleDevice, error) {
	crt, key := device.CertPaths(certDir, thing)
	pair, err := tls.LoadX509KeyPair(crt, key)
	if err != nil {
		return nil, err
	}
	d := &idleDevice{}
	dialer := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 30 * time.Second},
		Config: &tls.Config{Certificates: []tls.Certificate{pair}, RootCAs: roots, MinVersion: tls.VersionTLS12, ServerName: "localhost"}}
	nc, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: TLS: %w", thing, err)
	}
	topic := "$aws/things/" + thing + "/jobs/notify-next"
	c, err := mqttwire.Connect(nc, thing, 0, 30*time.Second, func(t string, payload []byte) {
		if t != topic {
			return
		}
		var msg struct {
			Execution *json.RawMessage `json:"execution"`
		}
		if json.Unmarshal(payload, &msg) != nil || msg.Execution == nil {
			return
		}
		d.mu.Lock()
		firstTime := d.at == 0
		if firstTime {
			d.at = max(time.Since(d.since), time.Nanosecond)
		}
		d.mu.Unlock()
		if firstTime {
			first()
		}
	})
	if err != nil {
		nc.Close()
		return nil, err
	}
	d.c = c
	codes, err := c.Subscribe(30*time.Second, 1, topic)
	if err != nil || len(codes) != 1 || codes[0] > 2 {
		c.Disconnect()
		return nil, fmt.Errorf("%s: SUBSCRIBE %s: %v %v", thing, topic, codes, err)
	}
	return d, nil
}

// seedHTTPClient keeps one idle connection per concurrent request, so
// that seeding does not open and close connections (the SDK's default
// keeps 10 a host).
func seedHTTPClient(n int) *awshttp.BuildableClient {
	return awshttp.NewBuildableClient().WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConns = max(n, 100)
		t.MaxIdleConnsPerHost = max(n, 10)
	})
}

// printScale writes the scale run's summary.
func printScale(w io.Writer, s *Scale) {
	fmt.Fprintf(w, "\nscale benchmark: %d devices over mutual TLS, load average %s before, %s after\n\n", s.Devices, s.LoadBefore, s.LoadAfter)
	fmt.Fprintf(w, "seeding (CreateThing + AddThingToThingGroup, %d at a time): %s, %.0f things/s (target ≥ %d: %s); CPU per thing %.0f µs server + %.0f µs SDK clients\n",
		s.SeedConcurrency, d(s.Seed), s.SeedPerSecond, targetSeedPerSecond, verdict(s.SeedOK),
		float64(s.SeedServerCPU.Microseconds())/float64(s.Devices), float64(s.SeedClientCPU.Microseconds())/float64(s.Devices))
	fmt.Fprintf(w, "certificates (device.Register, CreateCertificateFromCsr): %s\n", d(s.Register))
	fmt.Fprintf(w, "connect (TLS handshake, CONNECT, SUBSCRIBE notify-next; %d at a time): %s\n", s.ConnectConcurrency, d(s.Connect))
	fmt.Fprintf(w, "server RSS: %.0f MiB seeded, %.0f MiB with every device idle for %s: %.1f KiB per connection (target ≤ %d: %s)\n",
		s.RSSBeforeMiB, s.RSSIdleMiB, d(s.IdleSettle), s.IdleKiBPerConnection, targetIdleKiB, verdict(s.IdleOK))
	fmt.Fprintf(w, "server peak RSS (VmHWM): %.0f MiB (target ≤ %d MiB: %s)\n", s.PeakRSSMiB, targetScaleRSSMiB, verdict(s.RSSOK))
	wave := "no rollout configuration: every device"
	if s.Wave > 0 {
		wave = fmt.Sprintf("maximumPerMinute %d: the first wave", s.Wave)
	}
	fmt.Fprintf(w, "job (%s, %d devices): last notified %s after CreateJob, median %s (target ≤ %s: %s); server CPU from connect to wave %s\n",
		wave, s.WaveDevices, d(s.Notified), d(s.NotifiedP50), targetWave, verdict(s.NotifiedOK), d(s.ServerCPU))
}

// profileClient profiles this process (the SDK clients, the devices) into
// dir/name until the returned function is called; nothing without dir.
func profileClient(dir, name string) (stop func()) {
	if dir == "" {
		return func() {}
	}
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		return func() {}
	}
	if pprof.StartCPUProfile(f) != nil {
		f.Close()
		return func() {}
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}
