package shadow

import (
	"encoding/json"
	"strconv"
	"unicode/utf8"
)

// The next shadow is one pure step: Next takes the stored shadow (or none)
// and an update request's payload and returns the next shadow with the
// documents AWS sends about it, or the error AWS rejects the request with.
// Nothing here reads a clock or a store.

// Limits (developer guide: "Device Shadow error messages", "Diagnosing
// problems with shadows"; API model iot-data-2015-05-28).
const (
	// MaxStateBytes bounds a shadow's desired and reported sections (the
	// stored JSON, metadata not counted): "The device's shadow supports 8 KB".
	MaxStateBytes = 8 * 1024
	// MaxDepth bounds the nesting inside desired or reported: "JSON contains
	// too many levels of nesting; maximum is 6".
	MaxDepth = 6
	// MaxClientToken: "A client token that is longer than 64 bytes will cause
	// this response" (Invalid clientToken).
	MaxClientToken = 64
	// MaxPayload bounds what is read of a request: AWS IoT's message size.
	MaxPayload = 128 * 1024
)

// Shadow is a stored shadow document.
type Shadow struct {
	Desired      object `json:"desired,omitempty"`
	Reported     object `json:"reported,omitempty"`
	MetaDesired  object `json:"metaDesired,omitempty"`
	MetaReported object `json:"metaReported,omitempty"`
	Version      int64  `json:"version"`
	Timestamp    int64  `json:"timestamp"` // last update, epoch seconds
}

// Request is a parsed update request document.
type Request struct {
	// Desired and Reported are the sections as sent; nil when absent.
	// A section sent as null deletes the stored one (DesiredNull...).
	Desired, Reported         object
	DesiredNull, ReportedNull bool
	ClientToken               string
	Version                   *int64 // the version the update expects
	// state is the request's state node as sent, echoed by update/accepted.
	state any
}

// Step is the outcome of an accepted update.
type Step struct {
	Next Shadow
	// Accepted is the update/accepted document: the request's state, the
	// metadata of what it set, the new version.
	Accepted []byte
	// Delta is the update/delta document, nil when desired and reported
	// agree.
	Delta []byte
	// Documents is the update/documents document: previous and current.
	Documents []byte
}

// ParseUpdate checks an update request document as the Device Shadow
// service does, in the order of its error table.
func ParseUpdate(payload []byte) (Request, *Error) {
	var req Request
	if len(payload) > MaxPayload {
		return req, tooLarge()
	}
	if !utf8.Valid(payload) {
		return req, badEncoding()
	}
	var doc map[string]json.RawMessage
	if err := decode(payload, &doc); err != nil || doc == nil {
		return req, badRequest(msgInvalidJSON)
	}
	if raw, ok := doc["clientToken"]; ok {
		if err := json.Unmarshal(raw, &req.ClientToken); err != nil || len(req.ClientToken) > MaxClientToken {
			return req, badRequest(msgInvalidToken)
		}
	}
	if raw, ok := doc["version"]; ok {
		v, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil || v < 0 {
			return req, badRequest(msgInvalidVersion)
		}
		req.Version = &v
	}
	raw, ok := doc["state"]
	if !ok {
		return req, badRequest(msgMissingState)
	}
	if err := decode(raw, &req.state); err != nil {
		return req, badRequest(msgInvalidJSON)
	}
	if req.state == nil { // "state": null clears both sections
		req.DesiredNull, req.ReportedNull = true, true
		return req, nil
	}
	state, ok := req.state.(object)
	if !ok {
		return req, badRequest(msgStateObject)
	}
	for k, v := range state {
		var sec *object
		var null *bool
		msg := msgDesiredObject
		switch k {
		case "desired":
			sec, null = &req.Desired, &req.DesiredNull
		case "reported":
			sec, null, msg = &req.Reported, &req.ReportedNull, msgReportedObject
		default:
			return req, badRequest(msgInvalidNode)
		}
		if v == nil {
			*null = true
			continue
		}
		o, ok := v.(object)
		if !ok {
			return req, badRequest(msg)
		}
		if depth(o) > MaxDepth {
			return req, badRequest(msgTooDeep)
		}
		*sec = o
	}
	return req, nil
}

// ParseToken reads the clientToken of a get or delete request (its payload
// may be empty); an unreadable payload is Invalid JSON.
func ParseToken(payload []byte) (string, *Error) {
	if len(payload) == 0 {
		return "", nil
	}
	var doc struct {
		ClientToken json.RawMessage `json:"clientToken"`
	}
	if err := decode(payload, &doc); err != nil {
		return "", badRequest(msgInvalidJSON)
	}
	var tok string
	if doc.ClientToken != nil {
		if err := json.Unmarshal(doc.ClientToken, &tok); err != nil || len(tok) > MaxClientToken {
			return "", badRequest(msgInvalidToken)
		}
	}
	return tok, nil
}

