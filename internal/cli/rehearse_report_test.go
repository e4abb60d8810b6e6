package cli

import (
	"encoding/json"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/otactl/otactl/local/jobs"
)

// TestRehearseReportInChromium: the report of the README's example spec
// with many failures (retries, then the abort) opens in headless Chromium
// without console errors, and what its charts plot equals the JSON
// timeline --output json printed in the same run.
func TestRehearseReportInChromium(t *testing.T) {
	h := newHeadless(t)
	report := filepath.Join(t.TempDir(), "rehearsal.html")
	code, stdout, stderr := run(t, "rehearse", "../../examples/firmware-update.yaml", "--devices", "400", "--failure-rate", "0.6",
		"--seed", "3", "--start", "2030-01-07T00:00:00Z", "--report", report, "-o", "json")
	if code != ExitFailure || !strings.Contains(stderr, "the job aborted") { // the campaign aborts: rehearse exits 1 (--fail-on)
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var r jobs.Rehearsal
	if err := json.Unmarshal([]byte(stdout), &r); err != nil {
		t.Fatal(err)
	}
	if !r.Aborted || r.Retries == 0 || len(r.MaintenanceWindows) == 0 || len(r.Progress) < 3 {
		t.Fatalf("want a rehearsal with retries, an abort and windows: aborted %v, retries %d, windows %d, samples %d",
			r.Aborted, r.Retries, len(r.MaintenanceWindows), len(r.Progress))
	}
	h.do(t, chromedp.Navigate("file://"+report),
		chromedp.WaitVisible(chromedp.CSS("#status-chart canvas")),
		chromedp.WaitVisible(chromedp.CSS("#rate-chart canvas")))
	embedded := eval[string](t, h, `document.getElementById("rehearsal").textContent`)
	plots := eval[string](t, h, `JSON.stringify(window.otaPlots)`)
	timeline := eval[string](t, h, `document.getElementById("timeline").textContent`)
	if errs := h.Errors(); len(errs) > 0 {
		t.Fatalf("console errors: %v", errs)
	}
	if strings.TrimSpace(embedded) != strings.TrimSpace(stdout) {
		t.Fatal("the report's embedded JSON is not what --output json printed")
	}
	if !strings.Contains(timeline, "aborted") || !strings.Contains(timeline, "window opened 2030-01-07 02:00") {
		t.Errorf("text timeline:\n%s", timeline)
	}
	var got struct {
		Status, Rate struct {
			Data    [][]float64 `json:"data"`
			Windows [][]float64 `json:"windows"`
			Retries []float64   `json:"retries"`
			Aborts  []float64   `json:"aborts"`
		}
	}
	if err := json.Unmarshal([]byte(plots), &got); err != nil {
		t.Fatalf("%v: %s", err, plots)
	}
	want := reportSeries(&r)
	for name, pair := range map[string][2][][]float64{
		"status": {got.Status.Data, want.status}, "rate": {got.Rate.Data, want.rate},
		"windows": {got.Status.Windows, want.windows}, "retries": {{got.Status.Retries}, {want.retries}},
		"aborts": {{got.Status.Aborts}, {want.aborts}},
	} {
		if !sameSeries(pair[0], pair[1]) {
			t.Errorf("%s plotted %v, the JSON says %v", name, clip(pair[0]), clip(pair[1]))
		}
	}
	h.screenshot(t, "rehearsal-report.png")
}

type series struct {
	status, rate, windows [][]float64
	retries, aborts       []float64
}

// reportSeries computes from the JSON what each chart must plot: the
// counts by status at each sample (in charts.js's order), the things of
// the waves summed by minute, the windows, retry and abort times.
func reportSeries(r *jobs.Rehearsal) series {
	sec := func(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
	var s series
	s.status = make([][]float64, 9)
	for _, p := range r.Progress {
		c := p.Counts
		for i, v := range []int{-1, c.Succeeded, c.Failed, c.TimedOut, c.Rejected, c.Canceled, c.Removed, c.InProgress, c.Queued} {
			if i == 0 {
				s.status[0] = append(s.status[0], sec(p.At))
				continue
			}
			s.status[i] = append(s.status[i], float64(v))
		}
	}
	perMinute := map[int64]int{}
	var minutes []int64
	for _, ev := range r.Timeline {
		switch ev.Kind {
		case jobs.EventWave:
			m := ev.At.Truncate(time.Minute).Unix()
			if _, ok := perMinute[m]; !ok {
				minutes = append(minutes, m)
			}
			perMinute[m] += ev.Things
		case jobs.EventRetry:
			s.retries = append(s.retries, sec(ev.At))
		case jobs.EventAborted:
			s.aborts = append(s.aborts, sec(ev.At))
		}
	}
	s.rate = [][]float64{nil, nil}
	for _, m := range minutes { // the timeline is in time order
		s.rate[0] = append(s.rate[0], float64(m))
		s.rate[1] = append(s.rate[1], float64(perMinute[m]))
	}
	for _, w := range r.MaintenanceWindows {
		s.windows = append(s.windows, []float64{sec(w.Start), sec(w.End)})
	}
	return s
}

func sameSeries(a, b [][]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if len(a[i]) != len(b[i]) {
			return false
		}
		for j := range a[i] {
			if math.Abs(a[i][j]-b[i][j]) > 1e-3 {
				return false
			}
		}
	}
	return true
}

func clip(a [][]float64) string {
	b, _ := json.Marshal(a)
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}
