package iot_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
)

// Policy documents the tests use.
const (
	docAllowAll = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*"}]}`
	docConnect  = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:us-east-1:123456789012:client/${iot:ClientId}"}]}`
)

// docPublish allows publishing to topic.
func docPublish(topic string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:us-east-1:123456789012:topic/%s"}]}`, topic)
}

// docDenyPublish denies publishing to topic.
func docDenyPublish(topic string) string {
	return fmt.Sprintf(`{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iot:Publish","Resource":"arn:aws:iot:us-east-1:123456789012:topic/%s"}]}`, topic)
}

func policyArn(name string) string { return env.ARN("iot", "policy/"+name) }

func (f *fixture) policy(t testing.TB, name, doc string) *sdkiot.CreatePolicyOutput {
	t.Helper()
	return must(f.client.CreatePolicy(ctx, &sdkiot.CreatePolicyInput{PolicyName: aws.String(name), PolicyDocument: aws.String(doc)}))
}

func TestPolicyCRUD(t *testing.T) {
	f := start(t)
	out := must(f.client.CreatePolicy(ctx, &sdkiot.CreatePolicyInput{PolicyName: aws.String("dev.policy@v1"), PolicyDocument: aws.String(docAllowAll),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("fw")}}}))
	if *out.PolicyName != "dev.policy@v1" || *out.PolicyArn != policyArn("dev.policy@v1") || *out.PolicyVersionId != "1" || *out.PolicyDocument != docAllowAll {
		t.Fatalf("CreatePolicy: %+v", out)
	}
	got := must(f.client.GetPolicy(ctx, &sdkiot.GetPolicyInput{PolicyName: aws.String("dev.policy@v1")}))
	if *got.DefaultVersionId != "1" || *got.PolicyDocument != docAllowAll || got.CreationDate == nil || got.LastModifiedDate == nil || aws.ToString(got.GenerationId) == "" {
		t.Fatalf("GetPolicy: %+v", got)
	}

	// Same name again: AWS refuses.
	_, err := f.client.CreatePolicy(ctx, &sdkiot.CreatePolicyInput{PolicyName: aws.String("dev.policy@v1"), PolicyDocument: aws.String(docAllowAll)})
	wantCode(t, err, "ResourceAlreadyExistsException")

	_, err = f.client.GetPolicy(ctx, &sdkiot.GetPolicyInput{PolicyName: aws.String("missing")})
	wantCode(t, err, "ResourceNotFoundException")

	must(f.client.DeletePolicy(ctx, &sdkiot.DeletePolicyInput{PolicyName: aws.String("dev.policy@v1")}))
	_, err = f.client.GetPolicy(ctx, &sdkiot.GetPolicyInput{PolicyName: aws.String("dev.policy@v1")})
	wantCode(t, err, "ResourceNotFoundException")
	_, err = f.client.DeletePolicy(ctx, &sdkiot.DeletePolicyInput{PolicyName: aws.String("dev.policy@v1")})
	wantCode(t, err, "ResourceNotFoundException")
}

func TestPolicyNameRule(t *testing.T) {
	f := start(t)
	// AWS's pattern is [\w+=,.@-]+, 1-128 characters.
	must(f.client.CreatePolicy(ctx, &sdkiot.CreatePolicyInput{PolicyName: aws.String("a_b+c=d,e.f@g-h"), PolicyDocument: aws.String(docAllowAll)}))
	must(f.client.CreatePolicy(ctx, &sdkiot.CreatePolicyInput{PolicyName: aws.String(strings.Repeat("p", 128)), PolicyDocument: aws.String(docAllowAll)}))
	for _, bad := range []string{"has space", "colon:name", strings.Repeat("p", 129)} {
		code, errType, body := f.raw(t, "POST", "/policies/"+strings.ReplaceAll(bad, " ", "%20"), `{"policyDocument":`+quote(docAllowAll)+`}`)
		if code != 400 || !strings.HasPrefix(errType, "InvalidRequestException") || !strings.Contains(body, "policyName") {
			t.Errorf("name %q: %d %s %s", bad, code, errType, body)
		}
	}
}

func quote(s string) string { return fmt.Sprintf("%q", s) }

