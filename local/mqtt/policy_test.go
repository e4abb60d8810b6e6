package mqtt_test

import (
	"context"
	"crypto/tls"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/otactl/otactl/local/mqtt"
)

// Allow and deny of each action the broker asks about, with real policy
// documents (local/policy) and paho (MQTT 5) clients.

const arn = "arn:aws:iot:us-east-1:123456789012:"

// doc builds a policy document from statements written as
// `{"Effect":...}` JSON objects.
func doc(statements ...string) string {
	return `{"Version":"2012-10-17","Statement":[` + strings.Join(statements, ",") + `]}`
}

func allow(actions, resources string) string {
	return `{"Effect":"Allow","Action":` + actions + `,"Resource":` + resources + `}`
}

func deny(actions, resources string) string {
	return `{"Effect":"Deny","Action":` + actions + `,"Resource":` + resources + `}`
}

// dialConnect connects with the given CONNECT; a refusal returns the
// CONNACK (its reason code) and an error.
func dialConnect(t testing.TB, addr string, tc *tls.Config, cp *paho.Connect) (*device, *paho.Connack, error) {
	t.Helper()
	var conn net.Conn
	var err error
	if tc != nil {
		conn, err = tls.Dial("tcp", addr, tc)
	} else {
		conn, err = net.Dial("tcp", addr)
	}
	if err != nil {
		return nil, nil, err
	}
	d := &device{t: t, msgs: make(chan *paho.Publish, 4096), conn: conn}
	d.c = paho.NewClient(paho.ClientConfig{
		Conn: conn, PingHandler: noPinger{},
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(p paho.PublishReceived) (bool, error) {
			d.msgs <- p.Packet
			return true, nil
		}},
	})
	if cp.KeepAlive == 0 {
		cp.KeepAlive = 60
	}
	ctx, cancel := context.WithTimeout(bg, wait)
	defer cancel()
	ack, err := d.c.Connect(ctx, cp)
	if err != nil {
		conn.Close()
		return nil, ack, err
	}
	t.Cleanup(func() { d.c.Disconnect(&paho.Disconnect{}) })
	return d, ack, nil
}

// certID is the certificate id of a device TLS configuration.
func certID(tc *tls.Config) string { return mqtt.CertificateID(tc.Certificates[0].Certificate[0]) }

// refused asserts a CONNECT was refused with 0x87 (not authorized).
func refused(t *testing.T, what string, ack *paho.Connack, err error) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s: connected, want refused", what)
	}
	if ack == nil || ack.ReasonCode != 0x87 {
		t.Fatalf("%s: %v (CONNACK %+v), want reason 0x87", what, err, ack)
	}
}

// closed waits until the broker closed d's connection.
func closed(t *testing.T, d *device, what string) {
	t.Helper()
	select {
	case <-d.c.Done():
	case <-time.After(wait):
		t.Fatalf("%s: still connected", what)
	}
}

// TestPolicyConnect: iot:Connect on client/<id>, as the Device SDK samples
// use it (a client id that is no thing name), an explicit Deny winning, and
// the answers to the thing's Jobs requests reaching the sample client.
func TestPolicyConnect(t *testing.T) {
	e := newEnv(t, mqtt.Config{})
	e.thing("dev-1")
	e.job("job-1", doc1, "dev-1")
	tc := deviceCert(t, e, "dev-1", true)
	e.pols.set(certID(tc), doc(
		allow(`"iot:Connect"`, `"`+arn+`client/test-*"`),
		deny(`"iot:Connect"`, `"`+arn+`client/test-banned"`),
		allow(`["iot:Publish","iot:Receive"]`, `"`+arn+`topic/$aws/things/dev-1/jobs/*"`)))

	d, _, err := dialConnect(t, e.broker.TLSAddr(), tc, &paho.Connect{ClientID: "test-4711", CleanStart: true})
	if err != nil {
		t.Fatalf("test-4711: %v", err)
	}
	// The request names the thing in its topic; the answer comes back to
	// the requester, which subscribed to nothing.
	d.pub("$aws/things/dev-1/jobs/$next/get", []byte(`{"clientToken":"sdk"}`))
	if m := d.nextJSON("$aws/things/dev-1/jobs/$next/get/accepted"); field(m, "execution", "jobId") != "job-1" {
		t.Fatalf("$next/get: %v", m)
	}
	_, ack, err := dialConnect(t, e.broker.TLSAddr(), tc, &paho.Connect{ClientID: "dev-1", CleanStart: true})
	refused(t, "client id the policy does not name", ack, err)
	_, ack, err = dialConnect(t, e.broker.TLSAddr(), tc, &paho.Connect{ClientID: "test-banned", CleanStart: true})
	refused(t, "explicitly denied client id", ack, err)
	// A refused CONNECT did not take the session over.
	d.pub("$aws/things/dev-1/jobs/get", []byte(`{"clientToken":"still"}`))
	d.nextJSON("$aws/things/dev-1/jobs/get/accepted")

	// No policy at all: nothing is allowed.
	bare := deviceCert(t, e, "dev-1", true)
	e.pols.set(certID(bare))
	_, ack, err = dialConnect(t, e.broker.TLSAddr(), bare, &paho.Connect{ClientID: "dev-1", CleanStart: true})
	refused(t, "certificate without policies", ack, err)
}

