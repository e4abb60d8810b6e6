package shadow

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/otactl/otactl/local/wire"
)

// DeleteConnection (DELETE /connections/{clientId}): the broker's business;
// this service reads the request and answers.

// Connections disconnects MQTT clients.
type Connections interface {
	// DeleteConnection disconnects clientID (ErrNotConnected when it is
	// not connected).
	DeleteConnection(clientID string, cleanSession, preventWill bool) error
}

// ErrNotConnected: no client is connected with the id.
var ErrNotConnected = errors.New("not connected")

func (s *Service) deleteConnection(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("clientId")
	if id == "" || strings.HasPrefix(id, "$") || len(id) > 128 {
		wire.WriteError(w, wire.InvalidRequest("clientId must be 1-128 characters and may not start with $, got %q", id))
		return
	}
	q := r.URL.Query()
	flag := func(name string) (bool, bool) {
		v := q.Get(name)
		if v == "" {
			return false, true
		}
		b, err := strconv.ParseBool(v)
		if err != nil {
			wire.WriteError(w, wire.InvalidRequest("%s must be true or false, got %q", name, v))
			return false, false
		}
		return b, true
	}
	clean, ok := flag("cleanSession")
	if !ok {
		return
	}
	preventWill, ok := flag("preventWillMessage")
	if !ok {
		return
	}
	if s.conns == nil {
		wire.WriteError(w, wire.Errorf(http.StatusServiceUnavailable, "ServiceUnavailableException", "DeleteConnection: %v", ErrNoPublisher))
		return
	}
	switch err := s.conns.DeleteConnection(id, clean, preventWill); {
	case errors.Is(err, ErrNotConnected):
		wire.WriteError(w, wire.Errorf(http.StatusNotFound, "ResourceNotFoundException", "No connection found for client ID %s", id))
	case err != nil:
		wire.WriteError(w, wire.Internal(err))
	default:
		w.WriteHeader(http.StatusOK)
	}
}