// Next applies req to prev (nil: the shadow does not exist; its version is
// then base, the version a deleted shadow of that name had) at now (epoch
// seconds).
func Next(prev *Shadow, base int64, req Request, now int64) (Step, *Error) {
	cur := Shadow{Version: base}
	if prev != nil {
		cur = *prev
	}
	if req.Version != nil && *req.Version != cur.Version {
		return Step{}, conflict()
	}
	next := Shadow{
		Desired: cloneObject(cur.Desired), Reported: cloneObject(cur.Reported),
		MetaDesired: cloneObject(cur.MetaDesired), MetaReported: cloneObject(cur.MetaReported),
		Version: cur.Version + 1, Timestamp: now,
	}
	next.Desired, next.MetaDesired = apply(next.Desired, next.MetaDesired, req.Desired, req.DesiredNull, now)
	next.Reported, next.MetaReported = apply(next.Reported, next.MetaReported, req.Reported, req.ReportedNull, now)
	if stateSize(next) > MaxStateBytes {
		return Step{}, tooLarge()
	}
	st := Step{Next: next}
	st.Accepted = encode(acceptedDoc(req, now, next.Version))
	if d := delta(next.Desired, next.Reported); d != nil {
		st.Delta = encode(deltaDoc{State: d, Metadata: deltaMeta(d, next.MetaDesired),
			Version: next.Version, Timestamp: now, ClientToken: req.ClientToken})
	}
	docs := documentsDoc{Current: snapshotOf(next), Timestamp: now, ClientToken: req.ClientToken}
	if prev != nil {
		p := snapshotOf(*prev)
		docs.Previous = &p
	}
	st.Documents = encode(docs)
	return st, nil
}

// apply changes one section (and its metadata) by an update's patch: a null
// section deletes it; an emptied section is dropped, as a shadow has a
// desired (or reported) property only while it holds a state.
func apply(sec, meta, patch object, null bool, now int64) (object, object) {
	if null {
		return nil, nil
	}
	if patch == nil {
		return sec, meta
	}
	if sec == nil {
		sec, meta = object{}, object{}
	}
	if meta == nil {
		meta = object{}
	}
	stamp(meta, sec, patch, now) // before merge: it compares with the old values
	merge(sec, patch)
	if len(sec) == 0 {
		return nil, nil
	}
	return sec, meta
}

func stateSize(s Shadow) int {
	n := 0
	if s.Desired != nil {
		n += len(encode(s.Desired))
	}
	if s.Reported != nil {
		n += len(encode(s.Reported))
	}
	return n
}

// The documents of the Device Shadow service ("Device Shadow service
// documents": response state documents).

type stateDoc struct {
	Desired  object `json:"desired,omitempty"`
	Reported object `json:"reported,omitempty"`
	Delta    object `json:"delta,omitempty"`
}

type metaDoc struct {
	Desired  object `json:"desired,omitempty"`
	Reported object `json:"reported,omitempty"`
}

// snapshot is a shadow as update/documents shows it (previous, current).
type snapshot struct {
	State    stateDoc `json:"state"`
	Metadata metaDoc  `json:"metadata"`
	Version  int64    `json:"version"`
}

type documentsDoc struct {
	Previous    *snapshot `json:"previous,omitempty"`
	Current     snapshot  `json:"current"`
	Timestamp   int64     `json:"timestamp"`
	ClientToken string    `json:"clientToken,omitempty"`
}

type deltaDoc struct {
	State       object `json:"state"`
	Metadata    object `json:"metadata"`
	Version     int64  `json:"version"`
	Timestamp   int64  `json:"timestamp"`
	ClientToken string `json:"clientToken,omitempty"`
}

// getDoc is the get/accepted document (and GetThingShadow's payload).
type getDoc struct {
	State       stateDoc `json:"state"`
	Metadata    metaDoc  `json:"metadata"`
	Version     int64    `json:"version"`
	Timestamp   int64    `json:"timestamp"`
	ClientToken string   `json:"clientToken,omitempty"`
}

// deleteDoc is the delete/accepted document.
type deleteDoc struct {
	Version     int64  `json:"version"`
	Timestamp   int64  `json:"timestamp"`
	ClientToken string `json:"clientToken,omitempty"`
}

// rejectedDoc is the error response document.
type rejectedDoc struct {
	Code        int    `json:"code"`
	Message     string `json:"message"`
	Timestamp   int64  `json:"timestamp"`
	ClientToken string `json:"clientToken,omitempty"`
}

func snapshotOf(s Shadow) snapshot {
	return snapshot{State: stateDoc{Desired: s.Desired, Reported: s.Reported},
		Metadata: metaDoc{Desired: s.MetaDesired, Reported: s.MetaReported}, Version: s.Version}
}

// GetDocument is the document a get answers with at now: state with its
// delta, metadata, version.
func GetDocument(s Shadow, clientToken string, now int64) []byte {
	doc := getDoc{State: stateDoc{Desired: s.Desired, Reported: s.Reported},
		Metadata: metaDoc{Desired: s.MetaDesired, Reported: s.MetaReported},
		Version:  s.Version, Timestamp: now, ClientToken: clientToken}
	doc.State.Delta = delta(s.Desired, s.Reported)
	return encode(doc)
}

// acceptedDoc echoes the request's state (nulls included) with the
// metadata of each key it set.
func acceptedDoc(req Request, now, version int64) any {
	type accepted struct {
		State       any    `json:"state"`
		Metadata    object `json:"metadata"`
		Version     int64  `json:"version"`
		Timestamp   int64  `json:"timestamp"`
		ClientToken string `json:"clientToken,omitempty"`
	}
	meta := object{}
	if st, ok := req.state.(object); ok {
		for k, v := range st {
			meta[k] = metaOf(v, now)
		}
	}
	return accepted{State: req.state, Metadata: meta, Version: version, Timestamp: now, ClientToken: req.ClientToken}
}

// Rejected is the rejected document of a failed request.
func Rejected(e *Error, clientToken string, now int64) []byte {
	return encode(rejectedDoc{Code: e.Status, Message: e.Message, Timestamp: now, ClientToken: clientToken})
}
