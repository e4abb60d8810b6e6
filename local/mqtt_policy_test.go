package local_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/eclipse/paho.golang/paho"

	"github.com/otactl/otactl/internal/testtool"
	"github.com/otactl/otactl/local/localtest"
	"github.com/otactl/otactl/local/mqtt"
)

// The broker through the real policy API: CreatePolicy, AttachPolicy and
// DetachPolicy on the control plane decide what a certificate may do.

const arn = "arn:aws:iot:us-east-1:000000000000:"

// sampleDevicePolicy is the shape of the AWS IoT Device SDK v2 samples'
// policy: client ids test-*, the thing's Jobs topics and a sensors topic
// that may be retained.
const sampleDevicePolicy = `{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":"iot:Connect","Resource":"` + arn + `client/test-*"},
 {"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":["` + arn + `topic/$aws/things/dev-1/jobs/*","` + arn + `topic/sensors/dev-1/*"]},
 {"Effect":"Allow","Action":"iot:RetainPublish","Resource":"` + arn + `topic/sensors/dev-1/config"},
 {"Effect":"Allow","Action":"iot:Subscribe","Resource":["` + arn + `topicfilter/sensors/dev-1/*","` + arn + `topicfilter/$aws/things/dev-1/jobs/*"]}]}`

// policyDevice is a registered certificate for dev-1 with the sample
// policy attached, and its files for mosquitto.
type policyDevice struct {
	tc            *tls.Config
	arn           string
	ca, cert, key string // files for mosquitto
	broker        *mqtt.Broker
	iotc          *sdkiot.Client
	tlsPort       string
}

func startPolicyEnv(t *testing.T) *policyDevice {
	t.Helper()
	e := localtest.Start(t)
	b, err := e.Server.StartMQTT(mqtt.Config{TLSAddr: "127.0.0.1:0", Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	iotc := sdkiot.NewFromConfig(e.Config)
	if _, err := iotc.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String("dev-1")}); err != nil {
		t.Fatal(err)
	}
	kc, err := iotc.CreateKeysAndCertificate(ctx, &sdkiot.CreateKeysAndCertificateInput{SetAsActive: true})
	if err != nil {
		t.Fatal(err)
	}
	attachPolicy(t, iotc, "sample", sampleDevicePolicy, *kc.CertificateArn)
	caPEM, err := os.ReadFile(filepath.Join(e.Server.Config().DataDir, mqtt.CAFile))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	pair, err := tls.X509KeyPair([]byte(*kc.CertificatePem), []byte(*kc.KeyPair.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	d := &policyDevice{tc: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}}, arn: *kc.CertificateArn,
		ca: filepath.Join(dir, "ca.pem"), cert: filepath.Join(dir, "cert.pem"), key: filepath.Join(dir, "key.pem"),
		broker: b, iotc: iotc}
	os.WriteFile(d.ca, caPEM, 0o600)
	os.WriteFile(d.cert, []byte(*kc.CertificatePem), 0o600)
	os.WriteFile(d.key, []byte(*kc.KeyPair.PrivateKey), 0o600)
	_, d.tlsPort, _ = strings.Cut(b.TLSAddr(), ":")
	return d
}

// dial connects over mutual TLS as id (paho, MQTT 5).
func (d *policyDevice) dial(t *testing.T, id string) (*mqttDevice, *paho.Connack, error) {
	t.Helper()
	conn, err := tls.Dial("tcp", d.broker.TLSAddr(), d.tc)
	if err != nil {
		return nil, nil, err
	}
	m := &mqttDevice{t: t, msgs: make(chan *paho.Publish, 64)}
	m.c = paho.NewClient(paho.ClientConfig{Conn: conn, PingHandler: noPinger{}, OnPublishReceived: []func(paho.PublishReceived) (bool, error){
		func(p paho.PublishReceived) (bool, error) { m.msgs <- p.Packet; return true, nil }}})
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	ack, err := m.c.Connect(cctx, &paho.Connect{ClientID: id, KeepAlive: 60, CleanStart: true})
	if err != nil {
		conn.Close()
		return nil, ack, err
	}
	t.Cleanup(func() { m.c.Disconnect(&paho.Disconnect{}) })
	return m, ack, nil
}

