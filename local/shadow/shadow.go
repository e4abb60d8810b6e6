// Package shadow is the AWS IoT Device Shadow service of otactl local:
// classic and named shadows, kept in the store, reached over the IoT data
// plane's REST-JSON wire (iot-data: GetThingShadow, UpdateThingShadow,
// DeleteThingShadow, ListNamedShadowsForThing, Publish; http.go) and over
// MQTT's reserved topics $aws/things/<thing>/shadow/[name/<name>/]get|
// update|delete (Handle, called by the broker's shadow hook; mqtt.go).
//
// The next shadow is one pure step (next.go); this file holds the store
// transactions around it and the Go API other packages call.
//
// As on AWS, a shadow does not need its thing in the registry: an update
// creates the shadow of any valid thing name (UpdateThingShadow has no
// ResourceNotFoundException; a registry-less thing name works there).
package shadow

import (
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/local/wire"
)

const (
	// tShadows holds every shadow: "<thing>/<name>" → record ("<thing>/"
	// for the classic shadow; '/' is in neither name's alphabet).
	tShadows = "shadow.documents"
	// tDeleted remembers the version of a deleted shadow, "<thing>/<name>"
	// → tombstone: a shadow created again within 48 hours continues its
	// version numbers, as AWS documents.
	tDeleted = "shadow.deleted"
)

// PackageShadowName is the reserved named shadow in which the Software
// Package Catalog records the package versions a thing runs.
const PackageShadowName = "$package"

// tombstoneTTL is how long a deleted shadow's version is remembered.
const tombstoneTTL = 48 * time.Hour

type tombstone struct {
	Version   int64 `json:"version"`
	DeletedAt int64 `json:"deletedAt"`
}

// record is a shadow as stored: the document kept as raw JSON so that
// numbers come back as written (json.Number), not as float64.
type record struct {
	Doc json.RawMessage `json:"doc"`
}

// Publisher delivers a message to the MQTT subscribers of a topic (through
// the broker, so that iot:Receive applies). Package local adapts the
// broker; while none runs, Publish answers ServiceUnavailableException and
// the documents of HTTP updates reach nobody.
type Publisher interface {
	Publish(topic string, payload []byte, qos byte, retain bool) error
}

// ErrNoPublisher is what a Publisher returns while no broker is running.
var ErrNoPublisher = errors.New("no MQTT broker is running in this otactl local (start it with its MQTT listener)")

// Deps is what the service needs from the rest of otactl local.
type Deps struct {
	Publisher Publisher // nil: as ErrNoPublisher
	Retained  Retained  // nil: no retained messages
	// Connections serves DeleteConnection; nil: 503 (no broker).
	Connections Connections
	Now         func() time.Time // nil: time.Now
}

// Service is the Device Shadow service and the iot-data HTTP wire.
type Service struct {
	st       *store.Store
	env      wire.Env
	pub      Publisher
	retained Retained
	conns    Connections
	now      func() time.Time
}

// New builds the service over st.
func New(st *store.Store, env wire.Env, deps Deps) *Service {
	s := &Service{st: st, env: env, pub: deps.Publisher, retained: deps.Retained, conns: deps.Connections, now: deps.Now}
	if s.now == nil {
		s.now = time.Now
	}
	return s
}

func key(thing, name string) string { return thing + "/" + name }

func load(tx *store.Tx, thing, name string) (*Shadow, error) {
	var rec record
	ok, err := tx.Get(tShadows, key(thing, name), &rec)
	if err != nil || !ok {
		return nil, err
	}
	var sh Shadow
	if err := decode(rec.Doc, &sh); err != nil {
		return nil, err
	}
	return &sh, nil
}

// Get returns a shadow (404 Error when there is none).
func (s *Service) Get(thing, name string) (Shadow, error) {
	if err := checkNames(thing, name); err != nil {
		return Shadow{}, err
	}
	var sh *Shadow
	err := s.st.View(func(tx *store.Tx) (err error) {
		sh, err = load(tx, thing, name)
		return err
	})
	if err != nil {
		return Shadow{}, internal(err)
	}
	if sh == nil {
		return Shadow{}, noShadow(thing, name)
	}
	return *sh, nil
}

