package iot_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/otactl/otactl/internal/testtool"
)

// boto3JobsScript drives UpdateJob, job templates and the CreateJob requests
// AWS accepts that otactl local used to refuse (issue 11), with boto3.
const boto3JobsScript = `
import json, sys, boto3
iot = boto3.client("iot", endpoint_url=sys.argv[1], region_name="us-east-1",
    aws_access_key_id="AKIDLOCAL", aws_secret_access_key="secret")
group = iot.create_thing_group(thingGroupName="fleet")["thingGroupArn"]
iot.create_thing(thingName="dev-0")
iot.add_thing_to_thing_group(thingGroupName="fleet", thingName="dev-0")
# presignedUrlConfig.roleArn is 20-2048 characters: a service-role path is fine.
iot.create_job(jobId="role", targets=[group], document="{}",
    presignedUrlConfig={"roleArn": "arn:aws:iam::1:role/service-role/iot_job_role", "expiresInSec": 300})
# endBehavior without endTime does not apply; AWS accepts it.
iot.create_job(jobId="end", targets=[group], document="{}", schedulingConfig={"endBehavior": "CANCEL"})
iot.update_job(jobId="role", description="v2", timeoutConfig={"inProgressTimeoutInMinutes": 45})
job = iot.describe_job(jobId="role")["job"]
assert job["description"] == "v2" and job["timeoutConfig"]["inProgressTimeoutInMinutes"] == 45, job
iot.cancel_job(jobId="end")
try:
    iot.update_job(jobId="end", description="late")
    raise SystemExit("UpdateJob of a canceled job accepted")
except iot.exceptions.InvalidRequestException:
    pass
tpl = iot.create_job_template(jobTemplateId="fw", description="firmware", document='{"op":"tpl"}',
    abortConfig={"criteriaList": [{"failureType": "FAILED", "action": "CANCEL", "thresholdPercentage": 10.5, "minNumberOfExecutedThings": 1}]})
try:
    iot.create_job_template(jobTemplateId="fw", description="again", document="{}")
    raise SystemExit("duplicate template accepted")
except iot.exceptions.ConflictException as e:
    assert e.response["resourceId"] == "fw", e.response
iot.create_job(jobId="from-tpl", targets=[group], jobTemplateArn=tpl["jobTemplateArn"])
doc = iot.get_job_document(jobId="from-tpl")["document"]
abort = iot.describe_job(jobId="from-tpl")["job"]["abortConfig"]["criteriaList"][0]["thresholdPercentage"]
templates = [t["jobTemplateId"] for t in iot.list_job_templates()["jobTemplates"]]
described = iot.describe_job_template(jobTemplateId="fw")
iot.delete_job_template(jobTemplateId="fw")
print(json.dumps({"doc": doc, "abort": abort, "templates": templates, "created": described["createdAt"].year >= 2024,
    "left": len(iot.list_job_templates()["jobTemplates"])}))
`

func TestBoto3Jobs(t *testing.T) {
	python := testtool.Boto3(t)
	f := start(t)
	cmd := exec.Command(python, "-c", boto3JobsScript, f.url)
	cmd.Env = append(os.Environ(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
	want := `{"doc": "{\"op\":\"tpl\"}", "abort": 10.5, "templates": ["fw"], "created": true, "left": 0}`
	if got := strings.TrimSpace(string(out)); got != want {
		t.Fatalf("boto3 saw %s\nwant %s", got, want)
	}
}

// TestAWSCLIJobs: the same requests from the AWS CLI, shorthand syntax included.
func TestAWSCLIJobs(t *testing.T) {
	bin := testtool.Require(t, "aws", "apt-get install awscli")
	f := start(t)
	f.group(t, "fleet", 1)
	group := groupArn("fleet")
	f.mustCLI(t, bin, "create-job", "--job-id", "role", "--targets", group, "--document", "{}",
		"--presigned-url-config", "roleArn=arn:aws:iam::1:role/service-role/iot_job_role,expiresInSec=300")
	f.mustCLI(t, bin, "create-job", "--job-id", "end", "--targets", group, "--document", "{}",
		"--scheduling-config", "endBehavior=CANCEL")
	f.mustCLI(t, bin, "update-job", "--job-id", "role", "--description", "from the CLI")
	if job := f.mustCLI(t, bin, "describe-job", "--job-id", "role")["job"].(map[string]any); job["description"] != "from the CLI" {
		t.Fatalf("describe-job: %v", job)
	}
	f.mustCLI(t, bin, "create-job-template", "--job-template-id", "fw", "--description", "firmware", "--document", `{"op":"cli"}`,
		"--timeout-config", "inProgressTimeoutInMinutes=30")
	list := f.mustCLI(t, bin, "list-job-templates")["jobTemplates"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["jobTemplateId"] != "fw" {
		t.Fatalf("list-job-templates: %v", list)
	}
	f.mustCLI(t, bin, "cancel-job", "--job-id", "end")
	if _, stderr := f.awsCLI(t, bin, "update-job", "--job-id", "end", "--description", "late"); !strings.Contains(stderr, "InvalidRequestException") {
		t.Fatalf("update-job of a canceled job: %q", stderr)
	}
	f.mustCLI(t, bin, "delete-job-template", "--job-template-id", "fw")
}
