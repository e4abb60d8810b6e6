package cli

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/otactl/otactl/internal/testtool"
)

// headless is a real headless Chromium (Debian's chromium, driven over the
// DevTools protocol with chromedp) for the console's and the report's
// browser tests. It collects the page's console errors and uncaught
// exceptions.
type headless struct {
	ctx context.Context

	mu     sync.Mutex
	errors []string
}

func newHeadless(t *testing.T) *headless {
	t.Helper()
	path := testtool.Require(t, "chromium", "apt-get install -y chromium")
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox, // tests run as root in CI
		chromedp.WindowSize(1280, 1000),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	h := &headless{ctx: ctx}
	if err := chromedp.Do(ctx); err != nil { // starts the browser
		cancel()
		cancelAlloc()
		t.Fatalf("starting chromium: %v", err)
	}
	msgs := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range msgs {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				h.mu.Lock()
				h.errors = append(h.errors, m.URL+": "+m.String())
				h.mu.Unlock()
			}
		}
	}()
	t.Cleanup(func() { cancel(); cancelAlloc(); <-done })
	return h
}

// Errors returns the console errors and exceptions seen so far ("URL:
// message"), but those about a URL in except.
func (h *headless) Errors(except ...string) []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
next:
	for _, e := range h.errors {
		for _, u := range except {
			if strings.HasPrefix(e, u+": ") {
				continue next
			}
		}
		out = append(out, e)
	}
	return out
}

func (h *headless) do(t *testing.T, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	ctx, cancel := context.WithTimeout(h.ctx, time.Minute) // a guard against a hang
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		t.Fatal(err)
	}
}

// eval returns the value of a JavaScript expression in the page.
func eval[T any](t *testing.T, h *headless, expr string, opts ...chromedp.EvaluateOption) T {
	t.Helper()
	v, err := tryEval[T](h, expr, opts...)
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

func tryEval[T any](h *headless, expr string, opts ...chromedp.EvaluateOption) (T, error) {
	// A bound per call, so that a page that navigates away mid-call cannot
	// hang the test (the browser then answers nothing).
	ctx, cancel := context.WithTimeout(h.ctx, 10*time.Second)
	defer cancel()
	return chromedp.Run(ctx, chromedp.Evaluate[T](expr, opts...))
}

// waitTrue evaluates expr until it is true. The deadline is a guard
// against a hang, not a timing assertion.
func waitTrue(t *testing.T, h *headless, what, expr string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		ok, err := tryEval[bool](h, expr)
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: never true (last error %v)", what, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// screenshot keeps a full-page screenshot as a test artifact: in
// $OTACTL_ARTIFACTS when set, else in the test's temporary directory
// (never in the repository).
func (h *headless) screenshot(t *testing.T, name string) {
	t.Helper()
	png, err := chromedp.Run(h.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	dir := os.Getenv("OTACTL_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", p)
}
