package freertos_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/otactl/otactl/awscloud"
	"github.com/otactl/otactl/internal/cli"
	"github.com/otactl/otactl/internal/demo"
	"github.com/otactl/otactl/internal/interop/freertos"
	"github.com/otactl/otactl/local/localtest"
	"github.com/otactl/otactl/local/mqtt"
	"github.com/otactl/otactl/ota"
)

const (
	bucket   = "fw-bucket"
	fwKey    = "firmware/demo.bin"
	profile  = "freertos_signer"
	certName = "code_sign.crt" // the job document's certfile: the agent opens it in its working directory
	// fileName is the job document's filepath: relative, so the agent
	// writes the image into its working directory.
	fileName = "ota_image.bin"
	// runTimeout bounds one run of the agent.
	runTimeout = 2 * time.Minute
)

// device is a thing with its certificate, and the working directory the
// agent runs in (ca.pem, device.crt, device.key and the code-signing
// certificate, as the demo's compile-time paths name them).
type device struct {
	thing, dir string
}

// newDevice creates a thing, a key and certificate for it (active,
// attached), as a device maker would through the AWS SDK, and writes what
// the agent reads into a fresh working directory.
func newDevice(t *testing.T, env *localtest.Env, thing string) *device {
	t.Helper()
	ctx := context.Background()
	ic := iot.NewFromConfig(env.Config)
	if _, err := ic.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String(thing)}); err != nil {
		t.Fatal(err)
	}
	kc, err := ic.CreateKeysAndCertificate(ctx, &iot.CreateKeysAndCertificateInput{SetAsActive: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ic.AttachThingPrincipal(ctx, &iot.AttachThingPrincipalInput{ThingName: aws.String(thing), Principal: kc.CertificateArn}); err != nil {
		t.Fatal(err)
	}
	attachThingPolicy(t, env, thing, aws.ToString(kc.CertificateArn))
	d := &device{thing: thing, dir: t.TempDir()}
	ca, err := os.ReadFile(filepath.Join(env.Server.Config().DataDir, mqtt.CAFile))
	if err != nil {
		t.Fatal(err)
	}
	d.write(t, freertos.RootCAFile, ca)
	d.write(t, freertos.ClientCertFile, []byte(aws.ToString(kc.CertificatePem)))
	d.write(t, freertos.ClientKeyFile, []byte(aws.ToString(kc.KeyPair.PrivateKey)))
	return d
}

func (d *device) write(t *testing.T, name string, b []byte) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(d.dir, name), b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// attachThingPolicy gives the device a least-privilege policy: its own
// client id and its own thing's topics. (Once the broker enforces IoT
// policies a certificate without one cannot connect.)
func attachThingPolicy(t *testing.T, env *localtest.Env, thing, certArn string) {
	t.Helper()
	ic := iot.NewFromConfig(env.Config)
	c := env.Server.Config()
	arn := func(kind, rest string) string {
		return fmt.Sprintf("arn:aws:iot:%s:%s:%s/%s", c.Region, c.AccountID, kind, rest)
	}
	doc := fmt.Sprintf(`{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":"iot:Connect","Resource":%q},
 {"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":%q},
 {"Effect":"Allow","Action":"iot:Subscribe","Resource":%q}]}`,
		arn("client", thing), arn("topic", "$aws/things/"+thing+"/*"), arn("topicfilter", "$aws/things/"+thing+"/*"))
	name := thing + "-policy"
	ctx := context.Background()
	if _, err := ic.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String(name), PolicyDocument: aws.String(doc)}); err != nil {
		t.Fatalf("CreatePolicy: %v", err)
	}
	if _, err := ic.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: aws.String(name), Target: aws.String(certArn)}); err != nil {
		t.Fatalf("AttachPolicy: %v", err)
	}
}

