// Command sign compares a Signer job in otactl local with openssl doing
// the same work on the same file, in the same run:
//
//	go run ./bench/sign                  # 16 MiB image, 5 rounds
//	go run ./bench/sign -rounds 9 -json
//
// otactl local: StartSigningJob on a 16 MiB version (the FreeRTOS
// platforms' limit), DescribeSigningJob every millisecond until Succeeded;
// the job reads the version, signs its SHA-256 with the profile's P-256
// key and writes the signed object (JSON, payload in base64) durably to
// S3. The figure is StartSigningJob's send to the first Succeeded answer.
//
// Baseline: `openssl dgst -sha256 -sign` with a P-256 key over the very
// blob file otactl local keeps the version in, then the same JSON (the
// signature and the base64 payload) written to a file and fsynced — one
// shell pipeline, timed from fork to exit.
//
// otactl local runs as its own process; its peak RSS (VmHWM) after the
// rounds shows whether memory stays flat in the image size (-image 1048576
// for comparison). Rounds alternate which side goes first, and each figure
// carries the load average it ran under.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/signer"
	signertypes "github.com/aws/aws-sdk-go-v2/service/signer/types"

	"github.com/otactl/otactl/bench/internal/localproc"
)

// target is issue 15's: at least 80 % of openssl's speed.
const target = 0.80

// Run is one measurement.
type Run struct {
	Wall time.Duration `json:"wallNs"`
	// CPU is the work's user+system time: otactl local's during the job
	// (from /proc, in 10 ms ticks), or the baseline shell's and its
	// children's. On a busy machine it says more than the wall time.
	CPU  time.Duration `json:"cpuNs"`
	Load string        `json:"loadAverage"`
}

// Result is the whole benchmark.
type Result struct {
	Started    time.Time     `json:"started"`
	CPUs       int           `json:"cpus"`
	LoadBefore string        `json:"loadAverageBefore"`
	LoadAfter  string        `json:"loadAverageAfter"`
	ImageSize  int           `json:"imageSize"`
	Otactl     []Run         `json:"otactl"`
	OpenSSL    []Run         `json:"openssl"`
	OtactlMed  time.Duration `json:"otactlMedianNs"`
	OpenSSLMed time.Duration `json:"opensslMedianNs"`
	// Medians of CPU time.
	OtactlCPU  time.Duration `json:"otactlMedianCpuNs"`
	OpenSSLCPU time.Duration `json:"opensslMedianCpuNs"`
	// Speed is openssl's median over otactl's: 1 means as fast as openssl.
	Speed       float64   `json:"speedOfOpenssl"`
	RoundSpeeds []float64 `json:"roundSpeeds"`
	// ServerHWMMiB is otactl local's peak RSS at the end.
	ServerHWMMiB float64 `json:"serverPeakRssMiB"`
	MeetsTarget  bool    `json:"meetsTarget"`
}

