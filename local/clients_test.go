package local_test

import (
	"bytes"
	"encoding/json"
	"github.com/otactl/otactl/internal/testtool"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otactl/otactl/local"
	"github.com/otactl/otactl/local/localtest"
)

// TestAWSCLI drives S3 with the AWS CLI, a second, independent client (each
// invocation costs about a second of Python start-up, so they are few).
func TestAWSCLI(t *testing.T) {
	t.Parallel()
	awscli := tool(t, "aws", "apt-get install awscli")
	for _, strict := range []bool{true, false} {
		t.Run(map[bool]string{true: "strict", false: "default"}[strict], func(t *testing.T) { awsCLI(t, awscli, strict) })
	}
}

func awsCLI(t *testing.T, awscli string, strict bool) {
	env := localtest.StartWith(t, local.Config{StrictAuth: strict})
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(awscli, append(args, "--endpoint-url", env.URL)...)
		cmd.Env = clientEnv(env.URL)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	runJSON := func(args ...string) map[string]any {
		t.Helper()
		out := run(append(args, "--output", "json")...)
		var v map[string]any
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("aws %v: %v\n%s", args, err, out)
		}
		return v
	}
	fw := filepath.Join(t.TempDir(), "fw.bin")
	os.WriteFile(fw, []byte("firmware v1"), 0o644)

	run("s3api", "create-bucket", "--bucket", "cli-bucket")
	run("s3api", "put-bucket-versioning", "--bucket", "cli-bucket", "--versioning-configuration", "Status=Enabled")
	p1 := runJSON("s3api", "put-object", "--bucket", "cli-bucket", "--key", "fw/app.bin", "--body", fw)
	os.WriteFile(fw, []byte("firmware v2"), 0o644)
	p2 := runJSON("s3api", "put-object", "--bucket", "cli-bucket", "--key", "fw/app.bin", "--body", fw)
	if p1["VersionId"] == nil || p1["VersionId"] == p2["VersionId"] {
		t.Fatalf("put-object versions: %v %v", p1, p2)
	}
	vs := runJSON("s3api", "list-object-versions", "--bucket", "cli-bucket")["Versions"].([]any)
	if len(vs) != 2 || vs[0].(map[string]any)["VersionId"] != p2["VersionId"] || vs[0].(map[string]any)["IsLatest"] != true {
		t.Fatalf("list-object-versions: %v", vs)
	}
	// The high-level commands: cp of a file over the CLI's 8 MiB multipart
	// threshold (with its own checksums), ls of buckets and objects.
	big := bytes.Repeat([]byte("0123456789abcdef"), 9<<20/16)
	os.WriteFile(fw, big, 0o644)
	run("s3", "cp", fw, "s3://cli-bucket/copied.bin")
	if obj, err := env.Server.S3().OpenObject("cli-bucket", "copied.bin", ""); err != nil || obj.Size != int64(len(big)) ||
		!strings.HasSuffix(obj.ETag, `-2"`) {
		t.Fatalf("aws s3 cp (multipart): %+v %v", obj, err)
	} else {
		obj.Close()
	}
	if ls := run("s3", "ls"); !strings.Contains(ls, "cli-bucket") {
		t.Fatalf("aws s3 ls: %s", ls)
	}
	ls := run("s3", "ls", "s3://cli-bucket/")
	if !strings.Contains(ls, "PRE fw/") || !strings.Contains(ls, "copied.bin") {
		t.Fatalf("aws s3 ls s3://cli-bucket/: %s", ls)
	}
	// The CLI's presigned link downloads; without signing, S3 is private.
	link := strings.TrimSpace(run("s3", "presign", "s3://cli-bucket/fw/app.bin", "--expires-in", "60"))
	if status, body := httpGet(t, link); status != 200 || body != "firmware v2" {
		t.Fatalf("aws s3 presign: %d %q (%s)", status, body, link)
	}
	cmd := exec.Command(awscli, "s3", "cp", "s3://cli-bucket/fw/app.bin", "-", "--no-sign-request", "--endpoint-url", env.URL)
	cmd.Env = clientEnv(env.URL)
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "403") {
		t.Fatalf("aws s3 cp --no-sign-request: %v %s", err, out)
	}
}

