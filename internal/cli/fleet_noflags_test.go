package cli

import (
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/otactl/otactl/device"
	"github.com/otactl/otactl/local/localtest"
	"github.com/otactl/otactl/local/mqtt"
)

// inLocalDir makes the test's working directory one where otactl local
// runs: ./.otactl is its data directory, as when it is started there.
func inLocalDir(t *testing.T, env *localtest.Env) string {
	t.Helper()
	dir := t.TempDir()
	data := env.Server.Config().DataDir
	if err := os.Symlink(data, filepath.Join(dir, ".otactl")); err != nil {
		t.Fatal(err)
	}
	t.Chdir(dir)
	t.Setenv("AWS_ENDPOINT_URL", env.URL)
	return data
}

// TestFleetNeedsNoFlagsAgainstLocal: the README's `otactl fleet --thing
// sensor-1 --signing-profile NAME`: the endpoint from DescribeEndpoint (the
// mutual-TLS listener), the CA from ./.otactl/ca.pem, a certificate per
// device made in <data dir>/fleet-certs with the thing policy, and the
// code-signing certificate through GetSigningProfile and ACM.
func TestFleetNeedsNoFlagsAgainstLocal(t *testing.T) {
	env, _ := fleetLocal(t, "MQTT", true, "dev-1", "dev-2")
	data := inLocalDir(t, env)
	code, stdout, stderr := run(t, append([]string{"fleet", "--thing", "dev-1,dev-2", "--signing-profile", "fw_signer", "-o", "json"}, fastFleet...)...)
	if code != ExitOK {
		t.Fatalf("exit %d: %s\n%s", code, stderr, stdout)
	}
	var rep device.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil || rep.Stats.Succeeded != 2 {
		t.Fatalf("%v: %s", err, stdout)
	}
	for _, th := range []string{"dev-1", "dev-2"} {
		if _, err := os.Stat(filepath.Join(data, fleetCertDir, th+".crt")); err != nil {
			t.Fatal(err)
		}
	}
	if !strings.Contains(stderr, "making certificates for 2 devices") {
		t.Fatalf("stderr: %s", stderr)
	}
	// Again: the certificates are there and registered; none is made.
	code, _, stderr = run(t, append(append([]string{"fleet", "--thing", "dev-1", "--signing-profile", "fw_signer"}, fastFleet...), "--run-timeout", "1s")...)
	if strings.Contains(stderr, "making certificates") {
		t.Fatalf("exit %d, made certificates again: %s", code, stderr)
	}
}

// TestFleetSaysWhyItCannotConnect: one line with the reason and what to
// pass, instead of a row per device.
func TestFleetSaysWhyItCannotConnect(t *testing.T) {
	env, _ := fleetLocal(t, "MQTT", true, "dev-1", "dev-2", "dev-3")
	t.Chdir(t.TempDir()) // no ./.otactl here
	t.Setenv("AWS_ENDPOINT_URL", env.URL)
	closed := freePort(t)
	otherCA := filepath.Join(t.TempDir(), "ca.pem")
	ca, err := mqtt.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(otherCA, ca.CertPEM(), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"nothing listens", []string{"--endpoint", closed}, ExitFailure, []string{"cannot connect to the MQTT endpoint " + closed, "is otactl local running", "--endpoint HOST:PORT"}},
		{"mutual TLS without certificates", nil, ExitFailure, []string{"is a mutual-TLS listener", "--cert-dir DIR", "--ca FILE", ".otactl/ca.pem"}},
		{"a CA that did not sign the broker", []string{"--ca", otherCA}, ExitFailure, []string{"not signed by a CA the devices trust", "pass --ca FILE"}},
		{"a thing that does not exist", []string{"--ca", filepath.Join(env.Server.Config().DataDir, "ca.pem"), "--thing", "nope-1"}, ExitInvalid, []string{"no such thing: nope-1", "--create-things"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			args := append([]string{"fleet", "--signing-profile", "fw_signer"}, tc.args...)
			if !strings.Contains(strings.Join(tc.args, " "), "--thing") {
				args = append(args, "--thing", "dev-1,dev-2,dev-3")
			}
			code, stdout, stderr := run(t, append(args, fastFleet...)...)
			lines := strings.Split(strings.TrimSpace(stderr), "\n")
			if code != tc.code || len(lines) != 1 || stdout != "" {
				t.Fatalf("exit %d (want %d), %d lines:\n%s\nstdout:\n%s", code, tc.code, len(lines), stderr, stdout)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Fatalf("%q not in: %s", w, stderr)
				}
			}
		})
	}
	// Certificates without a policy: the broker refuses every CONNECT; the
	// three devices are one line with what to check.
	certs := filepath.Join(t.TempDir(), "certs")
	code, stdout, stderr := run(t, append([]string{"fleet", "--thing", "dev-1,dev-2,dev-3", "--signing-profile", "fw_signer",
		"--cert-dir", certs, "--policy", "", "--ca", filepath.Join(env.Server.Config().DataDir, "ca.pem")}, fastFleet...)...)
	row := regexp.MustCompile(`(?m)^dev-1, dev-2, dev-3\s+ERROR\s+connect 127\.0\.0\.1:\d+ as <thing>: .*\n\s+→ the broker closed the connection`)
	if code != ExitFailure || !row.MatchString(stdout) || strings.Count(stdout, "ERROR") != 1 {
		t.Fatalf("exit %d:\n%s\n%s", code, stdout, stderr)
	}
}

