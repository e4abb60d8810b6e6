package ota

import (
	"strings"
	"unicode"
)

// The API models' patterns, matched by hand. They were package-level
// regexps; bounded repeats such as [a-zA-Z0-9:_-]{1,128} compile to large
// programs, and every otactl command (create above all) paid about 1.2 MB
// and a millisecond or two to compile them at start-up. Each matcher
// answers exactly as the regexp in its comment does (validate_patterns_test.go
// checks them side by side with the regexps on generated and fuzzed input).
var (
	// ^[a-zA-Z0-9_-]+$
	idPattern = charRun{idChars, 1, -1}
	// ^[a-zA-Z0-9:_-]{1,128}$
	thingNamePattern = charRun{thingChars, 1, 128}
	// ^arn:aws[a-z-]*:iot:[a-z0-9-]+:\d{12}:(thing|thinggroup)/[a-zA-Z0-9:_-]{1,128}$
	targetArnPattern = matchFunc(isTargetArn)
	// ^arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,64}$
	roleArnPattern = matchFunc(isRoleArn)
	// ^[\w+=,.@-]{1,64}$
	roleNamePattern = charRun{roleNameChars, 1, 64}
	// ^[a-zA-Z0-9_]{2,64}$
	profileNamePattern = charRun{wordChars, 2, 64}
	// ^[a-zA-Z0-9-]{1,64}$
	signerJobIDPattern = charRun{alnumDash, 1, 64}
	// ^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$
	bucketPattern = matchFunc(isBucketName)
	// ^arn:aws[a-z-]*:iot:[a-z0-9-]+:\d{12}:package/[a-zA-Z0-9-_.]{1,128}/version/[a-zA-Z0-9-_.+]{1,64}$
	packageArnPattern = matchFunc(isPackageArn)
	// ^[a-zA-Z0-9-_.]{1,128}@[a-zA-Z0-9-_.+]{1,64}$
	packageRefPattern = matchFunc(isPackageRef)
	// ^[^\p{C}]+$. ref: JobDescription, Comment, ParameterValue: Pattern [^\p{C}]+.
	noControlPattern = matchFunc(hasNoControl)
	// ^[a-zA-Z0-9_-]{1,128}$. ref: ParameterKey: 1-128, Pattern [a-zA-Z0-9_-]+.
	parameterKeyPattern = charRun{idChars, 1, 128}
	// ^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$. ref: TagKey: Pattern ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$.
	tagKeyPattern = matchFunc(isTagKey)
	// ^arn:[!-~]+$. ref: PackageVersionArn, JobTemplateArn: Pattern ^arn:[!-~]+$.
	anyArnPattern = matchFunc(isAnyArn)
	// ([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$ (FindString):
	// a signed object's key is a prefix and a Signer job id.
	signingJobKey = suffixFinder(isLowerUUID)
)

var (
	idChars       = asciiSet("a-zA-Z0-9_-")
	thingChars    = asciiSet("a-zA-Z0-9:_-")
	roleNameChars = asciiSet(`a-zA-Z0-9_+=,.@-`)
	roleChars     = asciiSet(`a-zA-Z0-9_+=,.@/-`) // \w+=,.@/-
	wordChars     = asciiSet("a-zA-Z0-9_")
	alnumDash     = asciiSet("a-zA-Z0-9-")
	lowerAlnum    = asciiSet("a-z0-9")
	bucketChars   = asciiSet("a-z0-9.-")
	partitionTail = asciiSet("a-z-")    // aws[a-z-]*
	regionChars   = asciiSet("a-z0-9-") // [a-z0-9-]+
	digits        = asciiSet("0-9")
	packageChars  = asciiSet("a-zA-Z0-9_.-")
	versionChars  = asciiSet("a-zA-Z0-9_.+-")
	lowerHex      = asciiSet("0-9a-f")
	printable     = asciiSet("!-~")
)

// charSet is a set of ASCII bytes; any other byte (so any non-ASCII rune,
// and invalid UTF-8) is outside it.
type charSet [2]uint64

// asciiSet reads a class body of single bytes and ranges (a-z); a '-'
// that cannot end a range is itself.
func asciiSet(class string) charSet {
	var c charSet
	for i := 0; i < len(class); i++ {
		lo, hi := class[i], class[i]
		if i+2 < len(class) && class[i+1] == '-' {
			hi = class[i+2]
			i += 2
		}
		for b := int(lo); b <= int(hi); b++ {
			c[b/64] |= 1 << (b % 64)
		}
	}
	return c
}

func (c *charSet) has(b byte) bool { return b < 128 && c[b/64]&(1<<(b%64)) != 0 }

// all reports whether every byte of s is in c.
func (c *charSet) all(s string) bool {
	for i := 0; i < len(s); i++ {
		if !c.has(s[i]) {
			return false
		}
	}
	return true
}