// createUpdate uploads firmware to a versioned bucket, makes a signing
// profile whose ECDSA P-256 key otactl local generates (its certificate is
// written into the device's directory as certfile), and runs otactl's own
// pipeline (sign, stream, job) as `otactl create` does. It returns the job
// id and the firmware.
func createUpdate(t *testing.T, env *localtest.Env, d *device, id string, firmware []byte, spec func(*ota.Spec)) string {
	t.Helper()
	ctx := context.Background()
	seeded, err := demo.Prepare(ctx, env.Config, demo.Seed{Bucket: bucket, Key: fwKey, FirmwareSize: 1,
		Profile: profile, CertName: certName})
	if err != nil {
		t.Fatal(err)
	}
	d.write(t, certName, seeded.SigningCertPEM)
	// The firmware is the newer build of the agent itself; it is uploaded
	// over the placeholder as the bucket's latest version.
	if _, err := env.S3().PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: aws.String(fwKey),
		Body: bytes.NewReader(firmware)}); err != nil {
		t.Fatal(err)
	}
	s := &ota.Spec{
		OTAUpdateID: id,
		Targets:     []string{d.thing},
		Protocols:   []string{"MQTT"},
		RoleArn:     "ota-role",
		Files: []ota.File{{
			FileName:     fileName,
			FileLocation: ota.FileLocation{S3Location: &ota.S3Location{Bucket: bucket, Key: fwKey}},
			CodeSigning:  ota.CodeSigning{StartSigningJobParameter: &ota.StartSigningJobParameter{SigningProfileName: profile}},
		}},
	}
	if spec != nil {
		spec(s)
	}
	if errs := ota.Validate(s, time.Now()); len(errs) > 0 {
		t.Fatal(errs)
	}
	p := &ota.Pipeline{Cloud: awscloud.FromConfig(env.Config), PollInterval: 20 * time.Millisecond}
	res, err := p.Run(ctx, s)
	if err != nil {
		t.Fatalf("otactl create: %v", err)
	}
	t.Logf("job document: %s", res.Document)
	return res.JobID
}

// agent is one run of a demo binary.
type agent struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error
}

// start runs bin in d's directory with the ports in its environment. The
// run is bounded by runTimeout and killed at the end of the test; its
// output goes to the test log if the test fails.
func start(t *testing.T, name, bin string, d *device, env ...string) *agent {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), runTimeout)
	a := &agent{t: t, name: name, out: &syncBuffer{}, done: make(chan struct{})}
	a.cmd = exec.CommandContext(ctx, bin)
	a.cmd.Dir = d.dir
	a.cmd.Env = append(os.Environ(), env...)
	a.cmd.Stdout, a.cmd.Stderr = a.out, a.out
	a.cmd.WaitDelay = 5 * time.Second
	if err := a.cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	go func() { a.err = a.cmd.Wait(); cancel(); close(a.done) }()
	t.Cleanup(func() {
		a.stop()
		if t.Failed() {
			t.Logf("---- %s output (%v) ----\n%s", a.name, a.err, a.out.String())
		}
	})
	return a
}

// stop kills the agent (if it still runs) and waits for it.
func (a *agent) stop() {
	select {
	case <-a.done:
	default:
		a.cmd.Process.Kill()
		<-a.done
	}
}

// waitFor polls the job execution until ok accepts it. It fails the test
// if the agent exits first or the run's time is up.
func (a *agent) waitFor(ic *iot.Client, jobID, thing, what string, ok func(*iot.DescribeJobExecutionOutput) bool) *iot.DescribeJobExecutionOutput {
	a.t.Helper()
	var last *iot.DescribeJobExecutionOutput
	var lastErr error
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		last, lastErr = ic.DescribeJobExecution(context.Background(), &iot.DescribeJobExecutionInput{
			JobId: aws.String(jobID), ThingName: aws.String(thing)})
		if lastErr == nil && ok(last) {
			return last
		}
		select {
		case <-a.done:
			a.t.Fatalf("%s exited (%v) before %s; execution %s, %v", a.name, a.err, what, execString(last), lastErr)
		case <-tick.C:
		}
	}
}

// waitOutput waits until the agent has printed s or has exited.
func (a *agent) waitOutput(s string) bool {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for !strings.Contains(a.out.String(), s) {
		select {
		case <-a.done:
			return strings.Contains(a.out.String(), s)
		case <-tick.C:
		}
	}
	return true
}

func execString(e *iot.DescribeJobExecutionOutput) string {
	if e == nil || e.Execution == nil {
		return "<none>"
	}
	x := e.Execution
	var details map[string]string
	if x.StatusDetails != nil {
		details = x.StatusDetails.DetailsMap
	}
	return fmt.Sprintf("%s %v (execution %d, version %d)", x.Status, details, aws.ToInt64(x.ExecutionNumber), x.VersionNumber)
}

// describe runs `otactl describe <id> --executions` in-process against env.
func describe(t *testing.T, env *localtest.Env, id string) string {
	t.Helper()
	creds, err := env.Config.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	none := filepath.Join(t.TempDir(), "none")
	t.Setenv("AWS_ACCESS_KEY_ID", creds.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", creds.SecretAccessKey)
	t.Setenv("AWS_REGION", env.Config.Region)
	t.Setenv("AWS_CONFIG_FILE", none)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", none)
	var out, errb bytes.Buffer
	if code := cli.Main([]string{"describe", id, "--executions", "--endpoint-url", env.URL}, &out, &errb); code != 0 {
		t.Fatalf("otactl describe: exit %d\n%s\n%s", code, out.String(), errb.String())
	}
	return out.String()
}

func port(t *testing.T, addr string) string {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// syncBuffer is the agent's output, written by the process and read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
