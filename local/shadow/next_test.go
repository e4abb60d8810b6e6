package shadow

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// TestNext: the pure step, request by request, against what the Device
// Shadow developer guide says each one does.
func TestNext(t *testing.T) {
	const now = 1700000000
	ts := float64(now)
	leaf := map[string]any{"timestamp": ts}
	prev := `{"desired":{"color":"red","lights":{"on":true,"level":3}},"reported":{"color":"green","lights":{"on":true,"level":3}},` +
		`"metaDesired":{"color":{"timestamp":1},"lights":{"on":{"timestamp":1},"level":{"timestamp":1}}},` +
		`"metaReported":{"color":{"timestamp":1},"lights":{"on":{"timestamp":1},"level":{"timestamp":1}}},"version":7,"timestamp":1}`
	deep := `{"a":{"b":{"c":{"d":{"e":{"f":1}}}}}}`
	tests := []struct {
		name    string
		prev    string // stored shadow; "" none
		base    int64
		payload string
		status  int    // expected error status; 0 accepted
		message string // expected error message
		// expectations on the accepted step (JSON, compared as values)
		desired, reported, delta string // "null": absent
		version                  int64
		check                    func(t *testing.T, st Step)
	}{
		{name: "first update creates version 1 with a delta", payload: `{"state":{"desired":{"color":"red"}},"clientToken":"t1"}`,
			desired: `{"color":"red"}`, reported: `null`, delta: `{"color":"red"}`, version: 1,
			check: func(t *testing.T, st Step) {
				var acc map[string]any
				json.Unmarshal(st.Accepted, &acc)
				want := map[string]any{"state": map[string]any{"desired": map[string]any{"color": "red"}},
					"metadata": map[string]any{"desired": map[string]any{"color": leaf}}, "version": 1.0, "timestamp": ts, "clientToken": "t1"}
				if !reflect.DeepEqual(acc, want) {
					t.Errorf("accepted %s", st.Accepted)
				}
				var d map[string]any
				json.Unmarshal(st.Delta, &d)
				if d["clientToken"] != "t1" || !reflect.DeepEqual(d["metadata"], map[string]any{"color": leaf}) {
					t.Errorf("delta %s", st.Delta)
				}
				if strings.Contains(string(st.Documents), `"previous"`) {
					t.Errorf("documents of a new shadow name a previous one: %s", st.Documents)
				}
			}},
		{name: "reported merges, leaves desired, delta keeps only differences", prev: prev, payload: `{"state":{"reported":{"lights":{"level":5}}}}`,
			desired: `{"color":"red","lights":{"on":true,"level":3}}`, reported: `{"color":"green","lights":{"on":true,"level":5}}`,
			delta: `{"color":"red","lights":{"level":3}}`, version: 8,
			check: func(t *testing.T, st Step) {
				if got := st.Next.MetaReported["lights"].(object)["level"]; !reflect.DeepEqual(got, object{"timestamp": int64(now)}) {
					t.Errorf("level metadata %v", got)
				}
				if got := st.Next.MetaReported["color"]; !reflect.DeepEqual(got, map[string]any{"timestamp": float64(1)}) && !reflect.DeepEqual(got, map[string]any{"timestamp": json.Number("1")}) {
					t.Errorf("untouched metadata changed: %#v", got)
				}
				if !strings.Contains(string(st.Documents), `"previous":{"state":{"desired":{"color":"red"`) {
					t.Errorf("documents: %s", st.Documents)
				}
			}},
		{name: "reporting the desired values clears the delta", prev: prev, payload: `{"state":{"reported":{"color":"red"}}}`,
			reported: `{"color":"red","lights":{"on":true,"level":3}}`, delta: `null`, version: 8},
		{name: "null deletes a key and its metadata", prev: prev, payload: `{"state":{"desired":{"color":null}}}`,
			desired: `{"lights":{"on":true,"level":3}}`, delta: `null`, version: 8,
			check: func(t *testing.T, st Step) {
				if _, ok := st.Next.MetaDesired["color"]; ok {
					t.Error("metadata of a deleted key kept")
				}
				if !strings.Contains(string(st.Accepted), `"state":{"desired":{"color":null}}`) {
					t.Errorf("accepted does not echo the null: %s", st.Accepted)
				}
			}},
		{name: "desired null removes the section", prev: prev, payload: `{"state":{"desired":null}}`,
			desired: `null`, reported: `{"color":"green","lights":{"on":true,"level":3}}`, delta: `null`, version: 8},
		{name: "state null removes both sections", prev: prev, payload: `{"state":null}`,
			desired: `null`, reported: `null`, delta: `null`, version: 8},
		{name: "deleting the last key drops the section", prev: `{"reported":{"a":1},"version":2}`, payload: `{"state":{"reported":{"a":null}}}`,
			reported: `null`, version: 3},
		{name: "matching version is accepted", prev: prev, payload: `{"state":{"reported":{"x":1}},"version":7}`, version: 8},
		{name: "stale version is a conflict", prev: prev, payload: `{"state":{"reported":{"x":1}},"version":6}`, status: 409, message: "Version conflict"},
		{name: "a new shadow follows a deleted one's version", base: 4, payload: `{"state":{"reported":{"x":1}}}`, version: 5},
		{name: "a new shadow expecting another version conflicts", base: 4, payload: `{"state":{"reported":{"x":1}},"version":0}`, status: 409, message: "Version conflict"},
		{name: "arrays replace as a whole, metadata per element", prev: `{"reported":{"a":[1,2,3]},"version":1}`, payload: `{"state":{"reported":{"a":[4,5]}}}`,
			reported: `{"a":[4,5]}`, version: 2,
			check: func(t *testing.T, st Step) {
				if got := st.Next.MetaReported["a"]; !reflect.DeepEqual(got, []any{object{"timestamp": int64(now)}, object{"timestamp": int64(now)}}) {
					t.Errorf("array metadata %#v", got)
				}
			}},
		{name: "numbers compare by value", prev: `{"reported":{"t":1.0},"version":1}`, payload: `{"state":{"desired":{"t":1}}}`,
			desired: `{"t":1}`, delta: `null`, version: 2},
		{name: "a scalar replaced by an object", prev: `{"desired":{"a":1},"metaDesired":{"a":{"timestamp":1}},"version":1}`, payload: `{"state":{"desired":{"a":{"b":2}}}}`,
			desired: `{"a":{"b":2}}`, version: 2,
			check: func(t *testing.T, st Step) {
				if got := st.Next.MetaDesired["a"]; !reflect.DeepEqual(got, object{"b": object{"timestamp": int64(now)}}) {
					t.Errorf("metadata %#v", got)
				}
			}},
		{name: "six levels are allowed", payload: `{"state":{"reported":` + deep + `}}`, version: 1},
		{name: "seven levels are too many", payload: `{"state":{"reported":{"x":` + deep + `}}}`, status: 400, message: "JSON contains too many levels of nesting; maximum is 6"},
		{name: "malformed JSON", payload: `{"state":{"reported":`, status: 400, message: "Invalid JSON"},
		{name: "not an object", payload: `[1]`, status: 400, message: "Invalid JSON"},
		{name: "two documents", payload: `{"state":{}} {}`, status: 400, message: "Invalid JSON"},
		{name: "missing state", payload: `{"desired":{"a":1}}`, status: 400, message: "Missing required node: state"},
		{name: "state not an object", payload: `{"state":"on"}`, status: 400, message: "State node must be an object"},
		{name: "unknown state node", payload: `{"state":{"delta":{"a":1}}}`, status: 400, message: "State contains an invalid node"},
		{name: "desired not an object", payload: `{"state":{"desired":[1]}}`, status: 400, message: "Desired node must be an object"},
		{name: "reported not an object", payload: `{"state":{"reported":3}}`, status: 400, message: "Reported node must be an object"},
		{name: "version not an integer", payload: `{"state":{},"version":"7"}`, status: 400, message: "Invalid version"},
		{name: "negative version", payload: `{"state":{},"version":-1}`, status: 400, message: "Invalid version"},
		{name: "client token over 64 bytes", payload: `{"state":{},"clientToken":"` + strings.Repeat("x", 65) + `"}`, status: 400, message: "Invalid clientToken"},
		{name: "client token not a string", payload: `{"state":{},"clientToken":5}`, status: 400, message: "Invalid clientToken"},
		{name: "state over 8 KB", payload: `{"state":{"reported":{"blob":"` + strings.Repeat("x", MaxStateBytes) + `"}}}`, status: 413, message: "The payload exceeds the maximum size allowed"},
		{name: "what is stored counts, not the request", prev: `{"desired":{"a":"` + strings.Repeat("x", 5000) + `"},"version":1}`,
			payload: `{"state":{"reported":{"b":"` + strings.Repeat("y", 4000) + `"}}}`, status: 413, message: "The payload exceeds the maximum size allowed"},
		{name: "not UTF-8", payload: "{\"state\":{\"reported\":{\"a\":\"\xff\"}}}", status: 415, message: "Unsupported documented encoding; supported encoding is UTF-8"},
		{name: "fields outside state are ignored", payload: `{"state":{"reported":{"a":1}},"metadata":{"x":1},"other":true}`, reported: `{"a":1}`, version: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var p *Shadow
			if tc.prev != "" {
				p = new(Shadow)
				if err := decode([]byte(tc.prev), p); err != nil {
					t.Fatal(err)
				}
			}
			var st Step
			req, e := ParseUpdate([]byte(tc.payload))
			if e == nil {
				st, e = Next(p, tc.base, req, now)
			}
			if tc.status != 0 {
				if e == nil || e.Status != tc.status || e.Message != tc.message {
					t.Fatalf("got %v, want %d %q", e, tc.status, tc.message)
				}
				return
			}
			if e != nil {
				t.Fatalf("rejected: %v", e)
			}
			if st.Next.Version != tc.version || st.Next.Timestamp != now {
				t.Errorf("version %d timestamp %d, want %d", st.Next.Version, st.Next.Timestamp, tc.version)
			}
			sameJSON(t, "desired", st.Next.Desired, tc.desired)
			sameJSON(t, "reported", st.Next.Reported, tc.reported)
			var d struct {
				State object `json:"state"`
			}
			if st.Delta != nil {
				json.Unmarshal(st.Delta, &d)
			}
			sameJSON(t, "delta", d.State, tc.delta)
			if tc.check != nil {
				tc.check(t, st)
			}
		})
	}
}

