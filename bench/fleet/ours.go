package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/otactl/otactl/awscloud"
	"github.com/otactl/otactl/device"
	"github.com/otactl/otactl/internal/demo"
	"github.com/otactl/otactl/ota"

	"github.com/otactl/otactl/bench/internal/localproc"
)

// Ours is the fleet run against otactl local.
type Ours struct {
	Server string `json:"server"`
	// Seed is how long seeding (bucket, image, profile, things) and
	// creating the update (signing, stream, job) took through the SDK.
	Seed   time.Duration `json:"seedNs"`
	Create time.Duration `json:"createNs"`
	Fleet  device.Stats  `json:"fleet"`
	// Download runs from the first block any device received to the last;
	// DownloadMBps is the payload rate over it (comparable to the
	// baseline's relay, which excludes connecting). Fleet.MBps is over the
	// whole fleet run: connecting, Jobs requests, verification, reports.
	Download     time.Duration `json:"downloadNs"`
	DownloadMBps float64       `json:"downloadMbps"`
	// PeakRSSMiB is the server's VmHWM at the end of the run (seeding
	// included); SampledRSSMiB the highest VmRSS sampled every 100 ms.
	PeakRSSMiB    float64       `json:"peakRssMiB"`
	SampledRSSMiB float64       `json:"sampledRssMiB"`
	ServerCPU     time.Duration `json:"serverCpuNs"` // during the whole fleet run
	// MBPerCPUSecond is payload per second of server CPU (Jobs work included).
	MBPerCPUSecond float64       `json:"mbPerServerCpuSecond"`
	ClientCPU      time.Duration `json:"clientCpuNs"`
}

