package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// server is the otactl local process both sides talk to.
type server struct {
	cmd  *exec.Cmd
	out  *lockedBuffer
	done chan struct{}
	err  error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startLocal starts `otactl local` on loopback ports with its own data
// directory and returns its endpoint once it has printed it.
func startLocal(ctx context.Context, bin, dataDir string) (*server, string, error) {
	s := &server{out: &lockedBuffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(bin, "local", "--addr", "127.0.0.1:0", "--mqtt-addr", "127.0.0.1:0",
		"--mqtts-addr", "", "--data-dir", dataDir)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	// Its own process group, killed with us.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return nil, "", fmt.Errorf("start otactl local: %w", err)
	}
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	const prefix = "export AWS_ENDPOINT_URL="
	deadline := time.After(30 * time.Second)
	for {
		for _, line := range strings.Split(s.out.String(), "\n") {
			if strings.HasPrefix(line, prefix) {
				return s, strings.TrimSpace(strings.TrimPrefix(line, prefix)), nil
			}
		}
		select {
		case <-s.done:
			return nil, "", fmt.Errorf("otactl local exited (%v):\n%s", s.err, s.out)
		case <-deadline:
			s.close()
			return nil, "", fmt.Errorf("otactl local not ready after 30 s:\n%s", s.out)
		case <-ctx.Done():
			s.close()
			return nil, "", ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// close stops the server (SIGTERM, then SIGKILL) and waits for it.
func (s *server) close() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// createArgs is `otactl create` with the sample's job configuration.
func createArgs(j Job, updateID string) []string {
	return []string{"create", "--update-id", updateID, "--bucket", j.Bucket, "--file-key", j.Key,
		"--signing-profile", j.Profile, "--role", j.Role, "--thing-group", j.Group,
		"--target-selection", "SNAPSHOT", "--retries", "3", "--retry-on", "TIMED_OUT", "--timeout", "10m",
		"--start", "+1h", "--end", "+1h", "--end-behavior", "CANCEL", "--output", "json"}
}

// runCreate runs `otactl create` as its own process, as a user would, and
// returns its wall time (exec to exit) and CPU time (user + system).
func runCreate(ctx context.Context, bin, endpoint string, args []string) (wall, cpu time.Duration, err error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "AWS_ENDPOINT_URL="+endpoint, "AWS_ACCESS_KEY_ID=AKIDLOCAL",
		"AWS_SECRET_ACCESS_KEY=secret", "AWS_REGION=us-east-1", "AWS_PROFILE=", "AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	t0 := time.Now()
	err = cmd.Run()
	wall = time.Since(t0)
	if cmd.ProcessState != nil {
		cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	if err != nil {
		return wall, cpu, fmt.Errorf("otactl %s: %w\n%s", strings.Join(args, " "), err, out.String())
	}
	return wall, cpu, nil
}

// loadAvg is the first three fields of /proc/loadavg.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}
