package shadow

import (
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/otactl/otactl/local/wire"
)

// The iot-data wire (API model iot-data-2015-05-28, REST-JSON; SigV4
// signing name "iotdata"). Handlers read the request, call the Go API of
// shadow.go and write its document; they hold no rules and no store access.

// ServeHTTP serves the IoT data plane.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.routes().ServeHTTP(w, r)
}

func (s *Service) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /things/{thingName}/shadow", s.getThingShadow)
	mux.HandleFunc("POST /things/{thingName}/shadow", s.updateThingShadow)
	mux.HandleFunc("DELETE /things/{thingName}/shadow", s.deleteThingShadow)
	mux.HandleFunc("GET /api/things/shadow/ListNamedShadowsForThing/{thingName}", s.listNamedShadowsForThing)
	mux.HandleFunc("POST /topics/{topic...}", s.publishHTTP)
	mux.HandleFunc("DELETE /connections/{clientId}", s.deleteConnection)
	mux.HandleFunc("GET /retainedMessage", s.listRetainedMessages)
	mux.HandleFunc("GET /retainedMessage/{topic...}", s.getRetainedMessage)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		wire.WriteError(w, wire.Errorf(http.StatusNotFound, "UnknownOperationException",
			"otactl local has no IoT data plane operation for %s %s", r.Method, r.URL.Path))
	})
	return mux
}

// shadowName reads the optional ?name= (absent: the classic shadow; present
// but empty breaks the model's length rule).
func shadowName(r *http.Request) (string, *Error) {
	q := r.URL.Query()
	if _, ok := q["name"]; ok && q.Get("name") == "" {
		return "", badRequest("Invalid shadow name: must be 1 to 64 characters of a-z, A-Z, 0-9, '$', ':', '_' or '-'")
	}
	return q.Get("name"), nil
}

func writeShadowError(w http.ResponseWriter, err error) {
	wire.WriteError(w, wireError(asError(err)))
}

func writeDocument(w http.ResponseWriter, doc []byte) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(doc)
}

// getThingShadow is GetThingShadow: GET /things/{thingName}/shadow?name=.
func (s *Service) getThingShadow(w http.ResponseWriter, r *http.Request) {
	name, e := shadowName(r)
	if e != nil {
		writeShadowError(w, e)
		return
	}
	sh, err := s.Get(r.PathValue("thingName"), name)
	if err != nil {
		writeShadowError(w, err)
		return
	}
	writeDocument(w, GetDocument(sh, "", s.now().Unix()))
}

// updateThingShadow is UpdateThingShadow: POST /things/{thingName}/shadow
// with the request state document as the payload. MQTT subscribers get the
// update's accepted, delta and documents messages.
func (s *Service) updateThingShadow(w http.ResponseWriter, r *http.Request) {
	name, e := shadowName(r)
	if e != nil {
		writeShadowError(w, e)
		return
	}
	payload, e := readPayload(r)
	if e != nil {
		writeShadowError(w, e)
		return
	}
	thing := r.PathValue("thingName")
	step, _, err := s.Update(thing, name, payload)
	if err != nil {
		writeShadowError(w, err)
		return
	}
	writeDocument(w, step.Accepted)
	s.publish(thing, name, OpUpdate, step)
}

// deleteThingShadow is DeleteThingShadow: DELETE /things/{thingName}/shadow.
func (s *Service) deleteThingShadow(w http.ResponseWriter, r *http.Request) {
	name, e := shadowName(r)
	if e != nil {
		writeShadowError(w, e)
		return
	}
	thing := r.PathValue("thingName")
	doc, err := s.Delete(thing, name, "")
	if err != nil {
		writeShadowError(w, err)
		return
	}
	writeDocument(w, doc)
	s.publish(thing, name, OpDelete, Step{Accepted: doc})
}

// listNamedShadowsForThing is ListNamedShadowsForThing:
// GET /api/things/shadow/ListNamedShadowsForThing/{thingName}?nextToken=&pageSize=
// (pageSize 1–100, default 100). A thing without named shadows, or not in
// the registry, lists none.
func (s *Service) listNamedShadowsForThing(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	size := 100
	if v := q.Get("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			writeShadowError(w, badRequest("pageSize must be an integer from 1 to 100"))
			return
		}
		size = n
	}
	after := q.Get("nextToken")
	if after != "" && !validName(after, 64, true) {
		writeShadowError(w, badRequest("Invalid nextToken"))
		return
	}
	names, more, err := s.ListNamed(r.PathValue("thingName"), after, size)
	if err != nil {
		writeShadowError(w, err)
		return
	}
	out := struct {
		Results   []string `json:"results"`
		NextToken string   `json:"nextToken,omitempty"`
		Timestamp int64    `json:"timestamp"`
	}{Results: names, Timestamp: s.now().Unix()}
	if out.Results == nil {
		out.Results = []string{}
	}
	if more {
		out.NextToken = names[len(names)-1]
	}
	wire.WriteJSON(w, http.StatusOK, out)
}

// publishHTTP is Publish: POST /topics/{topic}?qos=&retain= with the
// message as the payload, delivered to the topic's MQTT subscribers. The
// MQTT 5 members (contentType, responseTopic, messageExpiry, user
// properties, correlation data, payload format) are accepted and not
// passed on.
func (s *Service) publishHTTP(w http.ResponseWriter, r *http.Request) {
	topic := r.PathValue("topic")
	if topic == "" || strings.ContainsAny(topic, "+#") || len(topic) > 256 {
		wire.WriteError(w, wire.InvalidRequest("topic must be 1 to 256 bytes without the wildcards + and #"))
		return
	}
	q := r.URL.Query()
	var qos byte
	switch q.Get("qos") {
	case "", "0":
	case "1":
		qos = 1
	default:
		wire.WriteError(w, wire.InvalidRequest("qos must be 0 or 1"))
		return
	}
	retain := false
	if v := q.Get("retain"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			wire.WriteError(w, wire.InvalidRequest("retain must be true or false"))
			return
		}
		retain = b
	}
	payload, e := readPayload(r)
	if e != nil {
		writeShadowError(w, e)
		return
	}
	pub := s.pub
	if pub == nil {
		pub = noPublisher{}
	}
	if err := pub.Publish(topic, payload, qos, retain); err != nil {
		if errors.Is(err, ErrNoPublisher) {
			wire.WriteError(w, wire.Errorf(http.StatusServiceUnavailable, "ServiceUnavailableException", "Publish: %v", err))
			return
		}
		wire.WriteError(w, wire.Internal(err))
		return
	}
	wire.WriteJSON(w, http.StatusOK, nil)
}

type noPublisher struct{}

func (noPublisher) Publish(string, []byte, byte, bool) error { return ErrNoPublisher }

// readPayload reads a request body of at most MaxPayload bytes.
func readPayload(r *http.Request) ([]byte, *Error) {
	raw, err := io.ReadAll(io.LimitReader(r.Body, MaxPayload+1))
	if err != nil {
		return nil, badRequest("reading the payload: " + err.Error())
	}
	if len(raw) > MaxPayload {
		return nil, tooLarge()
	}
	return raw, nil
}