const boto3Script = `
import io, json, sys, urllib.request, urllib.error
import boto3
from botocore.config import Config
url = sys.argv[1]
cfg = Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1})
s3 = boto3.client("s3", endpoint_url=url, config=cfg)
out = {}
s3.create_bucket(Bucket="py-bucket")
s3.put_bucket_versioning(Bucket="py-bucket", VersioningConfiguration={"Status": "Enabled"})
v1 = s3.put_object(Bucket="py-bucket", Key="fw/app.bin", Body=b"one")["VersionId"]
v2 = s3.put_object(Bucket="py-bucket", Key="fw/app.bin", Body=b"two" * 100000)["VersionId"]
out["versions"] = [(v["Key"], v["VersionId"] == v2, v["IsLatest"], v["Size"])
                   for v in s3.list_object_versions(Bucket="py-bucket")["Versions"]]
out["v1"] = s3.get_object(Bucket="py-bucket", Key="fw/app.bin", VersionId=v1)["Body"].read().decode()
out["range"] = s3.get_object(Bucket="py-bucket", Key="fw/app.bin", Range="bytes=0-5")["Body"].read().decode()
cp = s3.copy_object(Bucket="py-bucket", Key="signed/app.bin",
                    CopySource={"Bucket": "py-bucket", "Key": "fw/app.bin", "VersionId": v1})
out["copy_source_version"] = cp["CopySourceVersionId"] == v1
out["listed"] = [o["Key"] for o in s3.list_objects_v2(Bucket="py-bucket")["Contents"]]
out["listed_v1"] = [o["Key"] for o in s3.list_objects(Bucket="py-bucket", Prefix="fw/")["Contents"]]
d = s3.delete_object(Bucket="py-bucket", Key="signed/app.bin")
out["delete_marker"] = d["DeleteMarker"]
try:
    s3.get_object(Bucket="py-bucket", Key="signed/app.bin")
except s3.exceptions.NoSuchKey as e:
    out["after_delete"] = e.response["Error"]["Code"]
try:
    s3.put_object(Bucket="py-bucket", Key="bad", Body=b"x", ContentMD5="1B2M2Y8AsgTpgAmY7PhCfg==")
except Exception as e:
    out["bad_md5"] = e.response["Error"]["Code"]
u = s3.generate_presigned_url("get_object", Params={"Bucket": "py-bucket", "Key": "fw/app.bin", "VersionId": v1}, ExpiresIn=60)
out["presigned"] = urllib.request.urlopen(u).read().decode()
big = b"x" * (9 << 20)
s3.upload_fileobj(io.BytesIO(big), "py-bucket", "big.bin")  # multipart over 8 MiB
out["big"] = s3.head_object(Bucket="py-bucket", Key="big.bin")["ContentLength"] == len(big)
odd = "dir/a b+c~é=&?.bin"
s3.put_object(Bucket="py-bucket", Key=odd, Body=b"odd", Metadata={"note": "x  y"})
out["odd"] = s3.get_object(Bucket="py-bucket", Key=odd)["Body"].read().decode()
v2 = boto3.client("s3", endpoint_url=url, config=Config(signature_version="s3", s3={"addressing_style": "path"}))
v2.put_object(Bucket="py-bucket", Key="v2/k", Body=b"sigv2", ContentType="text/plain")
out["sigv2"] = v2.get_object(Bucket="py-bucket", Key="v2/k")["Body"].read().decode()
u = v2.generate_presigned_url("get_object", Params={"Bucket": "py-bucket", "Key": odd}, ExpiresIn=60)
out["presigned_v2"] = urllib.request.urlopen(u).read().decode()
try:
    urllib.request.urlopen(u.replace("Signature=", "Signature=x"))
except urllib.error.HTTPError as e:
    out["tampered_v2"] = e.code
try:
    urllib.request.urlopen(url + "/py-bucket/fw/app.bin")
except urllib.error.HTTPError as e:
    out["anonymous"] = e.code
from botocore import UNSIGNED
anon = boto3.client("s3", endpoint_url=url, config=Config(signature_version=UNSIGNED, s3={"addressing_style": "path"}))
try:
    anon.put_object(Bucket="py-bucket", Key="planted", Body=b"x" * (2 << 20))
except Exception as e:
    out["anonymous_put"] = e.response["Error"]["Code"]
out["account"] = boto3.client("sts", endpoint_url=url).get_caller_identity()["Account"]
print(json.dumps(out))
`

// TestBoto3 runs the same S3 sequence with Python's boto3.
func TestBoto3(t *testing.T) {
	t.Parallel()
	py := testtool.Boto3(t)
	for _, strict := range []bool{true, false} {
		t.Run(map[bool]string{true: "strict", false: "default"}[strict], func(t *testing.T) { runBoto3(t, py, strict) })
	}
}

func runBoto3(t *testing.T, py string, strict bool) {
	env := localtest.StartWith(t, local.Config{StrictAuth: strict})
	cmd := exec.Command(py, "-c", boto3Script, env.URL)
	cmd.Env = clientEnv(env.URL)
	raw, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("boto3: %v\n%s\n%s", err, raw, stderr)
	}
	var out struct {
		Versions          [][]any
		V1, Range         string
		CopySourceVersion bool `json:"copy_source_version"`
		Listed            []string
		ListedV1          []string `json:"listed_v1"`
		DeleteMarker      bool     `json:"delete_marker"`
		AfterDelete       string   `json:"after_delete"`
		BadMD5            string   `json:"bad_md5"`
		Presigned         string
		Big               bool
		Odd               string
		SigV2             string `json:"sigv2"`
		PresignedV2       string `json:"presigned_v2"`
		TamperedV2        int    `json:"tampered_v2"`
		Anonymous         int
		AnonymousPut      string `json:"anonymous_put"`
		Account           string
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	if len(out.Versions) != 2 || out.Versions[0][1] != true || out.Versions[0][2] != true || out.Versions[0][3] != 300000.0 ||
		out.Versions[1][2] != false {
		t.Errorf("versions: %v", out.Versions)
	}
	if out.V1 != "one" || out.Range != "twotwo" || !out.CopySourceVersion || out.Presigned != "one" || !out.Big || out.Odd != "odd" ||
		out.SigV2 != "sigv2" || out.PresignedV2 != "odd" || out.TamperedV2 != 403 {
		t.Errorf("reads: %+v", out)
	}
	if strings.Join(out.Listed, ",") != "fw/app.bin,signed/app.bin" || strings.Join(out.ListedV1, ",") != "fw/app.bin" {
		t.Errorf("listings: %v %v", out.Listed, out.ListedV1)
	}
	if !out.DeleteMarker || out.AfterDelete != "NoSuchKey" || out.BadMD5 != "BadDigest" || out.Account != "000000000000" ||
		out.Anonymous != 403 || out.AnonymousPut != "AccessDenied" {
		t.Errorf("errors: %+v", out)
	}
	if _, err := env.Server.S3().HeadObject("py-bucket", "planted", ""); err == nil {
		t.Error("an anonymous boto3 put_object was stored")
	}
}
