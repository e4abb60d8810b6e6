package jobsdata_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/otactl/otactl/internal/testtool"
)

// boto3Script drives the data plane with boto3's iot-jobs-data client: a
// client we did not write, with its own model of the API.
const boto3Script = `
import json, sys, boto3
from botocore.exceptions import ClientError
kw = dict(endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3])
doc = sys.argv[4]
iot = boto3.client("iot", **kw)
jobs = boto3.client("iot-jobs-data", **kw)
arn = iot.create_thing(thingName="dev-py")["thingArn"]
iot.create_thing(thingName="other-py")
iot.create_job(jobId="job-py", targets=[arn], document=doc)
out = {}
p = jobs.get_pending_job_executions(thingName="dev-py")
out["queued"] = [j["jobId"] for j in p["queuedJobs"]]
e = jobs.start_next_pending_job_execution(thingName="dev-py", statusDetails={"step": "download"}, stepTimeoutInMinutes=10)["execution"]
assert e["jobDocument"] == doc, (e["jobDocument"], doc)
out["started"] = [e["jobId"], e["status"], e["versionNumber"]]
d = jobs.describe_job_execution(thingName="dev-py", jobId="job-py", includeJobDocument=True)["execution"]
assert d["jobDocument"] == doc, d
assert "jobDocument" not in jobs.describe_job_execution(thingName="dev-py", jobId="job-py", includeJobDocument=False)["execution"]
def code(f, **kw):
    try:
        f(**kw)
    except ClientError as err:
        r = err.response
        return [r["Error"]["Code"], r["ResponseMetadata"]["HTTPStatusCode"]]
    return None
out["mismatch"] = code(jobs.update_job_execution, thingName="dev-py", jobId="job-py", status="SUCCEEDED", expectedVersion=1)
u = jobs.update_job_execution(thingName="dev-py", jobId="job-py", status="SUCCEEDED", expectedVersion=2,
    includeJobExecutionState=True, includeJobDocument=True)
assert u["jobDocument"] == doc, u
out["updated"] = [u["executionState"]["status"], u["executionState"]["versionNumber"]]
out["transition"] = code(jobs.update_job_execution, thingName="dev-py", jobId="job-py", status="IN_PROGRESS")
out["terminal"] = code(jobs.describe_job_execution, thingName="dev-py", jobId="job-py")
out["not_found"] = code(jobs.describe_job_execution, thingName="other-py", jobId="job-py")
out["invalid"] = code(jobs.update_job_execution, thingName="dev-py", jobId="job-py", status="QUEUED")
out["next"] = jobs.start_next_pending_job_execution(thingName="dev-py").get("execution")
try:
    jobs.describe_job_execution(thingName="dev-py", jobId="job-py")
    raise SystemExit("terminal execution described")
except jobs.exceptions.TerminalStateException:
    pass
print(json.dumps(out, sort_keys=True))
`

func TestBoto3(t *testing.T) {
	python := testtool.Boto3(t)
	f := start(t)
	creds, err := f.env.Config.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, "-c", boto3Script, f.env.URL, creds.AccessKeyID, creds.SecretAccessKey, doc)
	cmd.Env = append(os.Environ(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
	// botocore keeps only modeled error members: executionState, which the
	// model does not declare, is checked in TestDeviceFlow's raw bodies.
	want := `{"invalid": ["InvalidRequestException", 400], "mismatch": ["VersionConflictException", 409], "next": null, ` +
		`"not_found": ["ResourceNotFoundException", 404], "queued": ["job-py"], "started": ["job-py", "IN_PROGRESS", 2], ` +
		`"terminal": ["TerminalStateException", 410], "transition": ["InvalidStateTransitionException", 409], "updated": ["SUCCEEDED", 3]}`
	if got := strings.TrimSpace(string(out)); got != want {
		t.Fatalf("boto3 saw %s\nwant %s", got, want)
	}
}
