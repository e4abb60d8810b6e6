package policy

import (
	"encoding/json"
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Conditions follow IAM's condition operators, which AWS IoT policies use
// (developer guide, "Connect policy examples", "Certificate policy
// examples"): every operator of a statement must hold, every key of an
// operator must hold, and a key holds when the context value matches any of
// the policy's values.
//
// Absent keys, as in IAM: a positive operator is false, a negated one
// (StringNotEquals, NotIpAddress, ArnNotLike...) is true, ...IfExists is
// true, ForAllValues: is true (nothing to check), ForAnyValue: is false.
// Null tests presence: "true" holds when the key is absent. A key this
// package does not know is always absent.

type opBase uint8

const (
	oString opBase = iota
	oStringFold
	oStringLike
	oNumeric
	oDate
	oBool
	oBinary
	oIP
	oArn
	oNull
)

type cmpKind uint8

const (
	cEq cmpKind = iota
	cLt
	cLe
	cGt
	cGe
)

type setKind uint8

const (
	sNone setKind = iota
	sAny
	sAll
)

type opSpec struct {
	base   opBase
	cmp    cmpKind
	negate bool
}

var operators = map[string]opSpec{
	"StringEquals":              {oString, cEq, false},
	"StringNotEquals":           {oString, cEq, true},
	"StringEqualsIgnoreCase":    {oStringFold, cEq, false},
	"StringNotEqualsIgnoreCase": {oStringFold, cEq, true},
	"StringLike":                {oStringLike, cEq, false},
	"StringNotLike":             {oStringLike, cEq, true},
	"NumericEquals":             {oNumeric, cEq, false},
	"NumericNotEquals":          {oNumeric, cEq, true},
	"NumericLessThan":           {oNumeric, cLt, false},
	"NumericLessThanEquals":     {oNumeric, cLe, false},
	"NumericGreaterThan":        {oNumeric, cGt, false},
	"NumericGreaterThanEquals":  {oNumeric, cGe, false},
	"DateEquals":                {oDate, cEq, false},
	"DateNotEquals":             {oDate, cEq, true},
	"DateLessThan":              {oDate, cLt, false},
	"DateLessThanEquals":        {oDate, cLe, false},
	"DateGreaterThan":           {oDate, cGt, false},
	"DateGreaterThanEquals":     {oDate, cGe, false},
	"Bool":                      {oBool, cEq, false},
	"BinaryEquals":              {oBinary, cEq, false},
	"IpAddress":                 {oIP, cEq, false},
	"NotIpAddress":              {oIP, cEq, true},
	"ArnEquals":                 {oArn, cEq, false},
	"ArnLike":                   {oArn, cEq, false},
	"ArnNotEquals":              {oArn, cEq, true},
	"ArnNotLike":                {oArn, cEq, true},
	"Null":                      {oNull, cEq, false},
}

type operator struct {
	opSpec
	name     string
	set      setKind
	ifExists bool
}

func parseOperator(name string) (operator, bool) {
	op := operator{name: name}
	base := name
	if b, ok := strings.CutPrefix(base, "ForAnyValue:"); ok {
		op.set, base = sAny, b
	} else if b, ok := strings.CutPrefix(base, "ForAllValues:"); ok {
		op.set, base = sAll, b
	}
	if b, ok := strings.CutSuffix(base, "IfExists"); ok && b != "Null" {
		op.ifExists, base = true, b
	}
	spec, ok := operators[base]
	if !ok || (spec.base == oNull && op.set != sNone) {
		return op, false
	}
	op.opSpec = spec
	return op, true
}

// parseCondition reads Condition: operator → key → string or list. Values
// may be JSON booleans or numbers, which IAM reads as their text.
func parseCondition(raw json.RawMessage, path string) (map[string]map[string][]string, error) {
	ops, err := object(string(raw), path)
	if err != nil {
		return nil, err
	}
	out := make(map[string]map[string][]string, len(ops))
	for _, name := range sortedKeys(ops) {
		opPath := path + "." + name
		op, ok := parseOperator(name)
		if !ok {
			return nil, malformed(opPath, "is not a condition operator (StringEquals, StringLike, ArnLike, Bool, IpAddress, Null, ... with optional ForAnyValue:/ForAllValues: and IfExists)")
		}
		keys, err := object(string(ops[name]), opPath)
		if err != nil {
			return nil, err
		}
		if len(keys) == 0 {
			return nil, malformed(opPath, "has no condition key")
		}
		m := make(map[string][]string, len(keys))
		for _, key := range sortedKeys(keys) {
			kPath := opPath + "." + key
			if key == "" {
				return nil, malformed(opPath, "has an empty condition key")
			}
			vals, err := conditionValues(keys[key], kPath)
			if err != nil {
				return nil, err
			}
			for i, v := range vals {
				if err := checkValue(op, v, fmt.Sprintf("%s[%d]", kPath, i)); err != nil {
					return nil, err
				}
			}
			m[key] = vals
		}
		out[name] = m
	}
	return out, nil
}

func conditionValues(raw json.RawMessage, path string) ([]string, error) {
	one := func(r json.RawMessage, p string) (string, error) {
		switch firstByte(r) {
		case '"':
			return str(r, p)
		case 't', 'f':
			var b bool
			if json.Unmarshal(r, &b) != nil {
				return "", malformed(p, "must be a string, boolean or number")
			}
			return strconv.FormatBool(b), nil
		case '{', '[', 'n', 0:
			return "", malformed(p, "must be a string, boolean or number, got %s", kind(r))
		default:
			var n json.Number
			if json.Unmarshal(r, &n) != nil {
				return "", malformed(p, "must be a string, boolean or number")
			}
			return n.String(), nil
		}
	}
	if firstByte(raw) != '[' {
		v, err := one(raw, path)
		if err != nil {
			return nil, err
		}
		return []string{v}, nil
	}
	var items []json.RawMessage
	if err := json.Unmarshal(raw, &items); err != nil {
		return nil, malformed(path, "must be a value or a list of values")
	}
	out := make([]string, 0, len(items))
	for i, it := range items {
		v, err := one(it, fmt.Sprintf("%s[%d]", path, i))
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// checkValue refuses a value its operator can never compare (a number that
// is not one...), unless a policy variable fills it in at evaluation.
func checkValue(op operator, v, path string) error {
	if strings.Contains(v, "${") {
		return nil
	}
	switch op.base {
	case oNumeric:
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return malformed(path, "must be a number for %s, got %q", op.name, v)
		}
	case oDate:
		if _, ok := parseDate(v); !ok {
			return malformed(path, "must be a date (ISO 8601 or epoch seconds) for %s, got %q", op.name, v)
		}
	case oBool, oNull:
		if !strings.EqualFold(v, "true") && !strings.EqualFold(v, "false") {
			return malformed(path, `must be "true" or "false" for %s, got %q`, op.name, v)
		}
	case oIP:
		if _, ok := parsePrefix(v); !ok {
			return malformed(path, "must be an IP address or CIDR block for %s, got %q", op.name, v)
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// cond is one compiled (operator, key, values) triple.
type cond struct {
	op     operator
	key    keyRef
	values []cvalue
}

type cvalue struct {
	tmpl   template
	arn    [6]template // ArnEquals/ArnLike: one template per ARN component
	arnN   int
	num    float64
	date   time.Time
	prefix netip.Prefix
	fixed  bool // num/date/prefix parsed at compile time
}

func compileCond(op operator, key string, vals []string, vars bool) cond {
	c := cond{op: op, key: parseKey(key)}
	wild := op.base == oStringLike || op.base == oArn
	for _, v := range vals {
		cv := cvalue{tmpl: compileTemplate(v, wild, vars)}
		if !cv.tmpl.vars {
			cv.fixed = parseFixed(op.base, v, &cv)
		}
		if op.base == oArn {
			parts := splitArn(v)
			cv.arnN = len(parts)
			for i, p := range parts {
				cv.arn[i] = compileTemplate(p, true, vars)
			}
		}
		c.values = append(c.values, cv)
	}
	return c
}

func parseFixed(base opBase, v string, cv *cvalue) bool {
	var ok bool
	switch base {
	case oNumeric:
		var err error
		cv.num, err = strconv.ParseFloat(v, 64)
		ok = err == nil
	case oDate:
		cv.date, ok = parseDate(v)
	case oIP:
		cv.prefix, ok = parsePrefix(v)
	}
	return ok
}

// holds evaluates the condition against the context.
func (c *cond) holds(e *evalState) bool {
	var buf [1]string
	vals, present := c.key.values(&e.ctx, buf[:0])
	if c.op.base == oNull {
		absent := !present || len(vals) == 0
		for _, v := range c.values {
			if strings.EqualFold(v.tmpl.raw, "true") == absent {
				return true
			}
		}
		return false
	}
	if !present {
		e.miss(c.key.name)
		switch {
		case c.op.ifExists, c.op.set == sAll:
			return true
		case c.op.set == sAny:
			return false
		default:
			return c.op.negate
		}
	}
	switch c.op.set {
	case sAll:
		for _, v := range vals {
			if c.anyValue(e, v) == c.op.negate {
				return false
			}
		}
		return true
	case sAny:
		for _, v := range vals {
			if c.anyValue(e, v) != c.op.negate {
				return true
			}
		}
		return false
	default:
		// A single-valued operator on a multi-valued key: it matches when
		// any context value does; the negated form when none does.
		for _, v := range vals {
			if c.anyValue(e, v) {
				return !c.op.negate
			}
		}
		return c.op.negate
	}
}

// anyValue reports whether the context value s matches any policy value
// under the operator's (positive) comparison.
func (c *cond) anyValue(e *evalState, s string) bool {
	for i := range c.values {
		if c.compare(e, &c.values[i], s) {
			return true
		}
	}
	return false
}

func (c *cond) compare(e *evalState, v *cvalue, s string) bool {
	switch c.op.base {
	case oString, oStringLike, oBinary:
		ok, miss := v.tmpl.match(s, false, &e.ctx)
		e.missKey(miss)
		return ok
	case oStringFold:
		ok, miss := v.tmpl.match(s, true, &e.ctx)
		e.missKey(miss)
		return ok
	case oBool:
		return strings.EqualFold(v.tmpl.raw, s)
	case oArn:
		return c.arnMatch(e, v, s)
	}
	// Numbers, dates and addresses compare whole values.
	pv := *v
	if !v.fixed {
		raw, miss := v.tmpl.resolve(&e.ctx)
		if miss != nil {
			e.missKey(miss)
			return false
		}
		if !parseFixed(c.op.base, raw, &pv) {
			return false
		}
	}
	// The parsers keep their input in their errors; a copy keeps the
	// request's strings (and so the whole Request) off the heap on the hot
	// path, where these operators do not run.
	cs := strings.Clone(s)
	switch c.op.base {
	case oNumeric:
		n, err := strconv.ParseFloat(cs, 64)
		return err == nil && compareOrder(cmpFloat(n, pv.num), c.op.cmp)
	case oDate:
		d, ok := parseDate(cs)
		return ok && compareOrder(d.Compare(pv.date), c.op.cmp)
	case oIP:
		a, err := netip.ParseAddr(cs)
		return err == nil && pv.prefix.Contains(a.Unmap())
	}
	return false
}

// arnMatch compares ARNs component by component, as IAM's ArnLike does:
// a wildcard does not cross the colons of the first five components.
func (c *cond) arnMatch(e *evalState, v *cvalue, s string) bool {
	if v.arnN != 6 {
		ok, miss := v.tmpl.match(s, false, &e.ctx)
		e.missKey(miss)
		return ok
	}
	rest := s
	for i := 0; i < 6; i++ {
		part := rest
		if i < 5 {
			var found bool
			part, rest, found = strings.Cut(rest, ":")
			if !found {
				return false
			}
		}
		ok, miss := v.arn[i].match(part, false, &e.ctx)
		if miss != nil {
			e.missKey(miss)
			return false
		}
		if !ok {
			return false
		}
	}
	return true
}

func splitArn(v string) []string { return strings.SplitN(v, ":", 6) }

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func compareOrder(r int, c cmpKind) bool {
	switch c {
	case cLt:
		return r < 0
	case cLe:
		return r <= 0
	case cGt:
		return r > 0
	case cGe:
		return r >= 0
	}
	return r == 0
}

func parseDate(v string) (time.Time, bool) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05Z0700", "2006-01-02T15:04Z07:00", "2006-01-02"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, true
		}
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return time.Unix(n, 0), true
	}
	return time.Time{}, false
}

func parsePrefix(v string) (netip.Prefix, bool) {
	if strings.Contains(v, "/") {
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return p, false
		}
		return netip.PrefixFrom(p.Addr().Unmap(), p.Bits()).Masked(), true
	}
	a, err := netip.ParseAddr(v)
	if err != nil {
		return netip.Prefix{}, false
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), true
}
