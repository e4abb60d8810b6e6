package device_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/otactl/otactl/device"
	"github.com/otactl/otactl/device/devicetest"
)

// asks counts the agent's $next/get questions (its "next job" log line).
type asks chan struct{}

func (a asks) Enabled(context.Context, slog.Level) bool { return true }
func (a asks) WithAttrs([]slog.Attr) slog.Handler       { return a }
func (a asks) WithGroup(string) slog.Handler            { return a }
func (a asks) Handle(_ context.Context, rec slog.Record) error {
	if rec.Message == "agent: next job" {
		a <- struct{}{}
	}
	return nil
}

// TestAgentWaitsForNotifyNext: with nothing to do the agent asks $next/get
// once and then waits for notify-next, as the FreeRTOS OTA agent does. It
// asks nothing more while it waits (a polling agent would, within the
// pause: the old default polled every second); a job created meanwhile is
// announced, and taken with one question; one more follows the job.
func TestAgentWaitsForNotifyNext(t *testing.T) {
	e := devicetest.Start(t)
	e.Things("dev-1")
	cfg := e.Config("dev-1")
	cfg.Reboot = false // a reboot asks $next/get again: not what is counted here
	cfg.FirstJobTimeout = 0
	seen := make(asks, 64)
	cfg.Logger = slog.New(seen)
	done := make(chan *device.Result, 1)
	a, err := device.NewAgent(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(devicetest.Ctx, time.Minute)
	defer cancel()
	go func() { done <- a.Run(ctx) }()
	select {
	case <-seen:
	case <-ctx.Done():
		t.Fatal("the agent never asked for its next job")
	}
	// Not a timing assertion: a correct agent asks nothing here however
	// long the pause; the pause only gives a poller the chance to show.
	time.Sleep(1500 * time.Millisecond)
	if n := len(seen); n != 0 {
		t.Fatalf("the idle agent asked $next/get %d more times without a notification", n)
	}
	img := devicetest.Firmware(9000)
	job := e.Job(devicetest.Update{ID: "u1", Image: img}, "dev-1")
	res := <-done
	checkSucceeded(t, e, res, job, "dev-1", img)
	if n := len(seen); n != 2 {
		t.Fatalf("the agent asked $next/get %d times after the notification, want 2 (the job, then after it)", n)
	}
}

// cutter relays TCP connections to the broker; the test can cut them, and
// while it holds, new connections are closed as soon as they come.
type cutter struct {
	ln    net.Listener
	to    string
	mu    sync.Mutex
	held  bool
	conns []net.Conn
}

func newCutter(t *testing.T, to string) *cutter {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c := &cutter{ln: ln, to: to}
	t.Cleanup(func() { ln.Close(); c.cut(true) })
	go func() {
		for {
			down, err := ln.Accept()
			if err != nil {
				return
			}
			c.mu.Lock()
			if c.held {
				c.mu.Unlock()
				down.Close()
				continue
			}
			up, err := net.Dial("tcp", to)
			if err != nil {
				c.mu.Unlock()
				down.Close()
				continue
			}
			c.conns = append(c.conns, down, up)
			c.mu.Unlock()
			go func() { io.Copy(up, down); up.Close() }()
			go func() { io.Copy(down, up); down.Close() }()
		}
	}()
	return c
}

// cut closes every relayed connection; hold keeps new ones out until
// cut(false).
func (c *cutter) cut(hold bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.held = hold
	for _, conn := range c.conns {
		conn.Close()
	}
	c.conns = nil
}

// TestAgentIdleReconnectAsksAgain: a notify-next sent while the idle
// agent's connection is down never reaches it, so after reconnecting it
// asks $next/get again, and takes the job created while it was away.
func TestAgentIdleReconnectAsksAgain(t *testing.T) {
	e := devicetest.Start(t)
	e.Things("dev-1")
	link := newCutter(t, e.Broker.Addr())
	cfg := e.Config("dev-1")
	cfg.Endpoint = link.ln.Addr().String()
	cfg.Reboot = false
	cfg.FirstJobTimeout = 0
	seen := make(asks, 64)
	cfg.Logger = slog.New(seen)
	a, err := device.NewAgent(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(devicetest.Ctx, time.Minute)
	defer cancel()
	done := make(chan *device.Result, 1)
	go func() { done <- a.Run(ctx) }()
	select {
	case <-seen:
	case <-ctx.Done():
		t.Fatal("the agent never asked for its next job")
	}
	link.cut(true)
	img := devicetest.Firmware(9000)
	job := e.Job(devicetest.Update{ID: "u1", Image: img}, "dev-1") // its notify-next cannot reach the agent
	link.cut(false)
	res := <-done
	checkSucceeded(t, e, res, job, "dev-1", img)
	if res.Reconnects != 1 || len(seen) != 2 {
		t.Fatalf("reconnects %d, $next/get asked %d more times; want 1 and 2 (after the reconnect, after the job)", res.Reconnects, len(seen))
	}
}
