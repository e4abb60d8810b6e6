package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/otactl/otactl/bench/internal/localproc"
)

// server is a broker process the benchmark started and watches: its peak
// memory (the kernel's VmHWM, and VmRSS sampled while it runs) and its CPU
// time, read from /proc.
type server struct {
	name string
	cmd  *exec.Cmd
	pid  int
	out  *localproc.Output // what it printed, for errors and address parsing
	done chan struct{}
	err  error

	mu        sync.Mutex
	sampledMB float64 // highest VmRSS seen by the sampler, MiB
	stop      chan struct{}
	stopped   chan struct{}
}

// startServer starts name with args and samples its VmRSS every 100 ms.
func startServer(name, bin string, args ...string) (*server, error) {
	return startServerEnv(name, bin, nil, args...)
}

// startServerEnv is startServer with extra environment variables.
func startServerEnv(name, bin string, env []string, args ...string) (*server, error) {
	s := &server{name: name, out: &localproc.Output{}, done: make(chan struct{}), stop: make(chan struct{}), stopped: make(chan struct{})}
	s.cmd = exec.Command(bin, args...)
	if env != nil {
		s.cmd.Env = append(os.Environ(), env...)
	}
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	// Its own process group, so that an interrupted benchmark leaves no
	// broker behind when the group is signalled.
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	s.pid = s.cmd.Process.Pid
	go func() {
		s.err = s.cmd.Wait()
		close(s.done)
	}()
	go s.sample()
	return s, nil
}

func (s *server) sample() {
	defer close(s.stopped)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		if st, err := procStatus(s.pid); err == nil {
			s.mu.Lock()
			s.sampledMB = max(s.sampledMB, st["VmRSS"])
			s.mu.Unlock()
		}
		select {
		case <-s.stop:
			return
		case <-s.done:
			return
		case <-t.C:
		}
	}
}

// waitFor waits until the process has printed a line starting with each
// prefix and returns the rest of those lines.
func (s *server) waitFor(ctx context.Context, prefixes ...string) ([]string, error) {
	for {
		found := make([]string, len(prefixes))
		n := 0
		for _, line := range strings.Split(s.out.String(), "\n") {
			for i, p := range prefixes {
				if found[i] == "" && strings.HasPrefix(line, p) {
					found[i] = strings.TrimSpace(strings.TrimPrefix(line, p))
					n++
				}
			}
		}
		if n == len(prefixes) {
			return found, nil
		}
		select {
		case <-s.done:
			return nil, fmt.Errorf("%s exited (%v) before it was ready:\n%s", s.name, s.err, s.out)
		case <-ctx.Done():
			return nil, fmt.Errorf("%s not ready: %w\n%s", s.name, context.Cause(ctx), s.out)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// memory is the process's peak RSS (VmHWM) and the highest sampled VmRSS, MiB.
func (s *server) memory() (hwm, sampled float64) {
	if st, err := procStatus(s.pid); err == nil {
		hwm = st["VmHWM"]
		s.mu.Lock()
		s.sampledMB = max(s.sampledMB, st["VmRSS"])
		s.mu.Unlock()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return hwm, s.sampledMB
}

// signal sends sig to the process (profiling switches).
func (s *server) signal(sig os.Signal) { _ = s.cmd.Process.Signal(sig) }

// cpu is the process's user+system CPU time so far.
func (s *server) cpu() time.Duration { return localproc.ProcCPU(s.pid) }

// close stops the process (SIGTERM, then SIGKILL) and waits for it.
func (s *server) close() {
	select {
	case <-s.stop:
	default:
		close(s.stop)
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
	<-s.stopped
}

// procStatus reads the kB fields of /proc/<pid>/status, in MiB.
func procStatus(pid int) (map[string]float64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || !strings.HasSuffix(v, " kB") {
			continue
		}
		n, err := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(v, " kB")), 64)
		if err == nil {
			out[k] = n / 1024
		}
	}
	return out, sc.Err()
}

// freePort reserves a loopback port for a server that cannot pick its own
// (mosquitto); the small race with other programs is acceptable here.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// buildOtactl builds cmd/otactl (or, to profile it, bench/fleet/profiled:
// the same program with profiling switches) into dir, with the go tool
// that runs us.
func buildOtactl(ctx context.Context, dir string, profiled bool, log io.Writer) (string, error) {
	bin, pkg := filepath.Join(dir, "otactl"), "github.com/otactl/otactl/cmd/otactl"
	if profiled {
		pkg = "github.com/otactl/otactl/bench/fleet/profiled"
	}
	fmt.Fprintf(log, "building otactl (go build -o %s %s)\n", bin, pkg)
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, pkg)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build otactl (run inside the module, or pass -otactl): %v\n%s", err, out)
	}
	return bin, nil
}
