// Package lazyre is a regular expression compiled on first use.
//
// Why: every otactl command runs every package's initialisation, so a
// package-level regexp.MustCompile is paid by `otactl create` even when it
// belongs to the local server. Bounded repeats are expensive to compile:
// ^[\p{Lu}\p{N}_]{1,128}$ alone took about 3 ms and 5 MB at each start.
// A Regexp here costs nothing until a request needs it, then one atomic
// load per use. In tests (testing.Testing) it compiles at once, so a bad
// pattern still fails the package's tests at start-up.
package lazyre

import (
	"regexp"
	"sync"
	"testing"
)

// Regexp compiles its expression the first time a method is called.
type Regexp struct {
	expr string
	re   func() *regexp.Regexp
}

// New is a Regexp for expr (which must compile: regexp.MustCompile's rules).
func New(expr string) *Regexp {
	r := &Regexp{expr: expr, re: sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })}
	if testing.Testing() {
		r.re()
	}
	return r
}

// Regexp is the compiled expression.
func (r *Regexp) Regexp() *regexp.Regexp { return r.re() }

// String is the source text.
func (r *Regexp) String() string { return r.expr }

func (r *Regexp) MatchString(s string) bool            { return r.re().MatchString(s) }
func (r *Regexp) FindString(s string) string           { return r.re().FindString(s) }
func (r *Regexp) FindStringSubmatch(s string) []string { return r.re().FindStringSubmatch(s) }
func (r *Regexp) ReplaceAllStringFunc(src string, repl func(string) string) string {
	return r.re().ReplaceAllStringFunc(src, repl)
}
