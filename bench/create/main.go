// Command create compares how long it takes to create an OTA update with
// `otactl create` and with the calls AWS's sample create_ota_update.py
// makes (the "deconstructed OTA update": sign, copy, stream, CreateJob with
// retries and scheduling), both against one `otactl local`.
//
//	go run ./bench/create              # 5 pairs, 1 MiB image
//	go run ./bench/create -pairs 9 -json
//
// The sample's flow runs in this process, written in Go with the AWS SDK
// and the script's polling (sleep 100 ms after every DescribeSigningJob),
// so Python's start-up is not counted against it. `otactl create` runs as
// its own process, start-up included, as a user runs it. Each pair runs
// both with the same job configuration (1 MiB image, SNAPSHOT, 3 TIMED_OUT
// retries, 10-minute in-progress timeout, scheduled +1 h..+2 h, CANCEL),
// alternating which goes first. The load average is recorded with each
// figure: on a busy machine the spread says how far to trust them.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/otactl/otactl/bench/internal/localproc"
	"github.com/otactl/otactl/internal/cli"
	"github.com/otactl/otactl/internal/demo"
)

// target is issue 15's: otactl create at least 10× faster than the sample.
const target = 10.0

// Run is one measurement.
type Run struct {
	Wall time.Duration `json:"wallNs"`
	CPU  time.Duration `json:"cpuNs"` // the client's user+system CPU
	Load string        `json:"loadAverage"`
}

// Result is the whole benchmark.
type Result struct {
	Started    time.Time `json:"started"`
	CPUs       int       `json:"cpus"`
	LoadBefore string    `json:"loadAverageBefore"`
	LoadAfter  string    `json:"loadAverageAfter"`
	ImageSize  int       `json:"imageSize"`
	Sample     []Run     `json:"sample"`
	Otactl     []Run     `json:"otactl"`
	// InProcess is the same otactl create run by cli.Main inside this
	// process: the difference to Otactl is exec, the Go runtime's start
	// and package initialisation.
	InProcess []Run `json:"inProcess"`
	// Medians of wall time, and the ratio sample/otactl of the medians.
	SampleMedian    time.Duration `json:"sampleMedianNs"`
	OtactlMedian    time.Duration `json:"otactlMedianNs"`
	InProcessMedian time.Duration `json:"inProcessMedianNs"`
	Ratio           float64       `json:"ratio"`
	// PairRatios are sample/otactl within each pair (the spread).
	PairRatios  []float64 `json:"pairRatios"`
	MeetsTarget bool      `json:"meetsTarget"`
}

func main() {
	pairs := flag.Int("pairs", 5, "pairs of runs (sample, otactl create)")
	image := flag.Int("image", 1<<20, "firmware image size in bytes")
	bin := flag.String("otactl", "", "otactl binary (default: build this module's)")
	asJSON := flag.Bool("json", false, "print the result as JSON")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := run(ctx, *pairs, *image, *bin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/create:", err)
		os.Exit(1)
	}
	if *asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		enc.Encode(res)
		return
	}
	report(res)
}

