package iot_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// boto3Script drives the service with a client we did not write.
const boto3Script = `
import json, sys, boto3
iot = boto3.client("iot", endpoint_url=sys.argv[1], region_name="us-east-1",
                   aws_access_key_id="AKIDLOCAL", aws_secret_access_key="secret")
arn = lambda kind, name: "arn:aws:iot:us-east-1:123456789012:%s/%s" % (kind, name)
iot.create_thing_group(thingGroupName="fleet")
for i in range(3):
    iot.create_thing(thingName="dev-%d" % i)
    iot.add_thing_to_thing_group(thingGroupName="fleet", thingName="dev-%d" % i)
s = iot.create_stream(streamId="AFR_OTA-py", description="from boto3",
    files=[{"fileId": 0, "s3Location": {"bucket": "fw", "key": "image.bin", "version": "v1"}}],
    roleArn="arn:aws:iam::123456789012:role/ota-role")
assert s["streamVersion"] == 1, s
doc = {"afr_ota": {"protocols": ["MQTT"], "streamname": "AFR_OTA-py",
       "files": [{"fileid": 0, "filesize": 8, "certfile": "cert.pem", "sig-sha256-ecdsa": "MEU="}]}}
iot.create_job(jobId="AFR_OTA-py", targets=[arn("thinggroup", "fleet")], document=json.dumps(doc),
    timeoutConfig={"inProgressTimeoutInMinutes": 30},
    jobExecutionsRetryConfig={"criteriaList": [{"failureType": "FAILED", "numberOfRetries": 2}]})
try:
    iot.create_job(jobId="AFR_OTA-py", targets=[arn("thinggroup", "fleet")], document="{}")
    raise SystemExit("duplicate job accepted")
except iot.exceptions.ResourceAlreadyExistsException as e:
    assert e.response["resourceId"] == "AFR_OTA-py", e.response
groups = [g["groupName"] for g in iot.list_thing_groups()["thingGroups"]]
streams = [s["streamId"] for s in iot.list_streams()["streams"]]
jobs = [j["jobId"] for j in iot.list_jobs(thingGroupName="fleet")["jobs"]]
job = iot.describe_job(jobId="AFR_OTA-py")["job"]
execs = iot.list_job_executions_for_job(jobId="AFR_OTA-py")["executionSummaries"]
assert json.loads(iot.get_job_document(jobId="AFR_OTA-py")["document"]) == doc
assert job["jobProcessDetails"]["numberOfQueuedThings"] == 3, job
assert job["createdAt"].year >= 2024, job
assert job["jobExecutionsRetryConfig"]["criteriaList"][0]["numberOfRetries"] == 2, job
print(json.dumps({"groups": groups, "streams": streams, "jobs": jobs, "executions": len(execs), "status": job["status"]}))
`

func TestBoto3(t *testing.T) {
	python, err := exec.LookPath("python3")
	if err == nil {
		err = exec.Command(python, "-c", "import boto3").Run()
	}
	if err != nil {
		if os.Getenv("OTACTL_CI") == "1" {
			t.Fatalf("python3 with boto3 is required in CI: %v", err)
		}
		t.Skip("SKIPPING the boto3 wire-compatibility test: python3 with boto3 is not installed")
	}
	f := start(t)
	cmd := exec.Command(python, "-c", boto3Script, f.url)
	cmd.Env = append(os.Environ(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
	want := `{"groups": ["fleet"], "streams": ["AFR_OTA-py"], "jobs": ["AFR_OTA-py"], "executions": 3, "status": "IN_PROGRESS"}`
	if got := strings.TrimSpace(string(out)); got != want {
		t.Fatalf("boto3 saw %s\nwant %s", got, want)
	}
}
