package iam_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otactl/otactl/internal/testtool"
	"github.com/otactl/otactl/local"
	"github.com/otactl/otactl/local/localtest"
)

// boto3Script drives the role operations with botocore's query-protocol
// client: modeled errors, URL-encoded documents, tags, markers.
const boto3Script = `
import json, sys, urllib.parse, boto3
iam = boto3.client("iam", endpoint_url=sys.argv[1], region_name="us-east-1",
    aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3])
trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
    "Principal": {"Service": "iot.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
r = iam.create_role(RoleName="ota", AssumeRolePolicyDocument=json.dumps(trust),
    Tags=[{"Key": "otactl:bootstrap", "Value": "py"}])["Role"]
assert r["Arn"].endswith(":role/ota"), r
# botocore decodes the URL-encoded trust policy into a dict.
assert iam.get_role(RoleName="ota")["Role"]["AssumeRolePolicyDocument"] == trust
try:
    iam.create_role(RoleName="ota", AssumeRolePolicyDocument=json.dumps(trust))
    raise SystemExit("duplicate role accepted")
except iam.exceptions.EntityAlreadyExistsException:
    pass
try:
    iam.create_role(RoleName="bad", AssumeRolePolicyDocument="{")
    raise SystemExit("malformed trust policy accepted")
except iam.exceptions.MalformedPolicyDocumentException:
    pass
iam.attach_role_policy(RoleName="ota", PolicyArn="arn:aws:iam::aws:policy/service-role/AmazonFreeRTOSOTAUpdate")
iam.put_role_policy(RoleName="ota", PolicyName="s3", PolicyDocument=json.dumps({"Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::fw/*"}]}))
try:
    iam.delete_role(RoleName="ota")
    raise SystemExit("role with policies deleted")
except iam.exceptions.DeleteConflictException:
    pass
attached = iam.list_attached_role_policies(RoleName="ota")["AttachedPolicies"]
names = iam.list_role_policies(RoleName="ota")["PolicyNames"]
doc = iam.get_role_policy(RoleName="ota", PolicyName="s3")["PolicyDocument"]
iam.tag_role(RoleName="ota", Tags=[{"Key": "team", "Value": "fw"}])
iam.untag_role(RoleName="ota", TagKeys=["team"])
tags = iam.list_role_tags(RoleName="ota")["Tags"]
iam.detach_role_policy(RoleName="ota", PolicyArn=attached[0]["PolicyArn"])
iam.delete_role_policy(RoleName="ota", PolicyName="s3")
iam.delete_role(RoleName="ota")
try:
    iam.get_role(RoleName="ota")
    raise SystemExit("deleted role found")
except iam.exceptions.NoSuchEntityException:
    pass
print(json.dumps({"attached": [a["PolicyName"] for a in attached], "inline": names,
    "action": doc["Statement"][0]["Action"], "tags": tags}))
`

func TestBoto3IAM(t *testing.T) {
	python := testtool.Boto3(t)
	e := localtest.StartWith(t, local.Config{StrictAuth: true})
	creds, err := e.Config.Credentials.Retrieve(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(python, "-c", boto3Script, e.URL, creds.AccessKeyID, creds.SecretAccessKey).CombinedOutput()
	if err != nil {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
	want := `{"attached": ["AmazonFreeRTOSOTAUpdate"], "inline": ["s3"], "action": "s3:GetObject", "tags": [{"Key": "otactl:bootstrap", "Value": "py"}]}`
	if strings.TrimSpace(string(out)) != want {
		t.Fatalf("boto3 saw\n%s\nwant\n%s", out, want)
	}
}

// TestAWSCLIIAM: the AWS CLI's iam commands, with its error messages.
func TestAWSCLIIAM(t *testing.T) {
	aws := testtool.Require(t, "aws", "apt-get install awscli")
	e := localtest.Start(t)
	creds, err := e.Config.Credentials.Retrieve(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	trust := filepath.Join(dir, "trust.json")
	os.WriteFile(trust, []byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"iot.amazonaws.com"},"Action":"sts:AssumeRole"}]}`), 0o644)
	run := func(args ...string) (string, error) {
		cmd := exec.Command(aws, append(append([]string{"--endpoint-url", e.URL, "--region", "us-east-1", "--output", "text"}, "iam"), args...)...)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID="+creds.AccessKeyID, "AWS_SECRET_ACCESS_KEY="+creds.SecretAccessKey,
			"AWS_CONFIG_FILE="+filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "none"))
		b, err := cmd.CombinedOutput()
		return string(b), err
	}
	if out, err := run("create-role", "--role-name", "cli-role", "--assume-role-policy-document", "file://"+trust, "--query", "Role.Arn"); err != nil || !strings.HasSuffix(strings.TrimSpace(out), ":role/cli-role") {
		t.Fatalf("create-role: %v\n%s", err, out)
	}
	if out, err := run("attach-role-policy", "--role-name", "cli-role", "--policy-arn", "arn:aws:iam::aws:policy/service-role/AmazonFreeRTOSOTAUpdate"); err != nil {
		t.Fatalf("attach-role-policy: %v\n%s", err, out)
	}
	out, err := run("delete-role", "--role-name", "cli-role")
	if err == nil || !strings.Contains(out, "(DeleteConflict)") {
		t.Fatalf("delete-role with a policy attached: %v\n%s", err, out)
	}
	out, err = run("get-role", "--role-name", "nobody")
	if err == nil || !strings.Contains(out, "(NoSuchEntity)") {
		t.Fatalf("get-role of a missing role: %v\n%s", err, out)
	}
	if out, err := run("list-attached-role-policies", "--role-name", "cli-role", "--query", "AttachedPolicies[0].PolicyName"); err != nil || strings.TrimSpace(out) != "AmazonFreeRTOSOTAUpdate" {
		t.Fatalf("list-attached-role-policies: %v\n%s", err, out)
	}
}
