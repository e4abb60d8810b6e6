package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/signer"

	"github.com/otactl/otactl/campaign"
	"github.com/otactl/otactl/internal/demo"
	"github.com/otactl/otactl/local/localtest"
	"github.com/otactl/otactl/local/mqtt"
)

const campaignYAML = `update:
  otaUpdateId: fw-camp
  roleArn: ota-role
  files:
    - fileName: /fw.bin
      fileLocation:
        s3Location: {bucket: fw-bucket, key: fw.bin}
      codeSigning:
        startSigningJobParameter: {signingProfileName: fw_signer}
stages:
  - name: canary
    share: {group: fleet, percent: 5}
    gate: {minFinished: 2, minSuccessPercent: 50, maxFailurePercent: 60, bake: 30m, bakeFrom: thresholdMet}
  - name: early
    share: {group: fleet, percent: 25}
    gate: {minFinished: 10, minSuccessPercent: 90, maxFailurePercent: 20, onFailure: pause}
  - name: rest
    share: {group: fleet, percent: 70}
    gate: {minSuccessPercent: 95}
`

// campaignLocal starts otactl local with its broker, seeds a versioned
// bucket, a signing profile and 40 things in group fleet, and points the
// AWS environment at it.
func campaignLocal(t *testing.T) (env *localtest.Env, signingCert, dir string) {
	env = localtest.Start(t)
	ctx := context.Background()
	if _, err := env.Server.StartMQTT(mqtt.Config{Addr: "127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	var things []string
	for i := 1; i <= 40; i++ {
		things = append(things, fmt.Sprintf("dev-%02d", i))
	}
	seeded, err := demo.Prepare(ctx, env.Config, demo.Seed{Bucket: "fw-bucket", Key: "fw.bin", FirmwareSize: 20_000,
		Profile: "fw_signer", CertName: "code_sign.crt", Group: "fleet", Things: things, ThingsInGroups: true})
	if err != nil {
		t.Fatal(err)
	}
	creds, err := env.Config.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	t.Setenv("AWS_ACCESS_KEY_ID", creds.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", creds.SecretAccessKey)
	t.Setenv("AWS_REGION", env.Config.Region)
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "none"))
	signingCert = filepath.Join(dir, "code_sign.crt")
	if err := os.WriteFile(signingCert, seeded.SigningCertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	return env, signingCert, dir
}

func writeFile(t *testing.T, path, body string) string {
	t.Helper()
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// campaignCmd runs otactl campaign ... -o json and decodes the report.
func campaignCmd(t *testing.T, wantCode int, args ...string) *campaign.Report {
	t.Helper()
	code, stdout, stderr := run(t, append(append([]string{"campaign"}, args...), "-o", "json")...)
	if code != wantCode {
		t.Fatalf("campaign %v: exit %d, want %d\n%s\n%s", args, code, wantCode, stdout, stderr)
	}
	var rep campaign.Report
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("campaign %v: %v\n%s\n%s", args, err, stdout, stderr)
	}
	return &rep
}

func groupThings(t *testing.T, api *iot.Client, group string) []string {
	t.Helper()
	out, err := api.ListThingsInThingGroup(context.Background(), &iot.ListThingsInThingGroupInput{ThingGroupName: aws.String(group)})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out.Things)
	return out.Things
}

func jobExists(t *testing.T, api *iot.Client, id string) bool {
	t.Helper()
	_, err := api.DescribeJob(context.Background(), &iot.DescribeJobInput{JobId: aws.String(id)})
	return err == nil
}

// runDevices runs `otactl fleet` for things against otactl local.
func runDevices(t *testing.T, env *localtest.Env, cert string, things []string, extra ...string) {
	t.Helper()
	args := append([]string{"fleet", "-o", "json", "--things", strings.Join(things, ","), "--endpoint-url", env.URL, "--signing-cert", cert}, fastFleet...)
	code, stdout, stderr := run(t, append(args, extra...)...)
	if code != ExitOK && code != ExitFailure {
		t.Fatalf("fleet: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

// TestCampaignAgainstOtactlLocal runs a three-stage campaign (5 % canary,
// 25 %, the rest) with otactl fleet against otactl local: the second stage
// does not start while the canary's gate holds it (an injected failure,
// then the bake), starts once it passes, a failing second stage pauses the
// campaign, advance twice in a row changes nothing the second time, and
// abort stops everything.
func TestCampaignAgainstOtactlLocal(t *testing.T) {
	env, cert, dir := campaignLocal(t)
	api := iot.NewFromConfig(env.Config)
	ctx := context.Background()
	ep := []string{"--endpoint-url", env.URL}
	spec := writeFile(t, filepath.Join(dir, "campaign.yaml"), campaignYAML)
	cmd := func(code int, args ...string) *campaign.Report {
		return campaignCmd(t, code, append(append(args, "-f", spec), ep...)...)
	}

	// Bad input: every problem at once, nothing created.
	bad := strings.NewReplacer("percent: 70", "percent: 60", "minSuccessPercent: 95", "minSuccessPercent: 120",
		"share: {group: fleet, percent: 25}", "targets: [no-such-group]").Replace(campaignYAML)
	code, _, stderr := run(t, append([]string{"campaign", "start", "-f", writeFile(t, filepath.Join(dir, "bad.yaml"), bad)}, ep...)...)
	for _, want := range []string{"stages[1].targets[0]: thing group no-such-group does not exist", "stages[2].share.percent: the shares of thing group fleet add up to 65%",
		"stages[2].gate.minSuccessPercent: unreachable"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("bad spec: stderr lacks %q", want)
		}
	}
	if code != ExitInvalid {
		t.Fatalf("bad spec: exit %d\n%s", code, stderr)
	}
	if groups, _ := api.ListThingGroups(ctx, &iot.ListThingGroupsInput{}); len(groups.ThingGroups) != 1 {
		t.Fatalf("bad spec created thing groups: %+v", groups.ThingGroups)
	}
	if sj, err := signer.NewFromConfig(env.Config).ListSigningJobs(ctx, &signer.ListSigningJobsInput{}); err != nil || len(sj.Jobs) != 0 {
		t.Fatalf("bad spec signed: %v %v", sj, err)
	}

	// Plan: the stages as start would make them; nothing is created.
	code, stdout, stderr := run(t, append([]string{"campaign", "plan", "-f", spec, "-o", "json"}, ep...)...)
	var plan campaign.Plan
	if err := json.Unmarshal([]byte(stdout), &plan); code != ExitOK || err != nil || len(plan.Stages) != 3 ||
		len(plan.Stages[0].Things) != 2 || len(plan.Stages[2].Things) != 28 || plan.Status.State != campaign.NotStarted {
		t.Fatalf("plan: exit %d %v\n%s\n%s", code, err, stdout, stderr)
	}

	// Start: the shares become static groups; the canary's job starts.
	rep := cmd(ExitOK, "start")
	if !rep.Changed || rep.Action != "started canary" {
		t.Fatalf("start: %+v", rep)
	}
	canary, early, rest := groupThings(t, api, "fw-camp-canary"), groupThings(t, api, "fw-camp-early"), groupThings(t, api, "fw-camp-rest")
	if len(canary) != 2 || len(early) != 10 || len(rest) != 28 {
		t.Fatalf("shares: %d %d %d", len(canary), len(early), len(rest))
	}
	if again := cmd(ExitOK, "start"); again.Changed {
		t.Fatalf("second start changed: %+v", again)
	}

	// The canary's first device fails: the gate holds.
	runDevices(t, env, cert, canary[:1], "--fail-first", "1")
	rep = cmd(ExitOK, "advance")
	if rep.Changed || jobExists(t, api, "AFR_OTA-fw-camp-early") || !strings.Contains(rep.Message, "1 of minFinished 2") {
		t.Fatalf("advance after a canary failure: %+v", rep)
	}
	// The second succeeds: thresholds met, then the 30-minute bake holds it.
	runDevices(t, env, cert, canary[1:])
	rep = cmd(ExitOK, "advance")
	if rep.Changed || rep.Status.Stages[0].Evaluation.Verdict != campaign.Baking || jobExists(t, api, "AFR_OTA-fw-camp-early") {
		t.Fatalf("advance while baking: %+v", rep)
	}
	// Once baked, stage 2 starts with the canary's document.
	later := time.Now().Add(31 * time.Minute).UTC().Format(time.RFC3339)
	rep = cmd(ExitOK, "advance", "--at", later)
	if !rep.Changed || rep.Action != "started early" {
		t.Fatalf("advance after the bake: %+v", rep)
	}
	docOf := func(id string) string {
		out, err := api.GetJobDocument(ctx, &iot.GetJobDocumentInput{JobId: aws.String(id)})
		if err != nil {
			t.Fatal(err)
		}
		return aws.ToString(out.Document)
	}
	if docOf("AFR_OTA-fw-camp-early") != docOf("AFR_OTA-fw-camp-canary") {
		t.Fatal("stage 2 has another document than the canary")
	}
	if sj, _ := signer.NewFromConfig(env.Config).ListSigningJobs(ctx, &signer.ListSigningJobsInput{}); len(sj.Jobs) != 1 {
		t.Fatalf("signed %d times", len(sj.Jobs))
	}
	// advance twice in a row: the second changes nothing.
	rep = cmd(ExitOK, "advance", "--at", later)
	if rep.Changed || jobExists(t, api, "AFR_OTA-fw-camp-rest") {
		t.Fatalf("second advance changed: %+v", rep)
	}

	// Stage 2's devices all fail: the gate fails and pauses the campaign.
	runDevices(t, env, cert, early, "--fail-first", "1")
	rep = cmd(ExitFailure, "advance", "--at", later)
	if rep.Action != campaign.Paused || rep.Status.State != campaign.Paused {
		t.Fatalf("advance on a failing stage: %+v", rep)
	}
	if rep = cmd(ExitOK, "advance", "--at", later); rep.Changed || jobExists(t, api, "AFR_OTA-fw-camp-rest") {
		t.Fatalf("advance while paused: %+v", rep)
	}
	if rep = campaignCmd(t, ExitOK, append([]string{"resume", "fw-camp"}, ep...)...); rep.Action != campaign.Running {
		t.Fatalf("resume: %+v", rep)
	}

	// abort (by id, as from any machine) stops everything.
	rep = campaignCmd(t, ExitOK, append([]string{"abort", "fw-camp"}, ep...)...)
	if rep.Action != campaign.Aborted || rep.Status.State != campaign.Aborted {
		t.Fatalf("abort: %+v", rep)
	}
	for _, id := range []string{"AFR_OTA-fw-camp-canary", "AFR_OTA-fw-camp-early"} {
		j, err := api.DescribeJob(ctx, &iot.DescribeJobInput{JobId: aws.String(id)})
		if err != nil || j.Job.Status == "IN_PROGRESS" {
			t.Fatalf("%s after abort: %v %v", id, j, err)
		}
	}
	if rep = cmd(ExitOK, "advance", "--at", later); rep.Changed || jobExists(t, api, "AFR_OTA-fw-camp-rest") {
		t.Fatalf("advance after abort: %+v", rep)
	}
	code, stdout, _ = run(t, append([]string{"campaign", "status", "fw-camp"}, ep...)...)
	if code != ExitOK || !strings.Contains(stdout, "Campaign fw-camp: aborted") || !strings.Contains(stdout, "AFR_OTA-fw-camp-early") {
		t.Fatalf("status: exit %d\n%s", code, stdout)
	}
}
