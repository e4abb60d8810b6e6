package ota

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"

	"gopkg.in/yaml.v3"
)

// LoadSpecFile reads a YAML or JSON spec file (AWS's field names).
func LoadSpecFile(path string) (*Spec, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var s Spec
	if err := decodeStrict(path, raw, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// ParseSpec decodes a YAML or JSON spec; name is used in error messages.
func ParseSpec(name string, raw []byte) (*Spec, error) {
	var s Spec
	if err := decodeStrict(name, raw, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// DecodeError is a spec that cannot be read: where, and why.
type DecodeError struct {
	File         string
	Line, Column int // 0 when unknown
	Msg          string
}

func (e *DecodeError) Error() string {
	switch {
	case e.Line > 0 && e.Column > 0:
		return fmt.Sprintf("%s:%d:%d: %s", e.File, e.Line, e.Column, e.Msg)
	case e.Line > 0:
		return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
	}
	return e.File + ": " + e.Msg
}

// DecodeErrors are every problem found while reading one file.
type DecodeErrors []*DecodeError

func (es DecodeErrors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// decodeStrict decodes YAML or JSON into v, reporting syntax errors, unknown
// fields and wrong types with their line and column. JSON syntax is checked
// by encoding/json (which knows the offset); structure by walking the YAML
// node tree (JSON is YAML), which knows where every key and value is.
func decodeStrict(name string, raw []byte, v any) error {
	if looksLikeJSON(raw) {
		var any json.RawMessage
		if err := json.Unmarshal(raw, &any); err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) {
				l, c := lineCol(raw, se.Offset-1) // Offset counts the bad byte
				return DecodeErrors{{File: name, Line: l, Column: c, Msg: "invalid JSON: " + se.Error()}}
			}
			return DecodeErrors{{File: name, Msg: "invalid JSON: " + err.Error()}}
		}
	}
	var root yaml.Node
	if err := yaml.Unmarshal(raw, &root); err != nil {
		return DecodeErrors{yamlSyntaxError(name, err)}
	}
	if root.Kind == 0 || len(root.Content) == 0 {
		return DecodeErrors{{File: name, Msg: "is empty"}}
	}
	doc := root.Content[0]
	var errs DecodeErrors
	checkNode(name, doc, reflect.TypeOf(v).Elem(), "", &errs)
	if len(errs) > 0 {
		return errs
	}
	if err := doc.Decode(v); err != nil {
		return DecodeErrors{yamlSyntaxError(name, err)}
	}
	return nil
}

func looksLikeJSON(raw []byte) bool {
	t := bytes.TrimSpace(raw)
	return len(t) > 0 && (t[0] == '{' || t[0] == '[')
}

// lineCol turns a byte offset into a 1-based line and column.
func lineCol(raw []byte, off int64) (int, int) {
	if off > int64(len(raw)) {
		off = int64(len(raw))
	}
	before := raw[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := int(off) - bytes.LastIndexByte(before, '\n')
	if col < 1 {
		col = 1
	}
	return line, col
}

// yamlSyntaxError extracts "line N" from yaml.v3's message (it gives no column).
func yamlSyntaxError(name string, err error) *DecodeError {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	var line int
	if _, scanErr := fmt.Sscanf(msg, "line %d:", &line); scanErr == nil {
		msg = strings.TrimSpace(msg[strings.IndexByte(msg, ':')+1:])
	}
	return &DecodeError{File: name, Line: line, Msg: "invalid YAML: " + msg}
}

// checkNode walks n against type t, reporting unknown fields and values of
// the wrong kind with the node's position and the field path.
func checkNode(file string, n *yaml.Node, t reflect.Type, path string, errs *DecodeErrors) {
	bad := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		if path != "" {
			msg = path + ": " + msg
		}
		*errs = append(*errs, &DecodeError{File: file, Line: n.Line, Column: n.Column, Msg: msg})
	}
	if n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	if n.Kind == yaml.ScalarNode && n.Tag == "!!null" {
		return
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			bad("expected an object")
			return
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			ft, ok := fields[k.Value]
			if !ok {
				*errs = append(*errs, &DecodeError{File: file, Line: k.Line, Column: k.Column,
					Msg: fmt.Sprintf("unknown field %q%s", join(path, k.Value), unknownFieldHint(t, path, k.Value, fields))})
				continue
			}
			checkNode(file, val, ft, join(path, k.Value), errs)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			bad("expected an object")
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			checkNode(file, n.Content[i+1], t.Elem(), join(path, n.Content[i].Value), errs)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			bad("expected a list")
			return
		}
		for i, el := range n.Content {
			checkNode(file, el, t.Elem(), index(path, i), errs)
		}
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			bad("expected a string")
		}
	case reflect.Int, reflect.Int64:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!int" {
			bad("expected a whole number, got %s", describe(n))
		}
	case reflect.Float64:
		if n.Kind != yaml.ScalarNode || (n.Tag != "!!int" && n.Tag != "!!float") {
			bad("expected a number, got %s", describe(n))
		}
	case reflect.Bool:
		if n.Kind != yaml.ScalarNode || n.Tag != "!!bool" {
			bad("expected true or false, got %s", describe(n))
		}
	}
}

