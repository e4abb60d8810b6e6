package s3_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/otactl/otactl/internal/testtool"
)

// TestBoto3BucketConfig: boto3's put_bucket_encryption (and the default it
// gives an object), get_bucket_encryption and get_public_access_block,
// before and after delete_public_access_block.
func TestBoto3BucketConfig(t *testing.T) {
	f := newFixture(t)
	var out struct {
		Enc, Obj, PAB []any
		NoPAB         []any
	}
	runBoto3(t, f, `
s3.create_bucket(Bucket="cfg")
s3.put_bucket_encryption(Bucket="cfg", ServerSideEncryptionConfiguration={"Rules": [{
    "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/fw"},
    "BucketKeyEnabled": True}]})
r = s3.get_bucket_encryption(Bucket="cfg")["ServerSideEncryptionConfiguration"]["Rules"][0]
out["Enc"] = [r["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"], r["ApplyServerSideEncryptionByDefault"]["KMSMasterKeyID"], r["BucketKeyEnabled"]]
p = s3.put_object(Bucket="cfg", Key="k", Body=b"x")
out["Obj"] = [p.get("ServerSideEncryption"), p.get("SSEKMSKeyId")]
c = s3.get_public_access_block(Bucket="cfg")["PublicAccessBlockConfiguration"]
out["PAB"] = [c["BlockPublicAcls"], c["IgnorePublicAcls"], c["BlockPublicPolicy"], c["RestrictPublicBuckets"]]
s3.delete_public_access_block(Bucket="cfg")
out["NoPAB"] = code(s3.get_public_access_block, Bucket="cfg")
`, &out)
	if js(out.Enc) != `["aws:kms","alias/fw",true]` {
		t.Errorf("get_bucket_encryption: %s", js(out.Enc))
	}
	if js(out.Obj) != `["aws:kms","alias/fw"]` {
		t.Errorf("put_object under the KMS default: %s", js(out.Obj))
	}
	if js(out.PAB) != `[true,true,true,true]` {
		t.Errorf("get_public_access_block of a new bucket: %s", js(out.PAB))
	}
	if len(out.NoPAB) < 2 || out.NoPAB[0] != "NoSuchPublicAccessBlockConfiguration" || out.NoPAB[1] != 404.0 {
		t.Errorf("get_public_access_block after delete: %v", out.NoPAB)
	}
}

func js(v any) string { b, _ := json.Marshal(v); return string(b) }

// TestAWSCLIPublicAccessBlock: aws s3api put-public-access-block with its
// shorthand syntax, read back with get-public-access-block.
func TestAWSCLIPublicAccessBlock(t *testing.T) {
	awscli := testtool.Require(t, "aws", "apt-get install awscli")
	f := newFixture(t)
	f.bucket(t, "cli", "")
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(awscli, append(args, "--endpoint-url", f.url, "--region", "us-east-1", "--output", "json")...)
		var env []string
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "AWS_") {
				env = append(env, kv)
			}
		}
		cmd.Env = append(env, "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
			"AWS_ACCESS_KEY_ID=AKIDLOCAL", "AWS_SECRET_ACCESS_KEY=secret")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	run("s3api", "put-public-access-block", "--bucket", "cli", "--public-access-block-configuration",
		"BlockPublicAcls=true,IgnorePublicAcls=false,BlockPublicPolicy=true,RestrictPublicBuckets=false")
	var got struct{ PublicAccessBlockConfiguration map[string]bool }
	raw := run("s3api", "get-public-access-block", "--bucket", "cli")
	if err := json.Unmarshal([]byte(raw), &got); err != nil {
		t.Fatalf("%v: %s", err, raw)
	}
	want := map[string]bool{"BlockPublicAcls": true, "IgnorePublicAcls": false, "BlockPublicPolicy": true, "RestrictPublicBuckets": false}
	if js(got.PublicAccessBlockConfiguration) != js(want) {
		t.Fatalf("get-public-access-block = %s, want %s", raw, js(want))
	}
}
