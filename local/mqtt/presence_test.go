package mqtt_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/otactl/otactl/local/mqtt"
)

type presenceEvent struct {
	ClientID                  string `json:"clientId"`
	Timestamp                 int64  `json:"timestamp"`
	EventType                 string `json:"eventType"`
	SessionIdentifier         string `json:"sessionIdentifier"`
	IPAddress                 string `json:"ipAddress"`
	VersionNumber             int64  `json:"versionNumber"`
	ClientInitiatedDisconnect *bool  `json:"clientInitiatedDisconnect"`
	DisconnectReason          string `json:"disconnectReason"`
}

// TestPresenceEvents: a subscriber to $aws/events/presence/+/dev-1 sees
// each connection of dev-1 begin and end, with the session, the
// connection's version and AWS's reason: the client's DISCONNECT, a lost
// connection, a takeover by the same client id, DeleteConnection.
func TestPresenceEvents(t *testing.T) {
	e := newEnv(t, mqtt.Config{PlainPolicy: "all"})
	e.pols.name("all", doc(allow(`"iot:*"`, `"*"`)))
	watcher := connect(t, e, "watcher")
	watcher.sub("$aws/events/presence/+/dev-1")
	next := func(kind string) presenceEvent {
		t.Helper()
		var ev presenceEvent
		if err := json.Unmarshal(watcher.next("$aws/events/presence/"+kind+"/dev-1"), &ev); err != nil {
			t.Fatal(err)
		}
		if ev.ClientID != "dev-1" || ev.EventType != kind || ev.Timestamp == 0 || ev.SessionIdentifier == "" {
			t.Fatalf("%s event: %+v", kind, ev)
		}
		return ev
	}
	ended := func(want string, byClient bool, session string, version int64) {
		t.Helper()
		ev := next("disconnected")
		if ev.DisconnectReason != want || ev.ClientInitiatedDisconnect == nil || *ev.ClientInitiatedDisconnect != byClient ||
			ev.SessionIdentifier != session || ev.VersionNumber != version {
			t.Fatalf("disconnected: %+v, want %s (by client %v) of session %s, version %d", ev, want, byClient, session, version)
		}
	}

	dev := func() *device {
		t.Helper()
		d, _, err := dialConnect(t, e.broker.Addr(), nil, &paho.Connect{ClientID: "dev-1", CleanStart: true})
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	d := dev()
	c1 := next("connected")
	// Its subscriptions are events too (the watcher listens to them now).
	watcher.sub("$aws/events/subscriptions/+/dev-1")
	d.sub("$aws/things/dev-1/jobs/notify-next")
	var sub struct {
		EventType, SessionIdentifier string
		Topics                       []string
	}
	if err := json.Unmarshal(watcher.next("$aws/events/subscriptions/subscribed/dev-1"), &sub); err != nil ||
		sub.EventType != "subscribed" || sub.SessionIdentifier != c1.SessionIdentifier || len(sub.Topics) != 1 || sub.Topics[0] != "$aws/things/dev-1/jobs/notify-next" {
		t.Fatalf("subscribed: %+v %v", sub, err)
	}
	if c1.IPAddress != "127.0.0.1" || c1.VersionNumber != 1 {
		t.Fatalf("connected: %+v", c1)
	}
	d.c.Disconnect(&paho.Disconnect{})
	ended("CLIENT_INITIATED_DISCONNECT", true, c1.SessionIdentifier, 1)

	d = dev()
	c2 := next("connected")
	if c2.VersionNumber != 2 || c2.SessionIdentifier == c1.SessionIdentifier {
		t.Fatalf("second connection: %+v", c2)
	}
	d.conn.Close() // gone without DISCONNECT
	ended("CONNECTION_LOST", false, c2.SessionIdentifier, 2)

	dev()
	c3 := next("connected")
	dev() // the same client id again: the first session is taken over
	events := map[string]presenceEvent{}
	for i := 0; i < 2; i++ { // the old session's end and the new one's start, in either order
		var ev presenceEvent
		m := watcher.msgs
		select {
		case p := <-m:
			json.Unmarshal(p.Payload, &ev)
		case <-time.After(wait):
			t.Fatal("no takeover events")
		}
		events[ev.EventType] = ev
	}
	if ev := events["disconnected"]; ev.DisconnectReason != "DUPLICATE_CLIENTID" || ev.SessionIdentifier != c3.SessionIdentifier {
		t.Fatalf("takeover: %+v", ev)
	}
	c4 := events["connected"]
	if err := e.broker.DeleteConnection("dev-1", false, false); err != nil {
		t.Fatal(err)
	}
	ended("API_INITIATED_DISCONNECT", false, c4.SessionIdentifier, c4.VersionNumber)
}
