package cli

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/otactl/otactl/internal/demo"
	"github.com/otactl/otactl/local/localtest"
	"github.com/otactl/otactl/ota"
)

const specYAML = `otaUpdateId: %s
targets: [sensors]
roleArn: ota-role
files:
  - fileName: /fw.bin
    fileLocation:
      s3Location: {bucket: fw-bucket, key: fw.bin}
    codeSigning:
      startSigningJobParameter: {signingProfileName: fw_signer}
jobExecutionsRetryConfig:
  criteriaList: [{failureType: FAILED, numberOfRetries: 2}]
timeoutConfig: {inProgressTimeoutInMinutes: 30}
`

// localEnv starts otactl local, seeds it, and points the AWS configuration
// chain of the commands at it through the environment, as a user would.
func localEnv(t *testing.T) (*localtest.Env, string) {
	env := localtest.Start(t)
	_, err := demo.Prepare(context.Background(), env.Config, demo.Seed{Bucket: "fw-bucket", Key: "fw.bin", FirmwareSize: 20_000,
		Profile: "fw_signer", CertName: "code_sign.crt", Group: "sensors", Things: []string{"dev-1", "dev-2", "dev-3"}, ThingsInGroups: true})
	if err != nil {
		t.Fatal(err)
	}
	creds, _ := env.Config.Credentials.Retrieve(context.Background())
	t.Setenv("AWS_ACCESS_KEY_ID", creds.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", creds.SecretAccessKey)
	t.Setenv("AWS_REGION", env.Config.Region)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	return env, env.URL
}

func writeSpec(t *testing.T, id string) string {
	p := filepath.Join(t.TempDir(), id+".yaml")
	os.WriteFile(p, []byte(strings.ReplaceAll(specYAML, "%s", id)), 0o644)
	return p
}

func TestCreateListDescribeCancelDelete(t *testing.T) {
	env, url := localEnv(t)
	ep := []string{"--endpoint-url", url}
	spec := writeSpec(t, "fw-1")

	code, out, errOut := run(t, append([]string{"create", "-f", spec}, ep...)...)
	if code != 0 || !strings.Contains(out, "Created OTA update fw-1") || !strings.Contains(out, "otactl describe fw-1") {
		t.Fatalf("create: exit %d\n%s\n%s", code, out, errOut)
	}
	code, out, _ = run(t, append([]string{"create", "-f", spec}, ep...)...)
	if code != 0 || !strings.Contains(out, "already exists, unchanged") {
		t.Fatalf("second create: exit %d\n%s", code, out)
	}

	code, out, _ = run(t, append([]string{"list"}, ep...)...)
	if code != 0 || !strings.Contains(out, "fw-1") || !strings.Contains(out, "thinggroup/sensors") || !strings.Contains(out, "MQTT") {
		t.Fatalf("list: exit %d\n%s", code, out)
	}
	code, out, _ = run(t, append([]string{"list", "-o", "json"}, ep...)...)
	var ups []ota.UpdateSummary
	if code != 0 || json.Unmarshal([]byte(out), &ups) != nil || len(ups) != 1 || ups[0].UpdateID != "fw-1" {
		t.Fatalf("list json: %s", out)
	}

	code, out, _ = run(t, append([]string{"describe", "fw-1", "--executions"}, ep...)...)
	for _, want := range []string{"IN_PROGRESS", "QUEUED 3", "dev-1", "dev-3", "AFR_OTA-", "sig-sha256-ecdsa", "code_sign.crt", `"afr_ota"`} {
		if !strings.Contains(out, want) {
			t.Errorf("describe lacks %q:\n%s", want, out)
		}
	}
	if code, _, _ := run(t, append([]string{"describe", "no-such-update"}, ep...)...); code != ExitNotFound {
		t.Fatalf("describe of a missing update: exit %d, want %d", code, ExitNotFound)
	}

	if code, _, errOut := run(t, append([]string{"cancel", "fw-1"}, ep...)...); code != 0 {
		t.Fatalf("cancel: %d %s", code, errOut)
	}
	_, out, _ = run(t, append([]string{"describe", "fw-1", "-o", "json"}, ep...)...)
	if !strings.Contains(out, `"CANCELED"`) {
		t.Fatalf("describe after cancel: %s", out)
	}

	ic := iot.NewFromConfig(env.Config)
	code, out, errOut = run(t, append([]string{"delete", "fw-1", "--purge-signed-objects"}, ep...)...)
	if code != 0 || !strings.Contains(out, "Deleted stream AFR_OTA-") || !strings.Contains(out, "versionId=") {
		t.Fatalf("delete: exit %d\n%s\n%s", code, out, errOut)
	}
	streams, _ := ic.ListStreams(context.Background(), &iot.ListStreamsInput{})
	if len(streams.Streams) != 0 {
		t.Fatalf("delete left streams: %+v", streams.Streams)
	}
	vs, _ := env.S3().ListObjectVersions(context.Background(), &s3.ListObjectVersionsInput{Bucket: aws.String("fw-bucket"), Prefix: aws.String("SignedImages/")})
	if len(vs.Versions) != 0 {
		t.Fatalf("--purge-signed-objects left %d versions", len(vs.Versions))
	}
	orig, _ := env.S3().ListObjectVersions(context.Background(), &s3.ListObjectVersionsInput{Bucket: aws.String("fw-bucket"), Prefix: aws.String("fw.bin")})
	if len(orig.Versions) != 1 {
		t.Fatal("the user's own binary must never be purged")
	}
	if code, _, _ := run(t, append([]string{"describe", "fw-1"}, ep...)...); code != ExitNotFound {
		t.Fatalf("describe after delete: exit %d", code)
	}
}

// TestBinaryCreate runs the built otactl as a user would.
func TestBinaryCreate(t *testing.T) {
	_, url := localEnv(t)
	bin := filepath.Join(t.TempDir(), "otactl")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/otactl").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	spec := writeSpec(t, "bin-1")
	for i, want := range []string{"Created OTA update bin-1", "already exists, unchanged"} {
		cmd := exec.Command(bin, "create", "-f", spec, "--endpoint-url", url)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), want) {
			t.Fatalf("run %d: %v\n%s", i+1, err, out)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("otaUpdateId: x\n"), 0o644)
	err := exec.Command(bin, "create", "-f", bad, "--endpoint-url", url).Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != ExitInvalid {
		t.Fatalf("invalid spec: %v, want exit %d", err, ExitInvalid)
	}
}
