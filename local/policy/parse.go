package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unicode"
)

// ErrMalformed is what every Parse error wraps (errors.Is): the control
// plane answers it as MalformedPolicyException.
var ErrMalformed = errors.New("malformed policy document")

// Error is one broken rule of a document: Path names the element
// (`Statement[1].Effect`), Rule what is wrong with it.
type Error struct {
	Path string
	Rule string
}

func (e *Error) Error() string {
	if e.Path == "" {
		return e.Rule
	}
	return e.Path + " " + e.Rule
}

// Is makes errors.Is(err, ErrMalformed) hold for every *Error.
func (e *Error) Is(target error) bool { return target == ErrMalformed }

func malformed(path, format string, args ...any) *Error {
	return &Error{Path: path, Rule: fmt.Sprintf(format, args...)}
}

// MaxDocumentChars is AWS IoT's limit on a policy document: CreatePolicy and
// CreatePolicyVersion take "a minimum length of 1, with a maximum length of
// 2048, excluding whitespace" (IoT API reference, policyDocument).
const MaxDocumentChars = 2048

// Versions of the policy language (IAM "Version" element). Only 2012-10-17
// substitutes policy variables; under 2008-10-17 (the default when Version
// is absent) "${...}" is literal text, as in IAM.
const (
	Version2012 = "2012-10-17"
	Version2008 = "2008-10-17"
)

var (
	documentMembers  = []string{"Version", "Id", "Statement"}
	statementMembers = []string{"Sid", "Effect", "Action", "NotAction", "Resource", "NotResource", "Condition"}
)

// Parse validates a policy document as AWS IoT does (JSON, Version,
// Statement, Effect, Action, Resource, Condition, size) and returns it,
// compiled for Evaluate. The error (an *Error wrapping ErrMalformed) names
// what is wrong; the control plane answers it as MalformedPolicyException.
func Parse(text string) (*Document, error) {
	n := 0
	for _, r := range text {
		if !unicode.IsSpace(r) {
			n++
		}
	}
	if n == 0 {
		return nil, malformed("", "policy document is empty")
	}
	if n > MaxDocumentChars {
		return nil, malformed("", "policy document has %d characters excluding whitespace; the limit is %d", n, MaxDocumentChars)
	}
	top, err := object(text, "")
	if err != nil {
		return nil, err
	}
	if err := onlyMembers(top, "", documentMembers); err != nil {
		return nil, err
	}
	doc := &Document{}
	if raw, ok := top["Version"]; ok {
		v, err := str(raw, "Version")
		if err != nil {
			return nil, err
		}
		if v != Version2012 && v != Version2008 {
			return nil, malformed("Version", "must be %q or %q, got %q", Version2012, Version2008, v)
		}
		doc.Version = v
	}
	if raw, ok := top["Id"]; ok {
		if _, err := str(raw, "Id"); err != nil {
			return nil, err
		}
	}
	raw, ok := top["Statement"]
	if !ok {
		return nil, malformed("", "policy document has no Statement")
	}
	var stmts []json.RawMessage
	switch firstByte(raw) {
	case '{':
		stmts = []json.RawMessage{raw}
	case '[':
		if err := json.Unmarshal(raw, &stmts); err != nil {
			return nil, malformed("Statement", "must be an object or a list of objects")
		}
		if len(stmts) == 0 {
			return nil, malformed("Statement", "must contain at least one statement")
		}
	default:
		return nil, malformed("Statement", "must be an object or a list of objects, got %s", kind(raw))
	}
	for i, s := range stmts {
		path := fmt.Sprintf("Statement[%d]", i)
		if len(stmts) == 1 && firstByte(raw) == '{' {
			path = "Statement"
		}
		st, err := parseStatement(s, path)
		if err != nil {
			return nil, err
		}
		doc.Statements = append(doc.Statements, st)
	}
	c, err := compile(doc)
	if err != nil {
		return nil, err
	}
	doc.compiled = c
	return doc, nil
}

func parseStatement(raw json.RawMessage, path string) (Statement, error) {
	var st Statement
	m, err := object(string(raw), path)
	if err != nil {
		return st, err
	}
	if err := onlyMembers(m, path, statementMembers); err != nil {
		return st, err
	}
	if v, ok := m["Sid"]; ok {
		if st.Sid, err = str(v, path+".Sid"); err != nil {
			return st, err
		}
	}
	v, ok := m["Effect"]
	if !ok {
		return st, malformed(path, "has no Effect")
	}
	if st.Effect, err = str(v, path+".Effect"); err != nil {
		return st, err
	}
	if st.Effect != "Allow" && st.Effect != "Deny" {
		return st, malformed(path+".Effect", `must be "Allow" or "Deny", got %q`, st.Effect)
	}
	if st.Action, st.NotAction, err = pair(m, path, "Action", "NotAction"); err != nil {
		return st, err
	}
	for i, a := range st.Action {
		if err := checkAction(a, fmt.Sprintf("%s.Action[%d]", path, i)); err != nil {
			return st, err
		}
	}
	for i, a := range st.NotAction {
		if err := checkAction(a, fmt.Sprintf("%s.NotAction[%d]", path, i)); err != nil {
			return st, err
		}
	}
	if st.Resource, st.NotResource, err = pair(m, path, "Resource", "NotResource"); err != nil {
		return st, err
	}
	for i, r := range st.Resource {
		if err := checkResource(r, fmt.Sprintf("%s.Resource[%d]", path, i)); err != nil {
			return st, err
		}
	}
	for i, r := range st.NotResource {
		if err := checkResource(r, fmt.Sprintf("%s.NotResource[%d]", path, i)); err != nil {
			return st, err
		}
	}
	if v, ok := m["Condition"]; ok {
		if st.Condition, err = parseCondition(v, path+".Condition"); err != nil {
			return st, err
		}
	}
	return st, nil
}