func TestPolicyMalformedDocument(t *testing.T) {
	f := start(t)
	cases := map[string]string{
		"not JSON":       `{"Version":`,
		"no Statement":   `{"Version":"2012-10-17"}`,
		"bad Effect":     `{"Version":"2012-10-17","Statement":[{"Effect":"Maybe","Action":"iot:Connect","Resource":"*"}]}`,
		"unknown action": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Teleport","Resource":"*"}]}`,
		"too large":      `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:us-east-1:123456789012:topic/` + strings.Repeat("x", 2100) + `"}]}`,
	}
	for name, doc := range cases {
		_, err := f.client.CreatePolicy(ctx, &sdkiot.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(doc)})
		ae := wantCode(t, err, "MalformedPolicyException")
		if ae.ErrorMessage() == "" {
			t.Errorf("%s: the message must name the problem", name)
		}
	}
	// Nothing was stored.
	_, err := f.client.GetPolicy(ctx, &sdkiot.GetPolicyInput{PolicyName: aws.String("p")})
	wantCode(t, err, "ResourceNotFoundException")

	f.policy(t, "p", docAllowAll)
	_, err = f.client.CreatePolicyVersion(ctx, &sdkiot.CreatePolicyVersionInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(cases["bad Effect"])})
	wantCode(t, err, "MalformedPolicyException")
	vs := must(f.client.ListPolicyVersions(ctx, &sdkiot.ListPolicyVersionsInput{PolicyName: aws.String("p")}))
	if len(vs.PolicyVersions) != 1 {
		t.Fatalf("a refused version was stored: %+v", vs.PolicyVersions)
	}
}

func TestPolicyVersions(t *testing.T) {
	f := start(t)
	f.policy(t, "p", docAllowAll)
	// Versions 2..5; 3 becomes the default.
	for i := 2; i <= 5; i++ {
		out := must(f.client.CreatePolicyVersion(ctx, &sdkiot.CreatePolicyVersionInput{PolicyName: aws.String("p"),
			PolicyDocument: aws.String(docPublish(fmt.Sprintf("t%d", i))), SetAsDefault: i == 3}))
		if *out.PolicyVersionId != fmt.Sprint(i) || out.IsDefaultVersion != (i == 3) || *out.PolicyArn != policyArn("p") {
			t.Fatalf("version %d: %+v", i, out)
		}
	}
	// A sixth is refused, and not stored.
	_, err := f.client.CreatePolicyVersion(ctx, &sdkiot.CreatePolicyVersionInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(docAllowAll)})
	wantCode(t, err, "VersionsLimitExceededException")

	vs := must(f.client.ListPolicyVersions(ctx, &sdkiot.ListPolicyVersionsInput{PolicyName: aws.String("p")})).PolicyVersions
	if len(vs) != 5 {
		t.Fatalf("ListPolicyVersions: %d versions", len(vs))
	}
	for _, v := range vs {
		if v.IsDefaultVersion != (*v.VersionId == "3") || v.CreateDate == nil {
			t.Errorf("version %s: default %v", *v.VersionId, v.IsDefaultVersion)
		}
	}
	got := must(f.client.GetPolicy(ctx, &sdkiot.GetPolicyInput{PolicyName: aws.String("p")}))
	if *got.DefaultVersionId != "3" || *got.PolicyDocument != docPublish("t3") {
		t.Fatalf("GetPolicy after setAsDefault: %s %s", *got.DefaultVersionId, *got.PolicyDocument)
	}
	v4 := must(f.client.GetPolicyVersion(ctx, &sdkiot.GetPolicyVersionInput{PolicyName: aws.String("p"), PolicyVersionId: aws.String("4")}))
	if *v4.PolicyDocument != docPublish("t4") || v4.IsDefaultVersion || *v4.PolicyVersionId != "4" || *v4.PolicyName != "p" {
		t.Fatalf("GetPolicyVersion 4: %+v", v4)
	}
	_, err = f.client.GetPolicyVersion(ctx, &sdkiot.GetPolicyVersionInput{PolicyName: aws.String("p"), PolicyVersionId: aws.String("9")})
	wantCode(t, err, "ResourceNotFoundException")

	// The default cannot be deleted; another can, and its id is not reused.
	_, err = f.client.DeletePolicyVersion(ctx, &sdkiot.DeletePolicyVersionInput{PolicyName: aws.String("p"), PolicyVersionId: aws.String("3")})
	wantCode(t, err, "DeleteConflictException")
	must(f.client.DeletePolicyVersion(ctx, &sdkiot.DeletePolicyVersionInput{PolicyName: aws.String("p"), PolicyVersionId: aws.String("2")}))
	_, err = f.client.DeletePolicyVersion(ctx, &sdkiot.DeletePolicyVersionInput{PolicyName: aws.String("p"), PolicyVersionId: aws.String("2")})
	wantCode(t, err, "ResourceNotFoundException")
	v6 := must(f.client.CreatePolicyVersion(ctx, &sdkiot.CreatePolicyVersionInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(docAllowAll)}))
	if *v6.PolicyVersionId != "6" {
		t.Fatalf("the version after 5 is %s, want 6", *v6.PolicyVersionId)
	}

	// SetDefaultPolicyVersion moves the default.
	must(f.client.SetDefaultPolicyVersion(ctx, &sdkiot.SetDefaultPolicyVersionInput{PolicyName: aws.String("p"), PolicyVersionId: aws.String("6")}))
	got = must(f.client.GetPolicy(ctx, &sdkiot.GetPolicyInput{PolicyName: aws.String("p")}))
	if *got.DefaultVersionId != "6" {
		t.Fatalf("default %s after SetDefaultPolicyVersion 6", *got.DefaultVersionId)
	}
	_, err = f.client.SetDefaultPolicyVersion(ctx, &sdkiot.SetDefaultPolicyVersionInput{PolicyName: aws.String("p"), PolicyVersionId: aws.String("2")})
	wantCode(t, err, "ResourceNotFoundException")
	_, err = f.client.CreatePolicyVersion(ctx, &sdkiot.CreatePolicyVersionInput{PolicyName: aws.String("missing"), PolicyDocument: aws.String(docAllowAll)})
	wantCode(t, err, "ResourceNotFoundException")
}

