package local_test

import (
	"bufio"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	iottypes "github.com/aws/aws-sdk-go-v2/service/iot/types"
	sdks3 "github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/otactl/otactl/local"
	"github.com/otactl/otactl/local/iot"
	"github.com/otactl/otactl/local/localtest"
)

// consoleEnv is otactl local with a thing group of three things, a job
// on it with a retry and abort configuration, one execution downloading
// (receive 3/10), a versioned bucket with two versions of a key.
func consoleEnv(t *testing.T) (*localtest.Env, *sdkiot.Client) {
	t.Helper()
	env := localtest.Start(t)
	c := sdkiot.NewFromConfig(env.Config)
	if _, err := c.CreateThingGroup(ctx, &sdkiot.CreateThingGroupInput{ThingGroupName: aws.String("fleet")}); err != nil {
		t.Fatal(err)
	}
	for _, th := range []string{"dev-1", "dev-2", "dev-3"} {
		if _, err := c.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String(th)}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.AddThingToThingGroup(ctx, &sdkiot.AddThingToThingGroupInput{ThingName: aws.String(th), ThingGroupName: aws.String("fleet")}); err != nil {
			t.Fatal(err)
		}
	}
	arn := "arn:aws:iot:us-east-1:000000000000:thinggroup/fleet"
	_, err := c.CreateJob(ctx, &sdkiot.CreateJobInput{JobId: aws.String("job-1"), Targets: []string{arn},
		Document:                 aws.String(`{"afr_ota":{"protocols":["MQTT"],"files":[{"filesize":10,"fileid":0}]}}`),
		JobExecutionsRetryConfig: &iottypes.JobExecutionsRetryConfig{CriteriaList: []iottypes.RetryCriteria{{FailureType: "FAILED", NumberOfRetries: aws.Int32(2)}}},
		AbortConfig: &iottypes.AbortConfig{CriteriaList: []iottypes.AbortCriteria{{FailureType: "FAILED", Action: "CANCEL",
			ThresholdPercentage: aws.Float64(50), MinNumberOfExecutedThings: aws.Int32(2)}}}})
	if err != nil {
		t.Fatal(err)
	}
	svc := env.Server.Service("iot").(*iot.Service)
	if _, err := svc.UpdateExecution("dev-2", "job-1", iot.ExecutionUpdate{Status: "IN_PROGRESS", StatusDetails: map[string]string{"receive": "3/10"}}); err != nil {
		t.Fatal(err)
	}
	s3c := sdks3.NewFromConfig(env.Config, func(o *sdks3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &sdks3.CreateBucketInput{Bucket: aws.String("fw-bucket")}); err != nil {
		t.Fatal(err)
	}
	s3c.PutBucketVersioning(ctx, &sdks3.PutBucketVersioningInput{Bucket: aws.String("fw-bucket"),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}})
	for _, body := range []string{`{"rawPayloadSize":4,"signature":"AA==","signatureAlgorithm":"SHA256withECDSA","payload":"AAAA"}`, "\x00\x01\x02\x03"} {
		if _, err := s3c.PutObject(ctx, &sdks3.PutObjectInput{Bucket: aws.String("fw-bucket"), Key: aws.String("signed/fw.bin"), Body: strings.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	return env, c
}

// browser is an HTTP client that keeps the console's session cookie.
func consoleClient(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func consoleGet(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func wantAll(t *testing.T, what, body string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(body, p) {
			t.Errorf("%s lacks %q", what, p)
		}
	}
}

// TestConsolePages reads every page over HTTP and checks what it shows.
func TestConsolePages(t *testing.T) {
	env, _ := consoleEnv(t)
	b := consoleClient(t)
	code, body := consoleGet(t, b, env.URL+"/console/")
	if code != 200 {
		t.Fatalf("overview: %d %s", code, body)
	}
	wantAll(t, "overview", body, `href="/console/jobs/job-1"`, `data-count="numberOfQueuedThings">2<`,
		`data-count="numberOfInProgressThings">1<`, ">dev-3<", ">fleet<", `/console/assets/vendor/uPlot.iife.min.js`)
	code, body = consoleGet(t, b, env.URL+"/console/jobs/job-1")
	if code != 200 {
		t.Fatalf("job: %d %s", code, body)
	}
	wantAll(t, "job page", body, `id="job-status" data-field="status">IN_PROGRESS<`, `id="cancel-job"`,
		"FAILED: up to 2", "CANCEL when FAILED ≥ 50% once 2 things ran", `value="3" title="3/10 blocks"`,
		`data-chart="status"`, `data-count="numberOfQueuedThings">2<`)
	code, body = consoleGet(t, b, env.URL+"/console/jobs/job-1?status=IN_PROGRESS")
	if code != 200 || strings.Contains(body, `data-thing="dev-1"`) || !strings.Contains(body, `data-thing="dev-2"`) {
		t.Fatalf("filtered job page: %d\n%s", code, body)
	}
	code, body = consoleGet(t, b, env.URL+"/console/jobs/job-1?thing=dev-3")
	if code != 200 || strings.Contains(body, `data-thing="dev-2"`) || !strings.Contains(body, `data-thing="dev-3"`) {
		t.Fatalf("job page filtered by thing: %d", code)
	}
	code, body = consoleGet(t, b, env.URL+"/console/jobs/job-1/things/dev-2")
	wantAll(t, "execution page", body, "3/10 blocks (30%)", `&#34;receive&#34;:&#34;3/10&#34;`, `id="cancel-execution"`)
	if code != 200 {
		t.Fatalf("execution: %d", code)
	}
	code, body = consoleGet(t, b, env.URL+"/console/jobs/job-1/series")
	wantAll(t, "series", body, `"progress":[{"at":`, `"numberOfInProgressThings":1`)
	code, body = consoleGet(t, b, env.URL+"/console/objects")
	if code != 200 || !regexp.MustCompile(`(?s)signed/fw.bin.*tag raw.*signed/fw.bin.*tag signed`).MatchString(body) {
		t.Fatalf("objects page (newest version raw, older signed): %d\n%s", code, body)
	}
	for _, p := range []string{"/console/streams", "/console/signing", "/console/assets/console.js", "/console/assets/vendor/uPlot.iife.min.js"} {
		if code, _ := consoleGet(t, b, env.URL+p); code != 200 {
			t.Errorf("GET %s: %d", p, code)
		}
	}
	if code, body := consoleGet(t, b, env.URL+"/console/jobs/nope"); code != 404 || !strings.Contains(body, "nope cannot be found") {
		t.Errorf("missing job: %d %s", code, body)
	}
	// The console takes nothing away from the APIs: an unsigned request
	// outside /console/ is still S3's AccessDenied.
	if code, body := consoleGet(t, b, env.URL+"/fw-bucket/signed/fw.bin"); code != 403 || !strings.Contains(body, "AccessDenied") {
		t.Errorf("unsigned S3 GET: %d %s", code, body)
	}
}

// token is the CSRF token of the page body.
func csrfToken(t *testing.T, body string) string {
	m := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no csrf token in the page")
	}
	return m[1]
}

func consolePost(t *testing.T, c *http.Client, u string, form url.Values, header map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestConsoleCancelRefusesCrossSite: a cancel from another origin, or
// without the session's token, is refused and changes nothing; from the
// page it cancels through CancelJob / CancelJobExecution.
func TestConsoleCancelRefusesCrossSite(t *testing.T) {
	env, c := consoleEnv(t)
	b := consoleClient(t)
	_, body := consoleGet(t, b, env.URL+"/console/jobs/job-1")
	tok := csrfToken(t, body)
	cancel := env.URL + "/console/jobs/job-1/cancel"
	for name, h := range map[string]map[string]string{
		"cross-site fetch":     {"Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"},
		"other origin":         {"Origin": "http://evil.example"},
		"same-site other port": {"Sec-Fetch-Site": "same-site", "Origin": "http://127.0.0.1:1"},
	} {
		if code, body := consolePost(t, b, cancel, url.Values{"csrf": {tok}}, h); code != 403 || !strings.Contains(body, "cross-origin") {
			t.Errorf("%s: %d %s", name, code, body)
		}
	}
	if code, body := consolePost(t, b, cancel, url.Values{"csrf": {"forged"}}, nil); code != 403 || !strings.Contains(body, "token") {
		t.Errorf("wrong token: %d %s", code, body)
	}
	if code, body := consolePost(t, &http.Client{}, cancel, url.Values{"csrf": {tok}}, nil); code != 403 || !strings.Contains(body, "session") {
		t.Errorf("no session cookie: %d %s", code, body)
	}
	j, err := c.DescribeJob(ctx, &sdkiot.DescribeJobInput{JobId: aws.String("job-1")})
	if err != nil || j.Job.Status != "IN_PROGRESS" {
		t.Fatalf("after refused cancels: %v %v", j.Job.Status, err)
	}

	// Same origin with the token: cancel an execution, then the job.
	same := map[string]string{"Origin": env.URL, "Sec-Fetch-Site": "same-origin"}
	code, _ := consolePost(t, b, env.URL+"/console/jobs/job-1/things/dev-1/cancel", url.Values{"csrf": {tok}}, same)
	if code != http.StatusSeeOther {
		t.Fatalf("cancel execution: %d", code)
	}
	x, err := c.DescribeJobExecution(ctx, &sdkiot.DescribeJobExecutionInput{JobId: aws.String("job-1"), ThingName: aws.String("dev-1")})
	if err != nil || x.Execution.Status != "CANCELED" {
		t.Fatalf("dev-1 after cancel: %+v %v", x, err)
	}
	// IN_PROGRESS without force: the API's own refusal, shown on the page.
	code, body = consolePost(t, b, env.URL+"/console/jobs/job-1/things/dev-2/cancel", url.Values{"csrf": {tok}}, same)
	if code != 409 || !strings.Contains(body, "IN_PROGRESS") {
		t.Errorf("cancel IN_PROGRESS without force: %d %s", code, body)
	}
	if code, _ := consolePost(t, b, cancel, url.Values{"csrf": {tok}}, same); code != http.StatusSeeOther {
		t.Fatalf("cancel job: %d", code)
	}
	j, err = c.DescribeJob(ctx, &sdkiot.DescribeJobInput{JobId: aws.String("job-1")})
	if err != nil || j.Job.Status != "CANCELED" || aws.ToString(j.Job.Comment) != "canceled in the otactl console" {
		t.Fatalf("job after cancel: %+v %v", j.Job, err)
	}
}

// TestConsoleEvents: the event stream says which job changed after an
// execution moves, without the page asking.
func TestConsoleEvents(t *testing.T) {
	env, _ := consoleEnv(t)
	resp, err := http.Get(env.URL + "/console/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || ct != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, ct)
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	// The first comment says the stream is open; only then change.
	for l := range lines {
		if strings.HasPrefix(l, ": otactl console") {
			break
		}
	}
	svc := env.Server.Service("iot").(*iot.Service)
	if _, err := svc.UpdateExecution("dev-2", "job-1", iot.ExecutionUpdate{Status: "IN_PROGRESS", StatusDetails: map[string]string{"receive": "9/10"}}); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(time.Minute) // a guard against a hang, not a timing assertion
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("stream ended")
			}
			if l == `data: {"jobs":["job-1"]}` {
				_, body := consoleGet(t, consoleClient(t), env.URL+"/console/jobs/job-1/things/dev-2")
				wantAll(t, "execution page after the change", body, "9/10 blocks")
				return
			}
		case <-deadline:
			t.Fatal("no change event")
		}
	}
}

// TestConsoleStrictAuthLoopbackOnly: with strict authentication the
// console still answers loopback clients (the tests' own).
func TestConsoleStrictAuthLoopbackOnly(t *testing.T) {
	env := localtest.StartWith(t, local.Config{StrictAuth: true})
	if code, body := httpGet(t, env.URL+"/console/"); code != 200 || !strings.Contains(body, "No jobs yet") {
		t.Fatalf("strict, loopback: %d %s", code, body)
	}
	if code, _ := consoleGet(t, consoleClient(t), env.URL+"/console"); code != http.StatusFound {
		t.Fatalf("/console: %d", code)
	}
}