// Update applies an update request document (UpdateThingShadow's payload,
// the update topic's message) in one transaction and returns what AWS
// sends about it. Errors are *Error.
func (s *Service) Update(thing, name string, payload []byte) (Step, string, error) {
	if err := checkNames(thing, name); err != nil {
		return Step{}, "", err
	}
	req, e := ParseUpdate(payload)
	if e != nil {
		return Step{}, req.ClientToken, e
	}
	now := s.now()
	var step Step
	err := s.st.Update(func(tx *store.Tx) error {
		prev, err := load(tx, thing, name)
		if err != nil {
			return err
		}
		var base int64
		if prev == nil {
			var t tombstone
			if ok, err := tx.Get(tDeleted, key(thing, name), &t); err != nil {
				return err
			} else if ok && now.Sub(time.Unix(t.DeletedAt, 0)) < tombstoneTTL {
				base = t.Version
			}
		}
		var e *Error
		if step, e = Next(prev, base, req, now.Unix()); e != nil {
			return e
		}
		if err := tx.Delete(tDeleted, key(thing, name)); err != nil {
			return err
		}
		return tx.Put(tShadows, key(thing, name), record{Doc: encode(step.Next)})
	})
	if err != nil {
		return Step{}, req.ClientToken, asError(err)
	}
	return step, req.ClientToken, nil
}

// Delete removes a shadow and returns the delete/accepted document.
func (s *Service) Delete(thing, name, clientToken string) ([]byte, error) {
	if err := checkNames(thing, name); err != nil {
		return nil, err
	}
	now := s.now().Unix()
	var version int64
	err := s.st.Update(func(tx *store.Tx) error {
		prev, err := load(tx, thing, name)
		if err != nil {
			return err
		}
		if prev == nil {
			return noShadow(thing, name)
		}
		version = prev.Version
		if err := tx.Put(tDeleted, key(thing, name), tombstone{Version: version, DeletedAt: now}); err != nil {
			return err
		}
		return tx.Delete(tShadows, key(thing, name))
	})
	if err != nil {
		return nil, asError(err)
	}
	return encode(deleteDoc{Version: version, Timestamp: now, ClientToken: clientToken}), nil
}

// ListNamed returns the names of a thing's named shadows in name order,
// at most limit, starting after the name after (paging).
func (s *Service) ListNamed(thing, after string, limit int) (names []string, more bool, err error) {
	if err := checkNames(thing, ""); err != nil {
		return nil, false, err
	}
	prefix := key(thing, "")
	err = s.st.List(tShadows, prefix, func(k string, _ []byte) error {
		name := strings.TrimPrefix(k, prefix)
		if name == "" || (after != "" && name <= after) {
			return nil
		}
		if len(names) == limit {
			more = true
			return store.ErrStop
		}
		names = append(names, name)
		return nil
	})
	if err != nil {
		return nil, false, internal(err)
	}
	return names, more, nil
}

// ReportedState returns the reported section of a shadow (nil when the
// shadow or the section does not exist), as plain Go JSON values with
// json.Number numbers.
func (s *Service) ReportedState(thing, name string) (map[string]any, error) {
	sh, err := s.Get(thing, name)
	var e *Error
	if errors.As(err, &e) && e.Status == 404 {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return sh.Reported, nil
}

// UpdateReported merges reported into a shadow's reported section (a nil
// value deletes a key), as a device's update would, and tells MQTT
// subscribers. It is how other services of otactl local write a shadow
// (the job engine's $package versions).
func (s *Service) UpdateReported(thing, name string, reported map[string]any) error {
	payload := encode(map[string]any{"state": map[string]any{"reported": reported}})
	step, _, err := s.Update(thing, name, payload)
	if err != nil {
		return err
	}
	s.publish(thing, name, "update", step)
	return nil
}

// checkNames applies the API model's rules: thingName 1–128 of
// [a-zA-Z0-9:_-], shadowName 1–64 of [$a-zA-Z0-9:_-] ("" is the classic
// shadow).
func checkNames(thing, name string) *Error {
	if !validName(thing, 128, false) {
		return badRequest("Invalid thing name: must be 1 to 128 characters of a-z, A-Z, 0-9, ':', '_' or '-'")
	}
	if name != "" && !validName(name, 64, true) {
		return badRequest("Invalid shadow name: must be 1 to 64 characters of a-z, A-Z, 0-9, '$', ':', '_' or '-'")
	}
	return nil
}

func validName(s string, max int, dollar bool) bool {
	if s == "" || len(s) > max {
		return false
	}
	for _, c := range s {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == ':', c == '_', c == '-':
		case c == '$' && dollar:
		default:
			return false
		}
	}
	return true
}
