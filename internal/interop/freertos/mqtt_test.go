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
)

// The demo's firmware versions: build N is the device's running image, N+1
// the one the update delivers (the demo's own default build is 2).
const versionN, versionN1 = 2, 3

// TestMQTTDemoOTA runs the real FreeRTOS OTA agent (the AWS IoT Device SDK
// for Embedded C's MQTT OTA demo, built with gcc) against otactl local over
// mutual TLS: otactl's pipeline signs the image with the local Signer,
// streams it and creates the job; build N downloads it over MQTT streams,
// verifies the ECDSA signature and reports IN_PROGRESS self_test ready;
// build N+1, started in the same directory as after a reboot, passes its
// self test and reports SUCCEEDED, which DescribeJobExecution and
// `otactl describe --executions` show. Once with SigV4 verification off,
// once with --strict-auth.
func TestMQTTDemoOTA(t *testing.T) {
	src := sources(t)
	for _, strict := range []bool{false, true} {
		name := "default"
		if strict {
			name = "strict-auth"
		}
		t.Run(name, func(t *testing.T) { mqttDemoOTA(t, src, strict) })
	}
}

func mqttDemoOTA(t *testing.T, src string, strict bool) {
	const thing = "freertos-mqtt-1"
	binN := build(t, src, freertos.MQTTDemo, thing, versionN)
	binN1 := build(t, src, freertos.MQTTDemo, thing, versionN1)
	firmware, err := os.ReadFile(binN1)
	if err != nil {
		t.Fatal(err)
	}

	env := localtest.StartWith(t, local.Config{StrictAuth: strict})
	broker, err := env.Server.StartMQTT(mqtt.Config{TLSAddr: "127.0.0.1:0"}) // no plain listener
	if err != nil {
		t.Fatal(err)
	}
	d := newDevice(t, env, thing)
	jobID := createUpdate(t, env, d, "freertos-mqtt", firmware, nil)
	ic := iot.NewFromConfig(env.Config)
	portEnv := freertos.MQTTPortEnv + "=" + port(t, broker.TLSAddr())

	// Run 1: download, verify, self_test ready, "Manual reset required".
	a := start(t, "build N", binN, d, portEnv)
	ex := a.waitFor(ic, jobID, thing, "IN_PROGRESS self_test ready", func(o *iot.DescribeJobExecutionOutput) bool {
		return o.Execution.Status == "IN_PROGRESS" && o.Execution.StatusDetails != nil &&
			o.Execution.StatusDetails.DetailsMap["self_test"] == "ready"
	})
	t.Logf("after build N: %s", execString(ex))
	if !a.waitOutput("Manual reset required") {
		t.Fatalf("build N exited (%v) without asking for a reset", a.err)
	}
	a.stop()
	got, err := os.ReadFile(filepath.Join(d.dir, fileName))
	if err != nil || !bytes.Equal(got, firmware) {
		t.Fatalf("the image the agent wrote: %d bytes, %v; want the %d bytes uploaded", len(got), err, len(firmware))
	}

	// Run 2: the new image tests itself and the job succeeds.
	b := start(t, "build N+1", binN1, d, portEnv)
	ex = b.waitFor(ic, jobID, thing, "SUCCEEDED", func(o *iot.DescribeJobExecutionOutput) bool {
		return o.Execution.Status == "SUCCEEDED"
	})
	b.stop()
	t.Logf("after build N+1: %s", execString(ex))

	final, err := ic.DescribeJobExecution(t.Context(), &iot.DescribeJobExecutionInput{JobId: aws.String(jobID), ThingName: aws.String(thing)})
	if err != nil || final.Execution.Status != "SUCCEEDED" {
		t.Fatalf("DescribeJobExecution: %s, %v", execString(final), err)
	}
	out := describe(t, env, "freertos-mqtt")
	if !strings.Contains(out, thing) || !strings.Contains(out, "SUCCEEDED") {
		t.Fatalf("otactl describe --executions does not show %s SUCCEEDED:\n%s", thing, out)
	}
	t.Logf("otactl describe --executions:\n%s", out)
}