// freePort is a loopback port that was just free, and nothing listens on.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// otactlBinary builds otactl for tests that signal it as a user would.
func otactlBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "otactl")
	if out, err := exec.Command("go", "build", "-o", bin, "../../cmd/otactl").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// TestFleetWaitsAndCtrlC: devices with no job say they are waiting (a line
// per change off a terminal); SIGINT stops them and prints the partial
// summary, exit 130.
func TestFleetWaitsAndCtrlC(t *testing.T) {
	bin := otactlBinary(t)
	env, _ := fleetLocal(t, "MQTT", true, "dev-1")
	inLocalDir(t, env)
	var stdout, stderr lockedBuffer
	cmd := exec.Command(bin, "fleet", "--thing", "idle-1,idle-2", "--create-things", "--signing-profile", "fw_signer")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for !strings.Contains(stderr.String(), "2 of 2 devices connected, waiting for jobs") {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no waiting line:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	ee, ok := err.(*exec.ExitError)
	if !ok || ee.ExitCode() != exitInterrupted {
		t.Fatalf("exit %v, want %d:\n%s", err, exitInterrupted, stderr.String())
	}
	want := regexp.MustCompile(`(?s)DEVICES\s+SUCCEEDED.*\n2\s+0\s+2\s+.*idle-1, idle-2\s+NO_JOB\s+no job before the run ended`)
	if !want.MatchString(stdout.String()) || !strings.Contains(stderr.String(), "interrupted; what the devices did so far") {
		t.Fatalf("partial summary:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
}

// TestDescribeWatch: describe --watch --plain follows a job while a fleet
// takes it, a line per change, and exits with the job's outcome.
func TestDescribeWatch(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fleet []string
		code  int
		last  string
	}{
		{"every device succeeds", nil, ExitOK, "Job AFR_OTA-fw-mqtt COMPLETED: all 2 executions SUCCEEDED"},
		{"devices fail", []string{"--reject-signature"}, ExitFailure, "job AFR_OTA-fw-mqtt COMPLETED: FAILED 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, _ := fleetLocal(t, "MQTT", true, "w-1", "w-2")
			inLocalDir(t, env)
			var stdout, stderr lockedBuffer
			done := make(chan int)
			go func() {
				done <- Main([]string{"describe", "fw-mqtt", "--watch", "--plain", "--interval", "50ms"}, &stdout, &stderr)
			}()
			deadline := time.Now().Add(time.Minute)
			for !strings.Contains(stdout.String(), "QUEUED 2  0/2 done") {
				if time.Now().After(deadline) {
					t.Fatalf("no first line:\n%s\n%s", stdout.String(), stderr.String())
				}
				time.Sleep(10 * time.Millisecond)
			}
			run(t, append(append([]string{"fleet", "--thing", "w-1,w-2", "--signing-profile", "fw_signer"}, tc.fleet...), fastFleet...)...)
			code := <-done
			out := strings.TrimSpace(stdout.String())
			if code != tc.code || !strings.Contains(out+stderr.String(), tc.last) {
				t.Fatalf("exit %d (want %d):\n%s\n%s", code, tc.code, out, stderr.String())
			}
			if !regexp.MustCompile(`(?m)^\d\d:\d\d:\d\d  COMPLETED  `).MatchString(out) {
				t.Fatalf("no COMPLETED line:\n%s", out)
			}
		})
	}
}