func TestDeletePolicyWithVersions(t *testing.T) {
	f := start(t)
	f.policy(t, "p", docAllowAll)
	must(f.client.CreatePolicyVersion(ctx, &sdkiot.CreatePolicyVersionInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(docConnect), SetAsDefault: true}))
	_, err := f.client.DeletePolicy(ctx, &sdkiot.DeletePolicyInput{PolicyName: aws.String("p")})
	ae := wantCode(t, err, "DeleteConflictException")
	if !strings.Contains(ae.ErrorMessage(), "name=p") {
		t.Errorf("message %q does not name the policy", ae.ErrorMessage())
	}
	must(f.client.DeletePolicyVersion(ctx, &sdkiot.DeletePolicyVersionInput{PolicyName: aws.String("p"), PolicyVersionId: aws.String("1")}))
	must(f.client.DeletePolicy(ctx, &sdkiot.DeletePolicyInput{PolicyName: aws.String("p")}))

	// A policy created again under the name starts over at version 1.
	out := f.policy(t, "p", docPublish("again"))
	if *out.PolicyVersionId != "1" {
		t.Fatalf("recreated policy at version %s", *out.PolicyVersionId)
	}
	vs := must(f.client.ListPolicyVersions(ctx, &sdkiot.ListPolicyVersionsInput{PolicyName: aws.String("p")})).PolicyVersions
	if len(vs) != 1 {
		t.Fatalf("recreated policy has %d versions", len(vs))
	}
}

func TestListPolicies(t *testing.T) {
	f := start(t)
	for i := 0; i < 5; i++ {
		f.policy(t, fmt.Sprintf("pol-%d", i), docAllowAll)
	}
	var names []string
	var markers int
	in := &sdkiot.ListPoliciesInput{PageSize: aws.Int32(2)}
	for {
		out := must(f.client.ListPolicies(ctx, in))
		if len(out.Policies) > 2 {
			t.Fatalf("page of %d with pageSize 2", len(out.Policies))
		}
		for _, p := range out.Policies {
			names = append(names, *p.PolicyName)
			if *p.PolicyArn != policyArn(*p.PolicyName) {
				t.Errorf("arn %s", *p.PolicyArn)
			}
		}
		if out.NextMarker == nil {
			break
		}
		markers++
		in.Marker = out.NextMarker
	}
	if strings.Join(names, ",") != "pol-0,pol-1,pol-2,pol-3,pol-4" || markers != 2 {
		t.Fatalf("paged listing %v with %d markers", names, markers)
	}
	code, errType, _ := f.raw(t, "GET", "/policies?pageSize=251", "")
	if code != 400 || !strings.HasPrefix(errType, "InvalidRequestException") {
		t.Fatalf("pageSize 251: %d %s", code, errType)
	}
}

func TestPolicyTags(t *testing.T) {
	f := start(t)
	must(f.client.CreatePolicy(ctx, &sdkiot.CreatePolicyInput{PolicyName: aws.String("p"), PolicyDocument: aws.String(docAllowAll),
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("fw")}}}))
	tags := must(f.client.ListTagsForResource(ctx, &sdkiot.ListTagsForResourceInput{ResourceArn: aws.String(policyArn("p"))})).Tags
	if len(tags) != 1 || *tags[0].Key != "team" || *tags[0].Value != "fw" {
		t.Fatalf("tags of a policy: %+v", tags)
	}
	must(f.client.DeletePolicy(ctx, &sdkiot.DeletePolicyInput{PolicyName: aws.String("p")}))
	_, err := f.client.ListTagsForResource(ctx, &sdkiot.ListTagsForResourceInput{ResourceArn: aws.String(policyArn("p"))})
	wantCode(t, err, "ResourceNotFoundException")
}