// runOurs starts otactl local as its own process, seeds it, creates the
// update and runs the fleet against it.
func runOurs(ctx context.Context, o Options, dataDir string, round int, log io.Writer) (*Ours, error) {
	var env []string
	profDir := ""
	if o.ProfileDir != "" {
		profDir = filepath.Join(o.ProfileDir, fmt.Sprintf("round-%d", round))
		if err := os.MkdirAll(profDir, 0o755); err != nil {
			return nil, err
		}
		env = []string{"OTACTL_PROFILE_DIR=" + profDir}
	}
	srv, err := startServerEnv("otactl local", o.Otactl, env, "local", "--addr", "127.0.0.1:0", "--mqtt-addr", "127.0.0.1:0",
		"--mqtts-addr", "", "--data-dir", dataDir)
	if err != nil {
		return nil, err
	}
	defer srv.close()
	readyCtx, cancel := context.WithTimeout(ctx, 30*time.Second)
	addrs, err := srv.waitFor(readyCtx, "export AWS_ENDPOINT_URL=", "# MQTT (plain, development):")
	cancel()
	if err != nil {
		return nil, err
	}
	endpoint, mqttAddr := addrs[0], addrs[1]
	res := &Ours{Server: fmt.Sprintf("otactl local (pid %d): %s, MQTT %s", srv.pid, endpoint, mqttAddr)}
	fmt.Fprintf(log, "ours: %s\n", res.Server)

	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDLOCAL", "secret", "")}
	things := make([]string, o.Devices)
	for i := range things {
		things[i] = thingName(i)
	}
	t0 := time.Now()
	seed := demo.Seed{Bucket: "bench-firmware", Key: "firmware/bench.bin", FirmwareSize: o.ImageSize,
		Profile: "bench_signer", CertName: "bench_code_sign.crt", Group: "bench-fleet", Things: things, ThingsInGroups: true}
	seeded, err := demo.Prepare(ctx, cfg, seed)
	if err != nil {
		return nil, fmt.Errorf("seeding otactl local: %w", err)
	}
	res.Seed = time.Since(t0)
	fmt.Fprintf(log, "ours: seeded a %d-byte image and %d things in %v\n", o.ImageSize, o.Devices, res.Seed.Round(time.Millisecond))

	t0 = time.Now()
	spec := &ota.Spec{
		OTAUpdateID: "bench-1", Targets: []string{seed.Group}, RoleArn: "bench-role", Protocols: []string{"MQTT"},
		Files: []ota.File{{FileName: "/ota/bench.bin",
			FileLocation: ota.FileLocation{S3Location: &ota.S3Location{Bucket: seed.Bucket, Key: seed.Key}},
			CodeSigning:  ota.CodeSigning{StartSigningJobParameter: &ota.StartSigningJobParameter{SigningProfileName: seed.Profile}}}},
		// One wave: AWS's rollout cap is 1000 things a minute.
		JobConfig: ota.JobConfig{JobExecutionsRolloutConfig: &ota.RolloutConfig{MaximumPerMinute: 1000}},
	}
	p := &ota.Pipeline{Cloud: awscloud.FromConfig(cfg), PollInterval: 20 * time.Millisecond}
	if _, err := p.Run(ctx, spec); err != nil {
		return nil, fmt.Errorf("creating the update: %w", err)
	}
	res.Create = time.Since(t0)
	fmt.Fprintf(log, "ours: created update %s (signed, stream, job) in %v\n", spec.OTAUpdateID, res.Create.Round(time.Millisecond))

	trust, err := device.TrustPEM(seeded.SigningCertPEM)
	if err != nil {
		return nil, err
	}
	var first, last atomic.Int64 // unix nanoseconds of the first and last block
	var firstOnce sync.Once
	base := device.Config{Endpoint: mqttAddr, Trust: trust, BlockSize: o.BlockSize, Window: o.Window,
		ExitOnSuccess: true, ProgressEvery: o.ProgressEvery, Reboot: o.Reboot,
		// A loaded machine is slow, not lossy: no re-requests of blocks on their way.
		RequestTimeout: 10 * time.Second, ReplyTimeout: 60 * time.Second, IdleTimeout: 10 * time.Second,
		OnBytes: func(int) {
			now := time.Now().UnixNano()
			firstOnce.Do(func() { first.Store(now) })
			last.Store(now)
		}}
	fleet := &device.Fleet{Things: things, Base: base, ConnectRate: o.ConnectRate}
	if o.Progress {
		fleet.Progress = func(p device.Progress) {
			fmt.Fprintf(log, "\rours: %d/%d devices done, %.1f MB/s   ", p.Done, p.Devices, p.MBps())
		}
		fleet.ProgressEvery = time.Second
	}
	fmt.Fprintf(log, "ours: %d devices download %d bytes in %d-byte blocks over MQTT streams\n", o.Devices, o.ImageSize, o.BlockSize)
	var clientProf *os.File
	if profDir != "" {
		srv.signal(syscall.SIGUSR1)
		// The devices run here: their profile shows what they cost the
		// machine the broker shares.
		if clientProf, err = os.Create(filepath.Join(profDir, "client-cpu.pprof")); err == nil {
			err = pprof.StartCPUProfile(clientProf)
		}
		if err != nil {
			return nil, err
		}
	}
	cpu0, self0 := srv.cpu(), localproc.SelfCPU()
	rep, err := fleet.Run(ctx)
	if profDir != "" {
		pprof.StopCPUProfile()
		clientProf.Close()
		srv.signal(syscall.SIGUSR2)
		fmt.Fprintf(log, "ours: profiles in %s (go tool pprof -top %s)\n", profDir, filepath.Join(profDir, "cpu-1.pprof"))
		time.Sleep(time.Second) // the heap profile is written before the server stops
	}
	if o.Progress {
		fmt.Fprintln(log)
	}
	if err != nil {
		return nil, err
	}
	res.ServerCPU, res.ClientCPU = srv.cpu()-cpu0, localproc.SelfCPU()-self0
	res.Fleet = rep.Stats
	res.MBPerCPUSecond = perCPU(rep.Stats.Bytes, res.ServerCPU)
	res.Download = time.Duration(last.Load() - first.Load())
	if res.Download > 0 {
		res.DownloadMBps = float64(rep.Stats.Bytes) / 1e6 / res.Download.Seconds()
	}
	res.PeakRSSMiB, res.SampledRSSMiB = srv.memory()
	if !rep.Stats.AllSucceeded() {
		return res, fmt.Errorf("%d of %d devices did not succeed: %v%s", rep.Stats.Failed, rep.Stats.Devices, rep.Stats.ByStatus, firstError(rep))
	}
	return res, nil
}

// firstError quotes one failed device, to say why.
func firstError(rep *device.Report) string {
	for _, r := range rep.Devices {
		if r.Status != "SUCCEEDED" {
			msg := r.Err
			for _, j := range r.Jobs {
				if j.Reason != "" {
					msg = strings.TrimSpace(msg + " " + j.Reason)
				}
			}
			return fmt.Sprintf(" (e.g. %s: %s %s)", r.Thing, r.Status, msg)
		}
	}
	return ""
}

func thingName(i int) string { return fmt.Sprintf("bench-%04d", i) }
