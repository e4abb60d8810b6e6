package iot_test

import (
	"github.com/otactl/otactl/internal/testtool"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/otactl/otactl/local"
	"github.com/otactl/otactl/local/localtest"
)

// boto3Script drives the service with a client we did not write.
const boto3Script = `
import json, sys, boto3
kw = dict(endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3])
iot = boto3.client("iot", **kw)
s3 = boto3.client("s3", **kw)
s3.create_bucket(Bucket="firmware")
s3.put_bucket_versioning(Bucket="firmware", VersioningConfiguration={"Status": "Enabled"})
version = s3.put_object(Bucket="firmware", Key="image.bin", Body=b"firmware")["VersionId"]
group_arn = iot.create_thing_group(thingGroupName="fleet")["thingGroupArn"]
for i in range(3):
    iot.create_thing(thingName="dev-%d" % i)
    iot.add_thing_to_thing_group(thingGroupName="fleet", thingName="dev-%d" % i)
s = iot.create_stream(streamId="AFR_OTA-py", description="from boto3",
    files=[{"fileId": 0, "s3Location": {"bucket": "firmware", "key": "image.bin", "version": version}}],
    roleArn="arn:aws:iam::123456789012:role/ota-role")
assert s["streamVersion"] == 1, s
doc = {"afr_ota": {"protocols": ["MQTT"], "streamname": "AFR_OTA-py",
       "files": [{"fileid": 0, "filesize": 8, "certfile": "cert.pem", "sig-sha256-ecdsa": "MEU="}]}}
iot.create_job(jobId="AFR_OTA-py", targets=[group_arn], document=json.dumps(doc),
    timeoutConfig={"inProgressTimeoutInMinutes": 30},
    jobExecutionsRetryConfig={"criteriaList": [{"failureType": "FAILED", "numberOfRetries": 2}]})
try:
    iot.create_job(jobId="AFR_OTA-py", targets=[group_arn], document="{}")
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
	python := testtool.Boto3(t)
	current = t
	e := localtest.StartWith(t, local.Config{StrictAuth: true}) // the whole server, signatures checked
	creds, err := e.Config.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, "-c", boto3Script, e.URL, creds.AccessKeyID, creds.SecretAccessKey)
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
