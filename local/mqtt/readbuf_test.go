package mqtt_test

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/otactl/otactl/local/mqtt"
)

// TestReadBuffering: the broker reads packets right however they arrive,
// on both listeners (mochi's read buffer is 16 bytes; the plain listener
// reads through a pooled buffer): several requests in one write, a packet
// larger than any buffer, and a packet sent a byte at a time.
func TestReadBuffering(t *testing.T) {
	e := newEnv(t, mqtt.Config{})
	e.thing("dev-1")
	e.job("job-1", doc1, "dev-1")
	tc := deviceCert(t, e, "dev-1", true)
	for _, listener := range []string{"plain", "tls"} {
		t.Run(listener, func(t *testing.T) {
			var conn net.Conn
			var err error
			if listener == "tls" {
				conn, err = tls.Dial("tcp", e.broker.TLSAddr(), tc)
			} else {
				conn, err = net.Dial("tcp", e.broker.Addr())
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { conn.Close() })
			conn.SetDeadline(time.Now().Add(wait))
			c := &v311{t: t, conn: conn, r: bufio.NewReader(conn)}
			c.send(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Connect}, ProtocolVersion: 4,
				Connect: packets.ConnectParams{ProtocolName: []byte("MQTT"), ClientIdentifier: "dev-1", Keepalive: 60, Clean: true}})
			if ack := c.read(); ack.FixedHeader.Type != packets.Connack || ack.ReasonCode != 0 {
				t.Fatalf("CONNACK: type %d, code %d", ack.FixedHeader.Type, ack.ReasonCode)
			}
			const data = "$aws/things/dev-1/data"
			c.send(packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Subscribe, Qos: 1}, PacketID: 1,
				Filters: packets.Subscriptions{{Filter: data}}})
			if pk := c.read(); pk.FixedHeader.Type != packets.Suback || !bytes.Equal(pk.ReasonCodes, []byte{0}) {
				t.Fatalf("SUBACK: type %d, codes %v", pk.FixedHeader.Type, pk.ReasonCodes)
			}

			// Five requests and a 100 KB message, in one write.
			big := bytes.Repeat([]byte("0123456789abcdef"), 100<<10/16)
			var burst bytes.Buffer
			for i := range 5 {
				pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish}, ProtocolVersion: 4,
					TopicName: "$aws/things/dev-1/jobs/get", Payload: fmt.Appendf(nil, `{"clientToken":"t%d"}`, i)}
				if err := pk.PublishEncode(&burst); err != nil {
					t.Fatal(err)
				}
			}
			pk := packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish}, ProtocolVersion: 4, TopicName: data, Payload: big}
			if err := pk.PublishEncode(&burst); err != nil {
				t.Fatal(err)
			}
			if _, err := conn.Write(burst.Bytes()); err != nil {
				t.Fatal(err)
			}
			for i := range 5 {
				pk := c.read()
				if pk.TopicName != "$aws/things/dev-1/jobs/get/accepted" || !bytes.Contains(pk.Payload, fmt.Appendf(nil, `"clientToken":"t%d"`, i)) {
					t.Fatalf("answer %d: %s %.200s", i, pk.TopicName, pk.Payload)
				}
			}
			if pk := c.read(); pk.TopicName != data || !bytes.Equal(pk.Payload, big) {
				t.Fatalf("the 100 KB message came back as %s, %d bytes", pk.TopicName, len(pk.Payload))
			}

			// One request, a byte per write.
			var one bytes.Buffer
			pk = packets.Packet{FixedHeader: packets.FixedHeader{Type: packets.Publish}, ProtocolVersion: 4,
				TopicName: "$aws/things/dev-1/jobs/get", Payload: []byte(`{"clientToken":"slow"}`)}
			if err := pk.PublishEncode(&one); err != nil {
				t.Fatal(err)
			}
			for _, b := range one.Bytes() {
				if _, err := conn.Write([]byte{b}); err != nil {
					t.Fatal(err)
				}
				time.Sleep(time.Millisecond) // each byte its own segment (or record)
			}
			if pk := c.read(); pk.TopicName != "$aws/things/dev-1/jobs/get/accepted" || !bytes.Contains(pk.Payload, []byte(`"clientToken":"slow"`)) {
				t.Fatalf("slow request: %s %s", pk.TopicName, pk.Payload)
			}
		})
	}
}