// TestBrokerPolicies: each action allowed and denied by an attached
// policy, and a detached policy ending the connection.
func TestBrokerPolicies(t *testing.T) {
	d := startPolicyEnv(t)
	// Connect: test-* only.
	if _, ack, err := d.dial(t, "dev-1"); err == nil || ack == nil || ack.ReasonCode != 0x87 {
		t.Fatalf("client id outside the policy: %v %+v, want 0x87", err, ack)
	}
	m, _, err := d.dial(t, "test-1")
	if err != nil {
		t.Fatal(err)
	}
	// Subscribe: allowed and denied filters.
	sa, err := m.c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{
		{Topic: "sensors/dev-1/#", QoS: 1}, {Topic: "sensors/dev-2/#", QoS: 1}}})
	if sa == nil || string(sa.Reasons) != "\x01\x87" { // paho also reports the failed one as an error
		t.Fatalf("SUBACK %v %v", sa, err)
	}
	// Publish, Receive and RetainPublish allowed.
	if _, err := m.c.Publish(ctx, &paho.Publish{Topic: "sensors/dev-1/config", QoS: 1, Retain: true, Payload: []byte("cfg")}); err != nil {
		t.Fatal(err)
	}
	if got := m.next("sensors/dev-1/config"); string(got) != "cfg" {
		t.Fatalf("received %q", got)
	}
	// Jobs: the thing the topic names, answered without a subscription.
	m.ask("$aws/things/dev-1/jobs/get", []byte(`{"clientToken":"j"}`), "$aws/things/dev-1/jobs/get/accepted")
	// RetainPublish denied: disconnected.
	m.c.Publish(ctx, &paho.Publish{Topic: "sensors/dev-1/other", Retain: true, Payload: []byte("x")})
	select {
	case <-m.c.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("a retained publish without iot:RetainPublish was not disconnected")
	}

	// DetachPolicy: the connection ends, and the next CONNECT is refused.
	m, _, err = d.dial(t, "test-2")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.iotc.DetachPolicy(ctx, &sdkiot.DetachPolicyInput{PolicyName: aws.String("sample"), Target: aws.String(d.arn)}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-m.c.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("still connected after DetachPolicy")
	}
	if _, ack, err := d.dial(t, "test-2"); err == nil || ack == nil || ack.ReasonCode != 0x87 {
		t.Fatalf("after DetachPolicy: %v %+v, want 0x87", err, ack)
	}
}

// TestBrokerPoliciesMosquitto: Debian's mosquitto clients, MQTT 3.1.1 and
// 5, over mutual TLS with the sample policy: an allowed publish reaches an
// allowed subscriber; a retained message is delivered to a later
// subscriber; a denied CONNECT fails.
func TestBrokerPoliciesMosquitto(t *testing.T) {
	for _, n := range []string{"mosquitto_pub", "mosquitto_sub"} {
		testtool.Require(t, n, "apt-get install mosquitto-clients")
	}
	d := startPolicyEnv(t)
	tlsArgs := func(v, id string) []string {
		return []string{"-h", "localhost", "-p", d.tlsPort, "-V", v, "-i", id,
			"--cafile", d.ca, "--cert", d.cert, "--key", d.key}
	}
	for _, v := range []string{"mqttv311", "mqttv5"} {
		cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		out, err := exec.CommandContext(cctx, "mosquitto_pub", append(tlsArgs(v, "test-pub-"+v),
			"-q", "1", "-r", "-t", "sensors/dev-1/config", "-m", "retained-"+v)...).CombinedOutput()
		cancel()
		if err != nil {
			t.Fatalf("%s: mosquitto_pub retained: %v %s", v, err, out)
		}
		cctx, cancel = context.WithTimeout(ctx, 20*time.Second)
		out, err = exec.CommandContext(cctx, "mosquitto_sub", append(tlsArgs(v, "test-sub-"+v),
			"-C", "1", "-W", "20", "-t", "sensors/dev-1/#")...).CombinedOutput()
		cancel()
		if err != nil || strings.TrimSpace(string(out)) != "retained-"+v {
			t.Fatalf("%s: mosquitto_sub: %v %q", v, err, out)
		}
		// A client id the policy does not allow.
		cctx, cancel = context.WithTimeout(ctx, 20*time.Second)
		out, err = exec.CommandContext(cctx, "mosquitto_pub", append(tlsArgs(v, "intruder"),
			"-q", "1", "-t", "sensors/dev-1/config", "-m", "x")...).CombinedOutput()
		cancel()
		if err == nil || !strings.Contains(strings.ToLower(string(out)), "not authori") {
			t.Fatalf("%s: a denied client id: %v %q", v, err, out)
		}
	}
}

