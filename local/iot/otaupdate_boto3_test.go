package iot_test

import (
	"github.com/otactl/otactl/internal/testtool"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// otaBoto3Script creates an OTA update with boto3 and polls it to the end,
// as the AWS samples do.
const otaBoto3Script = `
import json, sys, time, boto3
kw = dict(endpoint_url=sys.argv[1], region_name="us-east-1", aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3])
iot = boto3.client("iot", **kw)
out = iot.create_ota_update(otaUpdateId="py-1", targets=[sys.argv[4]], protocols=["MQTT"],
    files=[{"fileName": "app.bin", "fileLocation": {"s3Location": {"bucket": sys.argv[5], "key": "fw.bin"}},
            "codeSigning": {"startSigningJobParameter": {"signingProfileName": sys.argv[6],
                "destination": {"s3Destination": {"bucket": sys.argv[5], "prefix": "signed/"}}}}}],
    roleArn="arn:aws:iam::123456789012:role/ota-role")
assert out["otaUpdateStatus"] == "CREATE_PENDING", out
deadline = time.time() + 30
while True:
    info = iot.get_ota_update(otaUpdateId="py-1")["otaUpdateInfo"]
    if info["otaUpdateStatus"] in ("CREATE_COMPLETE", "CREATE_FAILED") or time.time() > deadline:
        break
    time.sleep(0.02)
assert info["creationDate"].year >= 2024, info
doc = json.loads(iot.get_job_document(jobId=info.get("awsIotJobId", "-"))["document"])
f = doc["afr_ota"]["files"][0]
listed = [u["otaUpdateId"] for u in iot.list_ota_updates(otaUpdateStatus="CREATE_COMPLETE")["otaUpdates"]]
iot.delete_ota_update(otaUpdateId="py-1", deleteStream=True, forceDeleteAWSJob=True)
print(json.dumps({"status": info["otaUpdateStatus"], "job": info["awsIotJobId"], "filepath": f["filepath"],
    "signed": "sig-sha256-ecdsa" in f, "listed": listed, "left": len(iot.list_ota_updates()["otaUpdates"])}))
`

func TestOTAUpdateBoto3(t *testing.T) {
	python := testtool.Boto3(t)
	e := startOTA(t)
	creds := must(e.Config.Credentials.Retrieve(ctx))
	cmd := exec.Command(python, "-c", otaBoto3Script, e.URL, creds.AccessKeyID, creds.SecretAccessKey, e.group, otaBucket, otaProfile)
	cmd.Env = append(os.Environ(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
	want := `{"status": "CREATE_COMPLETE", "job": "AFR_OTA-py-1", "filepath": "app.bin", "signed": true, "listed": ["py-1"], "left": 0}`
	if got := strings.TrimSpace(string(out)); got != want {
		t.Fatalf("boto3 saw %s\nwant %s", got, want)
	}
}
