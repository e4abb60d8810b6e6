package mqtt

import (
	"bytes"
	"strings"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/hooks/storage"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Retained messages, as AWS IoT Core keeps them: a PUBLISH with the RETAIN
// flag (and iot:RetainPublish) replaces the topic's retained message, an
// empty payload deletes it, and a subscriber gets it on subscribing when
// it may iot:Receive the topic. Reserved topics (those starting with $,
// $aws/... among them) keep no retained messages. Whether a message may be
// retained is decided in the policy hook's OnPublish, before mochi stores
// it; this hook only mirrors what mochi retained into the Retained store,
// the way mochi's own storage hooks do, and loads it back at start.

// retainProblem says why a message on topic may not be retained, or "".
func retainProblem(topic string) string {
	if strings.HasPrefix(topic, "$") {
		return "retained messages are not supported on reserved topics"
	}
	return ""
}

// retainedHook persists retained messages through Deps.Retained.
type retainedHook struct {
	mochi.HookBase
	b *Broker
}

func (h *retainedHook) ID() string { return "otactl-retained" }

func (h *retainedHook) Provides(b byte) bool {
	return bytes.Contains([]byte{mochi.OnRetainMessage, mochi.StoredRetainedMessages}, []byte{b})
}

// OnRetainMessage saves or deletes the topic's retained message after
// mochi changed it (r: 1 stored, -1 deleted, 0 nothing was there).
func (h *retainedHook) OnRetainMessage(cl *mochi.Client, pk packets.Packet, r int64) {
	var err error
	switch {
	case len(pk.Payload) > 0:
		err = h.b.deps.Retained.SaveRetained(RetainedMessage{
			Topic: pk.TopicName, Payload: pk.Payload, QoS: pk.FixedHeader.Qos, Created: pk.Created})
	case r != 0:
		err = h.b.deps.Retained.DeleteRetained(pk.TopicName)
	}
	if err != nil {
		h.b.log.Error("mqtt: retained message not persisted", "topic", pk.TopicName, "error", err)
	}
}

// StoredRetainedMessages loads the retained messages at start.
func (h *retainedHook) StoredRetainedMessages() ([]storage.Message, error) {
	ms, err := h.b.deps.Retained.RetainedMessages()
	if err != nil {
		return nil, err
	}
	out := make([]storage.Message, 0, len(ms))
	for _, m := range ms {
		if retainProblem(m.Topic) != "" || len(m.Payload) == 0 {
			continue // never stored by this broker; do not serve it
		}
		out = append(out, storage.Message{
			ID: "retained_" + m.Topic, T: storage.RetainedKey, TopicName: m.Topic, Payload: m.Payload,
			FixedHeader: packets.FixedHeader{Type: packets.Publish, Retain: true, Qos: m.QoS},
			Origin:      "otactl", Created: m.Created,
		})
	}
	return out, nil
}
