package iot_test

import (
	"encoding/json"
	"github.com/otactl/otactl/internal/testtool"
	"os"
	"os/exec"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
)

// TestAWSCLI lists jobs and streams with the AWS CLI, a second client.
func TestAWSCLI(t *testing.T) {
	awscli := testtool.Require(t, "aws", "apt-get install awscli")
	f := start(t)
	f.group(t, "fleet", 2)
	f.job(t, "cli-job", groupArn("fleet"))
	must(f.client.CreateStream(ctx, &sdkiot.CreateStreamInput{StreamId: aws.String("cli-stream"), RoleArn: aws.String(roleArn),
		Files: []types.StreamFile{streamFile(0, "image.bin")}}))
	run := func(args ...string) map[string]any {
		t.Helper()
		cmd := exec.Command(awscli, append(args, "--endpoint-url", f.url, "--output", "json")...)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDLOCAL", "AWS_SECRET_ACCESS_KEY=secret", "AWS_DEFAULT_REGION=us-east-1",
			"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("aws %v: %v\n%s", args, err, out)
		}
		var v map[string]any
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("aws %v: %v\n%s", args, err, out)
		}
		return v
	}
	jobs := run("iot", "list-jobs", "--thing-group-name", "fleet")["jobs"].([]any)
	if len(jobs) != 1 || jobs[0].(map[string]any)["jobId"] != "cli-job" {
		t.Fatalf("list-jobs: %v", jobs)
	}
	streams := run("iot", "list-streams")["streams"].([]any)
	if len(streams) != 1 || streams[0].(map[string]any)["streamId"] != "cli-stream" {
		t.Fatalf("list-streams: %v", streams)
	}
	job := run("iot", "describe-job", "--job-id", "cli-job")["job"].(map[string]any)
	if job["status"] != "IN_PROGRESS" || job["jobProcessDetails"].(map[string]any)["numberOfQueuedThings"] != 2.0 {
		t.Fatalf("describe-job: %v", job)
	}
	execs := run("iot", "list-job-executions-for-job", "--job-id", "cli-job", "--max-items", "1")
	if len(execs["executionSummaries"].([]any)) != 1 || execs["NextToken"] == nil {
		t.Fatalf("list-job-executions-for-job (paged): %v", execs)
	}
}
