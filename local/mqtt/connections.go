package mqtt

import (
	"errors"
	"strings"
	"sync"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// DeleteConnection (the iot-data API's): a connected client is
// disconnected as by an administrator (MQTT 5 DISCONNECT 0x98); its Will
// is published unless preventWill; with cleanSession a persistent session
// goes too (a clean one ends with the connection anyway).

// ErrNotConnected: no client is connected with that id.
var ErrNotConnected = errors.New("no client is connected with that client id")

// clientMarks remembers something about clients until their connection
// ends: whose Will DeleteConnection suppressed, why the broker ended a
// connection (the client may close it first on reading the DISCONNECT,
// so mochi's stop cause cannot say).
type clientMarks struct {
	mu sync.Mutex
	by map[*mochi.Client]string
}

func (m *clientMarks) set(cl *mochi.Client, v string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.by == nil {
		m.by = map[*mochi.Client]string{}
	}
	m.by[cl] = v
}

// take returns cl's mark ("" for none) and forgets it.
func (m *clientMarks) take(cl *mochi.Client) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	v := m.by[cl]
	delete(m.by, cl)
	return v
}

// DeleteConnection disconnects the client connected with clientID.
func (b *Broker) DeleteConnection(clientID string, cleanSession, preventWill bool) error {
	if clientID == "" || strings.HasPrefix(clientID, "$") {
		return errors.New("clientId must be given and may not start with $")
	}
	cl, ok := b.srv.Clients.Get(clientID)
	if !ok || cl.Closed() {
		return ErrNotConnected
	}
	// mochi sends a Will only when reading the connection fails, which a
	// server-side stop may or may not cause: the Will is published here,
	// once, unless prevented, and mochi's own is suppressed either way.
	will := cl.Properties.Will
	b.willsPrevented.set(cl, "sent by DeleteConnection")
	b.endedBy.set(cl, "API_INITIATED_DISCONNECT")
	if !preventWill && will.Flag > 0 {
		if c := b.conns.get(cl); c != nil && !servedTopic(will.TopicName) && b.willProblem(c, will.TopicName, will.Retain) == "" {
			if err := b.srv.Publish(will.TopicName, will.Payload, will.Retain, will.Qos); err != nil {
				b.log.Debug("mqtt: Will not published", "client", clientID, "error", err)
			}
		}
	}
	if cl.Properties.ProtocolVersion < 5 {
		cl.Stop(packets.ErrAdministrativeAction)
	} else {
		_ = b.srv.DisconnectClient(cl, packets.ErrAdministrativeAction)
	}
	if cleanSession {
		cl.ClearInflights()
		b.srv.UnsubscribeClient(cl)
		if cur, ok := b.srv.Clients.Get(clientID); ok && cur == cl { // not a new connection meanwhile
			b.srv.Clients.Delete(clientID)
		}
	}
	return nil
}
