package cli

import (
	"bufio"
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/otactl/otactl/internal/testtool"
)

// readmeBlock is one ```sh block of README.md.
type readmeBlock struct {
	line int // where it starts, for messages
	text string
}

// readmeBlocks returns README.md's shell blocks in order, indented ones
// (inside a list item) included, with the indentation taken off.
func readmeBlocks(t *testing.T, path string) []readmeBlock {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []readmeBlock
	var cur *readmeBlock
	indent := ""
	sc := bufio.NewScanner(bytes.NewReader(raw))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		trimmed := strings.TrimLeft(line, " ")
		switch {
		case cur == nil && trimmed == "```sh":
			cur, indent = &readmeBlock{line: n}, line[:len(line)-len(trimmed)]
		case cur != nil && trimmed == "```":
			out = append(out, *cur)
			cur = nil
		case cur != nil:
			cur.text += strings.TrimPrefix(line, indent) + "\n"
		}
	}
	return out
}

// readmeNotRun are the README's blocks no test runs, by their first
// command, and why.
var readmeNotRun = map[string]string{
	"go vet ./... && go test": "the test suite itself, which runs this test",
	"go run ./bench/fleet":    "the fleet benchmark, minutes of 1,000 devices; bench/ has its own checks",
}

// TestReadmeRunsAsWritten runs every shell block of README.md exactly as
// written, each in its own bash from the root of the repository, in the
// README's order, with the AWS CLI against otactl local: the demo, the
// walkthrough from `go install` to sensor-1 updated by `otactl fleet`, the
// flag example and the rehearsal. Blocks run in a network namespace of
// their own when the machine allows one, so the README's fixed ports
// (4566, 8883) are free whatever else runs.
func TestReadmeRunsAsWritten(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and installs otactl")
	}
	testtool.Require(t, "aws", "apt-get install awscli")
	bash := testtool.Require(t, "bash", "apt-get install bash")
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	env := readmeEnv(t, tmp)
	isolate := canIsolate()
	if !isolate {
		for _, a := range []string{"127.0.0.1:4566", "127.0.0.1:8883"} {
			if l, err := net.Listen("tcp", a); err != nil {
				t.Skipf("SKIPPING: no network namespace (unshare -rn) and %s is taken: the README's commands use otactl local's default ports", a)
			} else {
				l.Close()
			}
		}
	}
	blocks := readmeBlocks(t, filepath.Join(root, "README.md"))
	ran, walkthrough := 0, ""
	for i, b := range blocks {
		first := strings.TrimSpace(strings.SplitN(b.text, "\n", 2)[0])
		skip := false
		for prefix := range readmeNotRun {
			skip = skip || strings.HasPrefix(first, prefix)
		}
		if skip {
			continue
		}
		script := filepath.Join(tmp, "block"+string(rune('a'+i))+".sh")
		// The harness around the block: stop what it left running; set -e
		// so that a failing command fails the block; the block is sourced
		// so that its own job control (kill %1) works.
		body := "trap 'kill $(jobs -p) 2>/dev/null || true; wait' EXIT\nset -e -o pipefail\nsource " + shellQuote(script+".body") + "\n"
		if isolate {
			body = "ip link set lo up\n" + body
		}
		if err := os.WriteFile(script+".body", []byte(b.text), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(script, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		var cmd *exec.Cmd
		if isolate {
			cmd = exec.Command("unshare", "-rn", bash, script)
		} else {
			cmd = exec.Command(bash, script)
		}
		cmd.Dir, cmd.Env = root, env
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("README.md:%d: the block fails (%v):\n%s\n--- output:\n%s", b.line, err, b.text, out)
		}
		ran++
		if strings.Contains(b.text, "otactl fleet") {
			walkthrough = string(out)
		}
	}
	if ran < 4 || walkthrough == "" {
		t.Fatalf("ran %d README blocks, walkthrough found: %v", ran, walkthrough != "")
	}
	// The walkthrough: sensor-1 not SUCCEEDED before the fleet, SUCCEEDED
	// in the describe after it.
	succeeded := regexp.MustCompile(`(?m)^(thing/)?sensor-1\s+SUCCEEDED\s`)
	at := strings.Index(walkthrough, "DEVICES  SUCCEEDED")
	if at < 0 || succeeded.MatchString(walkthrough[:at]) || !succeeded.MatchString(walkthrough[at:]) {
		t.Fatalf("the walkthrough does not end with sensor-1 SUCCEEDED:\n%s", walkthrough)
	}
	if _, err := os.Stat(filepath.Join(root, "firmware.bin")); err == nil {
		t.Fatal("the walkthrough wrote firmware.bin into the repository")
	}
}

// readmeEnv is a newcomer's shell: no AWS configuration, a GOPATH of its
// own (go install writes there), and this machine's module and build
// caches so that nothing is downloaded.
func readmeEnv(t *testing.T, tmp string) []string {
	t.Helper()
	goEnv := func(name string) string {
		out, err := exec.Command("go", "env", name).Output()
		if err != nil {
			t.Fatalf("go env %s: %v", name, err)
		}
		return strings.TrimSpace(string(out))
	}
	modcache, cache := goEnv("GOMODCACHE"), goEnv("GOCACHE")
	gopath := filepath.Join(tmp, "gopath")
	tmpdir := filepath.Join(tmp, "tmp")
	if err := os.MkdirAll(tmpdir, 0o755); err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(k, "AWS_") || strings.HasPrefix(k, "GO") || k == "TMPDIR" {
			continue
		}
		env = append(env, kv)
	}
	return append(env, "GOPATH="+gopath, "GOMODCACHE="+modcache, "GOCACHE="+cache, "GOPROXY=off",
		"GOTOOLCHAIN=local", "TMPDIR="+tmpdir,
		"AWS_CONFIG_FILE="+filepath.Join(tmp, "none"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(tmp, "none"),
		// Every block after the walkthrough's install runs otactl from PATH,
		// as the shell the README's export leaves behind.
		"PATH="+filepath.Join(gopath, "bin")+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// canIsolate reports whether a block can run in a network namespace of
// its own (unprivileged user namespaces, or root).
func canIsolate() bool {
	return exec.Command("unshare", "-rn", "true").Run() == nil
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
