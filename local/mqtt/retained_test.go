package mqtt_test

import (
	"context"
	"testing"

	"github.com/eclipse/paho.golang/paho"

	"github.com/otactl/otactl/local/mqtt"
)

// retainPolicy lets plain clients use devices/* and their thing's topics,
// retain included.
var retainPolicy = doc(
	allow(`"iot:Connect"`, `"*"`),
	allow(`["iot:Publish","iot:Receive","iot:RetainPublish"]`, `["`+arn+`topic/devices/*","`+arn+`topic/$aws/things/*"]`),
	allow(`"iot:Subscribe"`, `["`+arn+`topicfilter/devices/*","`+arn+`topicfilter/$aws/things/*"]`))

func (d *device) pubRetained(topic string, payload []byte) {
	d.t.Helper()
	ctx, cancel := contextWait()
	defer cancel()
	if _, err := d.c.Publish(ctx, &paho.Publish{Topic: topic, QoS: 1, Retain: true, Payload: payload}); err != nil {
		d.t.Fatalf("publish %s: %v", topic, err)
	}
}

// TestRetainedMessages: iot:RetainPublish allows and denies, a retained
// message survives a broker restart, reaches only subscribers that may
// iot:Receive it, and an empty retained payload deletes it (also across a
// restart).
func TestRetainedMessages(t *testing.T) {
	e := newEnv(t, mqtt.Config{PlainPolicy: "retainer"})
	e.pols.name("retainer", retainPolicy)
	e.thing("dev-1", "nosy")
	nosy := deviceCert(t, e, "nosy", true)
	e.pols.set(certID(nosy), doc(allow(`"iot:Connect"`, `"*"`),
		allow(`"iot:Subscribe"`, `"*"`), allow(`["iot:Publish","iot:Receive"]`, `"`+arn+`topic/$aws/things/nosy/*"`)))

	d := connect(t, e, "dev-1")
	d.pubRetained("devices/dev-1/config", []byte("v1"))

	e.restart()
	d = connect(t, e, "dev-1")
	d.sub("devices/+/config")
	if got := d.next("devices/dev-1/config"); string(got) != "v1" {
		t.Fatalf("retained after a restart: %q", got)
	}
	// Subscribing is allowed to nosy, receiving the topic is not.
	n, _, err := dialConnect(t, e.broker.TLSAddr(), nosy, &paho.Connect{ClientID: "nosy", CleanStart: true})
	if err != nil {
		t.Fatal(err)
	}
	if rc := n.sub("devices/#"); rc[0] != 1 {
		t.Fatalf("SUBACK %#x", rc[0])
	}
	n.sync("nosy")
	if k := n.drain(); k != 0 {
		t.Fatalf("a subscriber without iot:Receive got %d retained messages", k)
	}

	// An empty retained payload deletes, for good.
	d.pubRetained("devices/dev-1/config", nil)
	d.next("devices/dev-1/config") // the live delivery of the delete
	e.restart()
	d = connect(t, e, "dev-1")
	d.sub("devices/+/config")
	d.sync("dev-1")
	if k := d.drain(); k != 0 {
		t.Fatalf("%d messages after the retained one was deleted", k)
	}
	retainedNone(t, e)

	// Without iot:RetainPublish (the development policy grants none): the
	// publish disconnects and nothing is retained.
	e.cfg.PlainPolicy = ""
	e.restart()
	p := connect(t, e, "dev-1")
	p.c.Publish(bg, &paho.Publish{Topic: "$aws/things/dev-1/state", Retain: true, Payload: []byte("x")})
	closed(t, p, "retained publish without iot:RetainPublish")
	retainedNone(t, e)
}

func contextWait() (context.Context, context.CancelFunc) { return context.WithTimeout(bg, wait) }
