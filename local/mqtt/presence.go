package mqtt

import (
	"bytes"
	"errors"
	"net"
	"sync"
	"time"

	"github.com/google/uuid"
	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Lifecycle events, as AWS IoT publishes them for every client:
// $aws/events/presence/connected/<clientId> once a connection is accepted,
// $aws/events/presence/disconnected/<clientId> when it ends, with who
// ended it and why, and $aws/events/subscriptions/subscribed|unsubscribed/
// <clientId> with the topic filters. A backend subscribes to them (its policy must allow
// iot:Subscribe and iot:Receive on them) to know which devices are online.

const (
	presencePrefix      = "$aws/events/presence/"
	subscriptionsPrefix = "$aws/events/subscriptions/"
)

// presenceHook publishes the lifecycle events.
type presenceHook struct {
	mochi.HookBase
	b *Broker

	mu       sync.Mutex
	sessions map[*mochi.Client]session
	versions map[string]int64 // client id → its latest connection's versionNumber
}

type session struct {
	id, principal string
	version       int64
}

func (h *presenceHook) ID() string { return "otactl-presence" }

func (h *presenceHook) Provides(b byte) bool {
	return bytes.Contains([]byte{mochi.OnSessionEstablished, mochi.OnDisconnect, mochi.OnSubscribed, mochi.OnUnsubscribed}, []byte{b})
}

// OnSubscribed publishes the subscribed event with the filters granted.
func (h *presenceHook) OnSubscribed(cl *mochi.Client, pk packets.Packet, codes []byte) {
	var topics []string
	for i, f := range pk.Filters {
		if i < len(codes) && codes[i] < 0x80 {
			topics = append(topics, f.Filter)
		}
	}
	h.subscriptionEvent(cl, "subscribed", topics)
}

// OnUnsubscribed publishes the unsubscribed event.
func (h *presenceHook) OnUnsubscribed(cl *mochi.Client, pk packets.Packet) {
	var topics []string
	for _, f := range pk.Filters {
		topics = append(topics, f.Filter)
	}
	h.subscriptionEvent(cl, "unsubscribed", topics)
}

// subscriptionEvent is $aws/events/subscriptions/<kind>/<clientId>.
func (h *presenceHook) subscriptionEvent(cl *mochi.Client, kind string, topics []string) {
	h.mu.Lock()
	s, ok := h.sessions[cl]
	h.mu.Unlock()
	if !ok || len(topics) == 0 {
		return
	}
	h.publishOn(subscriptionsPrefix+kind+"/"+cl.ID, cl.ID, map[string]any{
		"clientId": cl.ID, "timestamp": time.Now().UnixMilli(), "eventType": kind,
		"sessionIdentifier": s.id, "principalIdentifier": s.principal, "topics": topics,
	})
}

// OnSessionEstablished publishes the connected event.
func (h *presenceHook) OnSessionEstablished(cl *mochi.Client, _ packets.Packet) {
	if cl.Net.Inline {
		return
	}
	s := session{id: uuid.NewString(), principal: h.b.principalIdentifier(cl)}
	h.mu.Lock()
	if h.sessions == nil {
		h.sessions, h.versions = map[*mochi.Client]session{}, map[string]int64{}
	}
	h.versions[cl.ID]++
	s.version = h.versions[cl.ID]
	h.sessions[cl] = s
	h.mu.Unlock()
	ip, _, err := net.SplitHostPort(cl.Net.Remote)
	if err != nil {
		ip = cl.Net.Remote
	}
	h.publish(cl.ID, "connected", map[string]any{
		"clientId": cl.ID, "timestamp": time.Now().UnixMilli(), "eventType": "connected",
		"sessionIdentifier": s.id, "principalIdentifier": s.principal, "ipAddress": ip, "versionNumber": s.version,
	})
}

// OnDisconnect publishes the disconnected event with AWS's reason.
func (h *presenceHook) OnDisconnect(cl *mochi.Client, err error, _ bool) {
	endedBy := h.b.endedBy.take(cl)
	h.mu.Lock()
	s, ok := h.sessions[cl]
	delete(h.sessions, cl)
	h.mu.Unlock()
	if !ok {
		return // never connected (refused at CONNECT)
	}
	reason, byClient := endedBy, false
	if reason == "" {
		reason, byClient = disconnectReason(cl, err)
	}
	h.publish(cl.ID, "disconnected", map[string]any{
		"clientId": cl.ID, "timestamp": time.Now().UnixMilli(), "eventType": "disconnected",
		"sessionIdentifier": s.id, "principalIdentifier": s.principal, "versionNumber": s.version,
		"clientInitiatedDisconnect": byClient, "disconnectReason": reason,
	})
}

func (h *presenceHook) publish(clientID, kind string, event map[string]any) {
	h.publishOn(presencePrefix+kind+"/"+clientID, clientID, event)
}

func (h *presenceHook) publishOn(topic, clientID string, event map[string]any) {
	select {
	case <-h.b.done:
		return // the broker is closing: no one is left to tell
	default:
	}
	if err := h.b.srv.Publish(topic, mustJSON(event), false, 1); err != nil {
		h.b.log.Debug("mqtt: lifecycle event not published", "client", clientID, "error", err)
	}
}

// disconnectReason names why a connection ended, in AWS's words.
func disconnectReason(cl *mochi.Client, err error) (reason string, byClient bool) {
	cause := cl.StopCause()
	var code packets.Code
	switch {
	case err == nil && (cause == nil || errors.Is(cause, packets.CodeDisconnect)):
		return "CLIENT_INITIATED_DISCONNECT", true
	case errors.As(cause, &code) && code == packets.ErrSessionTakenOver:
		return "DUPLICATE_CLIENTID", false
	case errors.As(cause, &code) && code == packets.ErrServerShuttingDown:
		return "SERVER_INITIATED_DISCONNECT", false
	case errors.As(cause, &code) && code == packets.ErrKeepAliveTimeout, isTimeout(err), isTimeout(cause):
		return "MQTT_KEEP_ALIVE_TIMEOUT", false
	case errors.As(cause, &code) && code.Code >= 0x80:
		return "CLIENT_ERROR", false
	}
	return "CONNECTION_LOST", false
}

func isTimeout(err error) bool {
	var ne net.Error
	return err != nil && errors.As(err, &ne) && ne.Timeout()
}

// principalIdentifier is who a connection is: its certificate's id over
// mutual TLS, its access key over WebSocket, nothing on the plain listener.
func (b *Broker) principalIdentifier(cl *mochi.Client) string {
	if c := b.conns.get(cl); c != nil && c.certID != "" {
		return c.certID
	}
	if wc, ok := cl.Net.Conn.(*wsClientConn); ok {
		return wc.accessKey
	}
	return ""
}
