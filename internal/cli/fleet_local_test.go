package cli

import (
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"

	"github.com/otactl/otactl/device"
	"github.com/otactl/otactl/internal/demo"
	"github.com/otactl/otactl/local/localtest"
	"github.com/otactl/otactl/local/mqtt"
)

const fleetSpecYAML = `otaUpdateId: %ID%
targets: [fleet]
roleArn: ota-role
protocols: [%PROTO%]
files:
  - fileName: /fw.bin
    fileLocation:
      s3Location: {bucket: fw-bucket, key: fw.bin}
    codeSigning:
      startSigningJobParameter: {signingProfileName: fw_signer}
jobExecutionsRetryConfig:
  criteriaList: [{failureType: FAILED, numberOfRetries: 2}]
`

// fleetLocal starts otactl local (S3, Signer, IoT and its MQTT broker, with
// a mutual-TLS listener when tls is set),
// seeds it as a user would, creates an update with otactl create, and
// returns the endpoint URL and the code-signing certificate's file.
func fleetLocal(t *testing.T, proto string, tls bool, things ...string) (env *localtest.Env, signingCert string) {
	env = localtest.Start(t)
	ctx := context.Background()
	cfg := mqtt.Config{Addr: "127.0.0.1:0"}
	if tls {
		cfg.TLSAddr = "127.0.0.1:0"
	}
	if _, err := env.Server.StartMQTT(cfg); err != nil {
		t.Fatal(err)
	}
	out, err := env.Config.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ep, err := iot.NewFromConfig(env.Config).DescribeEndpoint(ctx, &iot.DescribeEndpointInput{EndpointType: aws.String("iot:Data-ATS")})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := net.SplitHostPort(aws.ToString(ep.EndpointAddress)); err != nil {
		t.Fatalf("DescribeEndpoint answers %s, not the broker's host:port", aws.ToString(ep.EndpointAddress))
	}
	seeded, err := demo.Prepare(ctx, env.Config, demo.Seed{Bucket: "fw-bucket", Key: "fw.bin", FirmwareSize: 50_000,
		Profile: "fw_signer", CertName: "code_sign.crt", Group: "fleet", Things: things, ThingsInGroups: true})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	t.Setenv("AWS_ACCESS_KEY_ID", out.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", out.SecretAccessKey)
	t.Setenv("AWS_REGION", env.Config.Region)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "none"))
	signingCert = filepath.Join(dir, "code_sign.crt")
	spec := filepath.Join(dir, "spec.yaml")
	if err := os.WriteFile(signingCert, seeded.SigningCertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	body := strings.NewReplacer("%ID%", "fw-"+strings.ToLower(proto), "%PROTO%", proto).Replace(fleetSpecYAML)
	if proto == "HTTP" {
		body += "presignedUrlConfig: {roleArn: ota-role, expiresInSec: 600}\n"
	}
	if err := os.WriteFile(spec, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := run(t, "create", "-f", spec, "--endpoint-url", env.URL); code != 0 {
		t.Fatalf("create: exit %d\n%s\n%s", code, stdout, stderr)
	}
	return env, signingCert
}

func fleetJSON(t *testing.T, args ...string) *device.Report {
	t.Helper()
	code, stdout, stderr := run(t, append(append([]string{"fleet", "-o", "json"}, args...), fastFleet...)...)
	var rep device.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("exit %d: %v\n%s\n%s", code, err, stdout, stderr)
	}
	if code != ExitOK {
		var errs []string
		for _, d := range rep.Devices {
			if d.Err != "" {
				errs = append(errs, d.Thing+": "+d.Err)
			}
		}
		t.Fatalf("exit %d: %s\n%+v\n%s", code, stderr, rep.Stats, strings.Join(errs, "\n"))
	}
	return &rep
}

// TestFleetAgainstOtactlLocal is the whole pipeline: otactl create signs
// the image with the local Signer, streams it and creates the job; the fleet
// registers a certificate per device, finds the broker's mutual-TLS port
// through DescribeEndpoint, downloads over MQTT streams with faults
// (dropped blocks, a disconnect), verifies the Signer's signature, and
// otactl describe shows what the devices reported.
func TestFleetAgainstOtactlLocal(t *testing.T) {
	env, cert := fleetLocal(t, "MQTT", true, "dev-1", "dev-2", "dev-3")
	ca := filepath.Join(env.Server.Config().DataDir, "ca.pem")
	rep := fleetJSON(t, "--thing", "dev-1,dev-2,dev-3", "--endpoint-url", env.URL, "--signing-cert", cert,
		"--create-things", "--cert-dir", filepath.Join(t.TempDir(), "certs"), "--ca", ca,
		"--drop-rate", "0.05", "--offline-rate", "1", "--offline-for", "50ms")
	if s := rep.Stats; s.Succeeded != 3 || s.Reconnects < 3 || s.Rerequests == 0 {
		t.Fatalf("stats %+v", s)
	}
	ex, err := iot.NewFromConfig(env.Config).DescribeJobExecution(context.Background(), &iot.DescribeJobExecutionInput{
		JobId: aws.String("AFR_OTA-fw-mqtt"), ThingName: aws.String("dev-2")})
	if err != nil || ex.Execution.Status != "SUCCEEDED" || ex.Execution.StatusDetails.DetailsMap["reason"] != "accepted v1.0.1" {
		t.Fatalf("DescribeJobExecution: %+v %v", ex, err)
	}
	code, stdout, _ := run(t, "describe", "fw-mqtt", "--executions", "--endpoint-url", env.URL)
	if code != 0 || strings.Count(stdout, "SUCCEEDED") < 3 {
		t.Fatalf("describe: exit %d\n%s", code, stdout)
	}
}

func TestFleetHTTPAgainstOtactlLocal(t *testing.T) {
	env, cert := fleetLocal(t, "HTTP", false, "web-1", "web-2")
	rep := fleetJSON(t, "--thing", "web-1,web-2", "--endpoint-url", env.URL, "--signing-cert", cert, "--http-chunk", "16384")
	if s := rep.Stats; s.Succeeded != 2 || rep.Devices[0].Jobs[0].Protocol != "HTTP" {
		t.Fatalf("stats %+v", s)
	}
}