func run(ctx context.Context, pairs, image int, bin string) (*Result, error) {
	if pairs < 1 {
		return nil, errors.New("-pairs must be at least 1")
	}
	dir, err := os.MkdirTemp("", "otactl-bench-create-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if bin == "" {
		if bin, err = localproc.Build(ctx, dir); err != nil {
			return nil, err
		}
	}
	srv, err := localproc.Start(ctx, bin, filepath.Join(dir, "data"))
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	endpoint := srv.Endpoint

	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDLOCAL", "secret", "")}
	j := Job{Bucket: "bench-firmware", Key: "firmware/bench.bin", Profile: "bench_signer", Role: "bench-ota-role", Group: "bench-fleet"}
	if _, err := demo.Prepare(ctx, cfg, demo.Seed{Bucket: j.Bucket, Key: j.Key, FirmwareSize: image,
		Profile: j.Profile, CertName: "bench_code_sign.crt", Group: j.Group, Things: []string{"bench-device-0"},
		ThingsInGroups: true}); err != nil {
		return nil, fmt.Errorf("seeding otactl local: %w", err)
	}
	for _, kv := range clientEnv(endpoint) {
		k, v, _ := strings.Cut(kv, "=")
		os.Setenv(k, v)
	}
	// One unmeasured run of each warms the server and the page cache.
	if err := runSample(ctx, j, "warm-sample"); err != nil {
		return nil, err
	}
	if _, _, err := runCreate(ctx, bin, endpoint, createArgs(j, "warm-otactl")); err != nil {
		return nil, err
	}

	res := &Result{Started: time.Now().UTC(), CPUs: runtime.NumCPU(), LoadBefore: localproc.LoadAvg(), ImageSize: image}
	for i := range pairs {
		sample := func() error {
			load := localproc.LoadAvg()
			cpu0 := localproc.SelfCPU()
			t0 := time.Now()
			if err := runSample(ctx, j, fmt.Sprintf("sample-%d", i)); err != nil {
				return err
			}
			res.Sample = append(res.Sample, Run{Wall: time.Since(t0), CPU: localproc.SelfCPU() - cpu0, Load: load})
			return nil
		}
		ours := func() error {
			load := localproc.LoadAvg()
			wall, cpu, err := runCreate(ctx, bin, endpoint, createArgs(j, fmt.Sprintf("otactl-%d", i)))
			if err != nil {
				return err
			}
			res.Otactl = append(res.Otactl, Run{Wall: wall, CPU: cpu, Load: load})
			return nil
		}
		inProcess := func() error {
			load := localproc.LoadAvg()
			cpu0 := localproc.SelfCPU()
			t0 := time.Now()
			var out bytes.Buffer
			if code := cli.Main(createArgs(j, fmt.Sprintf("inproc-%d", i)), &out, &out); code != 0 {
				return fmt.Errorf("otactl create in process: exit %d\n%s", code, out.String())
			}
			res.InProcess = append(res.InProcess, Run{Wall: time.Since(t0), CPU: localproc.SelfCPU() - cpu0, Load: load})
			return nil
		}
		order := []func() error{sample, ours, inProcess}
		if i%2 == 1 {
			order = []func() error{ours, inProcess, sample}
		}
		for _, f := range order {
			if err := f(); err != nil {
				return nil, err
			}
		}
		res.PairRatios = append(res.PairRatios, float64(res.Sample[i].Wall)/float64(res.Otactl[i].Wall))
	}
	res.LoadAfter = localproc.LoadAvg()
	res.SampleMedian, res.OtactlMedian, res.InProcessMedian = median(res.Sample), median(res.Otactl), median(res.InProcess)
	res.Ratio = float64(res.SampleMedian) / float64(res.OtactlMedian)
	res.MeetsTarget = res.Ratio >= target
	return res, nil
}

func median(runs []Run) time.Duration {
	w := make([]time.Duration, len(runs))
	for i, r := range runs {
		w[i] = r.Wall
	}
	slices.Sort(w)
	if n := len(w); n%2 == 0 {
		return (w[n/2-1] + w[n/2]) / 2
	}
	return w[len(w)/2]
}

func report(r *Result) {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/1e6) }
	fmt.Printf("create latency, %d-byte image, %d pairs, %d CPUs, %s\n", r.ImageSize, len(r.Sample), r.CPUs, r.Started.Format(time.RFC3339))
	fmt.Printf("load average before %s, after %s\n", r.LoadBefore, r.LoadAfter)
	fmt.Printf("%-5s %-36s %-36s %-7s %s\n", "pair", "sample flow (wall, cpu, load)", "otactl create (wall, cpu, load)", "ratio", "in process (wall, cpu)")
	for i := range r.Sample {
		s, o, p := r.Sample[i], r.Otactl[i], r.InProcess[i]
		fmt.Printf("%-5d %-9s %-8s %-18s %-9s %-8s %-18s %-7s %s %s\n", i+1, ms(s.Wall), ms(s.CPU), s.Load,
			ms(o.Wall), ms(o.CPU), o.Load, fmt.Sprintf("%.1f×", r.PairRatios[i]), ms(p.Wall), ms(p.CPU))
	}
	lo, hi := slices.Min(r.PairRatios), slices.Max(r.PairRatios)
	verdict := "meets"
	if !r.MeetsTarget {
		verdict = "MISSES"
	}
	fmt.Printf("otactl create run in this process (cli.Main, no exec or Go start-up): median %s\n", ms(r.InProcessMedian))
	fmt.Printf("median wall: sample %s, otactl create %s: ratio %.1f× (pairs %.1f×..%.1f×); %s the %.0f× target\n",
		ms(r.SampleMedian), ms(r.OtactlMedian), r.Ratio, lo, hi, verdict, target)
}
