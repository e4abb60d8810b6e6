// Package localproc starts `otactl local` as its own process for the
// benchmarks that compare it with another tool on the same machine.
package localproc

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"
)

// Server is a running otactl local.
type Server struct {
	Endpoint string // http://127.0.0.1:<port>
	DataDir  string
	cmd      *exec.Cmd
	out      *Output
	done     chan struct{}
	err      error
}

// Build builds this module's otactl into dir and returns its path.
func Build(ctx context.Context, dir string) (string, error) {
	bin := dir + "/otactl"
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/otactl/otactl/cmd/otactl")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("build otactl: %w", err)
	}
	return bin, nil
}

// Start starts `otactl local` on loopback ports with its data in dataDir
// and returns once it has printed its endpoint. env adds to its environment.
func Start(ctx context.Context, bin, dataDir string, env ...string) (*Server, error) {
	s := &Server{DataDir: dataDir, out: &Output{}, done: make(chan struct{})}
	s.cmd = exec.Command(bin, "local", "--addr", "127.0.0.1:0", "--mqtt-addr", "127.0.0.1:0",
		"--mqtts-addr", "", "--data-dir", dataDir)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	if len(env) > 0 {
		s.cmd.Env = append(os.Environ(), env...)
	}
	// Its own process group, killed with the benchmark.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start otactl local: %w", err)
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
				s.Endpoint = strings.TrimSpace(strings.TrimPrefix(line, prefix))
				return s, nil
			}
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("otactl local exited (%v):\n%s", s.err, s.out)
		case <-deadline:
			s.Close()
			return nil, fmt.Errorf("otactl local not ready after 30 s:\n%s", s.out)
		case <-ctx.Done():
			s.Close()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Pid is the server's process id.
func (s *Server) Pid() int { return s.cmd.Process.Pid }

// Signal sends sig to the server (bench/fleet/profiled's profiling switches).
func (s *Server) Signal(sig os.Signal) { _ = s.cmd.Process.Signal(sig) }

// Close stops the server (SIGTERM, then SIGKILL) and waits for it.
func (s *Server) Close() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}
