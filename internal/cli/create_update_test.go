package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/signer"
	"github.com/otactl/otactl/ota"
)

// specWith writes specYAML for id with old replaced by new.
func specWith(t *testing.T, path, id string, edits ...string) string {
	t.Helper()
	s := strings.ReplaceAll(specYAML, "%s", id)
	for i := 0; i+1 < len(edits); i += 2 {
		if !strings.Contains(s, edits[i]) {
			t.Fatalf("spec has no %q", edits[i])
		}
		s = strings.Replace(s, edits[i], edits[i+1], 1)
	}
	if path == "" {
		path = filepath.Join(t.TempDir(), id+".yaml")
	}
	os.WriteFile(path, []byte(s), 0o644)
	return path
}

// TestCreateAppliesChanges: create on a changed spec changes the running
// job in place and lists each change; a change it cannot make is refused
// with exit 2 naming the field; --replace makes it with the next job, and
// describe shows the job it replaced.
func TestCreateAppliesChanges(t *testing.T) {
	env, url := localEnv(t)
	ep := []string{"--endpoint-url", url}
	spec := specWith(t, "", "fw-up")
	if code, out, errOut := run(t, append([]string{"create", "-f", spec}, ep...)...); code != 0 {
		t.Fatalf("create: %d\n%s%s", code, out, errOut)
	}
	specWith(t, spec, "fw-up", "inProgressTimeoutInMinutes: 30", "inProgressTimeoutInMinutes: 45")
	code, out, errOut := run(t, append([]string{"create", "-f", spec}, ep...)...)
	if code != 0 || !strings.Contains(out, "Updated OTA update fw-up in place") ||
		!strings.Contains(out, "~ timeoutConfig.inProgressTimeoutInMinutes: 30 → 45") || strings.Contains(out, "unchanged") {
		t.Fatalf("apply: exit %d\n%s%s", code, out, errOut)
	}
	job, err := iot.NewFromConfig(env.Config).DescribeJob(context.Background(), &iot.DescribeJobInput{JobId: aws.String("AFR_OTA-fw-up")})
	if err != nil || aws.ToInt64(job.Job.TimeoutConfig.InProgressTimeoutInMinutes) != 45 {
		t.Fatalf("DescribeJob after apply: %v %+v", err, job)
	}

	specWith(t, spec, "fw-up", "inProgressTimeoutInMinutes: 30", "inProgressTimeoutInMinutes: 45", "targets: [sensors]", "targets: [sensors, dev-1]")
	code, _, errOut = run(t, append([]string{"create", "-f", spec}, ep...)...)
	if code != ExitInvalid || !strings.Contains(errOut, "targets: ") || !strings.Contains(errOut, "SNAPSHOT job's targets are fixed") || !strings.Contains(errOut, "--replace") {
		t.Fatalf("immutable change: exit %d, want %d\n%s", code, ExitInvalid, errOut)
	}
	code, out, errOut = run(t, append([]string{"create", "-f", spec, "--replace"}, ep...)...)
	if code != 0 || !strings.Contains(out, "Replaced job AFR_OTA-fw-up (canceled)") || !strings.Contains(out, "AFR_OTA-fw-up-r2") {
		t.Fatalf("--replace: exit %d\n%s%s", code, out, errOut)
	}
	code, out, _ = run(t, append([]string{"describe", "fw-up"}, ep...)...)
	if code != 0 || !strings.Contains(out, "AFR_OTA-fw-up-r2") || !regexp.MustCompile(`Replaced +AFR_OTA-fw-up \(CANCELED`).MatchString(out) {
		t.Fatalf("describe after --replace: %d\n%s", code, out)
	}
	if code, out, _ = run(t, append([]string{"create", "-f", spec}, ep...)...); code != 0 || !strings.Contains(out, "already exists, unchanged") {
		t.Fatalf("the replacement is as the spec says: %d\n%s", code, out)
	}
}

