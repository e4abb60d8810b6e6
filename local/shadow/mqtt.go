package shadow

import (
	"log/slog"
	"strings"
)

// The MQTT side of the Device Shadow service ("Device Shadow MQTT topics"):
// a request on <prefix>/get, /update or /delete is answered on
// <prefix>/<op>/accepted or /rejected; an accepted update also goes out on
// /update/delta (when desired and reported differ) and /update/documents.
// The prefix is $aws/things/<thing>/shadow for the classic shadow and
// $aws/things/<thing>/shadow/name/<name> for a named one. The broker's
// shadow hook parses the topic (ParseTopic), calls Handle and sends the
// messages; this file has no MQTT in it.

// Message is one message the service sends about a request.
type Message struct {
	Topic   string
	Payload []byte
	// Answer marks the accepted or rejected answer to the request, which
	// the requester must get; the others (delta, documents) go to the
	// topic's subscribers.
	Answer bool
}

// Operations of the shadow topics.
const (
	OpGet    = "get"
	OpUpdate = "update"
	OpDelete = "delete"
)

// Prefix is the topic prefix of a shadow ("" name: the classic shadow).
func Prefix(thing, name string) string {
	if name == "" {
		return "$aws/things/" + thing + "/shadow"
	}
	return "$aws/things/" + thing + "/shadow/name/" + name
}

// ParseTopic recognizes a shadow request topic:
// $aws/things/<thing>/shadow/[name/<name>/](get|update|delete). ok is false
// for any other topic, the answer topics (update/accepted...) included.
func ParseTopic(topic string) (thing, name, op string, ok bool) {
	rest, found := strings.CutPrefix(topic, "$aws/things/")
	if !found {
		return "", "", "", false
	}
	parts := strings.Split(rest, "/")
	switch {
	case len(parts) == 3 && parts[1] == "shadow":
		thing, op = parts[0], parts[2]
	case len(parts) == 5 && parts[1] == "shadow" && parts[2] == "name":
		thing, name, op = parts[0], parts[3], parts[4]
		if name == "" {
			return "", "", "", false
		}
	default:
		return "", "", "", false
	}
	if thing == "" || (op != OpGet && op != OpUpdate && op != OpDelete) {
		return "", "", "", false
	}
	return thing, name, op, true
}

// Handle serves one request published on a shadow topic and returns the
// messages to send: the accepted or rejected answer first, then for an
// accepted update its delta (if any) and documents.
func (s *Service) Handle(thing, name, op string, payload []byte) []Message {
	prefix := Prefix(thing, name) + "/" + op
	reject := func(e *Error, token string) []Message {
		return []Message{{Topic: prefix + "/rejected", Payload: Rejected(e, token, s.now().Unix()), Answer: true}}
	}
	switch op {
	case OpUpdate:
		step, token, err := s.Update(thing, name, payload)
		if err != nil {
			return reject(asError(err), token)
		}
		return updateMessages(thing, name, step)
	case OpGet, OpDelete:
		token, e := ParseToken(payload)
		if e != nil {
			return reject(e, "")
		}
		var doc []byte
		var err error
		if op == OpGet {
			var sh Shadow
			if sh, err = s.Get(thing, name); err == nil {
				doc = GetDocument(sh, token, s.now().Unix())
			}
		} else {
			doc, err = s.Delete(thing, name, token)
		}
		if err != nil {
			return reject(asError(err), token)
		}
		return []Message{{Topic: prefix + "/accepted", Payload: doc, Answer: true}}
	}
	return reject(badRequest("Unsupported operation: "+op), "")
}

func updateMessages(thing, name string, step Step) []Message {
	prefix := Prefix(thing, name) + "/update"
	out := []Message{{Topic: prefix + "/accepted", Payload: step.Accepted, Answer: true}}
	if step.Delta != nil {
		out = append(out, Message{Topic: prefix + "/delta", Payload: step.Delta})
	}
	return append(out, Message{Topic: prefix + "/documents", Payload: step.Documents})
}

// publish tells MQTT subscribers about a change made over HTTP (or by
// another service): AWS publishes the same accepted, delta and documents
// messages whichever way a shadow changed.
func (s *Service) publish(thing, name, op string, step Step) {
	var msgs []Message
	switch op {
	case OpUpdate:
		msgs = updateMessages(thing, name, step)
	case OpDelete:
		msgs = []Message{{Topic: Prefix(thing, name) + "/delete/accepted", Payload: step.Accepted}}
	}
	s.send(msgs)
}

func (s *Service) send(msgs []Message) {
	if s.pub == nil {
		return
	}
	for _, m := range msgs {
		if err := s.pub.Publish(m.Topic, m.Payload, 0, false); err != nil {
			slog.Debug("shadow: message not published", "topic", m.Topic, "error", err)
			return
		}
	}
}
