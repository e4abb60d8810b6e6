package cli

import (
	"bytes"
	"strings"
	"testing"
)

func TestLocalFlagsInvalid(t *testing.T) {
	for _, args := range [][]string{
		{"local", "--credentials", "no-colon"},
		{"local", "--credentials", ":secret"},
		{"local", "--account-id", "12ab", "--data-dir", t.TempDir()},
		{"local", "extra-arg"},
	} {
		var out, errb bytes.Buffer
		if code := Main(args, &out, &errb); code != ExitInvalid {
			t.Errorf("%v: exit %d, want %d (%s)", args, code, ExitInvalid, errb.String())
		}
	}
	var out, errb bytes.Buffer
	Main([]string{"local", "--help"}, &out, &errb)
	for _, flag := range []string{"--addr", "--data-dir", "--region", "--account-id", "--strict-auth", "--credentials"} {
		if !strings.Contains(out.String(), flag) {
			t.Errorf("help lacks %s", flag)
		}
	}
}
