package mqtt_test

import (
	"net"
	"testing"

	"github.com/otactl/otactl/local/mqtt"
)

// TestTLSHandshakesDoNotWaitForEachOther: handshakes run on their own
// goroutines before mochi sees a connection, so sockets that never finish
// theirs (silent, or a ClientHello cut short) hold nobody up: a device
// connects and is answered over mutual TLS while they hang, and after
// closing them the listener still accepts.
func TestTLSHandshakesDoNotWaitForEachOther(t *testing.T) {
	e := newEnv(t, mqtt.Config{})
	e.thing("dev-1")
	good := deviceCert(t, e, "dev-1", true)
	var stuck []net.Conn
	for i := 0; i < 20; i++ {
		c, err := net.Dial("tcp", e.broker.TLSAddr())
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 1 {
			c.Write([]byte{0x16, 0x03, 0x01, 0x02, 0x00}) // a record header, then nothing
		}
		stuck = append(stuck, c)
	}
	d, err := dial(t, e.broker.TLSAddr(), "dev-1", good)
	if err != nil {
		t.Fatalf("device behind %d unfinished handshakes: %v", len(stuck), err)
	}
	if rc := d.sub("$aws/things/dev-1/jobs/notify-next"); rc[0] > 1 {
		t.Fatalf("SUBSCRIBE over TLS: %#x", rc[0])
	}
	for _, c := range stuck {
		c.Close()
	}
	if _, err := dial(t, e.broker.TLSAddr(), "dev-1", good); err != nil {
		t.Fatalf("after the stuck sockets closed: %v", err)
	}
}
