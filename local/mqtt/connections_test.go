package mqtt_test

import (
	"errors"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/otactl/otactl/local/mqtt"
)

// TestDeleteConnection: an administrator's disconnect ends the client's
// connection (MQTT 5: DISCONNECT 0x98 first); its Will is published, or not with
// preventWill; an unknown or reserved client id is refused.
func TestDeleteConnection(t *testing.T) {
	e := newEnv(t, mqtt.Config{PlainPolicy: "all"})
	e.pols.name("all", doc(allow(`"iot:*"`, `"*"`)))
	watcher := connect(t, e, "watcher")
	watcher.sub("devices/+/status")
	for _, tc := range []struct {
		id          string
		preventWill bool
	}{{"dev-1", false}, {"dev-2", true}} {
		d, _, err := dialConnect(t, e.broker.Addr(), nil, &paho.Connect{ClientID: tc.id, CleanStart: true,
			WillMessage: &paho.WillMessage{Topic: "devices/" + tc.id + "/status", Payload: []byte("gone-" + tc.id)}})
		if err != nil {
			t.Fatal(err)
		}
		if err := e.broker.DeleteConnection(tc.id, true, tc.preventWill); err != nil {
			t.Fatal(err)
		}
		select {
		case <-d.c.Done():
		case <-time.After(wait):
			t.Fatalf("%s still connected", tc.id)
		}
		if !tc.preventWill {
			if got := string(watcher.next("devices/dev-1/status")); got != "gone-dev-1" {
				t.Fatalf("Will: %q", got)
			}
		}
	}
	// No Will for dev-2: the watcher's next message is this marker.
	marker := connect(t, e, "marker")
	marker.pub("devices/marker/status", []byte("marker"))
	if got := string(watcher.next("devices/marker/status")); got != "marker" {
		t.Fatalf("next message: %q", got)
	}
	for id, want := range map[string]error{"nobody": mqtt.ErrNotConnected, "dev-1": mqtt.ErrNotConnected} {
		if err := e.broker.DeleteConnection(id, false, false); !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", id, err, want)
		}
	}
	if err := e.broker.DeleteConnection("$aws", false, false); err == nil || errors.Is(err, mqtt.ErrNotConnected) {
		t.Errorf("reserved client id: %v", err)
	}
}
