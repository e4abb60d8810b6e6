package mqtt

import (
	"bytes"
	"strings"
	"unsafe"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/otactl/otactl/local/policy"
)

// policyHook is where every broker decision asks local/policy: "may this
// connection do this action on this resource?". It is the only hook that
// provides OnConnect, OnConnectAuthenticate and OnACLCheck (mochi ORs the
// answers of the hooks that provide them, so a second one could only let
// more through). Where mochi v2.7.9 makes each decision:
//   - CONNECT: OnConnect, before any session takeover: the limits, iot:Connect
//     on client/<clientId>, and the Will (iot:Publish on its topic,
//     iot:RetainPublish when it is retained). A refusal answers CONNACK "not
//     authorized" (3.1.1 return code 5, MQTT 5 0x87).
//   - PUBLISH: OnACLCheck(topic, write): iot:Publish; then OnPublish, before
//     mochi retains anything: the payload limit and iot:RetainPublish. A
//     denied publish disconnects, as AWS IoT Core does.
//   - SUBSCRIBE: OnSubscribe decides iot:Subscribe on topicfilter/<filter>
//     for each filter; mochi's OnACLCheck(filter, read) returns it.
//   - Delivery (retained messages included): OnACLCheck(topic, read):
//     iot:Receive on topic/<topic>.
//   - Will: OnWill asks again when the Will is sent; mochi runs no ACL check
//     for it, and retains it without OnPublish.
type policyHook struct {
	mochi.HookBase
	b *Broker
}

func (h *policyHook) ID() string { return "otactl-policy" }

func (h *policyHook) Provides(b byte) bool {
	return bytes.Contains([]byte{
		mochi.OnConnect, mochi.OnConnectAuthenticate, mochi.OnACLCheck,
		mochi.OnSubscribe, mochi.OnSubscribed, mochi.OnPublish, mochi.OnWill, mochi.OnDisconnect,
	}, []byte{b})
}

// OnConnect decides whether the connection may exist. It runs before mochi
// looks for a session to take over, so a client that may not connect with
// an id cannot kick the connection that holds it.
func (h *policyHook) OnConnect(cl *mochi.Client, pk packets.Packet) error {
	code, reason := h.b.admit(cl)
	if reason == "" {
		return nil
	}
	h.b.log.Info("mqtt: connection refused", "client", cl.ID, "remote", cl.Net.Remote, "listener", cl.Net.Listener, "reason", reason)
	if cl.Properties.ProtocolVersion < 5 {
		if v3, ok := packets.V5CodesToV3[code]; ok {
			code = v3
		} else {
			code = packets.Err3NotAuthorized // 3.1.1 has only return codes 1-5
		}
	}
	_ = h.b.srv.SendConnack(cl, code, false, nil)
	return code
}

// admit checks a CONNECT and, when it may connect, keeps its policy state.
func (b *Broker) admit(cl *mochi.Client) (packets.Code, string) {
	if code, reason := connectProblem(cl); reason != "" {
		return code, reason
	}
	clampKeepalive(cl)
	if b.usesDevPolicy(cl.Net.Listener) && strings.ContainsAny(cl.ID, devPolicyUnsafe) {
		// The development policy is scoped by ${iot:ClientId}: an id with
		// a topic level or a wildcard in it would widen it.
		return packets.ErrNotAuthorized, "client id contains one of " + devPolicyUnsafe + " (development policy)"
	}
	if old, ok := b.srv.Clients.Get(cl.ID); ok && old.Net.Listener != listenerPlain && cl.Net.Listener == listenerPlain {
		return packets.ErrNotAuthorized, "client id is held by an authenticated session; the plain listener cannot take it over"
	}
	c := b.newConn(cl)
	if c.ctx.SecureTransport && !c.ws && c.certID == "" {
		return packets.ErrNotAuthorized, "no client certificate"
	}
	if !b.allowed(c, policy.ActionConnect, "client", cl.ID) {
		return packets.ErrNotAuthorized, "iot:Connect is not allowed for client/" + cl.ID
	}
	if w := cl.Properties.Will; w.Flag > 0 {
		if reason := b.willProblem(c, w.TopicName, w.Retain); reason != "" {
			return packets.ErrNotAuthorized, "Will: " + reason
		}
	}
	b.conns.put(cl, c)
	if old, ok := b.srv.Clients.Get(cl.ID); ok && old != cl && !old.Closed() {
		b.endedBy.set(old, "DUPLICATE_CLIENTID") // mochi takes the session over next
	}
	return packets.CodeSuccess, ""
}

// willProblem says why a Will may not be published (or retained), or "".
func (b *Broker) willProblem(c *conn, topic string, retain bool) string {
	if p := topicProblem(topic); p != "" {
		return p
	}
	if retain {
		if p := retainProblem(topic); p != "" {
			return p
		}
	}
	if !b.allowed(c, policy.ActionPublish, "topic", topic) {
		return "iot:Publish is not allowed for topic/" + topic
	}
	if retain && !b.allowed(c, policy.ActionRetainPublish, "topic", topic) {
		return "iot:RetainPublish is not allowed for topic/" + topic
	}
	return ""
}

// OnConnectAuthenticate lets through what OnConnect admitted.
func (h *policyHook) OnConnectAuthenticate(cl *mochi.Client, pk packets.Packet) bool {
	return h.b.conns.get(cl) != nil
}