// TestPolicyPublishSubscribeReceive: allow and deny of iot:Publish,
// iot:Subscribe and iot:Receive.
func TestPolicyPublishSubscribeReceive(t *testing.T) {
	e := newEnv(t, mqtt.Config{})
	e.thing("dev-1", "dev-2")
	pub, sub := deviceCert(t, e, "dev-1", true), deviceCert(t, e, "dev-2", true)
	e.pols.set(certID(pub), doc(
		allow(`"iot:Connect"`, `"*"`),
		allow(`"iot:Publish"`, `"`+arn+`topic/room/*"`),
		deny(`"iot:Publish"`, `"`+arn+`topic/room/locked"`)))
	e.pols.set(certID(sub), doc(
		allow(`"iot:Connect"`, `"*"`),
		allow(`"iot:Subscribe"`, `["`+arn+`topicfilter/room/#","`+arn+`topicfilter/room/+"]`),
		allow(`"iot:Receive"`, `"`+arn+`topic/room/*"`),
		deny(`"iot:Receive"`, `"`+arn+`topic/room/secret"`)))
	p, _, err := dialConnect(t, e.broker.TLSAddr(), pub, &paho.Connect{ClientID: "dev-1", CleanStart: true})
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := dialConnect(t, e.broker.TLSAddr(), sub, &paho.Connect{ClientID: "dev-2", CleanStart: true})
	if err != nil {
		t.Fatal(err)
	}
	// Subscribe: allowed filters granted, the others 0x87. MQTT's # and +
	// are literal characters in a policy's resource.
	if rc := s.sub("room/#", "room/+", "other/#", "#"); string(rc) != "\x01\x01\x87\x87" {
		t.Fatalf("SUBACK %x", rc)
	}
	// Receive: the denied topic is not delivered, the others are.
	p.pub("room/secret", []byte("s"))
	p.pub("room/open", []byte("o"))
	if got := s.next("room/open"); string(got) != "o" {
		t.Fatalf("room/open: %q", got)
	}
	// Publish: an explicitly denied topic disconnects.
	p.pubQ0("room/locked", []byte("x"))
	closed(t, p, "publish to a denied topic")
	if n := s.drain(); n != 0 {
		t.Errorf("subscriber got %d messages it may not receive", n)
	}
}

// TestSubscribeFilterEqualsTopic: mochi asks the same question
// (OnACLCheck(s, read)) for a SUBSCRIBE filter and for a delivery, and a
// filter may be a topic's very text. Either way round, iot:Subscribe
// decides the SUBACK and iot:Receive the delivery.
func TestSubscribeFilterEqualsTopic(t *testing.T) {
	e := newEnv(t, mqtt.Config{})
	e.thing("dev-1", "dev-2", "dev-3")
	pub, subOnly, recvOnly := deviceCert(t, e, "dev-1", true), deviceCert(t, e, "dev-2", true), deviceCert(t, e, "dev-3", true)
	e.pols.set(certID(pub), doc(allow(`"iot:Connect"`, `"*"`), allow(`"iot:Publish"`, `"*"`)))
	e.pols.set(certID(subOnly), doc(allow(`"iot:Connect"`, `"*"`),
		allow(`"iot:Subscribe"`, `"`+arn+`topicfilter/a/b"`), allow(`"iot:Receive"`, `"`+arn+`topic/a/c"`),
		allow(`"iot:Subscribe"`, `"`+arn+`topicfilter/a/c"`)))
	e.pols.set(certID(recvOnly), doc(allow(`"iot:Connect"`, `"*"`), allow(`"iot:Receive"`, `"`+arn+`topic/a/b"`)))
	p, _, err := dialConnect(t, e.broker.TLSAddr(), pub, &paho.Connect{ClientID: "dev-1", CleanStart: true})
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := dialConnect(t, e.broker.TLSAddr(), subOnly, &paho.Connect{ClientID: "dev-2", CleanStart: true})
	if err != nil {
		t.Fatal(err)
	}
	r, _, err := dialConnect(t, e.broker.TLSAddr(), recvOnly, &paho.Connect{ClientID: "dev-3", CleanStart: true})
	if err != nil {
		t.Fatal(err)
	}
	// Subscribe allowed on the filter a/b, Receive not on the topic a/b:
	// granted, but nothing on a/b is delivered.
	if rc := s.sub("a/b", "a/c"); string(rc) != "\x01\x01" {
		t.Fatalf("SUBACK %x, want granted", rc)
	}
	// Receive allowed on the topic a/b, Subscribe not on the filter a/b.
	if rc := r.sub("a/b"); rc[0] != 0x87 {
		t.Fatalf("SUBACK %#x, want 0x87", rc[0])
	}
	p.pub("a/b", []byte("b"))
	p.pub("a/c", []byte("c"))
	if got := s.next("a/c"); string(got) != "c" {
		t.Fatalf("a/c: %q", got)
	}
	if n := s.drain() + r.drain(); n != 0 {
		t.Errorf("%d messages delivered without both iot:Subscribe and iot:Receive", n)
	}
}

