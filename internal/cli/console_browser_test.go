package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/chromedp/chromedp"
)

// pageCounts reads the job page's process details (AWS's member names →
// count) and status from the DOM.
const pageCounts = `JSON.stringify((() => {
  const o = {};
  document.querySelectorAll("#live .process [data-count]").forEach(e => o[e.dataset.count] = Number(e.textContent));
  const s = document.getElementById("job-status");
  o.status = s ? s.textContent : "";
  return o;
})())`

// describeCounts is DescribeJob's answer in the same shape.
func describeCounts(t *testing.T, c *sdkiot.Client, id string) map[string]any {
	t.Helper()
	j, err := c.DescribeJob(context.Background(), &sdkiot.DescribeJobInput{JobId: aws.String(id)})
	if err != nil {
		t.Fatal(err)
	}
	p := j.Job.JobProcessDetails
	n := func(v *int32) float64 { return float64(aws.ToInt32(v)) }
	return map[string]any{"status": string(j.Job.Status),
		"numberOfQueuedThings": n(p.NumberOfQueuedThings), "numberOfInProgressThings": n(p.NumberOfInProgressThings),
		"numberOfSucceededThings": n(p.NumberOfSucceededThings), "numberOfFailedThings": n(p.NumberOfFailedThings),
		"numberOfRejectedThings": n(p.NumberOfRejectedThings), "numberOfCanceledThings": n(p.NumberOfCanceledThings),
		"numberOfRemovedThings": n(p.NumberOfRemovedThings), "numberOfTimedOutThings": n(p.NumberOfTimedOutThings)}
}

func sameCounts(page string, api map[string]any) bool {
	var got map[string]any
	if json.Unmarshal([]byte(page), &got) != nil || len(got) != len(api) {
		return false
	}
	for k, v := range api {
		if got[k] != v {
			return false
		}
	}
	return true
}

// TestConsoleInChromium is the console as a user sees it: otactl local
// with an update made by otactl create for four devices, the job page
// open in headless Chromium while two devices take the job, each failing
// its first attempt (a retry), over MQTT with mutual TLS. The page follows
// DescribeJob's counts without a reload, during the run and after; a
// cancel posted from another origin is refused; "Cancel job" cancels.
func TestConsoleInChromium(t *testing.T) {
	h := newHeadless(t)
	things := []string{"dev-1", "dev-2", "dev-3", "dev-4"}
	env, cert := fleetLocal(t, "MQTT", true, things...)
	c := sdkiot.NewFromConfig(env.Config)
	const job = "AFR_OTA-fw-mqtt"
	jobURL := env.URL + "/console/jobs/" + job

	h.do(t, chromedp.Navigate(jobURL), chromedp.WaitVisible(chromedp.CSS(`.chart[data-chart="status"] canvas`)))
	eval[bool](t, h, `window.sameDocument = true`) // gone if the page reloads

	// Two devices run (failing their first attempt) while the page is open.
	ca := filepath.Join(env.Server.Config().DataDir, "ca.pem")
	fleetDone := make(chan string, 1)
	go func() {
		code, stdout, stderr := run(t, append([]string{"fleet", "-o", "json", "--things", "dev-1,dev-2", "--endpoint-url", env.URL,
			"--signing-cert", cert, "--create-things", "--cert-dir", filepath.Join(t.TempDir(), "certs"), "--ca", ca,
			"--fail-first", "1", "--slow", "5ms"}, fastFleet...)...)
		if code != ExitOK {
			fleetDone <- fmt.Sprintf("fleet: exit %d\n%s\n%s", code, stdout, stderr)
			return
		}
		fleetDone <- ""
	}()
	matchedDuring := 0
	for running := true; running; {
		select {
		case msg := <-fleetDone:
			if msg != "" {
				t.Fatal(msg)
			}
			running = false
		default:
			if sameCounts(eval[string](t, h, pageCounts), describeCounts(t, c, job)) {
				matchedDuring++
			}
		}
	}
	t.Logf("page matched DescribeJob %d times while the devices ran", matchedDuring)

	// The job runs on: two devices done (after a retry each), two queued.
	api := describeCounts(t, c, job)
	if api["status"] != "IN_PROGRESS" || api["numberOfSucceededThings"] != 2.0 || api["numberOfQueuedThings"] != 2.0 {
		t.Fatalf("DescribeJob after the two devices: %v", api)
	}
	waitCounts(t, h, c, job)
	if !eval[bool](t, h, `window.sameDocument === true && Number(document.documentElement.dataset.refreshed) > 0`) {
		t.Fatal("the page reloaded, or never updated itself")
	}
	// dev-1's page lists its first attempt, FAILED, closed by the retry.
	attempts, err := tryEval[string](h, `fetch("/console/jobs/`+job+`/things/dev-1").then(r => r.text())`, chromedp.EvalAwaitPromise)
	if err != nil || !strings.Contains(attempts, `<td>#1</td><td><span class="status st-failed">FAILED</span>`) {
		t.Fatalf("dev-1's attempts (%v):\n%s", err, attempts)
	}
	h.screenshot(t, "console-job-running.png")

	if errs := h.Errors(); len(errs) > 0 {
		t.Fatalf("console errors: %v", errs)
	}
	// A page of another origin posts the cancel form: refused, nothing
	// changes (Chromium logs the 403 as an error about that URL, and the
	// favicon it then asks for on the refusal's plain-text page is S3's 403:
	// both let aside).
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprintf(w, `<form id=f method=post action="%s/cancel"><input name=csrf value=guess></form><script>f.submit()</script>`, jobURL)
	}))
	defer evil.Close()
	h.do(t, chromedp.Navigate(evil.URL))
	waitTrue(t, h, "the cross-origin post's answer", `!!document.body && document.body.innerText.includes("refused")`)
	if body := eval[string](t, h, `document.body.innerText`); !strings.Contains(body, "cross-origin") {
		t.Fatalf("cross-origin cancel answered: %s", body)
	}
	if api := describeCounts(t, c, job); api["status"] != "IN_PROGRESS" {
		t.Fatalf("after the cross-origin post the job is %v", api["status"])
	}

	// "Cancel job" on the page: the job and its queued executions are canceled.
	h.do(t, chromedp.Navigate(jobURL), chromedp.WaitVisible(chromedp.ID("cancel-job")))
	eval[bool](t, h, `document.getElementById("cancel-job").click(), true`)
	waitTrue(t, h, "the job page after Cancel job", `!!document.getElementById("job-status") && document.getElementById("job-status").textContent === "CANCELED"`)
	api = describeCounts(t, c, job)
	if api["status"] != "CANCELED" || api["numberOfCanceledThings"] != 2.0 {
		t.Fatalf("DescribeJob after Cancel job: %v", api)
	}
	waitCounts(t, h, c, job)
	if errs := h.Errors(jobURL+"/cancel", env.URL+"/favicon.ico"); len(errs) > 0 {
		t.Fatalf("console errors: %v", errs)
	}
	h.screenshot(t, "console-job-canceled.png")
}

// waitCounts polls the page until it shows DescribeJob's counts (which
// must not change meanwhile).
func waitCounts(t *testing.T, h *headless, c *sdkiot.Client, job string) {
	t.Helper()
	b, _ := json.Marshal(describeCounts(t, c, job))
	waitTrue(t, h, "the page showing DescribeJob's "+string(b), fmt.Sprintf(`(() => { const want = %s; const got = JSON.parse(%s);
  return Object.keys(want).every(k => got[k] === want[k]); })()`, b, pageCounts))
}
