package shadow_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/otactl/otactl/internal/mqttwire"
	"github.com/otactl/otactl/internal/testtool"
	"github.com/otactl/otactl/local/mqtt"
)

// startMQTT starts the broker's plain listener (the development policy:
// each client id reaches its own thing's topics).
func (f *fixture) startMQTT() *mqtt.Broker {
	f.t.Helper()
	b, err := f.env.Server.StartMQTT(mqtt.Config{Addr: "127.0.0.1:0"})
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

// waitSubscribed waits until clientID's subscription to filter is in place
// (a condition, not a duration: the bound only ends a broken test).
func waitSubscribed(t *testing.T, b *mqtt.Broker, clientID, filter string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !b.Subscribed(clientID, filter) {
		if time.Now().After(deadline) {
			t.Fatalf("%s never subscribed to %s", clientID, filter)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestDeltaOverMQTTAfterHTTPUpdate: mosquitto_sub on the delta topic gets
// the delta of an UpdateThingShadow made over HTTP; mosquitto_sub on a
// named shadow's update/accepted gets the answer to a request published
// with iot-data Publish.
func TestDeltaOverMQTTAfterHTTPUpdate(t *testing.T) {
	sub := testtool.Require(t, "mosquitto_sub", "apt-get install mosquitto-clients")
	f := start(t)
	b := f.startMQTT()
	host, port, _ := net.SplitHostPort(b.Addr())
	for _, tc := range []struct{ filter, do string }{
		{"$aws/things/lamp/shadow/update/delta", "update"},
		{"$aws/things/lamp/shadow/name/cfg/update/accepted", "publish"},
	} {
		cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		var out bytes.Buffer
		cmd := exec.CommandContext(cctx, sub, "-h", host, "-p", port, "-i", "lamp", "-V", "mqttv311", "-q", "1", "-C", "1", "-t", tc.filter)
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		waitSubscribed(t, b, "lamp", tc.filter)
		if tc.do == "update" {
			f.ok(f.data("POST", "/things/lamp/shadow", `{"state":{"desired":{"color":"blue"},"reported":{"color":"red"}},"clientToken":"http-1"}`), nil)
		} else {
			f.ok(f.data("POST", "/topics/%24aws%2Fthings%2Flamp%2Fshadow%2Fname%2Fcfg%2Fupdate?qos=1", `{"state":{"reported":{"rate":5}},"clientToken":"pub-1"}`), nil)
		}
		err := cmd.Wait()
		cancel()
		if err != nil {
			t.Fatalf("mosquitto_sub %s: %v %s", tc.filter, err, out.String())
		}
		var msg struct {
			State       map[string]any `json:"state"`
			Version     int64          `json:"version"`
			ClientToken string         `json:"clientToken"`
		}
		if err := json.Unmarshal(out.Bytes(), &msg); err != nil {
			t.Fatalf("%s: %q: %v", tc.filter, out.String(), err)
		}
		switch tc.do {
		case "update":
			if msg.State["color"] != "blue" || msg.Version != 1 || msg.ClientToken != "http-1" {
				t.Fatalf("delta: %s", out.String())
			}
		case "publish":
			if rep, _ := msg.State["reported"].(map[string]any); rep["rate"] != 5.0 || msg.ClientToken != "pub-1" {
				t.Fatalf("accepted: %s", out.String())
			}
		}
	}
	var got doc
	f.ok(f.data("GET", "/things/lamp/shadow?name=cfg", ""), &got)
	if got.State.Reported["rate"] != 5.0 {
		t.Fatalf("Publish on the update topic did not update the shadow: %+v", got)
	}
}

// TestShadowRequestsOverMQTT: a device publishes get/update/delete requests
// and gets its answers without subscribing to them (rejected with AWS's
// code and message for a wrong version and malformed JSON); a subscriber
// of the delta topic gets the delta; nothing is relayed on the request
// topic.
func TestShadowRequestsOverMQTT(t *testing.T) {
	f := start(t)
	b := f.startMQTT()
	var mu sync.Mutex
	got := map[string][]string{}
	arrived := make(chan struct{}, 64)
	nc, err := net.Dial("tcp", b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	c, err := mqttwire.Connect(nc, "dev", time.Minute, 10*time.Second, func(topic string, payload []byte) {
		mu.Lock()
		got[topic] = append(got[topic], string(payload))
		mu.Unlock()
		arrived <- struct{}{}
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect()
	if _, err := c.Subscribe(10*time.Second, 1, "$aws/things/dev/shadow/update/delta", "$aws/things/dev/shadow/update"); err != nil {
		t.Fatal(err)
	}
	// await waits for n more messages (bounded only to end a broken test).
	await := func(n int) {
		t.Helper()
		for i := 0; i < n; i++ {
			select {
			case <-arrived:
			case <-time.After(20 * time.Second):
				t.Fatalf("waiting for %d messages; have %v", n, got)
			}
		}
	}
	pub := func(op, payload string) {
		t.Helper()
		if err := c.Publish(10*time.Second, "$aws/things/dev/shadow/"+op, 1, []byte(payload)); err != nil {
			t.Fatal(err)
		}
	}
	pub("update", `{"state":{"desired":{"fw":"2.0"},"reported":{"fw":"1.0"}},"clientToken":"u1"}`)
	await(2) // update/accepted (no subscription: answered to the requester) and delta
	pub("update", `{"state":{"reported":{"fw":"2.0"}},"version":7,"clientToken":"u2"}`)
	pub("update", `{"state":`)
	pub("get", `{"clientToken":"g1"}`)
	await(3)
	pub("delete", ``)
	await(1)
	pub("get", ``)
	await(1)

	mu.Lock()
	defer mu.Unlock()
	one := func(topic string, i int) map[string]any {
		t.Helper()
		if len(got[topic]) <= i {
			t.Fatalf("nothing (%d) on %s; got %v", i, topic, got)
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(got[topic][i]), &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	p := "$aws/things/dev/shadow/"
	if a := one(p+"update/accepted", 0); a["clientToken"] != "u1" || a["version"] != 1.0 {
		t.Errorf("update/accepted: %v", a)
	}
	if d := one(p+"update/delta", 0); d["state"].(map[string]any)["fw"] != "2.0" {
		t.Errorf("delta: %v", d)
	}
	if r := one(p+"update/rejected", 0); r["code"] != 409.0 || r["message"] != "Version conflict" || r["clientToken"] != "u2" || r["timestamp"] == nil {
		t.Errorf("rejected version: %v", r)
	}
	if r := one(p+"update/rejected", 1); r["code"] != 400.0 || r["message"] != "Invalid JSON" {
		t.Errorf("rejected JSON: %v", r)
	}
	if g := one(p+"get/accepted", 0); g["clientToken"] != "g1" || g["version"] != 1.0 || g["state"].(map[string]any)["delta"] == nil {
		t.Errorf("get/accepted: %v", g)
	}
	if d := one(p+"delete/accepted", 0); d["version"] != 1.0 {
		t.Errorf("delete/accepted: %v", d)
	}
	if r := one(p+"get/rejected", 0); r["code"] != 404.0 || r["message"] != "No shadow exists with name: 'dev'" {
		t.Errorf("get/rejected: %v", r)
	}
	if len(got[p+"update"]) != 0 || len(got[p+"update/delta"]) != 1 || len(got[p+"update/accepted"]) != 1 {
		t.Errorf("requests relayed or answers repeated: %v", got)
	}
	for topic := range got {
		if strings.HasSuffix(topic, "/documents") {
			t.Errorf("documents delivered without a subscription: %s", topic)
		}
	}
}