// TestPoliciesChanged: a detached policy ends the connection (as AWS does
// when a certificate loses its permission to connect), and the next
// decisions follow the new policies.
func TestPoliciesChanged(t *testing.T) {
	e := newEnv(t, mqtt.Config{})
	e.thing("dev-1")
	tc := deviceCert(t, e, "dev-1", true)
	d, _, err := dialConnect(t, e.broker.TLSAddr(), tc, &paho.Connect{ClientID: "dev-1", CleanStart: true})
	if err != nil {
		t.Fatal(err)
	}
	d.sync("dev-1") // decisions made, and cached
	e.pols.set(certID(tc))
	e.broker.PoliciesChanged()
	closed(t, d, "after its policies were detached")
	_, ack, err := dialConnect(t, e.broker.TLSAddr(), tc, &paho.Connect{ClientID: "dev-1", CleanStart: true})
	refused(t, "reconnecting without policies", ack, err)
}

// TestLimits: AWS's per-connection limits.
func TestLimits(t *testing.T) {
	e := newEnv(t, mqtt.Config{})
	e.thing("dev-1")
	tc := deviceCert(t, e, "dev-1", true)
	e.pols.set(certID(tc), doc(allow(`["iot:Connect","iot:Publish","iot:Subscribe","iot:Receive"]`, `"*"`)))
	_, ack, err := dialConnect(t, e.broker.TLSAddr(), tc, &paho.Connect{ClientID: strings.Repeat("c", 129), CleanStart: true})
	if err == nil || ack == nil || ack.ReasonCode != 0x85 {
		t.Fatalf("129-byte client id: %v %+v, want 0x85", err, ack)
	}
	d, ack, err := dialConnect(t, e.broker.TLSAddr(), tc, &paho.Connect{ClientID: "dev-1", CleanStart: true, KeepAlive: 5})
	if err != nil {
		t.Fatal(err)
	}
	if ack.Properties == nil || ack.Properties.ServerKeepAlive == nil || *ack.Properties.ServerKeepAlive != 30 {
		t.Errorf("keep-alive 5: CONNACK %+v, want server keep-alive 30", ack.Properties)
	}
	// At most 8 filters per SUBSCRIBE, 50 per connection; mochi answers a
	// filter over the limit as refused (0x87), as its ACL check does.
	var filters []string
	for i := 0; i < 9; i++ {
		filters = append(filters, "f/"+string(rune('a'+i)))
	}
	if rc := d.sub(filters...); rc[7] != 1 || rc[8] != 0x87 {
		t.Fatalf("9 filters in one SUBSCRIBE: %x", rc)
	}
	for i := 8; i < 50; i += 8 {
		var more []string
		for j := i; j < min(i+8, 50); j++ {
			more = append(more, "g/"+strings.Repeat("x", j))
		}
		for k, rc := range d.sub(more...) {
			if rc != 1 {
				t.Fatalf("subscription %d: %#x", i+k, rc)
			}
		}
	}
	if rc := d.sub("one/too/many"); rc[0] != 0x87 {
		t.Fatalf("51st subscription: %#x", rc[0])
	}
	if rc := d.sub("f/a"); rc[0] != 1 {
		t.Fatalf("subscribing again to a held filter: %#x", rc[0])
	}
	// A topic with 8 slashes: disconnected.
	d.pubQ0("a/b/c/d/e/f/g/h/i", []byte("x"))
	closed(t, d, "publish to a topic with 8 slashes")
}