// charRun is ^[set]{min,max}$ (max < 0: no limit). Every member is ASCII,
// so characters are bytes.
type charRun struct {
	set      charSet
	min, max int
}

func (r charRun) MatchString(s string) bool {
	return len(s) >= r.min && (r.max < 0 || len(s) <= r.max) && r.set.all(s)
}

type matchFunc func(string) bool

func (f matchFunc) MatchString(s string) bool { return f(s) }

// suffixFinder answers FindString for a 36-byte pattern anchored at the
// end: the last 36 bytes when they match, else "".
type suffixFinder func(string) bool

func (f suffixFinder) FindString(s string) string {
	if len(s) < 36 || !f(s[len(s)-36:]) {
		return ""
	}
	return s[len(s)-36:]
}

// cut takes a prefix of s made of set's bytes up to the first sep (a byte
// not in set): the part, the rest after sep, and whether sep was there.
func cut(s string, set *charSet, sep byte) (part, rest string, ok bool) {
	i := strings.IndexByte(s, sep)
	if i < 0 || !set.all(s[:i]) {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

// arnHead is arn:aws[a-z-]*:<service>:<region>:\d{12}: with region
// [a-z0-9-]+ (empty when service is iam); it returns what follows.
func arnHead(s, service string, region bool) (string, bool) {
	rest, ok := strings.CutPrefix(s, "arn:aws")
	if !ok {
		return "", false
	}
	if _, rest, ok = cut(rest, &partitionTail, ':'); !ok {
		return "", false
	}
	if rest, ok = strings.CutPrefix(rest, service+":"); !ok {
		return "", false
	}
	r, rest, ok := cut(rest, &regionChars, ':')
	if !ok || (r != "") != region {
		return "", false
	}
	if len(rest) < 13 || !digits.all(rest[:12]) || rest[12] != ':' {
		return "", false
	}
	return rest[13:], true
}

func isTargetArn(s string) bool {
	rest, ok := arnHead(s, "iot", true)
	if !ok {
		return false
	}
	if name, ok := strings.CutPrefix(rest, "thing/"); ok {
		return thingNamePattern.MatchString(name)
	}
	name, ok := strings.CutPrefix(rest, "thinggroup/")
	return ok && thingNamePattern.MatchString(name)
}

func isRoleArn(s string) bool {
	rest, ok := arnHead(s, "iam", false)
	if !ok {
		return false
	}
	name, ok := strings.CutPrefix(rest, "role/")
	return ok && charRun{roleChars, 1, 64}.MatchString(name)
}

func isBucketName(s string) bool {
	return len(s) >= 3 && len(s) <= 63 && lowerAlnum.has(s[0]) && lowerAlnum.has(s[len(s)-1]) && bucketChars.all(s[1:len(s)-1])
}

func isPackageArn(s string) bool {
	rest, ok := arnHead(s, "iot", true)
	if !ok {
		return false
	}
	if rest, ok = strings.CutPrefix(rest, "package/"); !ok {
		return false
	}
	// The package name cannot hold '/': the first one ends it.
	name, ver, ok := cut(rest, &packageChars, '/')
	if !ok || len(name) < 1 || len(name) > 128 {
		return false
	}
	ver, ok = strings.CutPrefix(ver, "version/")
	return ok && charRun{versionChars, 1, 64}.MatchString(ver)
}

func isPackageRef(s string) bool {
	name, ver, ok := cut(s, &packageChars, '@')
	return ok && len(name) >= 1 && len(name) <= 128 && charRun{versionChars, 1, 64}.MatchString(ver)
}

// hasNoControl is ^[^\p{C}]+$ over runes as regexp reads them: an invalid
// UTF-8 byte is U+FFFD, which is not in C.
func hasNoControl(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if unicode.Is(unicode.C, r) {
			return false
		}
	}
	return true
}

func isTagKey(s string) bool {
	for _, r := range s {
		if r < 128 {
			if !tagASCII.has(byte(r)) {
				return false
			}
		} else if !unicode.In(r, unicode.L, unicode.Z, unicode.N) {
			return false
		}
	}
	return true
}

// tagASCII is the ASCII part of [\p{L}\p{Z}\p{N}_.:/=+\-@]: letters,
// digits, the space (Zs) and the listed punctuation.
var tagASCII = asciiSet("a-zA-Z0-9 _.:/=+@-")

func isAnyArn(s string) bool {
	rest, ok := strings.CutPrefix(s, "arn:")
	return ok && rest != "" && printable.all(rest)
}

// isLowerUUID is [0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}.
func isLowerUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < 36; i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if !lowerHex.has(s[i]) {
				return false
			}
		}
	}
	return true
}
