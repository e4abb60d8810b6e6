package lazyre

import (
	"regexp"
	"sync"
	"testing"
)

// TestSameAsRegexp: each method answers as the compiled regexp does.
func TestSameAsRegexp(t *testing.T) {
	const expr = `^[a-z]{1,3}-(\d+)$`
	l, re := New(expr), regexp.MustCompile(expr)
	for _, s := range []string{"", "ab-12", "abcd-1", "a-", "x-7 ", "z-99"} {
		if got, want := l.MatchString(s), re.MatchString(s); got != want {
			t.Errorf("MatchString(%q) = %v, regexp says %v", s, got, want)
		}
		if got, want := l.FindString(s), re.FindString(s); got != want {
			t.Errorf("FindString(%q) = %q, regexp says %q", s, got, want)
		}
		if got, want := l.FindStringSubmatch(s), re.FindStringSubmatch(s); len(got) != len(want) || (len(got) > 1 && got[1] != want[1]) {
			t.Errorf("FindStringSubmatch(%q) = %q, regexp says %q", s, got, want)
		}
	}
	up := func(s string) string { return "<" + s + ">" }
	if got, want := New(`\d+`).ReplaceAllStringFunc("a1b22", up), regexp.MustCompile(`\d+`).ReplaceAllStringFunc("a1b22", up); got != want {
		t.Errorf("ReplaceAllStringFunc = %q, regexp says %q", got, want)
	}
	if l.String() != expr || l.Regexp().String() != expr {
		t.Errorf("String = %q, Regexp().String() = %q, want %q", l.String(), l.Regexp().String(), expr)
	}
}

// TestBadPatternPanicsInTests: under go test a bad pattern fails at New,
// as regexp.MustCompile at package level would.
func TestBadPatternPanicsInTests(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("New(`[`) did not panic in a test binary")
		}
	}()
	New(`[`)
}

// TestConcurrentFirstUse: many goroutines using a fresh Regexp at once
// (run with -race).
func TestConcurrentFirstUse(t *testing.T) {
	l := &Regexp{expr: `^x+$`}
	l.re = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(l.expr) }) // not compiled yet, as outside tests
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !l.MatchString("xxx") || l.MatchString("xy") {
				t.Error("wrong answer")
			}
		}()
	}
	wg.Wait()
}
