package freertos_test

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/iot"

	"github.com/otactl/otactl/awscloud"
	"github.com/otactl/otactl/bootstrap"
	"github.com/otactl/otactl/internal/interop/freertos"
	"github.com/otactl/otactl/local"
	"github.com/otactl/otactl/local/localtest"
	"github.com/otactl/otactl/local/mqtt"
	"github.com/otactl/otactl/ota"
)

// TestBootstrapDeviceFilesRealAgent: the real FreeRTOS OTA agent (the
// MQTT demo), built with nothing but the header otactl bootstrap generated
// (endpoint, client id, file paths) and run in the device folder it wrote
// (certificate, key, root CA, code-signing certificate), connects over
// mutual TLS with the least-privilege policy bootstrap attached, takes the
// update of the spec bootstrap wrote and SUCCEEDS.
func TestBootstrapDeviceFilesRealAgent(t *testing.T) {
	src := sources(t)
	// DescribeEndpoint answers localhost:<port>: a name the agent's TLS
	// check matches against the broker's certificate, as an AWS endpoint's.
	env := localtest.StartWith(t, local.Config{PublicEndpoint: "localhost"})
	broker, err := env.Server.StartMQTT(mqtt.Config{TLSAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cl := awscloud.FromConfig(env.Config).Bootstrap()
	const thing = "freertos-boot-1"
	cfg := bootstrap.Config{Name: "frt", Things: []string{thing}, OutDir: filepath.Join(t.TempDir(), "boot"),
		RootCA: filepath.Join(env.Server.Config().DataDir, mqtt.CAFile)}
	if _, err := bootstrap.Run(ctx, cl, cfg); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(cfg.OutDir, "devices", thing)
	header := filepath.Join(dir, bootstrap.HeaderFile)
	hb, _ := os.ReadFile(header)
	if !strings.Contains(string(hb), `"localhost"`) {
		t.Fatalf("header without the endpoint host:\n%s", hb)
	}
	bin := func(version int) string {
		start := time.Now()
		b, err := freertos.Build(freertos.Options{Sources: src, CacheDir: os.Getenv("OTACTL_INTEROP_CACHE"),
			Demo: freertos.MQTTDemo, ClientID: thing, VersionBuild: version, Header: header})
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("build %d with %s: %s", version, bootstrap.HeaderFile, time.Since(start).Round(time.Millisecond))
		return b
	}
	binN, binN1 := bin(versionN), bin(versionN1)

	// The image is build N+1: a second run uploads it and rewrites the spec.
	cfg.Firmware = binN1
	if _, err := bootstrap.Run(ctx, cl, cfg); err != nil {
		t.Fatal(err)
	}
	spec, err := ota.LoadSpecFile(filepath.Join(cfg.OutDir, "ota-update.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if errs := ota.Validate(spec, time.Now()); len(errs) > 0 {
		t.Fatal(errs)
	}
	res, err := (&ota.Pipeline{Cloud: awscloud.FromConfig(env.Config), PollInterval: 20 * time.Millisecond}).Run(ctx, spec)
	if err != nil {
		t.Fatalf("otactl create -f: %v", err)
	}

	d := &device{thing: thing, dir: dir}
	ic := iot.NewFromConfig(env.Config)
	portEnv := freertos.MQTTPortEnv + "=" + port(t, broker.TLSAddr())
	a := start(t, "build N", binN, d, portEnv)
	a.waitFor(ic, res.JobID, thing, "IN_PROGRESS self_test ready", func(o *iot.DescribeJobExecutionOutput) bool {
		return o.Execution.Status == "IN_PROGRESS" && o.Execution.StatusDetails != nil &&
			o.Execution.StatusDetails.DetailsMap["self_test"] == "ready"
	})
	if !a.waitOutput("Manual reset required") {
		t.Fatalf("build N exited (%v) without asking for a reset", a.err)
	}
	a.stop()
	firmware, _ := os.ReadFile(binN1)
	got, err := os.ReadFile(filepath.Join(dir, spec.Files[0].FileName))
	if err != nil || !bytes.Equal(got, firmware) {
		t.Fatalf("the image the agent wrote: %d bytes, %v; want %d", len(got), err, len(firmware))
	}
	b := start(t, "build N+1", binN1, d, portEnv)
	ex := b.waitFor(ic, res.JobID, thing, "SUCCEEDED", func(o *iot.DescribeJobExecutionOutput) bool {
		return o.Execution.Status == "SUCCEEDED"
	})
	b.stop()
	t.Logf("after build N+1: %s", execString(ex))
}