func describe(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode {
		return fmt.Sprintf("%q", n.Value)
	}
	return map[yaml.Kind]string{yaml.MappingNode: "an object", yaml.SequenceNode: "a list"}[n.Kind]
}

// yamlFields maps the yaml names of t's fields (inlined structs flattened) to their types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	m := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if strings.Contains(opts, "inline") {
			for k, v := range yamlFields(f.Type) {
				m[k] = v
			}
			continue
		}
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		m[name] = f.Type
	}
	return m
}

// unknownFieldHint says what an unknown field probably meant: the other
// way in's name for it (a CreateOTAUpdate request's awsJob* fields in a
// spec, or the reverse), or the nearest field name.
func unknownFieldHint(t reflect.Type, path, name string, fields map[string]reflect.Type) string {
	if path == "" {
		switch t {
		case reflect.TypeOf(Spec{}):
			if specName, ok := requestOnly[name]; ok {
				return fmt.Sprintf(": %s is a CreateOTAUpdate request field; write %s in a spec, or pass this file with --request", name, specName)
			}
		case reflect.TypeOf(OTAUpdateRequest{}):
			for reqName, specName := range requestOnly {
				if specName == name {
					return fmt.Sprintf(": %s is a spec field; write %s in a CreateOTAUpdate request, or pass this file with -f", name, reqName)
				}
			}
		}
	}
	names := make([]string, 0, len(fields))
	for n := range fields {
		names = append(names, n)
	}
	if s := Suggest(name, names); s != "" {
		return fmt.Sprintf(": did you mean %q?", s)
	}
	return ""
}

// requestOnly maps a CreateOTAUpdate request's field to the spec's (CreateJob's) name for it.
var requestOnly = map[string]string{
	"awsJobExecutionsRolloutConfig": "jobExecutionsRolloutConfig",
	"awsJobPresignedUrlConfig":      "presignedUrlConfig",
	"awsJobAbortConfig":             "abortConfig",
	"awsJobTimeoutConfig":           "timeoutConfig",
}

// Suggest returns the candidate nearest to name (case-insensitive edit
// distance), or "" when none is near enough to be a likely typo.
func Suggest(name string, candidates []string) string {
	best, bestD := "", 0
	for _, c := range candidates {
		d := editDistance(strings.ToLower(name), strings.ToLower(c))
		if best == "" || d < bestD || d == bestD && c < best {
			best, bestD = c, d
		}
	}
	limit := 2
	if n := len(name) / 4; n > limit {
		limit = n
	}
	if best == "" || bestD > limit {
		return ""
	}
	return best
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// Position is where a field is written in a spec or request file.
type Position struct{ Line, Column int }

// FieldPositions maps every field path of a YAML or JSON document
// (files[0].codeSigning, timeoutConfig.inProgressTimeoutInMinutes) to where
// its key (or list element) is written, so that rule errors found after
// decoding can point into the file as decoding errors do.
func FieldPositions(raw []byte) map[string]Position {
	var root yaml.Node
	if yaml.Unmarshal(raw, &root) != nil || len(root.Content) == 0 {
		return nil
	}
	pos := map[string]Position{}
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		}
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				k := n.Content[i]
				p := join(path, k.Value)
				pos[p] = Position{k.Line, k.Column}
				walk(n.Content[i+1], p)
			}
		case yaml.SequenceNode:
			for i, el := range n.Content {
				p := index(path, i)
				pos[p] = Position{el.Line, el.Column}
				walk(el, p)
			}
		}
	}
	walk(root.Content[0], "")
	return pos
}
