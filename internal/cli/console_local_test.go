package cli

import (
	"strings"
	"testing"
)

// TestLocalHelpNamesTheConsole: otactl local --help says where the web
// console is.
func TestLocalHelpNamesTheConsole(t *testing.T) {
	code, stdout, _ := run(t, "local", "--help")
	if code != ExitOK || !strings.Contains(stdout, "A web console is served on the same port at /console/") {
		t.Fatalf("exit %d:\n%s", code, stdout)
	}
}
