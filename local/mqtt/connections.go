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

// willsPrevented are the clients whose Will DeleteConnection suppressed.
type willsPrevented struct {
	mu sync.Mutex
	by map[*mochi.Client]bool
}

func (w *willsPrevented) add(cl *mochi.Client) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.by == nil {
		w.by = map[*mochi.Client]bool{}
	}
	w.by[cl] = true
}

// take reports whether cl's Will was suppressed, and forgets it.
func (w *willsPrevented) take(cl *mochi.Client) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	ok := w.by[cl]
	delete(w.by, cl)
	return ok
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
	if preventWill {
		b.willsPrevented.add(cl)
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