// TestCreateChecksFirst: one create reports a missing group, a missing
// profile, an unversioned bucket and a missing object together, exits 2
// (never 3), and signs nothing.
func TestCreateChecksFirst(t *testing.T) {
	env, url := localEnv(t)
	ctx := context.Background()
	s3c := env.S3()
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("plain")}); err != nil {
		t.Fatal(err)
	}
	spec := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(spec, []byte(`otaUpdateId: fw-bad
targets: [g1]
roleArn: ota-role
files:
  - fileName: /a.bin
    fileLocation:
      s3Location: {bucket: plain, key: a.bin}
    codeSigning:
      startSigningJobParameter: {signingProfileName: fw_signer}
  - fileName: /b.bin
    fileLocation:
      s3Location: {bucket: fw-bucket, key: missing.bin}
    codeSigning:
      startSigningJobParameter: {signingProfileName: no_such_profile}
`), 0o644)
	code, _, errOut := run(t, "create", "-f", spec, "--endpoint-url", url)
	if code != ExitInvalid {
		t.Fatalf("exit %d, want %d\n%s", code, ExitInvalid, errOut)
	}
	for _, want := range []string{"targets[0]: no thing group or thing named g1 exists", "files[0].fileLocation.s3Location.bucket: bucket plain is not versioned",
		"files[0].fileLocation.s3Location.key: object s3://plain/a.bin does not exist", "files[1].fileLocation.s3Location.key: object s3://fw-bucket/missing.bin does not exist",
		"files[1].codeSigning.startSigningJobParameter.signingProfileName: signing profile no_such_profile does not exist", "nothing was created"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}
	jobs, err := signer.NewFromConfig(env.Config).ListSigningJobs(ctx, &signer.ListSigningJobsInput{})
	if err != nil || len(jobs.Jobs) != 0 {
		t.Fatalf("signing jobs after a failed check: %v %d", err, len(jobs.Jobs))
	}
	streams, _ := iot.NewFromConfig(env.Config).ListStreams(ctx, &iot.ListStreamsInput{})
	if len(streams.Streams) != 0 {
		t.Fatalf("%d streams created", len(streams.Streams))
	}
}

// TestPlanDiff: plan --diff prints field by field what create would change,
// in text and JSON; without an existing update it is the plan.
func TestPlanDiff(t *testing.T) {
	_, url := localEnv(t)
	ep := []string{"--endpoint-url", url}
	spec := specWith(t, "", "fw-diff")
	code, out, errOut := run(t, append([]string{"plan", "-f", spec, "--diff"}, ep...)...)
	if code != 0 || !strings.Contains(out, "Plan for OTA update fw-diff") || !strings.Contains(errOut, "does not exist") {
		t.Fatalf("plan --diff before create: %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := run(t, append([]string{"create", "-f", spec}, ep...)...); code != 0 {
		t.Fatalf("create: %d\n%s%s", code, out, errOut)
	}
	code, out, _ = run(t, append([]string{"plan", "-f", spec, "--diff"}, ep...)...)
	if code != 0 || !strings.Contains(out, "No changes") {
		t.Fatalf("plan --diff of the same spec: %d\n%s", code, out)
	}
	specWith(t, spec, "fw-diff", "numberOfRetries: 2", "numberOfRetries: 3", "fileName: /fw.bin", "fileName: /firmware.bin")
	code, out, errOut = run(t, append([]string{"plan", "-f", spec, "--diff"}, ep...)...)
	for _, want := range []string{"Update fw-diff exists: job AFR_OTA-fw-diff (IN_PROGRESS)", "~ jobExecutionsRetryConfig.criteriaList[0].numberOfRetries: 2 → 3",
		`! files[0].fileName: "/fw.bin" → "/firmware.bin" (the job document`, "otactl create would refuse", "AFR_OTA-fw-diff-r2"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Errorf("plan --diff lacks %q (exit %d):\n%s%s", want, code, out, errOut)
		}
	}
	code, out, _ = run(t, append([]string{"plan", "-f", spec, "--diff", "-o", "json"}, ep...)...)
	var p ota.Plan
	if code != 0 || json.Unmarshal([]byte(out), &p) != nil || p.Diff == nil || len(p.Diff.Changes) != 2 {
		t.Fatalf("plan --diff -o json: %d\n%s", code, out)
	}
	for _, c := range p.Diff.Changes {
		if c.Path == "jobExecutionsRetryConfig.criteriaList[0].numberOfRetries" && (!c.InPlace || c.Desired != float64(3)) ||
			c.Path == "files[0].fileName" && (c.InPlace || c.Why == "") {
			t.Fatalf("json change %+v", c)
		}
	}
}
