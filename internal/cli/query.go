package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/jmespath/go-jmespath"
)

// --query EXPR: a JMESPath expression applied to the JSON document the
// command prints with -o json, as the AWS CLI's --query is applied to the
// response it would print. The library is the one the AWS SDK for Go v1
// uses; what it does not give (the key order of objects, errors a user can
// act on) is added here.

// query is a compiled --query with what its result needs to be printed in
// a stable order.
type query struct {
	expr string
	jp   *jmespath.JMESPath
	// hashes are the key lists of the expression's multi-select hashes
	// ({id: otaUpdateId, status: status}), in the order written: a result
	// object with exactly those keys is printed in that order.
	hashes [][]string
}

// jmespathFunctions are the functions of the JMESPath specification, which
// go-jmespath implements; an unknown name is found before the command acts
// (the library only finds it when it evaluates the call).
var jmespathFunctions = map[string]bool{
	"abs": true, "avg": true, "ceil": true, "contains": true, "ends_with": true, "floor": true,
	"join": true, "keys": true, "length": true, "map": true, "max": true, "max_by": true,
	"merge": true, "min": true, "min_by": true, "not_null": true, "reverse": true, "sort": true,
	"sort_by": true, "starts_with": true, "sum": true, "to_array": true, "to_number": true,
	"to_string": true, "type": true, "values": true,
}

// compileQuery parses a --query expression. Its errors are input errors
// that name the flag, the rule and the column, with the expression and a
// caret under the fault.
func compileQuery(expr string) (*query, error) {
	if strings.TrimSpace(expr) == "" {
		return nil, invalid(errors.New("--query needs a JMESPath expression, e.g. --query '[].otaUpdateId'"))
	}
	jp, err := jmespath.Compile(expr)
	if err != nil {
		var se jmespath.SyntaxError
		if errors.As(err, &se) {
			return nil, invalid(fmt.Errorf("--query: %s at column %d:\n  %s\n  %s^", syntaxMessage(se), se.Offset+1,
				expr, strings.Repeat(" ", se.Offset)))
		}
		return nil, invalid(fmt.Errorf("--query: %v", err))
	}
	q := &query{expr: expr, jp: jp}
	// The parser's tree is not exported, but its printed form is stable
	// for the pinned library version: one node a line, indented by depth.
	tree, _ := jmespath.NewParser().Parse(expr)
	var fn []string
	q.hashes, fn = astFacts(tree.String())
	for _, name := range fn {
		if !jmespathFunctions[name] {
			return nil, invalid(fmt.Errorf("--query: unknown function %s() in %q; JMESPath's functions are %s",
				name, expr, strings.Join(sortedKeys(jmespathFunctions), ", ")))
		}
	}
	return q, nil
}

// astFacts reads a printed JMESPath tree: the keys of each multi-select
// hash in order, and the names of the functions called.
func astFacts(printed string) (hashes [][]string, functions []string) {
	type open struct{ indent, hash int }
	var stack []open
	lines := strings.Split(printed, "\n")
	for i, l := range lines {
		indent := len(l) - len(strings.TrimLeft(l, " "))
		node := strings.TrimSpace(l)
		value := func() (string, bool) {
			if i+1 >= len(lines) {
				return "", false
			}
			v, ok := strings.CutPrefix(strings.TrimSpace(lines[i+1]), "value: ")
			if !ok {
				return "", false
			}
			s, err := strconv.Unquote(v)
			return s, err == nil
		}
		switch node {
		case "ASTMultiSelectHash {":
			stack = append(stack, open{indent, len(hashes)})
			hashes = append(hashes, nil)
		case "ASTKeyValPair {":
			for len(stack) > 0 && stack[len(stack)-1].indent >= indent {
				stack = stack[:len(stack)-1]
			}
			if k, ok := value(); ok && len(stack) > 0 {
				h := stack[len(stack)-1].hash
				hashes[h] = append(hashes[h], k)
			}
		case "ASTFunctionExpression {":
			if name, ok := value(); ok {
				functions = append(functions, name)
			}
		}
	}
	return hashes, functions
}

// tokenWords are go-jmespath's token names as a user writes them.
var tokenWords = map[string]string{
	"tUnknown": "an unknown character", "tStar": `"*"`, "tDot": `"."`, "tFilter": `"[?"`, "tFlatten": `"[]"`,
	"tLparen": `"("`, "tRparen": `")"`, "tLbracket": `"["`, "tRbracket": `"]"`, "tLbrace": `"{"`, "tRbrace": `"}"`,
	"tOr": `"||"`, "tPipe": `"|"`, "tNumber": "a number", "tUnquotedIdentifier": "a name",
	"tQuotedIdentifier": "a quoted name", "tComma": `","`, "tColon": `":"`, "tLT": `"<"`, "tLTE": `"<="`,
	"tGT": `">"`, "tGTE": `">="`, "tEQ": `"=="`, "tNE": `"!="`, "tJSONLiteral": "a `literal`",
	"tStringLiteral": "a 'string'", "tCurrent": `"@"`, "tExpref": `"&"`, "tAnd": `"&&"`, "tNot": `"!"`,
	"tEOF": "the end of the expression",
}