// OnACLCheck answers a PUBLISH (write), a SUBSCRIBE filter and a delivery
// (both read: told apart by OnSubscribe's marks).
func (h *policyHook) OnACLCheck(cl *mochi.Client, topic string, write bool) bool {
	c := h.b.conns.get(cl)
	if c == nil {
		return false
	}
	if write {
		reason := topicProblem(topic)
		if reason == "" && !h.b.allowed(c, policy.ActionPublish, "topic", topic) {
			reason = "iot:Publish is not allowed"
		}
		if reason != "" {
			h.b.log.Info("mqtt: publish refused, disconnecting", "client", cl.ID, "topic", topic, "reason", reason)
			h.b.kick(cl)
			return false
		}
		return true
	}
	if ok, marked := c.subscribeDecision(topic); marked {
		return ok
	}
	return h.b.allowed(c, policy.ActionReceive, "topic", topic)
}

// OnSubscribe decides each filter of a SUBSCRIBE (limits, then
// iot:Subscribe on topicfilter/<filter>). mochi then calls
// OnACLCheck(filter, read) for each, which is also the call it makes for
// each delivery, and a filter may be the same string as a topic. So each
// filter is replaced by a fresh copy of itself, and the decision is marked
// under the address of the copy's bytes: OnACLCheck finds the mark only for
// that very string, never for a delivery's topic (another allocation),
// even one with the same text arriving meanwhile from another goroutine.
func (h *policyHook) OnSubscribe(cl *mochi.Client, pk packets.Packet) packets.Packet {
	c := h.b.conns.get(cl)
	if c == nil {
		return pk
	}
	held := cl.State.Subscriptions.Len()
	marks := make(map[*byte]bool, len(pk.Filters))
	for i := range pk.Filters {
		f := strings.Clone(pk.Filters[i].Filter)
		if f == "" {
			continue // mochi refuses an empty filter itself
		}
		pk.Filters[i].Filter = f
		_, resubscribe := cl.State.Subscriptions.Get(f)
		ok := i < maxFiltersPerSubscribe && topicProblem(f) == "" && (resubscribe || held < maxSubscriptions) &&
			h.b.allowed(c, policy.ActionSubscribe, "topicfilter", f)
		if ok && !resubscribe {
			held++
		}
		marks[unsafe.StringData(f)] = ok
	}
	c.markSubscribing(marks)
	return pk
}

// OnSubscribed ends the SUBSCRIBE: mochi has asked about every filter, and
// what it sends next (retained messages) are deliveries.
func (h *policyHook) OnSubscribed(cl *mochi.Client, pk packets.Packet, codes []byte) {
	if c := h.b.conns.get(cl); c != nil {
		c.markSubscribing(nil)
	}
}

// OnPublish applies the payload limit and the retain rules before mochi
// retains the message (its OnRetainMessage only reports what is done).
func (h *policyHook) OnPublish(cl *mochi.Client, pk packets.Packet) (packets.Packet, error) {
	if cl.Net.Inline {
		return pk, nil
	}
	c := h.b.conns.get(cl)
	reason := ""
	switch {
	case h.b.willsPrevented.take(cl) != "":
		reason = "DeleteConnection with preventWillMessage"
	case c == nil:
		reason = "no connection state"
	case len(pk.Payload) > maxPayload:
		reason = "payload larger than 128 KB"
	case pk.FixedHeader.Retain:
		if reason = retainProblem(pk.TopicName); reason == "" && !h.b.allowed(c, policy.ActionRetainPublish, "topic", pk.TopicName) {
			reason = "iot:RetainPublish is not allowed"
		}
	}
	if reason != "" {
		h.b.log.Info("mqtt: publish refused, disconnecting", "client", cl.ID, "topic", pk.TopicName, "reason", reason)
		h.b.kick(cl)
		return pk, packets.ErrRejectPacket
	}
	return pk, nil
}

// OnWill checks the Will again as it is sent: the policies may have
// changed since CONNECT. A Will no longer allowed, or one on a topic the
// broker serves itself (Jobs and stream requests are answered, never
// relayed), is dropped: mochi then publishes nothing (an empty topic has no
// subscribers) and retains nothing.
func (h *policyHook) OnWill(cl *mochi.Client, will mochi.Will) (mochi.Will, error) {
	c := h.b.conns.get(cl)
	reason := ""
	switch {
	case h.b.willsPrevented.take(cl) != "":
		reason = "DeleteConnection with preventWillMessage"
	case c == nil:
		reason = "no connection state"
	case servedTopic(will.TopicName):
		reason = "a request topic the broker serves"
	default:
		reason = h.b.willProblem(c, will.TopicName, will.Retain)
	}
	if reason != "" {
		h.b.log.Info("mqtt: Will dropped", "client", cl.ID, "topic", will.TopicName, "reason", reason)
		return mochi.Will{}, nil
	}
	return will, nil
}

// OnDisconnect forgets the connection's policy state.
func (h *policyHook) OnDisconnect(cl *mochi.Client, err error, expire bool) {
	h.b.conns.drop(cl)
	h.b.willsPrevented.take(cl) // a client with no Will never reached OnWill
}

// usesDevPolicy reports whether clients of a listener are judged by the
// development policy (plain or WebSocket with no policy named).
func (b *Broker) usesDevPolicy(listener string) bool {
	switch listener {
	case listenerPlain:
		return b.cfg.PlainPolicy == ""
	case listenerWSS:
		return b.cfg.WebSocketPolicy == ""
	}
	return false
}
