package iot_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/otactl/otactl/internal/testtool"
)

// awsCLI runs `aws iot ...` against the fixture's server: the JSON output,
// or, when the command fails, nil and its stderr.
func (f *fixture) awsCLI(t *testing.T, bin string, args ...string) (map[string]any, string) {
	t.Helper()
	cmd := exec.Command(bin, append(append([]string{"iot"}, args...), "--endpoint-url", f.url, "--output", "json")...)
	cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDLOCAL", "AWS_SECRET_ACCESS_KEY=secret", "AWS_DEFAULT_REGION=us-east-1",
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, stderr.String()
	}
	v := map[string]any{}
	if out := bytes.TrimSpace(stdout.Bytes()); len(out) > 0 {
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("aws %v: %v\n%s", args, err, out)
		}
	}
	return v, ""
}

// mustCLI is awsCLI failing the test when the command fails.
func (f *fixture) mustCLI(t *testing.T, bin string, args ...string) map[string]any {
	t.Helper()
	v, stderr := f.awsCLI(t, bin, args...)
	if v == nil {
		t.Fatalf("aws iot %v: %s", args, stderr)
	}
	return v
}

// TestAWSCLIPolicies follows AWS's device recipe with the AWS CLI:
// create-policy, attach-policy to a certificate, list-attached-policies,
// test-authorization, and the delete-policy refusal while attached.
func TestAWSCLIPolicies(t *testing.T) {
	bin := testtool.Require(t, "aws", "apt-get install awscli")
	f := startWithCerts(t)
	_, certArn := f.cert(t)
	f.group(t, "fleet", 0)

	out := f.mustCLI(t, bin, "create-policy", "--policy-name", "device-policy", "--policy-document", docConnect)
	if out["policyName"] != "device-policy" || out["policyVersionId"] != "1" || out["policyArn"] != policyArn("device-policy") {
		t.Fatalf("create-policy: %v", out)
	}
	if _, stderr := f.awsCLI(t, bin, "create-policy", "--policy-name", "bad", "--policy-document", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Nope","Resource":"*"}]}`); !strings.Contains(stderr, "MalformedPolicyException") {
		t.Fatalf("create-policy with an unknown action: %s", stderr)
	}
	// The target is an ARN in the path: the CLI escapes it, the server must not mind.
	f.mustCLI(t, bin, "attach-policy", "--policy-name", "device-policy", "--target", certArn)
	f.mustCLI(t, bin, "attach-policy", "--policy-name", "device-policy", "--target", groupArn("fleet"))
	for _, target := range []string{certArn, groupArn("fleet")} {
		pols := f.mustCLI(t, bin, "list-attached-policies", "--target", target)["policies"].([]any)
		if len(pols) != 1 || pols[0].(map[string]any)["policyName"] != "device-policy" {
			t.Fatalf("list-attached-policies %s: %v", target, pols)
		}
	}
	res := f.mustCLI(t, bin, "test-authorization", "--principal", certArn, "--client-id", "dev-1", "--auth-infos",
		`[{"actionType":"CONNECT","resources":["`+env.ARN("iot", "client/dev-1")+`"]},{"actionType":"PUBLISH","resources":["`+topicArn("a/b")+`"]}]`)["authResults"].([]any)
	if len(res) != 2 || res[0].(map[string]any)["authDecision"] != "ALLOWED" || res[1].(map[string]any)["authDecision"] != "IMPLICIT_DENY" {
		t.Fatalf("test-authorization (connect allowed, publish not): %v", res)
	}

	_, stderr := f.awsCLI(t, bin, "delete-policy", "--policy-name", "device-policy")
	if !strings.Contains(stderr, "DeleteConflictException") || !strings.Contains(stderr, "attached to one or more principals") {
		t.Fatalf("delete-policy while attached: %s", stderr)
	}
}

// TestAWSCLIPrincipalPolicy covers the older commands AWS recipes still
// use, and list-policies paging through marker and nextMarker.
func TestAWSCLIPrincipalPolicy(t *testing.T) {
	bin := testtool.Require(t, "aws", "apt-get install awscli")
	f := startWithCerts(t)
	_, certArn := f.cert(t)
	for _, n := range []string{"p1", "p2", "p3"} {
		f.policy(t, n, docAllowAll)
	}
	f.mustCLI(t, bin, "attach-principal-policy", "--policy-name", "p2", "--principal", certArn)
	pols := f.mustCLI(t, bin, "list-principal-policies", "--principal", certArn)["policies"].([]any)
	if len(pols) != 1 || pols[0].(map[string]any)["policyName"] != "p2" {
		t.Fatalf("list-principal-policies: %v", pols)
	}
	// list-policies pages with marker and pageSize: --page-size is the
	// API's own member here, so the CLI returns one page and nextMarker.
	first := f.mustCLI(t, bin, "list-policies", "--page-size", "2")
	marker, _ := first["nextMarker"].(string)
	if len(first["policies"].([]any)) != 2 || marker == "" {
		t.Fatalf("list-policies --page-size 2: %v", first)
	}
	rest := f.mustCLI(t, bin, "list-policies", "--page-size", "2", "--marker", marker)
	if ps := rest["policies"].([]any); len(ps) != 1 || ps[0].(map[string]any)["policyName"] != "p3" || rest["nextMarker"] != nil {
		t.Fatalf("list-policies --marker: %v", rest)
	}
}