// TestBrokerCertificateRevoked: UpdateCertificate to REVOKED (or INACTIVE)
// ends the certificate's connections, as on AWS IoT.
func TestBrokerCertificateRevoked(t *testing.T) {
	d := startPolicyEnv(t)
	m, _, err := d.dial(t, "test-1")
	if err != nil {
		t.Fatal(err)
	}
	id := d.arn[strings.LastIndex(d.arn, "/")+1:]
	if _, err := d.iotc.UpdateCertificate(ctx, &sdkiot.UpdateCertificateInput{CertificateId: aws.String(id), NewStatus: "REVOKED"}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-m.c.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("still connected with a revoked certificate")
	}
}

// TestBrokerPlainPolicy: --mqtt-plain-policy names a policy made with
// CreatePolicy; plain clients get what it allows and nothing more.
func TestBrokerPlainPolicy(t *testing.T) {
	e := localtest.Start(t)
	b, err := e.Server.StartMQTT(mqtt.Config{Addr: "127.0.0.1:0", PlainPolicy: "bench"})
	if err != nil {
		t.Fatal(err)
	}
	iotc := sdkiot.NewFromConfig(e.Config)
	if _, err := iotc.CreatePolicy(ctx, &sdkiot.CreatePolicyInput{PolicyName: aws.String("bench"), PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":"iot:Connect","Resource":"` + arn + `client/bench-*"},
 {"Effect":"Allow","Action":["iot:Publish","iot:Receive","iot:Subscribe"],"Resource":["` + arn + `topic/bench/*","` + arn + `topicfilter/bench/*"]}]}`)}); err != nil {
		t.Fatal(err)
	}
	dial := func(id string) (*paho.Client, *paho.Connack, error) {
		conn, err := net.Dial("tcp", b.Addr())
		if err != nil {
			t.Fatal(err)
		}
		c := paho.NewClient(paho.ClientConfig{Conn: conn, PingHandler: noPinger{}})
		ack, err := c.Connect(ctx, &paho.Connect{ClientID: id, KeepAlive: 60, CleanStart: true})
		if err == nil {
			t.Cleanup(func() { c.Disconnect(&paho.Disconnect{}) })
		}
		return c, ack, err
	}
	if _, ack, err := dial("dev-1"); err == nil || ack == nil || ack.ReasonCode != 0x87 {
		t.Fatalf("client id outside the named policy: %v %+v, want 0x87", err, ack)
	}
	c, _, err := dial("bench-1")
	if err != nil {
		t.Fatal(err)
	}
	sa, _ := c.Subscribe(ctx, &paho.Subscribe{Subscriptions: []paho.SubscribeOptions{{Topic: "bench/x", QoS: 1}, {Topic: "$aws/things/dev-1/jobs/notify-next", QoS: 1}}})
	if sa == nil || string(sa.Reasons) != "\x01\x87" {
		t.Fatalf("SUBACK %+v", sa)
	}
}
