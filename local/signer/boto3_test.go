package signer

import (
	"encoding/json"
	"github.com/otactl/otactl/internal/testtool"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// boto3Script drives Signer and ACM with boto3, a second, independent
// client: the platforms, a profile with generated material, a signing job
// round trip, and the profile's certificate from ACM.
const boto3Script = `
import json, sys, time, boto3
signer_url, acm_url, bucket, key, version = sys.argv[1:6]
kw = dict(region_name="us-east-1", aws_access_key_id="AKIDLOCAL", aws_secret_access_key="secret")
signer = boto3.client("signer", endpoint_url=signer_url, **kw)
acm = boto3.client("acm", endpoint_url=acm_url, **kw)
out = {}
out["platforms"] = sorted(p["platformId"] for p in signer.list_signing_platforms()["platforms"])
put = signer.put_signing_profile(profileName="boto3_profile", platformId="AmazonFreeRTOS-Default",
                                 signingParameters={"certname": "ota.crt"})
out["profileArn"] = put["arn"]
prof = signer.get_signing_profile(profileName="boto3_profile")
cert = acm.get_certificate(CertificateArn=prof["signingMaterial"]["certificateArn"])["Certificate"]
out["certPem"] = cert.startswith("-----BEGIN CERTIFICATE-----")
job = signer.start_signing_job(
    source={"s3": {"bucketName": bucket, "key": key, "version": version}},
    destination={"s3": {"bucketName": "signed", "prefix": "boto3/"}},
    profileName="boto3_profile")
for _ in range(6000):
    d = signer.describe_signing_job(jobId=job["jobId"])
    if d["status"] != "InProgress":
        break
    time.sleep(0.01)
out["status"] = d["status"]
out["signedKey"] = d["signedObject"]["s3"]["key"]
out["jobId"] = job["jobId"]
out["listed"] = [j["jobId"] for j in signer.list_signing_jobs(status="Succeeded")["jobs"]]
try:
    signer.get_signing_profile(profileName="missing_profile")
except signer.exceptions.ResourceNotFoundException:
    out["notFound"] = True
print(json.dumps(out))
`

// requireTool finds an external tool, skipping loudly when it is missing
// unless OTACTL_CI=1 requires it.
func requireTool(t *testing.T, name string, args ...string) string {
	t.Helper()
	path := testtool.Require(t, name, "see .ci/run")
	if len(args) > 0 {
		if err := exec.Command(path, args...).Run(); err != nil {
			testtool.Missing(t, name+" "+strings.Join(args, " "), "see .ci/run")
		}
	}
	return path
}

func TestBoto3(t *testing.T) {
	python := requireTool(t, "python3", "-c", "import boto3")
	h := start(t)
	h.objs.bucket("firmware", "Enabled")
	h.objs.bucket("signed", "Enabled")
	ver := must(h.objs.put("firmware", "fw.bin", firmware(4096), ""))
	script := filepath.Join(t.TempDir(), "signer.py")
	if err := os.WriteFile(script, []byte(boto3Script), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, script, h.url, h.acmURL, "firmware", "fw.bin", ver)
	cmd.Env = append(os.Environ(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("boto3: %v\n%s", err, stderr)
	}
	var got struct {
		Platforms  []string `json:"platforms"`
		ProfileArn string   `json:"profileArn"`
		CertPem    bool     `json:"certPem"`
		Status     string   `json:"status"`
		SignedKey  string   `json:"signedKey"`
		JobID      string   `json:"jobId"`
		Listed     []string `json:"listed"`
		NotFound   bool     `json:"notFound"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(got.Platforms) != 5 || got.ProfileArn != "arn:aws:signer:us-east-1:123456789012:/signing-profiles/boto3_profile" ||
		!got.CertPem || got.Status != "Succeeded" || got.SignedKey != "boto3/"+got.JobID ||
		len(got.Listed) != 1 || got.Listed[0] != got.JobID || !got.NotFound {
		t.Fatalf("boto3 saw %+v", got)
	}
	// The object boto3's job signed is really there and well formed.
	d := h.wait(t, got.JobID)
	h.readSigned(t, d)
}
