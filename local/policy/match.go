package policy

import (
	"strings"
	"unicode/utf8"
)

// A template is a Resource entry, an Action or a Condition value compiled
// once at Parse: literal runs, wildcards and policy variables. Matching walks
// the tokens against the request's string and resolves variables in place,
// so Evaluate builds no strings and compiles nothing.
//
// Wildcards have IAM's meaning: '*' any run of characters ('/' included),
// '?' exactly one. MQTT's '+' and '#' are plain characters inside a policy
// (developer guide, "Publish/Subscribe policy examples"). A substituted
// variable's value is literal text: a client id "*" matches only "*".
// $(*), $(?) and $($) stand for the literal characters (IAM's special
// characters for 2012-10-17 policies).

type tokKind uint8

const (
	tLit tokKind = iota
	tStar
	tOne
	tVar
)

type token struct {
	kind tokKind
	lit  string
	key  *keyRef
}

type template struct {
	raw  string
	toks []token
	// plain: one literal token (or none): the match is a string compare.
	plain bool
	vars  bool
}

// compileTemplate tokenizes s. wild: '*' and '?' are wildcards; vars:
// "${...}" and "$(x)" are recognised (policy language 2012-10-17).
func compileTemplate(s string, wild, vars bool) template {
	t := template{raw: s}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			t.toks = append(t.toks, token{kind: tLit, lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case vars && c == '$' && strings.HasPrefix(s[i:], "${"):
			end := strings.IndexByte(s[i:], '}')
			if end < 0 {
				lit.WriteString(s[i:])
				i = len(s)
				continue
			}
			flush()
			k := parseKey(s[i+2 : i+end])
			t.toks = append(t.toks, token{kind: tVar, key: &k})
			t.vars = true
			i += end + 1
		case vars && c == '$' && len(s) >= i+4 && s[i+1] == '(' && s[i+3] == ')' && strings.IndexByte("*?$", s[i+2]) >= 0:
			lit.WriteByte(s[i+2])
			i += 4
		case wild && c == '*':
			flush()
			if n := len(t.toks); n == 0 || t.toks[n-1].kind != tStar {
				t.toks = append(t.toks, token{kind: tStar})
			}
			i++
		case wild && c == '?':
			flush()
			t.toks = append(t.toks, token{kind: tOne})
			i++
		default:
			lit.WriteByte(c)
			i++
		}
	}
	flush()
	t.plain = len(t.toks) == 0 || (len(t.toks) == 1 && t.toks[0].kind == tLit)
	return t
}

// varNames lists the variables the template uses, as written.
func (t *template) varNames() []string {
	var out []string
	for _, tk := range t.toks {
		if tk.kind == tVar {
			out = append(out, tk.key.name)
		}
	}
	return out
}

// match reports whether s matches the template; fold compares letters
// case-insensitively. unresolved is the first variable the context could not
// resolve (the template then does not match).
func (t *template) match(s string, fold bool, ctx *Context) (ok bool, unresolved *keyRef) {
	if t.plain {
		lit := ""
		if len(t.toks) == 1 {
			lit = t.toks[0].lit
		}
		if fold {
			return strings.EqualFold(lit, s), nil
		}
		return lit == s, nil
	}
	ti, si := 0, 0
	starT, starS := -1, 0
	for {
		if ti < len(t.toks) {
			tk := &t.toks[ti]
			switch tk.kind {
			case tStar:
				starT, starS = ti, si
				ti++
				continue
			case tOne:
				if si < len(s) {
					_, n := utf8.DecodeRuneInString(s[si:])
					si += n
					ti++
					continue
				}
			case tLit, tVar:
				v := tk.lit
				if tk.kind == tVar {
					var ok bool
					if v, ok = tk.key.one(ctx); !ok {
						return false, tk.key
					}
				}
				if hasPrefix(s[si:], v, fold) {
					si += len(v)
					ti++
					continue
				}
			}
		} else if si == len(s) {
			return true, nil
		}
		// Mismatch: let the last '*' take one more character, or fail.
		if starT < 0 || starS >= len(s) {
			return false, nil
		}
		_, n := utf8.DecodeRuneInString(s[starS:])
		starS += n
		si, ti = starS, starT+1
	}
}

func hasPrefix(s, p string, fold bool) bool {
	if len(s) < len(p) {
		return false
	}
	if fold {
		return strings.EqualFold(s[:len(p)], p)
	}
	return s[:len(p)] == p
}

// resolve substitutes the template's variables, for operators that need
// the whole value (numbers, dates, addresses). Wildcards stay as written.
func (t *template) resolve(ctx *Context) (string, *keyRef) {
	if !t.vars {
		return t.raw, nil
	}
	var b strings.Builder
	for _, tk := range t.toks {
		switch tk.kind {
		case tLit:
			b.WriteString(tk.lit)
		case tStar:
			b.WriteByte('*')
		case tOne:
			b.WriteByte('?')
		case tVar:
			v, ok := tk.key.one(ctx)
			if !ok {
				return "", tk.key
			}
			b.WriteString(v)
		}
	}
	return b.String(), nil
}