var tokenName = regexp.MustCompile(`\bt[A-Z][A-Za-z]+\b`)

// syntaxMessage is the parser's message with its token names in words.
func syntaxMessage(se jmespath.SyntaxError) string {
	msg := strings.TrimPrefix(se.Error(), "SyntaxError: ")
	msg = tokenName.ReplaceAllStringFunc(msg, func(t string) string {
		if w, ok := tokenWords[t]; ok {
			return w
		}
		return t
	})
	msg = strings.ReplaceAll(msg, ", received: ", ", got ")
	if msg != "" {
		msg = strings.ToLower(msg[:1]) + msg[1:]
	}
	return msg
}

var jpTypes = regexp.MustCompile(`\[\]jmespath\.jpType\{([^}]*)\}`)

// runtimeMessage is an evaluation error of go-jmespath without Go syntax.
func runtimeMessage(err error) string {
	msg := jpTypes.ReplaceAllStringFunc(err.Error(), func(m string) string {
		return strings.ReplaceAll(strings.ReplaceAll(jpTypes.FindStringSubmatch(m)[1], `"`, ""), ",", " or")
	})
	msg = strings.Replace(msg, "Invalid type for: ", "a function was given ", 1)
	msg = strings.Replace(msg, ", expected: ", ", which is not a ", 1)
	return msg
}

// apply evaluates the query on an otactl JSON document (decodeOrdered's
// tree) and returns the result as such a tree, objects in a stable order:
// a multi-select hash's keys as written, the document's members in the
// document's order, any other key after them alphabetically.
func (q *query) apply(doc any) (any, error) {
	rank := map[string]int{}
	var walk func(v any)
	walk = func(v any) {
		switch t := v.(type) {
		case jsonObject:
			for _, m := range t {
				if _, ok := rank[m.key]; !ok {
					rank[m.key] = len(rank)
				}
				walk(m.val)
			}
		case []any:
			for _, el := range t {
				walk(el)
			}
		}
	}
	walk(doc)
	res, err := q.jp.Search(toGeneric(doc))
	if err != nil {
		return nil, fmt.Errorf("--query %q failed on the output (the command itself ran): %s", q.expr, runtimeMessage(err))
	}
	return q.fromGeneric(res, rank), nil
}

// toGeneric turns an ordered tree into the maps, slices and float64s
// go-jmespath evaluates.
func toGeneric(v any) any {
	switch t := v.(type) {
	case jsonObject:
		m := make(map[string]any, len(t))
		for _, mb := range t {
			m[mb.key] = toGeneric(mb.val)
		}
		return m
	case []any:
		out := make([]any, len(t))
		for i, el := range t {
			out[i] = toGeneric(el)
		}
		return out
	case json.Number:
		f, err := t.Float64()
		if err != nil {
			return t.String()
		}
		return f
	}
	return v
}

func (q *query) fromGeneric(v any, rank map[string]int) any {
	switch t := v.(type) {
	case map[string]any:
		keys := q.keyOrder(t, rank)
		out := make(jsonObject, 0, len(keys))
		for _, k := range keys {
			out = append(out, jsonMember{k, q.fromGeneric(t[k], rank)})
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, el := range t {
			out[i] = q.fromGeneric(el, rank)
		}
		return out
	case float64:
		return jsonNumber(t)
	case int: // not produced by go-jmespath today; kept exact if it is
		return json.Number(strconv.Itoa(t))
	}
	return v
}

// jsonNumber writes a float64 as JSON writes it: integers without a point.
func jsonNumber(f float64) json.Number {
	if f == math.Trunc(f) && math.Abs(f) < 1e21 {
		return json.Number(strconv.FormatFloat(f, 'f', -1, 64))
	}
	b, err := json.Marshal(f)
	if err != nil { // NaN or ±Inf, which JSON has no number for
		return json.Number("null")
	}
	return json.Number(b)
}

func (q *query) keyOrder(m map[string]any, rank map[string]int) []string {
	for _, h := range q.hashes {
		if len(h) != len(m) {
			continue
		}
		all := true
		for _, k := range h {
			if _, ok := m[k]; !ok {
				all = false
				break
			}
		}
		if all {
			return h
		}
	}
	keys := sortedKeys(m)
	sort.SliceStable(keys, func(i, j int) bool {
		ri, iok := rank[keys[i]]
		rj, jok := rank[keys[j]]
		switch {
		case iok && jok:
			return ri < rj
		case iok != jok:
			return iok
		}
		return false // both unknown: alphabetical, as sortedKeys left them
	})
	return keys
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
