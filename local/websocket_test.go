package local_test

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"

	"github.com/otactl/otactl/internal/mqttwire"
	"github.com/otactl/otactl/internal/testtool"
	"github.com/otactl/otactl/internal/wsconn"
	"github.com/otactl/otactl/local/localtest"
	"github.com/otactl/otactl/local/mqtt"
)

// presignMQTT signs wss://host/mqtt as AWS IoT's SDKs do (SigV4 query,
// service iotdevicegateway, the empty payload's hash).
func presignMQTT(t *testing.T, creds aws.Credentials, addr, region string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", "https://"+addr+"/mqtt", nil)
	empty := sha256.Sum256(nil)
	signed, _, err := v4.NewSigner().PresignHTTP(context.Background(), creds, req, hex.EncodeToString(empty[:]), "iotdevicegateway", region, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return "wss://" + strings.TrimPrefix(signed, "https://")
}

// TestMQTTOverWebSocket: a client with the environment's AWS keys opens
// wss://…/mqtt with a SigV4-signed URL and uses its thing's Jobs topics
// (the development policy); a tampered signature, unknown keys and another
// region are refused before the upgrade.
func TestMQTTOverWebSocket(t *testing.T) {
	e := localtest.Start(t)
	b, err := e.Server.StartMQTT(mqtt.Config{WebSocketAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(filepath.Join(e.Server.Config().DataDir, mqtt.CAFile))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	tc := &tls.Config{RootCAs: roots}
	creds, err := e.Config.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sdkiot.NewFromConfig(e.Config).CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String("dev-ws")}); err != nil {
		t.Fatal(err)
	}
	_, port, _ := strings.Cut(b.WebSocketAddr(), ":")
	addr := "localhost:" + port

	conn, err := wsconn.Dial(presignMQTT(t, creds, addr, "us-east-1"), tc, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 4)
	c, err := mqttwire.Connect(conn, "dev-ws", 0, 20*time.Second, func(topic string, _ []byte) { got <- topic })
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect()
	if err := c.Publish(20*time.Second, "$aws/things/dev-ws/jobs/get", 1, []byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	select {
	case topic := <-got:
		if topic != "$aws/things/dev-ws/jobs/get/accepted" {
			t.Fatalf("answer on %s", topic)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no answer over the WebSocket")
	}

	for name, url := range map[string]string{
		"tampered":       strings.Replace(presignMQTT(t, creds, addr, "us-east-1"), "X-Amz-Date=", "X-Amz-Extra=1&X-Amz-Date=", 1),
		"unknown key":    presignMQTT(t, aws.Credentials{AccessKeyID: "AKIDNOBODY", SecretAccessKey: "x"}, addr, "us-east-1"),
		"another region": presignMQTT(t, creds, addr, "eu-west-1"),
		"unsigned":       "wss://" + addr + "/mqtt",
	} {
		if c, err := wsconn.Dial(url, tc, 10*time.Second); err == nil {
			c.Close()
			t.Errorf("%s: upgraded", name)
		} else if !strings.Contains(err.Error(), "403") {
			t.Errorf("%s: %v, want 403", name, err)
		}
	}
}

// TestDeviceSDKOverWebSocket: the AWS IoT Device SDK for JavaScript
// (aws-iot-device-sdk, pure JavaScript, pinned in testdata) connects over
// wss with its own SigV4 signing (the host signed with the port, as it
// does off 443), subscribes, and gets its thing's queued job.
func TestDeviceSDKOverWebSocket(t *testing.T) {
	node := testtool.Require(t, "node", "apt-get install nodejs")
	pkg, err := os.ReadFile(filepath.Join("testdata", "devicesdk-js", "package.json"))
	if err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile(filepath.Join("testdata", "devicesdk-js", "wss.cjs"))
	if err != nil {
		t.Fatal(err)
	}
	script := testtool.NodeScript(t, pkg, src, "wss", filepath.Join("aws-iot-device-sdk", "package.json"))
	e := localtest.Start(t)
	b, err := e.Server.StartMQTT(mqtt.Config{WebSocketAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	iotc := sdkiot.NewFromConfig(e.Config)
	if _, err := iotc.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String("dev-js")}); err != nil {
		t.Fatal(err)
	}
	if _, err := iotc.CreateJob(ctx, &sdkiot.CreateJobInput{JobId: aws.String("job-wss"), Document: aws.String(`{"op":"x"}`),
		Targets: []string{"arn:aws:iot:us-east-1:000000000000:thing/dev-js"}}); err != nil {
		t.Fatal(err)
	}
	creds, err := e.Config.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := strings.Cut(b.WebSocketAddr(), ":")
	cmd := exec.Command(node, script, "localhost", port, "us-east-1", creds.AccessKeyID, creds.SecretAccessKey, "dev-js")
	cmd.Env = append(os.Environ(), "NODE_EXTRA_CA_CERTS="+filepath.Join(e.Server.Config().DataDir, mqtt.CAFile))
	out, err := cmd.CombinedOutput()
	want := `{"topic":"$aws/things/dev-js/jobs/get/accepted","clientToken":"js-wss","queued":["job-wss"]}`
	if err != nil || strings.TrimSpace(string(out)) != want {
		t.Fatalf("the Device SDK saw (%v):\n%s\nwant %s", err, out, want)
	}
}
