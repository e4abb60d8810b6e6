package shadow

import (
	"encoding/base64"
	"net/http"
	"sort"
	"strconv"
	"time"

	"github.com/otactl/otactl/local/wire"
)

// GetRetainedMessage and ListRetainedMessages: the broker's retained
// messages as the iot-data API shows them. The broker owns them (it
// retains, replaces and deletes them as MQTT says); this service only
// reads them through Deps.Retained.

// RetainedMessage is one retained message.
type RetainedMessage struct {
	Topic    string
	Payload  []byte
	QoS      byte
	Modified time.Time
}

// Retained reads the broker's retained messages.
type Retained interface {
	RetainedMessages() ([]RetainedMessage, error)
}

// listRetainedMax is ListRetainedMessages' maxResults range (1..200, API
// reference); also the page size when none is asked for.
const listRetainedMax = 200

func (s *Service) retainedSorted() ([]RetainedMessage, error) {
	if s.retained == nil {
		return nil, nil
	}
	ms, err := s.retained.RetainedMessages()
	sort.Slice(ms, func(i, j int) bool { return ms[i].Topic < ms[j].Topic })
	return ms, err
}

// getRetainedMessage is GET /retainedMessage/{topic}.
func (s *Service) getRetainedMessage(w http.ResponseWriter, r *http.Request) {
	topic := r.PathValue("topic")
	ms, err := s.retainedSorted()
	if err != nil {
		wire.WriteError(w, wire.Internal(err))
		return
	}
	i := sort.Search(len(ms), func(i int) bool { return ms[i].Topic >= topic })
	if topic == "" || i == len(ms) || ms[i].Topic != topic {
		wire.WriteError(w, wire.Errorf(http.StatusNotFound, "ResourceNotFoundException", "No retained message found for topic %q", topic))
		return
	}
	m := ms[i]
	wire.WriteJSON(w, http.StatusOK, map[string]any{
		"topic": m.Topic, "payload": m.Payload, "qos": m.QoS, "lastModifiedTime": m.Modified.UnixMilli(),
	})
}

// listRetainedMessages is GET /retainedMessage?maxResults=&nextToken=, in
// topic order; nextToken is the last topic listed, encoded.
func (s *Service) listRetainedMessages(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	max := listRetainedMax
	if v := q.Get("maxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > listRetainedMax {
			wire.WriteError(w, wire.InvalidRequest("maxResults must be a whole number from 1 to %d, got %q", listRetainedMax, v))
			return
		}
		max = n
	}
	after := ""
	if v := q.Get("nextToken"); v != "" {
		b, err := base64.RawURLEncoding.DecodeString(v)
		if err != nil || len(b) == 0 {
			wire.WriteError(w, wire.InvalidRequest("nextToken %q is not a token this API returned", v))
			return
		}
		after = string(b)
	}
	ms, err := s.retainedSorted()
	if err != nil {
		wire.WriteError(w, wire.Internal(err))
		return
	}
	type summary struct {
		Topic            string `json:"topic"`
		PayloadSize      int    `json:"payloadSize"`
		QoS              byte   `json:"qos"`
		LastModifiedTime int64  `json:"lastModifiedTime"`
	}
	out := struct {
		RetainedTopics []summary `json:"retainedTopics"`
		NextToken      string    `json:"nextToken,omitempty"`
	}{RetainedTopics: []summary{}}
	i := sort.Search(len(ms), func(i int) bool { return ms[i].Topic > after })
	for ; i < len(ms) && len(out.RetainedTopics) < max; i++ {
		m := ms[i]
		out.RetainedTopics = append(out.RetainedTopics, summary{m.Topic, len(m.Payload), m.QoS, m.Modified.UnixMilli()})
	}
	if i < len(ms) {
		out.NextToken = base64.RawURLEncoding.EncodeToString([]byte(ms[i-1].Topic))
	}
	wire.WriteJSON(w, http.StatusOK, out)
}
