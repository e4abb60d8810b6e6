// Package testtool finds the external clients interop tests drive (the AWS
// CLI, boto3, mosquitto's clients, openssl). A missing tool skips the test
// loudly, except in CI (OTACTL_CI=1, set by .ci/run), where it is a failure:
// CI installs every tool, so a skip there would hide a test that never ran.
package testtool

import (
	"os"
	"os/exec"
	"testing"
)

// InCI reports whether missing tools are failures.
func InCI() bool { return os.Getenv("OTACTL_CI") == "1" }

// Missing skips t loudly, or fails it in CI, naming what did not run.
func Missing(t testing.TB, what, install string) {
	t.Helper()
	if InCI() {
		t.Fatalf("%s is required in CI (%s)", what, install)
	}
	t.Skipf("SKIPPING: %s is not installed (%s); this interop test did not run", what, install)
}

// Require returns the path of the named program, or skips/fails t.
func Require(t testing.TB, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, name, install)
	}
	return p
}

// Boto3 returns a python3 that can import boto3, or skips/fails t.
func Boto3(t testing.TB) string {
	t.Helper()
	python, err := exec.LookPath("python3")
	if err == nil {
		err = exec.Command(python, "-c", "import boto3").Run()
	}
	if err != nil {
		Missing(t, "python3 with boto3", "preinstalled on these machines; pip install boto3")
	}
	return python
}
