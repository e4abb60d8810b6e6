package ota

import (
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
	"unicode"
)

// patternCases pairs each hand-written matcher with the regexp it replaced
// (validate_patterns.go): they must agree on every input.
var patternCases = []struct {
	name  string
	match func(string) bool
	re    *regexp.Regexp
	valid []string // inputs that match, seeds for the mutations
}{
	{"idPattern", idPattern.MatchString, regexp.MustCompile(`^[a-zA-Z0-9_-]+$`), []string{"a", "fw-1_2"}},
	{"thingNamePattern", thingNamePattern.MatchString, regexp.MustCompile(`^[a-zA-Z0-9:_-]{1,128}$`), []string{"x", "dev:1_a-b"}},
	{"targetArnPattern", targetArnPattern.MatchString, regexp.MustCompile(`^arn:aws[a-z-]*:iot:[a-z0-9-]+:\d{12}:(thing|thinggroup)/[a-zA-Z0-9:_-]{1,128}$`),
		[]string{"arn:aws:iot:us-east-1:123456789012:thing/dev-1", "arn:aws-cn:iot:cn-north-1:123456789012:thinggroup/fleet:a", "arn:aws-us-gov:iot:x:000000000000:thing/a"}},
	{"roleArnPattern", roleArnPattern.MatchString, regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,64}$`),
		[]string{"arn:aws:iam::123456789012:role/ota-role", "arn:aws-cn:iam::123456789012:role/path/to/r+=,.@_-"}},
	{"roleNamePattern", roleNamePattern.MatchString, regexp.MustCompile(`^[\w+=,.@-]{1,64}$`), []string{"ota-role", "a+=,.@_-"}},
	{"profileNamePattern", profileNamePattern.MatchString, regexp.MustCompile(`^[a-zA-Z0-9_]{2,64}$`), []string{"ab", "bench_signer"}},
	{"signerJobIDPattern", signerJobIDPattern.MatchString, regexp.MustCompile(`^[a-zA-Z0-9-]{1,64}$`), []string{"1f50e1ee-9f68-4b41-8a6e-532f13268b1b"}},
	{"bucketPattern", bucketPattern.MatchString, regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`), []string{"abc", "my.bucket-1", "a-b.c9"}},
	{"packageArnPattern", packageArnPattern.MatchString, regexp.MustCompile(`^arn:aws[a-z-]*:iot:[a-z0-9-]+:\d{12}:package/[a-zA-Z0-9-_.]{1,128}/version/[a-zA-Z0-9-_.+]{1,64}$`),
		[]string{"arn:aws:iot:us-east-1:123456789012:package/fw_a.b-c/version/1.0+b-2_x"}},
	{"packageRefPattern", packageRefPattern.MatchString, regexp.MustCompile(`^[a-zA-Z0-9-_.]{1,128}@[a-zA-Z0-9-_.+]{1,64}$`), []string{"fw@1.0", "a.b-c_d@1+2"}},
	{"noControlPattern", noControlPattern.MatchString, regexp.MustCompile(`^[^\p{C}]+$`), []string{"a b", "Ünïcödé ☃", "\xff"}},
	{"parameterKeyPattern", parameterKeyPattern.MatchString, regexp.MustCompile(`^[a-zA-Z0-9_-]{1,128}$`), []string{"key_1-a"}},
	{"tagKeyPattern", tagKeyPattern.MatchString, regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`), []string{"", "env", "Ünï cödé_.:/=+-@٣²\u00a0"}},
	{"anyArnPattern", anyArnPattern.MatchString, regexp.MustCompile(`^arn:[!-~]+$`), []string{"arn:x", "arn:aws:iot:us-east-1:1:jobtemplate/t"}},
	{"signingJobKey", func(s string) bool { return signingJobKey.FindString(s) != "" },
		regexp.MustCompile(`([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$`),
		[]string{"SignedImages/1f50e1ee-9f68-4b41-8a6e-532f13268b1b", "1f50e1ee-9f68-4b41-8a6e-532f13268b1b"}},
}

// pieces are what the generated inputs are made of: the patterns' literal
// parts, characters at the edge of each class, and runes of each Unicode
// category the patterns name (and invalid UTF-8).
var pieces = []string{
	"arn:", "aws", "-cn", "-us-gov", ":iot:", ":iam:", "::", ":", "us-east-1", "123456789012", "12345678901", "thing/", "thinggroup/",
	"role/", "package/", "/version/", "/", "@", "a", "z", "A", "Z", "0", "9", "f", "g", "_", "-", ".", "+", "=", ",", " ", "\t", "\n",
	"!", "~", "\x7f", "\x00", "`", "[", "{", "é", "Σ", "٣", "²", "\u00a0", "\u200b", "\u2028", "\ufffd", "\xff", "\xc3", "☃", "𝔸",
	"1f50e1ee-9f68-4b41-8a6e-532f13268b1b", "1F50E1EE-9f68-4b41-8a6e-532f13268b1b",
}

func checkAgree(t *testing.T, s string) {
	t.Helper()
	for _, c := range patternCases {
		if got, want := c.match(s), c.re.MatchString(s); got != want {
			t.Errorf("%s(%q) = %v, the regexp %s says %v", c.name, s, got, c.re, want)
		}
	}
}

// TestPatternsMatchTheirRegexps: the seeds, each at and beyond its length
// limits, random mutations of them, and random strings of pieces.
func TestPatternsMatchTheirRegexps(t *testing.T) {
	for _, c := range patternCases {
		for _, v := range c.valid {
			if !c.match(v) {
				t.Errorf("%s(%q) = false, want a match", c.name, v)
			}
		}
	}
	rng := rand.New(rand.NewPCG(15, 15))
	var inputs []string
	for _, c := range patternCases {
		for _, v := range c.valid {
			inputs = append(inputs, v)
			for _, n := range []int{1, 2, 3, 36, 61, 62, 63, 64, 65, 127, 128, 129} {
				inputs = append(inputs, strings.Repeat("a", n), strings.Repeat("a", n)+v, v+strings.Repeat("b", n), strings.Repeat("9", n),
					v[:len(v)/2]+strings.Repeat("x", n)+v[len(v)/2:])
			}
			for range 300 {
				inputs = append(inputs, mutate(rng, v))
			}
		}
	}
	for range 20000 {
		var b strings.Builder
		for range rng.IntN(12) {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		inputs = append(inputs, b.String())
	}
	for _, s := range inputs {
		checkAgree(t, s)
	}
}

func mutate(rng *rand.Rand, s string) string {
	for range 1 + rng.IntN(3) {
		i := 0
		if len(s) > 0 {
			i = rng.IntN(len(s) + 1)
		}
		p := pieces[rng.IntN(len(pieces))]
		switch rng.IntN(4) {
		case 0: // insert
			s = s[:i] + p + s[i:]
		case 1: // delete a byte
			if i < len(s) {
				s = s[:i] + s[i+1:]
			}
		case 2: // replace a byte
			if i < len(s) {
				s = s[:i] + p + s[i+1:]
			}
		default: // repeat a part (past the length limits)
			s = s[:i] + strings.Repeat(s[i:], 1+rng.IntN(4))
		}
	}
	return s
}

// TestUnicodePatternsEveryTableEdge: for the patterns over Unicode
// categories, every rune at an edge of each category's ranges (and next to
// it), alone and inside a valid string.
func TestUnicodePatternsEveryTableEdge(t *testing.T) {
	var runes []rune
	for _, tab := range []*unicode.RangeTable{unicode.C, unicode.L, unicode.Z, unicode.N, unicode.Lu} {
		for _, r := range tab.R16 {
			runes = append(runes, rune(r.Lo)-1, rune(r.Lo), rune(r.Lo)+1, rune(r.Hi)-1, rune(r.Hi), rune(r.Hi)+1)
		}
		for _, r := range tab.R32 {
			runes = append(runes, rune(r.Lo)-1, rune(r.Lo), rune(r.Lo)+1, rune(r.Hi)-1, rune(r.Hi), rune(r.Hi)+1)
		}
	}
	for r := rune(0); r < 0x300; r++ {
		runes = append(runes, r)
	}
	runes = append(runes, unicode.MaxRune, unicode.MaxRune+1, 0xD800, 0xDFFF, unicode.ReplacementChar)
	for _, r := range runes {
		if r < 0 {
			continue
		}
		s := string(r)
		checkAgree(t, s)
		checkAgree(t, "a"+s+"b")
	}
}

// FuzzPatterns: go test -fuzz FuzzPatterns ./ota/ looks for an input on
// which a matcher and its regexp disagree.
func FuzzPatterns(f *testing.F) {
	for _, c := range patternCases {
		for _, v := range c.valid {
			f.Add(v)
		}
	}
	f.Fuzz(func(t *testing.T, s string) { checkAgree(t, s) })
}
