package cli

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestManPages (L14): otactl man DIR writes a roff page for every command
// a user can run (and the output topic), each with a .TH header; man -l
// renders one when man is installed.
func TestManPages(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "man1")
	code, out, errOut := run(t, "man", dir)
	if code != ExitOK || !strings.Contains(out, "man pages to "+dir) {
		t.Fatalf("otactl man: exit %d\n%s%s", code, out, errOut)
	}
	// The commands, walked here independently of man.go: every visible
	// command of the tree but help (completion's too), and the help topics.
	var want []string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		want = append(want, strings.ReplaceAll(c.CommandPath(), " ", "-")+".1")
		for _, s := range c.Commands() {
			if !s.Hidden && s.Name() != "help" && s.Deprecated == "" {
				walk(s)
			}
		}
	}
	root := NewRoot(io.Discard, io.Discard)
	root.InitDefaultCompletionCmd() // cobra adds it when the tree runs
	walk(root)
	sort.Strings(want)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("pages:\n got %v\nwant %v", got, want)
	}
	for _, must := range []string{"otactl.1", "otactl-create.1", "otactl-describe.1", "otactl-campaign-start.1", "otactl-output.1", "otactl-man.1"} {
		if _, err := os.Stat(filepath.Join(dir, must)); err != nil {
			t.Errorf("no page %s", must)
		}
	}
	for _, name := range got {
		raw, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		page := string(raw)
		if !strings.HasPrefix(page, ".nh\n.TH \"OTACTL\" \"1\" ") || !strings.Contains(page, "\n.SH NAME\n"+strings.TrimSuffix(name, ".1")+" ") {
			t.Errorf("%s: not a roff page with a .TH header and a NAME:\n%.300s", name, page)
		}
		if strings.Contains(page, "Auto generated") {
			t.Errorf("%s: cobra's auto-generated tag", name)
		}
	}
	describe, _ := os.ReadFile(filepath.Join(dir, "otactl-describe.1"))
	for _, want := range []string{`\-\-query`, `\-\-output`, "otactl describe sensor-fw-1-4-0"} {
		if !strings.Contains(string(describe), want) && !strings.Contains(string(describe), strings.ReplaceAll(want, `\-`, "-")) {
			t.Errorf("otactl-describe.1 lacks %q", want)
		}
	}
	if topic, _ := os.ReadFile(filepath.Join(dir, "otactl-output.1")); !strings.Contains(string(topic), `\fBotactl help output\fP`) {
		t.Errorf("otactl-output.1's synopsis is not otactl help output")
	}

	// A second run over the same directory rewrites the pages; a file in
	// place of the directory is an input error.
	if code, _, errOut := run(t, "man", dir); code != ExitOK {
		t.Errorf("second otactl man: exit %d %s", code, errOut)
	}
	file := filepath.Join(t.TempDir(), "f")
	os.WriteFile(file, nil, 0o644)
	if code, _, errOut := run(t, "man", file); code != ExitInvalid || !strings.Contains(errOut, "not a directory") {
		t.Errorf("otactl man FILE: exit %d %s", code, errOut)
	}
	if code, _, _ := run(t, "man"); code != ExitInvalid {
		t.Errorf("otactl man without DIR: exit %d", code)
	}

	man, err := exec.LookPath("man")
	if err != nil {
		t.Log("man is not installed: the pages' roff headers were checked, not their rendering")
		return
	}
	render := func(page string) string {
		t.Helper()
		cmd := exec.Command(man, "--warnings", "-l", filepath.Join(dir, page))
		cmd.Env = append(os.Environ(), "MANWIDTH=80", "MANPAGER=cat", "PAGER=cat", "LANG=C.UTF-8")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		rendered, err := cmd.Output()
		if err != nil || stderr.Len() != 0 {
			t.Fatalf("man -l %s: %v\n%s", page, err, stderr.String())
		}
		return strings.Join(strings.Fields(string(rendered)), " ") // man justifies lines
	}
	words := render("otactl-describe.1")
	for _, want := range []string{"NAME", "otactl-describe - Show an update", "SYNOPSIS", "otactl describe UPDATE_ID", "--query", "EXAMPLE"} {
		if !strings.Contains(words, want) {
			t.Errorf("man -l otactl-describe.1 lacks %q:\n%s", want, words)
		}
	}
	if words := render("otactl-output.1"); !strings.Contains(words, "--output text is the AWS CLI's text format") {
		t.Errorf("man -l otactl-output.1:\n%s", words)
	}
}
