package device

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"
)

// fakeBroker answers CONNECT on the server end of a pipe and then runs fn.
func fakeBroker(t *testing.T, connack byte, fn func(srv net.Conn)) (*mqttClient, error) {
	cli, srv := net.Pipe()
	t.Cleanup(func() { cli.Close(); srv.Close() })
	go func() {
		hdr := make([]byte, 2)
		if _, err := io.ReadFull(srv, hdr); err != nil || hdr[0] != pktConnect<<4 {
			return
		}
		body := make([]byte, hdr[1])
		io.ReadFull(srv, body)
		// Protocol "MQTT", level 4, clean session, keep-alive, client id "dev".
		want := []byte{0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 60, 0, 3, 'd', 'e', 'v'}
		if !bytes.Equal(body, want) {
			t.Errorf("CONNECT body %v", body)
		}
		srv.Write([]byte{pktConnack << 4, 2, 0, connack})
		if fn != nil {
			fn(srv)
		}
	}()
	var got []string
	return mqttConnect(cli, "dev", time.Minute, 5*time.Second, func(topic string, p []byte) { got = append(got, topic) })
}

func TestMQTTConnectRefused(t *testing.T) {
	if _, err := fakeBroker(t, 5, nil); err == nil || !bytes.Contains([]byte(err.Error()), []byte("not authorized")) {
		t.Fatalf("err %v", err)
	}
}

func TestMQTTPublishQoS1IsAcknowledged(t *testing.T) {
	payload := bytes.Repeat([]byte{7}, 300) // a two-byte remaining length
	got := make(chan []byte, 1)
	acked := make(chan []byte, 1)
	cli, srv := net.Pipe()
	defer cli.Close()
	go func() {
		hdr := make([]byte, 2)
		io.ReadFull(srv, hdr)
		io.ReadFull(srv, make([]byte, hdr[1]))
		srv.Write([]byte{pktConnack << 4, 2, 0, 0})
		body := append([]byte{0, 1, 't', 0x12, 0x34}, payload...)
		n := len(body)
		srv.Write(append([]byte{pktPublish<<4 | 0x02, byte(n%128) | 0x80, byte(n / 128)}, body...))
		ack := make([]byte, 4)
		io.ReadFull(srv, ack)
		acked <- ack
	}()
	c, err := mqttConnect(cli, "dev", 0, 5*time.Second, func(topic string, p []byte) {
		if topic == "t" {
			got <- p
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.fail(io.EOF)
	if p := <-got; !bytes.Equal(p, payload) {
		t.Fatalf("payload of %d bytes", len(p))
	}
	if ack := <-acked; !bytes.Equal(ack, []byte{pktPuback << 4, 2, 0x12, 0x34}) {
		t.Fatalf("PUBACK %v", ack)
	}
}

func TestMQTTOversizedPacketDropsTheConnection(t *testing.T) {
	c, err := fakeBroker(t, 0, func(srv net.Conn) {
		// Remaining length 2 MiB: over the client's limit.
		srv.Write([]byte{pktPublish << 4, 0x80, 0x80, 0x80, 0x01})
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.dead:
	case <-time.After(5 * time.Second):
		t.Fatal("the connection survived an oversized packet")
	}
}
