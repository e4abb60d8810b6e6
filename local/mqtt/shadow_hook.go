package mqtt

import (
	"bytes"
	"strings"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// shadowHook serves the Device Shadow request topics
// ($aws/things/<thing>/shadow/[name/<name>/](get|update|delete)) through
// Deps.Shadows. Like the Jobs and stream hook it decides no access: the
// policy hook has allowed the PUBLISH before mochi calls OnPublish here,
// and every message it sends to subscribers is delivered by mochi, so
// iot:Receive applies to each recipient.
type shadowHook struct {
	mochi.HookBase
	b *Broker
}

func (h *shadowHook) ID() string { return "otactl-shadows" }

func (h *shadowHook) Provides(b byte) bool {
	return bytes.Contains([]byte{mochi.OnPublish}, []byte{b})
}

// OnPublish answers a shadow request. The answer (accepted or rejected)
// goes to the topic's subscribers, as AWS publishes it, and straight to the
// requester when it is not subscribed to it; the delta and documents of an
// update go to subscribers only. The request itself is not relayed or
// retained. A request published by the broker's own client (iot-data
// Publish over HTTP) is served the same way, its answer going to
// subscribers.
func (h *shadowHook) OnPublish(cl *mochi.Client, pk packets.Packet) (packets.Packet, error) {
	sh := h.b.deps.Shadows
	if sh == nil || !strings.HasPrefix(pk.TopicName, thingPrefix) || !strings.Contains(pk.TopicName, "/shadow/") {
		return pk, nil
	}
	msgs, ok := sh.ServeShadow(pk.TopicName, pk.Payload)
	if !ok {
		return pk, nil
	}
	for _, m := range msgs {
		if m.Answer && !cl.Net.Inline && !h.b.subscribedTo(cl, m.Topic) {
			h.b.reply(cl, m.Topic, m.Payload)
		}
		h.b.publish(m.Topic, m.Payload)
	}
	return pk, packets.CodeSuccessIgnore
}

// subscribedTo reports whether one of cl's subscriptions matches topic
// (mochi then delivers it a copy of a message published there).
func (b *Broker) subscribedTo(cl *mochi.Client, topic string) bool {
	_, ok := b.srv.Topics.Subscribers(topic).Subscriptions[cl.ID]
	return ok
}

// Publish sends a message from the broker itself to the topic's
// subscribers: the iot-data Publish operation and the shadow documents of
// changes made over HTTP. Each delivery is an iot:Receive decision, as for
// any message; a retained one is kept (and saved) as any other, an empty
// retained payload deleting it. qos is 0 or 1.
func (b *Broker) Publish(topic string, payload []byte, qos byte, retain bool) error {
	return b.srv.Publish(topic, payload, retain, qos)
}
