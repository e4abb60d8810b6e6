package mqtt

import (
	"bytes"
	"strings"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// thingPrefix is the root of the topics the broker serves itself.
const thingPrefix = "$aws/things/"

// serviceHook serves the Jobs and stream request topics. It decides no
// access: the policy hook has already allowed the PUBLISH (iot:Publish on
// the request's topic) before mochi calls OnPublish here.
type serviceHook struct {
	mochi.HookBase
	b *Broker
}

func (h *serviceHook) ID() string { return "otactl-services" }

func (h *serviceHook) Provides(b byte) bool {
	return bytes.Contains([]byte{mochi.OnPublish, mochi.OnDisconnect}, []byte{b})
}

// OnDisconnect forgets the client's request budget.
func (h *serviceHook) OnDisconnect(cl *mochi.Client, err error, expire bool) {
	h.b.limits.forget(cl.ID)
}

// requestTopic splits $aws/things/{thing}/{jobs|streams}/{rest}.
func requestTopic(topic string) (thing, service, rest string, ok bool) {
	after, ok := strings.CutPrefix(topic, thingPrefix)
	if !ok {
		return "", "", "", false
	}
	thing, after, ok = strings.Cut(after, "/")
	if !ok || thing == "" {
		return "", "", "", false
	}
	service, rest, ok = strings.Cut(after, "/")
	if !ok || (service != "jobs" && service != "streams") {
		return "", "", "", false
	}
	return thing, service, rest, true
}

// servedTopic reports whether the broker answers messages on topic itself
// (every Jobs topic; the stream describe and get requests; the device
// provisioning requests): they are never relayed to subscribers.
func servedTopic(topic string) bool {
	if _, _, _, ok := provisioningRequest(topic); ok {
		return true
	}
	_, service, rest, ok := requestTopic(topic)
	if !ok || service == "jobs" {
		return ok
	}
	parts := strings.Split(rest, "/")
	return len(parts) == 3 && (parts[1] == "describe" || parts[1] == "get")
}

// OnPublish serves the request topics. The thing a request is for is the
// one its topic names (a client id need not be a thing name: AWS's Device
// SDK samples connect as test-<random> with a policy that allows the
// thing's topics). Requests are answered on the requester's connection and
// not forwarded to subscribers: AWS delivers the answers only to the
// requester, and nobody else listens to a request.
func (h *serviceHook) OnPublish(cl *mochi.Client, pk packets.Packet) (packets.Packet, error) {
	if cl.Net.Inline {
		return pk, nil
	}
	if h.b.serveProvisioning(cl, pk.TopicName, pk.Payload) { // fleetprov.go
		return pk, packets.CodeSuccessIgnore
	}
	thing, service, rest, ok := requestTopic(pk.TopicName)
	if !ok {
		return pk, nil
	}
	switch service {
	case "jobs":
		h.b.serveJobs(cl, thing, rest, pk.Payload)
		return pk, packets.CodeSuccessIgnore
	case "streams":
		if h.b.serveStreams(cl, thing, rest, pk.Payload) {
			return pk, packets.CodeSuccessIgnore
		}
	}
	return pk, nil
}
