package mqtt

import (
	"strings"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// AWS IoT Core's message broker limits (AWS General Reference, "AWS IoT
// Core message broker and protocol limits and quotas"), the ones a single
// connection can run into.
const (
	// maxPayload: "The payload for every publish request can be no larger
	// than 128 KB. AWS IoT Core rejects publish and connect requests larger
	// than this size."
	maxPayload = 128 << 10
	// maxPacket bounds a whole packet before its body is read (mochi checks
	// it against the fixed header's remaining length, before allocating):
	// the largest payload plus room for a topic, a packet id and properties.
	maxPacket = maxPayload + 4<<10
	// maxClientID: client ids are at most 128 bytes of UTF-8.
	maxClientID = 128
	// maxTopic: a topic or topic filter is at most 256 bytes of UTF-8 ...
	maxTopic = 256
	// maxSlashes: ... with at most 7 forward slashes.
	maxSlashes = 7
	// maxFiltersPerSubscribe: one SUBSCRIBE requests at most 8 subscriptions.
	maxFiltersPerSubscribe = 8
	// maxSubscriptions per connection (the default quota).
	maxSubscriptions = 50
	// Keep-alive: 30 to 1200 seconds; a shorter interval is raised to 30,
	// a longer one (or 0, "no keep-alive") lowered to 1200.
	minKeepalive = 30
	maxKeepalive = 1200
)

// topicProblem says why a topic (or filter) breaks the limits, or "".
func topicProblem(topic string) string {
	switch {
	case len(topic) > maxTopic:
		return "topic longer than 256 bytes"
	case strings.Count(topic, "/") > maxSlashes:
		return "topic with more than 7 slashes"
	}
	return ""
}

// clampKeepalive applies the keep-alive range before mochi arms the
// connection's read deadline (which it does right after OnConnect). An
// MQTT 5 client is told the value it got (Server Keep Alive in CONNACK).
func clampKeepalive(cl *mochi.Client) {
	ka := cl.State.Keepalive
	switch {
	case ka == 0 || ka > maxKeepalive:
		ka = maxKeepalive
	case ka < minKeepalive:
		ka = minKeepalive
	}
	if ka != cl.State.Keepalive {
		cl.State.Keepalive = ka
		cl.State.ServerKeepalive = cl.Properties.ProtocolVersion == 5
	}
}

// connectProblem checks the CONNECT against the limits: the client id and
// the Will's topic and payload. It returns the CONNACK code and why.
func connectProblem(cl *mochi.Client) (packets.Code, string) {
	if len(cl.ID) > maxClientID {
		return packets.ErrClientIdentifierNotValid, "client id longer than 128 bytes"
	}
	if w := cl.Properties.Will; w.Flag > 0 {
		if p := topicProblem(w.TopicName); p != "" {
			return packets.ErrTopicNameInvalid, "Will: " + p
		}
		if len(w.Payload) > maxPayload {
			return packets.ErrPacketTooLarge, "Will payload larger than 128 KB"
		}
	}
	return packets.CodeSuccess, ""
}