// pair reads an element that has a Not form: exactly one of them is required.
func pair(m map[string]json.RawMessage, path, name, notName string) (pos, neg []string, err error) {
	a, hasA := m[name]
	b, hasB := m[notName]
	switch {
	case hasA && hasB:
		return nil, nil, malformed(path, "has both %s and %s; use one", name, notName)
	case !hasA && !hasB:
		return nil, nil, malformed(path, "has no %s (or %s)", name, notName)
	case hasA:
		pos, err = strings1(a, path+"."+name)
	default:
		neg, err = strings1(b, path+"."+notName)
	}
	return pos, neg, err
}

func checkAction(a, path string) error {
	if a == "*" {
		return nil
	}
	svc, name, ok := strings.Cut(a, ":")
	if !ok || svc == "" || name == "" || strings.Contains(name, ":") {
		return malformed(path, "must be \"*\" or service:action, got %q", a)
	}
	svc = strings.ToLower(svc)
	if !services[svc] {
		return malformed(path, "names service %q, which an IoT policy cannot grant (iot, iotjobsdata, greengrass)", svc)
	}
	if svc == "greengrass" || strings.ContainsAny(name, "*?") {
		return nil
	}
	if !knownActions[strings.ToLower(a)] {
		return malformed(path, "%q is not an action of %s", a, svc)
	}
	return nil
}

func checkResource(r, path string) error {
	if r == "*" {
		return nil
	}
	// arn:partition:service:region:account:resource — six parts.
	if !strings.HasPrefix(r, "arn:") || strings.Count(r, ":") < 5 {
		return malformed(path, "must be \"*\" or an ARN (arn:aws:iot:region:account:type/name), got %q", r)
	}
	return nil
}

// object decodes text as one JSON object, keeping the raw members, and
// refuses duplicated member names (AWS would keep only one of them; a
// reviewer would see the other).
func object(text, path string) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(strings.NewReader(text))
	var m map[string]json.RawMessage
	if err := dec.Decode(&m); err != nil || m == nil {
		where := path
		if where == "" {
			return nil, malformed("", "policy document is not a JSON object: %s", jsonProblem(err, text))
		}
		return nil, malformed(where, "must be a JSON object")
	}
	if _, err := dec.Token(); err == nil {
		return nil, malformed(path, "has text after the JSON object")
	}
	if err := noDuplicates(text, path); err != nil {
		return nil, err
	}
	return m, nil
}

func jsonProblem(err error, text string) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s at offset %d", se.Error(), se.Offset)
	}
	if err == nil {
		return "got null"
	}
	if t := strings.TrimSpace(text); t != "" && t[0] != '{' {
		return "got " + kind(json.RawMessage(t))
	}
	return err.Error()
}

// noDuplicates walks the top level of one object and refuses a repeated key.
func noDuplicates(text, path string) error {
	dec := json.NewDecoder(strings.NewReader(text))
	if _, err := dec.Token(); err != nil { // {
		return nil
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil
		}
		k, _ := t.(string)
		if seen[k] {
			p := k
			if path != "" {
				p = path + "." + k
			}
			return malformed(p, "appears twice")
		}
		seen[k] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil
		}
	}
	return nil
}

func onlyMembers(m map[string]json.RawMessage, path string, allowed []string) error {
	var unknown []string
	for k := range m {
		ok := false
		for _, a := range allowed {
			if k == a {
				ok = true
				break
			}
		}
		if !ok {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) == 0 {
		return nil
	}
	sort.Strings(unknown)
	where := "policy document"
	if path != "" {
		where = path
	}
	return malformed("", "%s has unknown member %q (allowed: %s)", where, unknown[0], strings.Join(allowed, ", "))
}

func firstByte(raw json.RawMessage) byte {
	t := bytes.TrimSpace(raw)
	if len(t) == 0 {
		return 0
	}
	return t[0]
}

func kind(raw json.RawMessage) string {
	switch firstByte(raw) {
	case '{':
		return "an object"
	case '[':
		return "a list"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	default:
		return "a number"
	}
}

func str(raw json.RawMessage, path string) (string, error) {
	var s string
	if firstByte(raw) != '"' || json.Unmarshal(raw, &s) != nil {
		return "", malformed(path, "must be a string, got %s", kind(raw))
	}
	return s, nil
}

// strings1 reads a string or a non-empty list of non-empty strings.
func strings1(raw json.RawMessage, path string) ([]string, error) {
	switch firstByte(raw) {
	case '"':
		s, err := str(raw, path)
		if err != nil {
			return nil, err
		}
		if s == "" {
			return nil, malformed(path, "must not be empty")
		}
		return []string{s}, nil
	case '[':
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, malformed(path, "must be a string or a list of strings")
		}
		if len(items) == 0 {
			return nil, malformed(path, "must not be an empty list")
		}
		out := make([]string, len(items))
		for i, it := range items {
			p := fmt.Sprintf("%s[%d]", path, i)
			s, err := str(it, p)
			if err != nil {
				return nil, err
			}
			if s == "" {
				return nil, malformed(p, "must not be empty")
			}
			out[i] = s
		}
		return out, nil
	default:
		return nil, malformed(path, "must be a string or a list of strings, got %s", kind(raw))
	}
}