func main() {
	rounds := flag.Int("rounds", 5, "rounds (one signing job and one openssl run each)")
	image := flag.Int("image", 16<<20, "image size in bytes")
	bin := flag.String("otactl", "", "otactl binary (default: build this module's)")
	asJSON := flag.Bool("json", false, "print the result as JSON")
	profile := flag.String("profile", "", "with -otactl built from bench/fleet/profiled: write otactl local's CPU profile of the rounds to this folder")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	res, err := run(ctx, *rounds, *image, *bin, *profile)
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench/sign:", err)
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

func run(ctx context.Context, rounds, image int, bin, profile string) (*Result, error) {
	if rounds < 1 {
		return nil, errors.New("-rounds must be at least 1")
	}
	if _, err := exec.LookPath("openssl"); err != nil {
		return nil, fmt.Errorf("the baseline needs openssl: %w", err)
	}
	dir, err := os.MkdirTemp("", "otactl-bench-sign-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if bin == "" {
		if bin, err = localproc.Build(ctx, dir); err != nil {
			return nil, err
		}
	}
	var env []string
	if profile != "" {
		env = append(env, "OTACTL_PROFILE_DIR="+profile)
	}
	srv, err := localproc.Start(ctx, bin, filepath.Join(dir, "data"), env...)
	if err != nil {
		return nil, err
	}
	defer srv.Close()
	cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.Endpoint),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDLOCAL", "secret", "")}
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	sc := signer.NewFromConfig(cfg)

	version, err := seed(ctx, s3c, sc, image)
	if err != nil {
		return nil, fmt.Errorf("seeding otactl local: %w", err)
	}
	src, err := blobOfSize(filepath.Join(srv.DataDir, "blobs"), int64(image))
	if err != nil {
		return nil, err
	}
	key := filepath.Join(dir, "key.pem")
	if out, err := exec.CommandContext(ctx, "openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("openssl ecparam: %v\n%s", err, out)
	}
	// Each baseline run writes a new file and keeps it, as each job adds a
	// signed object: overwriting one file would reuse its page cache while
	// the jobs' new objects need fresh pages (which costs much more where
	// the page cache is at its memory limit).
	runs := 0
	outFile := func() string { return filepath.Join(dir, fmt.Sprintf("signed-%d.json", runs)) }

	ours := func() (Run, error) {
		cpu0 := localproc.ProcCPU(srv.Pid())
		d, err := signingJob(ctx, sc, version)
		return Run{Wall: d, CPU: localproc.ProcCPU(srv.Pid()) - cpu0}, err
	}
	theirs := func() (Run, error) {
		runs++
		cmd := exec.CommandContext(ctx, "sh", "-c", baseline(key, src, outFile(), image))
		t0 := time.Now()
		out, err := cmd.CombinedOutput()
		if err != nil {
			return Run{}, fmt.Errorf("baseline: %v\n%s", err, out)
		}
		return Run{Wall: time.Since(t0), CPU: cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()}, nil
	}
	// One unmeasured run of each warms the server, the page cache and the
	// baseline's check that its output is what otactl's would be.
	if _, err := ours(); err != nil {
		return nil, err
	}
	if _, err := theirs(); err != nil {
		return nil, err
	}
	if err := checkBaseline(outFile(), image); err != nil {
		return nil, err
	}

	if profile != "" {
		srv.Signal(syscall.SIGUSR1)
	}
	res := &Result{Started: time.Now().UTC(), CPUs: runtime.NumCPU(), LoadBefore: localproc.LoadAvg(), ImageSize: image}
	for i := range rounds {
		measure := func(f func() (Run, error), into *[]Run) error {
			load := localproc.LoadAvg()
			r, err := f()
			if err == nil {
				r.Load = load
				*into = append(*into, r)
			}
			return err
		}
		first, second := func() error { return measure(ours, &res.Otactl) }, func() error { return measure(theirs, &res.OpenSSL) }
		if i%2 == 1 {
			first, second = second, first
		}
		if err := first(); err != nil {
			return nil, err
		}
		if err := second(); err != nil {
			return nil, err
		}
		res.RoundSpeeds = append(res.RoundSpeeds, float64(res.OpenSSL[i].Wall)/float64(res.Otactl[i].Wall))
	}
	res.LoadAfter = localproc.LoadAvg()
	if profile != "" {
		srv.Signal(syscall.SIGUSR2)
		time.Sleep(time.Second) // the profile is written asynchronously
	}
	res.OtactlMed, res.OpenSSLMed = median(res.Otactl, wall), median(res.OpenSSL, wall)
	res.OtactlCPU, res.OpenSSLCPU = median(res.Otactl, cpu), median(res.OpenSSL, cpu)
	res.Speed = float64(res.OpenSSLMed) / float64(res.OtactlMed)
	res.MeetsTarget = res.Speed >= target
	res.ServerHWMMiB = vmHWM(srv.Pid())
	return res, nil
}

// seed makes a versioned source bucket with the image, a versioned
// destination bucket and a P-256 signing profile.
func seed(ctx context.Context, s3c *s3.Client, sc *signer.Client, image int) (string, error) {
	for _, b := range []string{"bench-firmware", "bench-signed"} {
		if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			return "", err
		}
		if _, err := s3c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(b),
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
			return "", err
		}
	}
	fw := make([]byte, image)
	rand.Read(fw)
	put, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("bench-firmware"), Key: aws.String("fw.bin"), Body: bytes.NewReader(fw)})
	if err != nil {
		return "", err
	}
	if _, err := sc.PutSigningProfile(ctx, &signer.PutSigningProfileInput{ProfileName: aws.String("bench"),
		PlatformId: aws.String("AmazonFreeRTOS-Default")}); err != nil {
		return "", err
	}
	return aws.ToString(put.VersionId), nil
}

