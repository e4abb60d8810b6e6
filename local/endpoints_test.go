package local_test

import (
	"bytes"
	"crypto/tls"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	iottypes "github.com/aws/aws-sdk-go-v2/service/iot/types"
	"github.com/eclipse/paho.golang/paho"

	"github.com/otactl/otactl/local"
	"github.com/otactl/otactl/local/localtest"
	"github.com/otactl/otactl/local/mqtt"
)

// endpointDevice is a registered thing with its certificate, for dialing
// what DescribeEndpoint answers.
type endpointDevice struct {
	thing string
	tls   *tls.Config
}

func newEndpointDevice(t *testing.T, e *httpsEnv, thing string) *endpointDevice {
	t.Helper()
	iotc := sdkiot.NewFromConfig(e.Config)
	if _, err := iotc.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String(thing)}); err != nil {
		t.Fatal(err)
	}
	kc, err := iotc.CreateKeysAndCertificate(ctx, &sdkiot.CreateKeysAndCertificateInput{SetAsActive: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := iotc.AttachThingPrincipal(ctx, &sdkiot.AttachThingPrincipalInput{ThingName: aws.String(thing), Principal: kc.CertificateArn}); err != nil {
		t.Fatal(err)
	}
	attachPolicy(t, iotc, "thing-scoped", thingScopedPolicy, *kc.CertificateArn)
	pair, err := tls.X509KeyPair([]byte(*kc.CertificatePem), []byte(*kc.KeyPair.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	return &endpointDevice{thing: thing, tls: &tls.Config{RootCAs: e.roots, Certificates: []tls.Certificate{pair}}}
}

func describeEndpoint(t *testing.T, iotc *sdkiot.Client, typ string) (string, error) {
	t.Helper()
	in := &sdkiot.DescribeEndpointInput{}
	if typ != "" {
		in.EndpointType = aws.String(typ)
	}
	out, err := iotc.DescribeEndpoint(ctx, in)
	if err != nil {
		return "", err
	}
	return aws.ToString(out.EndpointAddress), nil
}

// TestDescribeEndpointPerType: DescribeEndpoint through the Go SDK answers
// per endpointType what a device can dial: iot:Data-ATS and iot:Data (and
// the default type) the MQTT TLS listener on the public host, iot:Jobs the
// HTTPS endpoint serving iot-jobs-data; iot:CredentialProvider is refused
// as not served. The device dials the MQTT answer, checking the broker's
// certificate against the public name.
func TestDescribeEndpointPerType(t *testing.T) {
	for _, tc := range []struct {
		name, public, host, jobs string // jobs: "" = localhost:<https port>
	}{
		{name: "default", host: "localhost"},
		{name: "public", public: "devices.example:8443", host: "devices.example", jobs: "devices.example:8443"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := startHTTPS(t, local.Config{PublicEndpoint: tc.public})
			b, err := e.Server.StartMQTT(mqtt.Config{TLSAddr: "127.0.0.1:0"})
			if err != nil {
				t.Fatal(err)
			}
			_, mqttPort, _ := net.SplitHostPort(b.TLSAddr())
			_, httpsPort, _ := net.SplitHostPort(e.Server.HTTPSAddr())
			jobs := tc.jobs
			if jobs == "" {
				jobs = "localhost:" + httpsPort
			}
			iotc := sdkiot.NewFromConfig(e.Config)
			for typ, want := range map[string]string{
				"iot:Data-ATS": net.JoinHostPort(tc.host, mqttPort), "iot:Data": net.JoinHostPort(tc.host, mqttPort),
				"": net.JoinHostPort(tc.host, mqttPort), "iot:Jobs": jobs,
			} {
				if got, err := describeEndpoint(t, iotc, typ); err != nil || got != want {
					t.Errorf("DescribeEndpoint(%q) = %q, %v; want %q", typ, got, err, want)
				}
			}
			_, err = describeEndpoint(t, iotc, "iot:CredentialProvider")
			wantCode(t, err, "InvalidRequestException", 400)
			if !strings.Contains(err.Error(), "does not serve the AWS IoT credentials provider") {
				t.Errorf("iot:CredentialProvider: %v", err)
			}
			// The broker's certificate covers the public name.
			d := newEndpointDevice(t, e, "dev-1")
			c := d.tls.Clone()
			c.ServerName = hostOf(t, mustEndpoint(t, iotc, "iot:Data-ATS"))
			conn, err := tls.Dial("tcp", b.TLSAddr(), c)
			if err != nil {
				t.Fatalf("TLS to the broker as %s: %v", c.ServerName, err)
			}
			conn.Close()
		})
	}
	t.Run("no-https", func(t *testing.T) {
		e := localtest.Start(t)
		b, err := e.Server.StartMQTT(mqtt.Config{TLSAddr: "127.0.0.1:0"})
		if err != nil {
			t.Fatal(err)
		}
		iotc := sdkiot.NewFromConfig(e.Config)
		if got := mustEndpoint(t, iotc, "iot:Data-ATS"); got != b.TLSAddr() {
			t.Errorf("iot:Data-ATS = %q, want the broker's %q", got, b.TLSAddr())
		}
		if got := mustEndpoint(t, iotc, "iot:Jobs"); "http://"+got != e.URL {
			t.Errorf("iot:Jobs = %q, want the plain listener %s", got, e.URL)
		}
	})
}

func mustEndpoint(t *testing.T, iotc *sdkiot.Client, typ string) string {
	t.Helper()
	a, err := describeEndpoint(t, iotc, typ)
	if err != nil {
		t.Fatalf("DescribeEndpoint(%s): %v", typ, err)
	}
	return a
}

func hostOf(t *testing.T, hostport string) string {
	t.Helper()
	h, _, err := net.SplitHostPort(hostport)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// presignedURL finds the presigned URL in a raw payload, as the FreeRTOS
// agent does: the characters between the quotes, taken as they are.
var presignedURL = regexp.MustCompile(`"url":"(https://[^"]*)"`)

// TestJobDocumentBytesOverMQTT: over the wire, notify-next and
// $next/get/accepted carry the job document's own characters: & < > as
// they are, never \u0026, \u003c, \u003e; the presigned URL taken from
// the raw bytes (no JSON decoding) downloads over HTTPS as the device
// finds it.
func TestJobDocumentBytesOverMQTT(t *testing.T) {
	e := startHTTPS(t, local.Config{StrictAuth: true})
	if _, err := e.Server.StartMQTT(mqtt.Config{TLSAddr: "127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	e.upload(t, "fwb", "image.bin", "firmware")
	d := newEndpointDevice(t, e, "dev-1")
	iotc := sdkiot.NewFromConfig(e.Config)
	dev := dialDevice(t, mustEndpoint(t, iotc, "iot:Data-ATS"), d.thing, d.tls)
	if _, err := dev.c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "$aws/things/dev-1/jobs/notify-next", QoS: 1}}}); err != nil {
		t.Fatal(err)
	}
	const note = `"note":"a&b <c> d&amp;"`
	doc := `{"url":"${aws:iot:s3-presigned-url:https://s3.us-east-1.amazonaws.com/fwb/image.bin}",` + note + `}`
	if _, err := iotc.CreateJob(ctx, &sdkiot.CreateJobInput{JobId: aws.String("bytes-1"), Document: aws.String(doc),
		Targets:            []string{"arn:aws:iot:us-east-1:000000000000:thing/dev-1"},
		PresignedUrlConfig: &iottypes.PresignedUrlConfig{RoleArn: aws.String("arn:aws:iam::000000000000:role/ota"), ExpiresInSec: aws.Int64(300)}}); err != nil {
		t.Fatal(err)
	}
	notified := dev.next("$aws/things/dev-1/jobs/notify-next")
	got := dev.ask("$aws/things/dev-1/jobs/$next/get", []byte(`{"clientToken":"t&<>"}`), "$aws/things/dev-1/jobs/$next/get/accepted")
	for name, raw := range map[string][]byte{"notify-next": notified, "$next/get/accepted": got} {
		for _, esc := range []string{`\u0026`, `\u003c`, `\u003e`} {
			if bytes.Contains(raw, []byte(esc)) {
				t.Errorf("%s carries %s: %s", name, esc, raw)
			}
		}
		if !bytes.Contains(raw, []byte(note)) {
			t.Errorf("%s does not carry %s as it is: %s", name, note, raw)
		}
		m := presignedURL.FindSubmatch(raw)
		if m == nil {
			t.Fatalf("%s: no presigned URL: %s", name, raw)
		}
		u := string(m[1])
		if !strings.HasPrefix(u, "https://"+e.Server.PublicEndpoint()+"/fwb/image.bin?") || !strings.Contains(u, "&X-Amz-Signature=") {
			t.Fatalf("%s: presigned URL %s", name, u)
		}
		if code, body := get(t, e.client(""), u, ""); code != 200 || body != "firmware" {
			t.Fatalf("%s: GET %s: %d %q", name, u, code, body)
		}
	}
	if !bytes.Contains(got, []byte(`"clientToken":"t&<>"`)) {
		t.Errorf("the client token does not come back as it was sent: %s", got)
	}
}

// TestDescribeEndpointAWSCLI: `aws iot describe-endpoint` per type, and
// `aws iot-jobs-data` at the iot:Jobs answer over HTTPS (--ca-bundle
// ca.pem), as a device maker would script it.
func TestDescribeEndpointAWSCLI(t *testing.T) {
	awscli := tool(t, "aws", "apt-get install awscli")
	e := startHTTPS(t, local.Config{StrictAuth: true})
	if _, err := e.Server.StartMQTT(mqtt.Config{TLSAddr: "127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	newEndpointDevice(t, e, "dev-1")
	caFile := filepath.Join(e.Server.Config().DataDir, mqtt.CAFile)
	run := func(wantOK bool, args ...string) string {
		t.Helper()
		cmd := exec.Command(awscli, args...)
		cmd.Env = clientEnv(e.URL)
		out, err := cmd.CombinedOutput()
		if (err == nil) != wantOK {
			t.Fatalf("aws %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	var ep struct{ EndpointAddress string }
	out := run(true, "iot", "describe-endpoint", "--endpoint-type", "iot:Jobs", "--output", "json", "--endpoint-url", e.URL)
	if err := json.Unmarshal([]byte(out), &ep); err != nil || ep.EndpointAddress != e.Server.PublicEndpoint() {
		t.Fatalf("describe-endpoint iot:Jobs: %s (%v), want %s", out, err, e.Server.PublicEndpoint())
	}
	out = run(true, "iot-jobs-data", "get-pending-job-executions", "--thing-name", "dev-1",
		"--endpoint-url", "https://"+ep.EndpointAddress, "--ca-bundle", caFile, "--output", "json")
	var pending struct{ InProgressJobs, QueuedJobs []any }
	if err := json.Unmarshal([]byte(out), &pending); err != nil {
		t.Fatalf("get-pending-job-executions at %s: %s (%v)", ep.EndpointAddress, out, err)
	}
	out = run(false, "iot", "describe-endpoint", "--endpoint-type", "iot:CredentialProvider", "--endpoint-url", e.URL)
	if !strings.Contains(out, "InvalidRequestException") || !strings.Contains(out, "credentials provider") {
		t.Fatalf("describe-endpoint iot:CredentialProvider: %s", out)
	}
	if _, err := os.Stat(caFile); err != nil {
		t.Fatal(err)
	}
}
