package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"

	"github.com/otactl/otactl/device"
	"github.com/otactl/otactl/device/devicetest"
)

// fleetEnv is otactl local's device side with a signed job for things, and
// the code-signing certificate in a file.
func fleetEnv(t *testing.T, retries int, things ...string) (*devicetest.Env, string) {
	e := devicetest.Start(t)
	e.Things(things...)
	e.Job(devicetest.Update{ID: "cli", Image: devicetest.Firmware(40_000), Retries: retries}, things...)
	pemFile := filepath.Join(t.TempDir(), "signer.crt")
	if err := os.WriteFile(pemFile, e.Signer.CertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	return e, pemFile
}

var fastFleet = []string{"--request-timeout", "300ms", "--idle", "1s", "--run-timeout", "1m"}

func TestFleetRunSucceeds(t *testing.T) {
	e, signer := fleetEnv(t, 1, "cli-1", "cli-2", "cli-3")
	args := append([]string{"fleet", "--devices", "3", "--prefix", "cli-", "--endpoint", e.Broker.Addr(),
		"--signing-cert", signer, "--fail-first", "1", "-o", "json"}, fastFleet...)
	code, stdout, stderr := run(t, args...)
	if code != ExitOK {
		t.Fatalf("exit %d: %s\n%s", code, stderr, stdout)
	}
	var rep device.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	if s := rep.Stats; s.Devices != 3 || s.Succeeded != 3 || s.Retried != 3 || s.Bytes != 3*2*40_000 {
		t.Fatalf("stats %+v", s)
	}
	if ex := e.Execution("AFR_OTA-cli", "cli-2"); ex.Status != "SUCCEEDED" {
		t.Fatalf("cli-2: %s", ex.Status)
	}
}

func TestFleetRunFailureExitsOne(t *testing.T) {
	e, signer := fleetEnv(t, 0, "bad-1", "bad-2")
	args := append([]string{"fleet", "--thing", "bad-1,bad-2", "--endpoint", e.Broker.Addr(),
		"--signing-cert", "other=" + signer, "--corrupt-rate", "0"}, fastFleet...)
	// The certificate is only trusted under the name "other": the job's
	// certfile names another one, so the signature cannot be checked.
	code, stdout, stderr := run(t, args...)
	if code != ExitFailure || !strings.Contains(stderr, "2 of 2 devices did not succeed") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"DEVICES", "SUCCEEDED", "bad-1", "FAILED", "rejected: 0xe7000000"} {
		if !strings.Contains(stdout, want) {
			t.Fatalf("summary lacks %q:\n%s", want, stdout)
		}
	}
}

func TestFleetRegistersThingsAndCertificates(t *testing.T) {
	e, signer := fleetEnv(t, 0, "tls-1", "tls-2")
	dir := t.TempDir()
	ca := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(ca, e.CA.CertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDLOCAL")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "none"))
	certs := filepath.Join(dir, "certs")
	args := append([]string{"fleet", "--thing", "tls-1,tls-2", "--endpoint", e.Broker.TLSAddr(), "--endpoint-url", e.URL,
		"--create-things", "--thing-group", "fleet-g", "--cert-dir", certs, "--ca", ca, "--signing-cert", signer}, fastFleet...)
	code, stdout, stderr := run(t, args...)
	if code != ExitOK {
		t.Fatalf("exit %d: %s\n%s", code, stderr, stdout)
	}
	for _, th := range []string{"tls-1", "tls-2"} {
		crt, key := device.CertPaths(certs, th)
		if _, err := os.Stat(crt); err != nil {
			t.Fatal(err)
		}
		if _, err := os.Stat(key); err != nil {
			t.Fatal(err)
		}
	}
	in, err := e.API.ListThingsInThingGroup(devicetest.Ctx, &sdkiot.ListThingsInThingGroupInput{ThingGroupName: aws.String("fleet-g")})
	if err != nil || len(in.Things) != 2 {
		t.Fatalf("group members %v: %v", in, err)
	}
	if ex := e.Execution("AFR_OTA-cli", "tls-2"); ex.Status != "SUCCEEDED" {
		t.Fatalf("tls-2: %s", ex.Status)
	}
}