// sameJSON compares a section with its expected JSON ("" skips, "null":
// absent).
func sameJSON(t *testing.T, what string, got object, want string) {
	t.Helper()
	if want == "" {
		return
	}
	var w, g any
	json.Unmarshal([]byte(want), &w)
	json.Unmarshal(encode(got), &g)
	if got == nil {
		g = nil
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("%s = %s, want %s", what, encode(got), want)
	}
}

// TestNextLeavesPreviousAlone: the step never writes into the stored shadow
// it was given (a failed commit must leave nothing changed).
func TestNextLeavesPreviousAlone(t *testing.T) {
	var p Shadow
	decode([]byte(`{"desired":{"a":{"b":1}},"metaDesired":{"a":{"b":{"timestamp":1}}},"version":1}`), &p)
	before := string(encode(p))
	req, _ := ParseUpdate([]byte(`{"state":{"desired":{"a":{"b":2,"c":3}}}}`))
	if _, e := Next(&p, 0, req, 5); e != nil {
		t.Fatal(e)
	}
	if after := string(encode(p)); after != before {
		t.Fatalf("previous shadow changed:\n%s\n%s", before, after)
	}
}

func TestParseTopic(t *testing.T) {
	for topic, want := range map[string][3]string{
		"$aws/things/dev-1/shadow/update":                   {"dev-1", "", "update"},
		"$aws/things/dev-1/shadow/get":                      {"dev-1", "", "get"},
		"$aws/things/dev-1/shadow/name/cfg/delete":          {"dev-1", "cfg", "delete"},
		"$aws/things/dev-1/shadow/name/$package/get":        {"dev-1", "$package", "get"},
		"$aws/things/dev-1/shadow/update/accepted":          {},
		"$aws/things/dev-1/shadow/name/cfg/update/delta":    {},
		"$aws/things/dev-1/shadow/name//update":             {},
		"$aws/things/dev-1/jobs/get":                        {},
		"$aws/things//shadow/get":                           {},
		"things/dev-1/shadow/get":                           {},
		"$aws/things/dev-1/shadow/list":                     {},
		"$aws/things/dev-1/shadow/name/cfg/extra/update":    {},
		"$aws/things/dev-1/shadow/name/cfg/update/rejected": {},
	} {
		th, n, op, ok := ParseTopic(topic)
		if got := [3]string{th, n, op}; got != want || ok != (want[0] != "") {
			t.Errorf("%s: %v %v", topic, got, ok)
		}
	}
}
