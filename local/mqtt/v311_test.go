package mqtt_test

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/otactl/otactl/local/mqtt"
)

// v311 is a bare MQTT 3.1.1 client (packets encoded with mochi's codec), to
// check the 3.1.1 side of the rules without external tools.
type v311 struct {
	t    testing.TB
	conn net.Conn
	r    *bufio.Reader
}

func dial311(t testing.TB, addr, id string) (*v311, byte) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(wait))
	c := &v311{t: t, conn: conn, r: bufio.NewReader(conn)}
	c.send(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}, ProtocolVersion: 4,
		Connect: packets.ConnectParams{ProtocolName: []byte("MQTT"), ClientIdentifier: id, Keepalive: 60, Clean: true}})
	ack := c.read()
	if ack.FixedHeader.Type != packets.Connack {
		t.Fatalf("got packet type %d, want CONNACK", ack.FixedHeader.Type)
	}
	return c, ack.ReasonCode
}

func (c *v311) send(pk packets.Packet) {
	c.t.Helper()
	pk.ProtocolVersion = 4
	var buf bytes.Buffer
	var err error
	switch pk.FixedHeader.Type {
	case packets.Connect:
		err = pk.ConnectEncode(&buf)
	case packets.Publish:
		err = pk.PublishEncode(&buf)
	case packets.Subscribe:
		err = pk.SubscribeEncode(&buf)
	}
	if err != nil {
		c.t.Fatal(err)
	}
	if _, err := c.conn.Write(buf.Bytes()); err != nil {
		c.t.Fatal(err)
	}
}

// read returns the next packet; a closed connection gives type 0.
func (c *v311) read() packets.Packet {
	c.t.Helper()
	var pk packets.Packet
	hb, err := c.r.ReadByte()
	if err == io.EOF {
		return pk
	} else if err != nil {
		c.t.Fatal(err)
	}
	if err := pk.FixedHeader.Decode(hb); err != nil {
		c.t.Fatal(err)
	}
	n, err := binary.ReadUvarint(c.r)
	if err != nil {
		c.t.Fatal(err)
	}
	body := make([]byte, n)
	if _, err := io.ReadFull(c.r, body); err != nil {
		c.t.Fatal(err)
	}
	pk.ProtocolVersion = 4
	switch pk.FixedHeader.Type {
	case packets.Connack:
		err = pk.ConnackDecode(body)
	case packets.Publish:
		err = pk.PublishDecode(body)
	case packets.Suback:
		err = pk.SubackDecode(body)
	}
	if err != nil {
		c.t.Fatal(err)
	}
	return pk
}

func TestMQTT311(t *testing.T) {
	e := newEnv(t, mqtt.Config{})
	e.thing("dev-1", "dev-2")
	e.job("job-1", doc1, "dev-1")

	if _, code := dial311(t, e.broker.Addr(), "no/thing"); code != 5 {
		t.Errorf("client id with /: CONNACK return code %d, want 5 (not authorized)", code)
	}
	c, code := dial311(t, e.broker.Addr(), "dev-1")
	if code != 0 {
		t.Fatalf("CONNACK %d", code)
	}
	// The answer arrives without a subscription.
	c.send(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish}, TopicName: "$aws/things/dev-1/jobs/$next/get", Payload: []byte(`{"clientToken":"v3"}`)})
	pk := c.read()
	if pk.TopicName != "$aws/things/dev-1/jobs/$next/get/accepted" || !bytes.Contains(pk.Payload, []byte(`"jobId":"job-1"`)) {
		t.Fatalf("got %s %s", pk.TopicName, pk.Payload)
	}
	// Another thing's topic: SUBACK failure 0x80.
	c.send(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe, Qos: 1}, PacketID: 7,
		Filters: packets.Subscriptions{{Filter: "$aws/things/dev-2/jobs/notify", Qos: 1}, {Filter: "$aws/things/dev-1/jobs/notify", Qos: 1}}})
	if pk := c.read(); pk.FixedHeader.Type != packets.Suback || !bytes.Equal(pk.ReasonCodes, []byte{0x80, 0x01}) {
		t.Fatalf("SUBACK %v", pk.ReasonCodes)
	}
	// Publishing there: disconnected.
	c.send(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish, Qos: 1}, PacketID: 8, TopicName: "$aws/things/dev-2/jobs/get", Payload: []byte(`{}`)})
	if pk := c.read(); pk.FixedHeader.Type != 0 {
		t.Fatalf("after a refused publish: packet type %d, want the connection closed", pk.FixedHeader.Type)
	}
}
