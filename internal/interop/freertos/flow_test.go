package freertos_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"

	"github.com/otactl/otactl/internal/interop/freertos"
	"github.com/otactl/otactl/local"
	"github.com/otactl/otactl/local/localtest"
	"github.com/otactl/otactl/local/mqtt"
	"github.com/otactl/otactl/ota"
)

// The demo's firmware versions: build N is the device's running image, N+1
// the one the update delivers (the demos' own default builds are 2 and 3).
const versionN, versionN1 = 2, 3

// demoCase is one demo's OTA against otactl local.
type demoCase struct {
	demo      freertos.Demo
	thing, id string
	cfg       local.Config
	spec      func(*ota.Spec)                   // the update, beyond the MQTT defaults
	agentEnv  func(*localtest.Env) []string     // extra environment for the agent
	checkRun1 func(t *testing.T, output string) // what build N printed
}

// runDemoOTA is the whole OTA through the real agent: otactl's pipeline
// signs the image (the demo's own build N+1) with the local Signer and
// creates the job; build N downloads it, verifies the ECDSA signature with
// the code-signing certificate named by certfile and reports IN_PROGRESS
// self_test ready, then asks for a manual reset; build N+1, started in the
// same directory as after a reboot, passes its self test and reports
// SUCCEEDED, which DescribeJobExecution and `otactl describe --executions`
// show.
func runDemoOTA(t *testing.T, src string, c demoCase) {
	binN := build(t, src, c.demo, c.thing, versionN)
	binN1 := build(t, src, c.demo, c.thing, versionN1)
	firmware, err := os.ReadFile(binN1)
	if err != nil {
		t.Fatal(err)
	}

	env := localtest.StartWith(t, c.cfg)
	broker, err := env.Server.StartMQTT(mqtt.Config{TLSAddr: "127.0.0.1:0"}) // mutual TLS only
	if err != nil {
		t.Fatal(err)
	}
	d := newDevice(t, env, c.thing)
	jobID := createUpdate(t, env, d, c.id, firmware, c.spec)
	ic := iot.NewFromConfig(env.Config)
	agentEnv := []string{freertos.MQTTPortEnv + "=" + port(t, broker.TLSAddr())}
	if c.agentEnv != nil {
		agentEnv = append(agentEnv, c.agentEnv(env)...)
	}

	// Run 1: download, verify, self_test ready, "Manual reset required".
	a := start(t, "build N", binN, d, agentEnv...)
	ex := a.waitFor(ic, jobID, c.thing, "IN_PROGRESS self_test ready", func(o *iot.DescribeJobExecutionOutput) bool {
		return o.Execution.Status == "IN_PROGRESS" && o.Execution.StatusDetails != nil &&
			o.Execution.StatusDetails.DetailsMap["self_test"] == "ready"
	})
	t.Logf("after build N: %s", execString(ex))
	if !a.waitOutput("Manual reset required") {
		t.Fatalf("build N exited (%v) without asking for a reset", a.err)
	}
	a.stop()
	// The agent logs the job document's values as it parsed them: AWS
	// sends the document's characters as they are, never JSON escapes.
	for _, esc := range []string{`\u0026`, `\u003c`, `\u003e`} {
		if strings.Contains(a.out.String(), esc) {
			t.Errorf("the agent received a job document with %s escapes (AWS sends the characters)", esc)
		}
	}
	if c.checkRun1 != nil {
		c.checkRun1(t, a.out.String())
	}
	got, err := os.ReadFile(filepath.Join(d.dir, fileName))
	if err != nil || !bytes.Equal(got, firmware) {
		t.Fatalf("the image the agent wrote: %d bytes, %v; want the %d bytes uploaded", len(got), err, len(firmware))
	}

	// Run 2: the new image tests itself and the job succeeds.
	b := start(t, "build N+1", binN1, d, agentEnv...)
	ex = b.waitFor(ic, jobID, c.thing, "SUCCEEDED", func(o *iot.DescribeJobExecutionOutput) bool {
		return o.Execution.Status == "SUCCEEDED"
	})
	b.stop()
	t.Logf("after build N+1: %s", execString(ex))

	final, err := ic.DescribeJobExecution(t.Context(), &iot.DescribeJobExecutionInput{JobId: aws.String(jobID), ThingName: aws.String(c.thing)})
	if err != nil || final.Execution.Status != "SUCCEEDED" {
		t.Fatalf("DescribeJobExecution: %s, %v", execString(final), err)
	}
	out := describe(t, env, c.id)
	if !strings.Contains(out, "thing/"+c.thing+" ") || !strings.Contains(out, "SUCCEEDED") {
		t.Fatalf("otactl describe --executions does not show %s SUCCEEDED:\n%s", c.thing, out)
	}
}

// modes runs f once with SigV4 verification off and once with --strict-auth.
func modes(t *testing.T, f func(t *testing.T, cfg local.Config)) {
	for _, strict := range []bool{false, true} {
		name := "default"
		if strict {
			name = "strict-auth"
		}
		t.Run(name, func(t *testing.T) { f(t, local.Config{StrictAuth: strict}) })
	}
}
