package mqttwire

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"
)

// fakeBroker answers CONNECT on the server end of a pipe and then runs fn.
func fakeBroker(t *testing.T, connack byte, fn func(srv net.Conn)) (*Client, error) {
	cli, srv := net.Pipe()
	t.Cleanup(func() { cli.Close(); srv.Close() })
	go func() {
		hdr := make([]byte, 2)
		if _, err := io.ReadFull(srv, hdr); err != nil || hdr[0] != PktConnect<<4 {
			return
		}
		body := make([]byte, hdr[1])
		io.ReadFull(srv, body)
		// Protocol "MQTT", level 4, clean session, keep-alive, client id "dev".
		want := []byte{0, 4, 'M', 'Q', 'T', 'T', 4, 2, 0, 60, 0, 3, 'd', 'e', 'v'}
		if !bytes.Equal(body, want) {
			t.Errorf("CONNECT body %v", body)
		}
		srv.Write([]byte{PktConnack << 4, 2, 0, connack})
		if fn != nil {
			fn(srv)
		}
	}()
	var got []string
	return Connect(cli, "dev", time.Minute, 5*time.Second, func(topic string, p []byte) { got = append(got, topic) })
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
		srv.Write([]byte{PktConnack << 4, 2, 0, 0})
		body := append([]byte{0, 1, 't', 0x12, 0x34}, payload...)
		n := len(body)
		srv.Write(append([]byte{PktPublish<<4 | 0x02, byte(n%128) | 0x80, byte(n / 128)}, body...))
		ack := make([]byte, 4)
		io.ReadFull(srv, ack)
		acked <- ack
	}()
	c, err := Connect(cli, "dev", 0, 5*time.Second, func(topic string, p []byte) {
		if topic == "t" {
			got <- p
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Drop(io.EOF)
	if p := <-got; !bytes.Equal(p, payload) {
		t.Fatalf("payload of %d bytes", len(p))
	}
	if ack := <-acked; !bytes.Equal(ack, []byte{PktPuback << 4, 2, 0x12, 0x34}) {
		t.Fatalf("PUBACK %v", ack)
	}
}

func TestMQTTOversizedPacketDropsTheConnection(t *testing.T) {
	c, err := fakeBroker(t, 0, func(srv net.Conn) {
		// Remaining length 2 MiB: over the client's limit.
		srv.Write([]byte{PktPublish << 4, 0x80, 0x80, 0x80, 0x01})
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("the connection survived an oversized packet")
	}
}

func TestMQTTRefusalIsErrRefused(t *testing.T) {
	if _, err := fakeBroker(t, 5, nil); !errors.Is(err, ErrRefused) {
		t.Fatalf("err %v, want ErrRefused", err)
	}
}

// The benchmark's path: SUBSCRIBE at QoS 0 returns the SUBACK codes, and
// PUBLISH packets built by AppendPublish go out in one WriteFrames.
func TestMQTTSubscribeAndWriteFrames(t *testing.T) {
	frames := make(chan []byte, 1)
	c, err := fakeBroker(t, 0, func(srv net.Conn) {
		sub := make([]byte, 2+8)
		io.ReadFull(srv, sub)
		// SUBSCRIBE, packet id 1, filter "a/b", QoS 0.
		if !bytes.Equal(sub, []byte{PktSubscribe<<4 | 2, 8, 0, 1, 0, 3, 'a', '/', 'b', 0}) {
			t.Errorf("SUBSCRIBE %v", sub)
		}
		srv.Write([]byte{PktSuback << 4, 3, 0, 1, 0})
		two := make([]byte, 2*(2+5+2))
		io.ReadFull(srv, two)
		frames <- two
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Drop(io.EOF) // nobody reads a DISCONNECT on the pipe
	codes, err := c.Subscribe(5*time.Second, 0, "a/b")
	if err != nil || !bytes.Equal(codes, []byte{0}) {
		t.Fatalf("SUBACK codes %v, %v", codes, err)
	}
	one := AppendPublish(nil, "a/b", []byte("hi"))
	if err := c.WriteFrames(append(one, one...)); err != nil {
		t.Fatal(err)
	}
	want := []byte{PktPublish << 4, 7, 0, 3, 'a', '/', 'b', 'h', 'i'}
	if got := <-frames; !bytes.Equal(got, append(want, want...)) {
		t.Fatalf("frames %v", got)
	}
}
