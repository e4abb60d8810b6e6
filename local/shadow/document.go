package shadow

import (
	"bytes"
	"encoding/json"
	"math/big"
)

// The JSON trees of a shadow: state sections (desired, reported), their
// metadata and the delta between them. Values are what encoding/json decodes
// with UseNumber: map[string]any, []any, json.Number, string, bool, nil.
// Every function here is pure; next.go composes them into the next shadow.

// object is one state section or a nested object inside it.
type object = map[string]any

// merge applies patch to target in place, as an update's desired or reported
// section changes the stored one: a null deletes the key, an object merged
// into an object recurses, anything else (arrays included) replaces.
func merge(target, patch object) {
	for k, v := range patch {
		if v == nil {
			delete(target, k)
			continue
		}
		if pv, ok := v.(object); ok {
			if tv, ok := target[k].(object); ok {
				merge(tv, pv)
				continue
			}
			target[k] = clone(pv)
			continue
		}
		target[k] = clone(v)
	}
}

// stamp updates the metadata of a section for patch: each leaf that patch
// sets gets {"timestamp": ts}; a null removes the key's metadata; an object
// merged into an object recurses; an array gets one entry per element.
func stamp(meta, target, patch object, ts int64) {
	for k, v := range patch {
		if v == nil {
			delete(meta, k)
			continue
		}
		if pv, ok := v.(object); ok {
			if _, ok := target[k].(object); ok {
				m, ok := meta[k].(object)
				if !ok {
					m = object{}
					meta[k] = m
				}
				stamp(m, target[k].(object), pv, ts)
				continue
			}
		}
		meta[k] = metaOf(v, ts)
	}
}

// metaOf is the metadata of a value written at ts. A null (in an update's
// accepted answer) is stamped like a leaf: AWS reports when it was deleted.
func metaOf(v any, ts int64) any {
	switch v := v.(type) {
	case object:
		m := object{}
		for k, x := range v {
			m[k] = metaOf(x, ts)
		}
		return m
	case []any:
		m := make([]any, len(v))
		for i, x := range v {
			m[i] = metaOf(x, ts)
		}
		return m
	}
	return object{"timestamp": ts}
}

// delta is what desired asks for that reported does not have: keys missing
// from reported, and values that differ (objects compared key by key,
// arrays and scalars as a whole). Keys only in reported are not part of it.
// nil when there is no difference.
func delta(desired, reported object) object {
	var out object
	for k, dv := range desired {
		rv, ok := reported[k]
		switch {
		case !ok:
		case isObject(dv) && isObject(rv):
			sub := delta(dv.(object), rv.(object))
			if sub == nil {
				continue
			}
			dv = sub
		case equal(dv, rv):
			continue
		}
		if out == nil {
			out = object{}
		}
		out[k] = dv
	}
	return out
}

// deltaMeta picks from the desired metadata the entries of the keys in d.
func deltaMeta(d, meta object) object {
	out := object{}
	for k, v := range d {
		if sub, ok := v.(object); ok {
			if m, ok := meta[k].(object); ok && !isLeafMeta(m) {
				out[k] = deltaMeta(sub, m)
				continue
			}
		}
		if m, ok := meta[k]; ok {
			out[k] = m
		}
	}
	return out
}

// isLeafMeta tells a leaf's {"timestamp": n} from an object's metadata whose
// only key is an attribute named "timestamp" (then it is a nested object).
func isLeafMeta(m object) bool {
	if len(m) != 1 {
		return false
	}
	_, isObj := m["timestamp"].(object)
	_, has := m["timestamp"]
	return has && !isObj
}

func isObject(v any) bool { _, ok := v.(object); return ok }

// equal compares two JSON values; numbers by value (1 equals 1.0).
func equal(a, b any) bool {
	switch a := a.(type) {
	case json.Number:
		bn, ok := b.(json.Number)
		if !ok {
			return false
		}
		if a == bn {
			return true
		}
		x, ok1 := new(big.Float).SetString(a.String())
		y, ok2 := new(big.Float).SetString(bn.String())
		return ok1 && ok2 && x.Cmp(y) == 0
	case object:
		bo, ok := b.(object)
		if !ok || len(a) != len(bo) {
			return false
		}
		for k, v := range a {
			w, ok := bo[k]
			if !ok || !equal(v, w) {
				return false
			}
		}
		return true
	case []any:
		ba, ok := b.([]any)
		if !ok || len(a) != len(ba) {
			return false
		}
		for i := range a {
			if !equal(a[i], ba[i]) {
				return false
			}
		}
		return true
	}
	return a == b
}

// depth counts the nesting levels of a value: 0 for a scalar, 1 for an
// object or array of scalars, and so on.
func depth(v any) int {
	n := 0
	switch v := v.(type) {
	case object:
		for _, x := range v {
			n = max(n, depth(x))
		}
	case []any:
		for _, x := range v {
			n = max(n, depth(x))
		}
	default:
		return 0
	}
	return n + 1
}

// clone copies a JSON tree, so that a stored shadow never shares maps with
// a request or an answer.
func clone(v any) any {
	switch v := v.(type) {
	case object:
		m := make(object, len(v))
		for k, x := range v {
			m[k] = clone(x)
		}
		return m
	case []any:
		a := make([]any, len(v))
		for i, x := range v {
			a[i] = clone(x)
		}
		return a
	}
	return v
}

func cloneObject(o object) object {
	if o == nil {
		return nil
	}
	return clone(o).(object)
}

// decode parses JSON keeping numbers as written (json.Number).
func decode(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errTrailing
	}
	return nil
}

// encode writes JSON as AWS does: characters as they are (no \u0026).
func encode(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(err) // only JSON trees and plain structs are encoded here
	}
	return bytes.TrimRight(b.Bytes(), "\n")
}
