package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
)

// A JSON shape is the documented form of a command's --output json: every
// value replaced by its type ("string", "number", "boolean", or "any" where
// it depends on what the member describes), every list by
// the union of its elements' shapes, members that only some elements have
// marked with a trailing "?", and the user-data maps (statuses, package
// names as keys) by one "*" member. The shapes in shapes/ are what
// `otactl help output` prints, and what the tests compare each command's
// output with, so the documentation cannot drift from the output.

// anyKeys hold values whose type depends on what they describe (a
// change's current and desired values, an AWS call's input): "any".
var anyKeys = map[string]bool{"current": true, "desired": true, "input": true}

// shapeOf derives the shape of JSON text.
func shapeOf(raw []byte) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := decodeOrdered(dec)
	if err != nil {
		return nil, err
	}
	return shape(v, false), nil
}

func shape(v any, opaque bool) any {
	switch t := v.(type) {
	case jsonObject:
		if opaque {
			var merged any
			for _, m := range t {
				merged = mergeShapes(merged, shape(m.val, false))
			}
			if merged == nil {
				return jsonObject{}
			}
			return jsonObject{{"*", merged}}
		}
		out := jsonObject{}
		for _, m := range t {
			if anyKeys[m.key] {
				out = append(out, jsonMember{m.key, "any"})
				continue
			}
			out = append(out, jsonMember{m.key, shape(m.val, opaqueKeys[m.key])})
		}
		return out
	case []any:
		var merged any
		for _, el := range t {
			merged = mergeShapes(merged, shape(el, false))
		}
		if merged == nil {
			return []any{}
		}
		return []any{merged}
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "boolean"
	}
	return "null"
}

// mergeShapes is the union of two shapes of list elements.
func mergeShapes(a, b any) any {
	if a == nil {
		return b
	}
	ao, aok := a.(jsonObject)
	bo, bok := b.(jsonObject)
	if aok && bok {
		has := func(o jsonObject, k string) (any, bool) {
			for _, m := range o {
				if strings.TrimSuffix(m.key, "?") == k {
					return m.val, true
				}
			}
			return nil, false
		}
		out := jsonObject{}
		for _, m := range ao {
			k := strings.TrimSuffix(m.key, "?")
			if bv, ok := has(bo, k); ok {
				out = append(out, jsonMember{m.key, mergeShapes(m.val, bv)})
			} else {
				out = append(out, jsonMember{k + "?", m.val})
			}
		}
		for _, m := range bo {
			k := strings.TrimSuffix(m.key, "?")
			if _, ok := has(ao, k); !ok {
				out = append(out, jsonMember{k + "?", m.val})
			}
		}
		return out
	}
	al, alok := a.([]any)
	bl, blok := b.([]any)
	if alok && blok {
		switch {
		case len(al) == 0:
			return bl
		case len(bl) == 0:
			return al
		}
		return []any{mergeShapes(al[0], bl[0])}
	}
	return a
}

// shapeText prints a shape as indented JSON.
func shapeText(s any) string {
	var b bytes.Buffer
	encodeOrdered(&b, s, "")
	return b.String() + "\n"
}

// shapeDiff lists where got differs from want: a member missing or extra,
// a type changed. An empty list in either matches any list, and a member
// marked "?" may be missing.
func shapeDiff(path string, want, got any) []string {
	if want == "any" {
		return nil
	}
	switch w := want.(type) {
	case jsonObject:
		g, ok := got.(jsonObject)
		if !ok {
			return []string{fmt.Sprintf("%s: want an object, got %s", orRoot(path), shapeText(got))}
		}
		var diffs []string
		gm := map[string]any{}
		for _, m := range g {
			gm[strings.TrimSuffix(m.key, "?")] = m.val
		}
		wm := map[string]bool{}
		for _, m := range w {
			k := strings.TrimSuffix(m.key, "?")
			wm[k] = true
			gv, ok := gm[k]
			if !ok {
				if !strings.HasSuffix(m.key, "?") {
					diffs = append(diffs, fmt.Sprintf("%s: missing", join(path, k)))
				}
				continue
			}
			diffs = append(diffs, shapeDiff(join(path, k), m.val, gv)...)
		}
		var extra []string
		for k := range gm {
			if !wm[k] {
				extra = append(extra, k)
			}
		}
		sort.Strings(extra)
		for _, k := range extra {
			diffs = append(diffs, fmt.Sprintf("%s: not in the documented shape", join(path, k)))
		}
		return diffs
	case []any:
		g, ok := got.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: want a list", orRoot(path))}
		}
		if len(w) == 0 || len(g) == 0 {
			return nil
		}
		return shapeDiff(path+"[]", w[0], g[0])
	}
	if want != got {
		return []string{fmt.Sprintf("%s: want %v, got %v", orRoot(path), want, got)}
	}
	return nil
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func orRoot(p string) string {
	if p == "" {
		return "(top level)"
	}
	return p
}