// signingJob runs one job: StartSigningJob, then DescribeSigningJob every
// millisecond until it is Succeeded.
func signingJob(ctx context.Context, sc *signer.Client, version string) (time.Duration, error) {
	t0 := time.Now()
	job, err := sc.StartSigningJob(ctx, &signer.StartSigningJobInput{
		ProfileName: aws.String("bench"),
		Source:      &signertypes.Source{S3: &signertypes.S3Source{BucketName: aws.String("bench-firmware"), Key: aws.String("fw.bin"), Version: &version}},
		Destination: &signertypes.Destination{S3: &signertypes.S3Destination{BucketName: aws.String("bench-signed")}},
	})
	if err != nil {
		return 0, err
	}
	for {
		d, err := sc.DescribeSigningJob(ctx, &signer.DescribeSigningJobInput{JobId: job.JobId})
		if err != nil {
			return 0, err
		}
		switch d.Status {
		case signertypes.SigningStatusSucceeded:
			return time.Since(t0), nil
		case signertypes.SigningStatusFailed:
			return 0, fmt.Errorf("signing job failed: %s", aws.ToString(d.StatusReason))
		}
		time.Sleep(time.Millisecond)
	}
}

// blobOfSize finds the one blob of the image's size: the file otactl
// local reads the version from.
func blobOfSize(dir string, size int64) (string, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	for _, e := range ents {
		if fi, err := e.Info(); err == nil && fi.Mode().IsRegular() && fi.Size() == size {
			return filepath.Join(dir, e.Name()), nil
		}
	}
	return "", fmt.Errorf("no %d-byte blob under %s", size, dir)
}

// baseline is the shell pipeline openssl's side runs: sign the file's
// SHA-256, then write the signed-object JSON with the base64 payload and
// fsync it (coreutils sync FILE).
func baseline(key, src, out string, size int) string {
	q := func(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
	return fmt.Sprintf(`set -e
sig=$(openssl dgst -sha256 -sign %[1]s %[2]s | base64 -w0)
{ printf '{"rawPayloadSize":%[4]d,"signature":"%%s","signatureAlgorithm":"SHA256withECDSA","payload":"' "$sig"; base64 -w0 %[2]s; printf '"}'; } > %[3]s
sync %[3]s`, q(key), q(src), q(out), size)
}

// checkBaseline makes sure the baseline wrote the whole document.
func checkBaseline(path string, size int) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc struct {
		RawPayloadSize int    `json:"rawPayloadSize"`
		Signature      []byte `json:"signature"`
		Payload        []byte `json:"payload"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return fmt.Errorf("baseline output: %w", err)
	}
	if doc.RawPayloadSize != size || len(doc.Payload) != size || len(doc.Signature) < 64 {
		return fmt.Errorf("baseline output is not a whole signed object (%d-byte payload)", len(doc.Payload))
	}
	return nil
}

func wall(r Run) time.Duration { return r.Wall }
func cpu(r Run) time.Duration  { return r.CPU }

func median(runs []Run, of func(Run) time.Duration) time.Duration {
	w := make([]time.Duration, len(runs))
	for i, r := range runs {
		w[i] = of(r)
	}
	slices.Sort(w)
	if n := len(w); n%2 == 0 {
		return (w[n/2-1] + w[n/2]) / 2
	}
	return w[len(w)/2]
}

// vmHWM is a process's peak RSS in MiB (/proc/<pid>/status).
func vmHWM(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}

func report(r *Result) {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/1e6) }
	fmt.Printf("signing, %d-byte image, %d rounds, %d CPUs, %s\n", r.ImageSize, len(r.Otactl), r.CPUs, r.Started.Format(time.RFC3339))
	fmt.Printf("load average before %s, after %s\n", r.LoadBefore, r.LoadAfter)
	fmt.Printf("%-6s %-39s %-39s %s\n", "round", "otactl local job (wall, cpu, load)", "openssl (wall, cpu, load)", "speed")
	for i := range r.Otactl {
		o, s := r.Otactl[i], r.OpenSSL[i]
		fmt.Printf("%-6d %-9s %-8s %-20s %-9s %-8s %-20s %.0f %%\n", i+1, ms(o.Wall), ms(o.CPU), o.Load, ms(s.Wall), ms(s.CPU), s.Load, 100*r.RoundSpeeds[i])
	}
	verdict := "meets"
	if !r.MeetsTarget {
		verdict = "MISSES"
	}
	fmt.Printf("median: otactl local %s, openssl %s: %.0f %% of openssl's speed (rounds %.0f..%.0f %%); %s the %.0f %% target\n",
		ms(r.OtactlMed), ms(r.OpenSSLMed), 100*r.Speed, 100*slices.Min(r.RoundSpeeds), 100*slices.Max(r.RoundSpeeds), verdict, 100*target)
	fmt.Printf("median CPU: otactl local %s, openssl %s\n", ms(r.OtactlCPU), ms(r.OpenSSLCPU))
	fmt.Printf("otactl local peak RSS %.0f MiB\n", r.ServerHWMMiB)
}
