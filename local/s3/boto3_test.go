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
