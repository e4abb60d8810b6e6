package s3_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otactl/otactl/internal/testtool"
)

// boto3Prelude opens a path-style boto3 S3 client on sys.argv[1] with
// retries off and a 10 s read timeout, so that a stalled answer fails the
// script instead of being retried away.
const boto3Prelude = `
import json, sys, boto3, botocore
from botocore.config import Config
cfg = Config(retries={"max_attempts": 1, "mode": "standard"}, read_timeout=10, connect_timeout=10,
             s3={"addressing_style": "path"})
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                  aws_access_key_id="AKIDLOCAL", aws_secret_access_key="secret", config=cfg)
def code(fn, **kw):
    try:
        fn(**kw)
    except botocore.exceptions.ClientError as e:
        return [e.response["Error"].get("Code"), e.response["ResponseMetadata"]["HTTPStatusCode"], e.response["Error"]]
    return None
out = {}
`

// runBoto3 runs script (after boto3Prelude) against f and decodes the JSON
// it prints into v.
func runBoto3(t *testing.T, f *fixture, script string, v any) {
	t.Helper()
	py := testtool.Boto3(t)
	path := filepath.Join(t.TempDir(), "s3.py")
	if err := os.WriteFile(path, []byte(boto3Prelude+script+"\nprint(json.dumps(out))\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(py, path, f.url)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	raw, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("boto3: %v\n%s\n%s", err, raw, stderr)
	}
	if err := json.Unmarshal(raw, v); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
}

// TestBoto3EmptyPutKeepsConnection is the stall: PutObject of 6 bytes, 0
// bytes and 6 bytes on one connection (boto3 sends Expect: 100-continue
// with each). Before the zero-length request got its 100 Continue, the
// third put waited for the whole read timeout and failed.
func TestBoto3EmptyPutKeepsConnection(t *testing.T) {
	for _, versioning := range []string{"", "Enabled"} {
		t.Run("versioning="+versioning, func(t *testing.T) {
			f := newFixture(t)
			f.bucket(t, "stall", versioning)
			var out struct{ Bodies []string }
			runBoto3(t, f, `
for body in [b"hello!", b"", b"world!"]:
    s3.put_object(Bucket="stall", Key="k", Body=body)
out["Bodies"] = [s3.get_object(Bucket="stall", Key="k")["Body"].read().decode()]
s3.put_object(Bucket="stall", Key="empty", Body=b"")
s3.put_object(Bucket="stall", Key="empty", Body=b"")
s3.put_object(Bucket="stall", Key="k2", Body=b"again")
out["Bodies"].append(s3.get_object(Bucket="stall", Key="k2")["Body"].read().decode())
`, &out)
			if strings.Join(out.Bodies, ",") != "world!,again" {
				t.Fatalf("bodies = %q", out.Bodies)
			}
		})
	}
}

// TestBoto3WireDetails checks, with boto3, the small wire differences users
// hit: metadata keys in lower case (PUT, copy, multipart), a copy onto
// itself refused, a repeated CompleteMultipartUpload answered, the extra
// elements of error bodies, HEAD of a delete-marker version, the
// encryption header, and bucket names S3 refuses.
func TestBoto3WireDetails(t *testing.T) {
	f := newFixture(t)
	var out struct {
		Meta, CopyMeta, MPUMeta      map[string]string
		SelfCopy, NoBucket, NotEmpty []any
		NoKey, CopyNoKey, NoUpload   []any
		BadRange, DMHead             []any
		DMHeaders                    map[string]string
		ReplaceCopy                  bool
		Complete                     []string
		SSE                          []string
		BadNames                     [][]any
	}
	runBoto3(t, f, `
s3.create_bucket(Bucket="wire")
s3.put_bucket_versioning(Bucket="wire", VersioningConfiguration={"Status": "Enabled"})
s3.put_object(Bucket="wire", Key="m", Body=b"x", Metadata={"md": "1", "Build-ID": "b7"})
out["Meta"] = s3.head_object(Bucket="wire", Key="m")["Metadata"]
s3.copy_object(Bucket="wire", Key="m2", CopySource={"Bucket": "wire", "Key": "m"})
out["CopyMeta"] = s3.get_object(Bucket="wire", Key="m2")["Metadata"]
out["SelfCopy"] = code(s3.copy_object, Bucket="wire", Key="m", CopySource={"Bucket": "wire", "Key": "m"})
out["ReplaceCopy"] = code(s3.copy_object, Bucket="wire", Key="m", CopySource={"Bucket": "wire", "Key": "m"},
                          Metadata={"md": "2"}, MetadataDirective="REPLACE") is None
up = s3.create_multipart_upload(Bucket="wire", Key="mp", Metadata={"md": "3"})
e = s3.upload_part(Bucket="wire", Key="mp", UploadId=up["UploadId"], PartNumber=1, Body=b"part")["ETag"]
parts = {"Parts": [{"PartNumber": 1, "ETag": e}]}
c1 = s3.complete_multipart_upload(Bucket="wire", Key="mp", UploadId=up["UploadId"], MultipartUpload=parts)
c2 = s3.complete_multipart_upload(Bucket="wire", Key="mp", UploadId=up["UploadId"], MultipartUpload=parts)
out["Complete"] = [c1["ETag"], c2["ETag"], c1["VersionId"], c2["VersionId"]]
out["MPUMeta"] = s3.head_object(Bucket="wire", Key="mp")["Metadata"]
out["NoBucket"] = code(s3.list_objects_v2, Bucket="nobucket")
out["NotEmpty"] = code(s3.delete_bucket, Bucket="wire")
out["NoKey"] = code(s3.get_object, Bucket="wire", Key="nokey")
out["CopyNoKey"] = code(s3.copy_object, Bucket="wire", Key="dst", CopySource={"Bucket": "wire", "Key": "nokey"})
out["NoUpload"] = code(s3.abort_multipart_upload, Bucket="wire", Key="mp", UploadId="AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
out["BadRange"] = code(s3.get_object, Bucket="wire", Key="m", Range="bytes=10-20")
dm = s3.delete_object(Bucket="wire", Key="m2")["VersionId"]
try:
    s3.head_object(Bucket="wire", Key="m2", VersionId=dm)
except botocore.exceptions.ClientError as e:
    out["DMHead"] = [e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]]
    h = e.response["ResponseMetadata"]["HTTPHeaders"]
    out["DMHeaders"] = {k: h.get(k, "") for k in ["allow", "x-amz-delete-marker"]}
p = s3.put_object(Bucket="wire", Key="enc", Body=b"x", ServerSideEncryption="AES256")
g = s3.get_object(Bucket="wire", Key="enc")
k = s3.put_object(Bucket="wire", Key="kms", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId="alias/fw")
out["SSE"] = [p.get("ServerSideEncryption"), g.get("ServerSideEncryption"),
              s3.head_object(Bucket="wire", Key="kms").get("ServerSideEncryption"), k.get("SSEKMSKeyId")]
out["BadNames"] = [code(s3.create_bucket, Bucket=b) for b in ["a..b", "192.168.1.1"]]
`, &out)
	if out.Meta["md"] != "1" || out.Meta["build-id"] != "b7" || len(out.Meta) != 2 || out.CopyMeta["md"] != "1" || out.MPUMeta["md"] != "3" {
		t.Errorf("metadata keys are not S3's lower case: %v %v %v", out.Meta, out.CopyMeta, out.MPUMeta)
	}
	if out.SelfCopy == nil || out.SelfCopy[0] != "InvalidRequest" || out.SelfCopy[1] != 400.0 || !out.ReplaceCopy {
		t.Errorf("copy onto itself: %v, with REPLACE accepted %v", out.SelfCopy, out.ReplaceCopy)
	}
	if c := out.Complete; c[0] != c[1] || c[2] != c[3] || c[2] == "" {
		t.Errorf("repeated CompleteMultipartUpload: %v", c)
	}
	elem := func(name string, got []any, code, field, want string) {
		t.Helper()
		if got == nil || got[0] != code {
			t.Errorf("%s: %v, want %s", name, got, code)
			return
		}
		if v, _ := got[2].(map[string]any)[field].(string); v != want {
			t.Errorf("%s: %s = %q, want %q (%v)", name, field, v, want, got[2])
		}
	}
	elem("NoSuchBucket", out.NoBucket, "NoSuchBucket", "BucketName", "nobucket")
	elem("BucketNotEmpty", out.NotEmpty, "BucketNotEmpty", "BucketName", "wire")
	elem("NoSuchKey", out.NoKey, "NoSuchKey", "Key", "nokey")
	elem("NoSuchKey on copy", out.CopyNoKey, "NoSuchKey", "Key", "nokey")
	elem("NoSuchUpload", out.NoUpload, "NoSuchUpload", "UploadId", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	elem("InvalidRange", out.BadRange, "InvalidRange", "ActualObjectSize", "1")
	elem("InvalidRange", out.BadRange, "InvalidRange", "RangeRequested", "bytes=10-20")
	if out.DMHead == nil || out.DMHead[1] != 405.0 || out.DMHeaders["allow"] != "DELETE" || out.DMHeaders["x-amz-delete-marker"] != "true" {
		t.Errorf("HEAD of a delete marker version: %v %v", out.DMHead, out.DMHeaders)
	}
	if strings.Join(out.SSE, ",") != "AES256,AES256,aws:kms,alias/fw" {
		t.Errorf("server-side encryption: %q", out.SSE)
	}
	for i, b := range out.BadNames {
		if b == nil || b[0] != "InvalidBucketName" {
			t.Errorf("bucket name %d: %v", i, b)
		}
	}
}
