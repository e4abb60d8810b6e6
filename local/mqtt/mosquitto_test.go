package mqtt_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"github.com/otactl/otactl/internal/testtool"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"

	"github.com/otactl/otactl/local/mqtt"
)

// needTool skips (loudly) when a client we did not write is missing, except
// in CI (OTACTL_CI=1), where that is a failure.
func needTool(t *testing.T, names ...string) {
	t.Helper()
	for _, n := range names {
		testtool.Require(t, n, "apt-get install mosquitto-clients")
	}
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(bg, wait)
	defer cancel()
	out, err := exec.CommandContext(ctx, name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func hostPort(t *testing.T, addr string) (string, string) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return h, p
}

// TestMosquittoClients drives the broker with Debian's mosquitto clients:
// request/response on the Jobs and stream topics (mosquitto_rr, MQTT 3.1.1
// and 5, plain and mutual TLS), a notification to mosquitto_sub, and an
// update from mosquitto_pub that the control plane then shows.
func TestMosquittoClients(t *testing.T) {
	needTool(t, "mosquitto_rr", "mosquitto_sub", "mosquitto_pub")
	e := newEnv(t, mqtt.Config{})
	e.thing("dev-1", "dev-2")
	file := body(2000)
	e.stream("s1", file)
	e.job("job-1", doc1, "dev-1")
	host, port := hostPort(t, e.broker.Addr())

	// $next/get over MQTT 3.1.1: the answer comes though the request was
	// published by the same client that only subscribed to accepted.
	out := run(t, "mosquitto_rr", "-h", host, "-p", port, "-V", "mqttv311", "-i", "dev-1", "-W", "20",
		"-t", "$aws/things/dev-1/jobs/$next/get", "-e", "$aws/things/dev-1/jobs/$next/get/accepted", "-m", `{"clientToken":"rr"}`)
	var next map[string]any
	if err := json.Unmarshal([]byte(out), &next); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if field(next, "execution", "jobId") != "job-1" || next["clientToken"] != "rr" || field(next, "execution", "jobDocument", "afr_ota") == nil {
		t.Fatalf("$next/get/accepted = %s", out)
	}

	// A stream block over MQTT 5, JSON.
	out = run(t, "mosquitto_rr", "-h", host, "-p", port, "-i", "dev-1", "-W", "20",
		"-t", "$aws/things/dev-1/streams/s1/get/json", "-e", "$aws/things/dev-1/streams/s1/data/json",
		"-m", `{"c":"m","f":0,"l":256,"o":1,"n":1}`)
	var b block
	if err := json.Unmarshal([]byte(out), &b); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if b.C != "m" || b.I != 1 || b.L != 256 || base64.StdEncoding.EncodeToString(b.P) != base64.StdEncoding.EncodeToString(file[256:512]) {
		t.Fatalf("data/json = %s", out)
	}

	// notify-next reaches a subscribed mosquitto_sub (MQTT 3.1.1).
	ctx, cancel := context.WithTimeout(bg, wait)
	defer cancel()
	sub := exec.CommandContext(ctx, "mosquitto_sub", "-h", host, "-p", port, "-i", "dev-2", "-C", "1", "-W", "20",
		"-t", "$aws/things/dev-2/jobs/notify-next")
	var got strings.Builder
	sub.Stdout = &got
	if err := sub.Start(); err != nil {
		t.Fatal(err)
	}
	for !e.broker.Subscribed("dev-2", "$aws/things/dev-2/jobs/notify-next") {
		if ctx.Err() != nil {
			t.Fatal("mosquitto_sub did not subscribe")
		}
		time.Sleep(10 * time.Millisecond)
	}
	e.job("job-2", doc1, "dev-2")
	sub.Wait()
	if !strings.Contains(got.String(), `"jobId":"job-2"`) {
		t.Fatalf("mosquitto_sub got %q", got.String())
	}

	// mosquitto_pub reports progress; the control plane shows it (QoS 1:
	// the broker handles the update before it acknowledges the publish).
	run(t, "mosquitto_pub", "-h", host, "-p", port, "-i", "dev-2", "-q", "1",
		"-t", "$aws/things/dev-2/jobs/job-2/update", "-m", `{"status":"IN_PROGRESS","statusDetails":{"receive":"1/8"}}`)
	ex, err := e.api.DescribeJobExecution(bg, &sdkiot.DescribeJobExecutionInput{JobId: aws.String("job-2"), ThingName: aws.String("dev-2")})
	if err != nil || ex.Execution.Status != "IN_PROGRESS" || ex.Execution.StatusDetails.DetailsMap["receive"] != "1/8" {
		t.Fatalf("after mosquitto_pub: %+v, %v", ex.Execution, err)
	}

	// Mutual TLS with a certificate from CreateKeysAndCertificate.
	dir := t.TempDir()
	kc, err := e.api.CreateKeysAndCertificate(bg, &sdkiot.CreateKeysAndCertificateInput{SetAsActive: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.api.AttachThingPrincipal(bg, &sdkiot.AttachThingPrincipalInput{ThingName: aws.String("dev-1"), Principal: kc.CertificateArn}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "ca.pem"), e.ca.CertPEM(), 0o600)
	os.WriteFile(filepath.Join(dir, "cert.pem"), []byte(*kc.CertificatePem), 0o600)
	os.WriteFile(filepath.Join(dir, "key.pem"), []byte(*kc.KeyPair.PrivateKey), 0o600)
	_, tport := hostPort(t, e.broker.TLSAddr())
	out = run(t, "mosquitto_rr", "-h", "localhost", "-p", tport, "-i", "dev-1", "-W", "20",
		"--cafile", filepath.Join(dir, "ca.pem"), "--cert", filepath.Join(dir, "cert.pem"), "--key", filepath.Join(dir, "key.pem"),
		"-t", "$aws/things/dev-1/jobs/get", "-e", "$aws/things/dev-1/jobs/get/accepted", "-m", `{}`)
	if !strings.Contains(out, `"jobId":"job-1"`) {
		t.Fatalf("over mutual TLS: %s", out)
	}
}
