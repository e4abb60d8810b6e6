package iam_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/aws/smithy-go"

	"github.com/otactl/otactl/local/localtest"
)

const (
	trust    = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"iot.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
	otaArn   = "arn:aws:iam::aws:policy/service-role/AmazonFreeRTOSOTAUpdate"
	s3Inline = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject","s3:GetObjectVersion","s3:PutObject"],"Resource":"arn:aws:s3:::fw/*"}]}`
)

func client(t *testing.T) *iam.Client {
	env := localtest.Start(t)
	return iam.NewFromConfig(env.Config)
}

// wantCode fails unless err is the AWS error code with the HTTP status.
func wantCode(t *testing.T, err error, code string, status int) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("got %v, want %s", err, code)
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) && re.HTTPStatusCode() != status {
		t.Fatalf("%s: HTTP %d, want %d", code, re.HTTPStatusCode(), status)
	}
}

func TestRoleLifecycle(t *testing.T) {
	c := client(t)
	ctx := t.Context()
	out, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("ota-role"), AssumeRolePolicyDocument: aws.String(trust),
		Path: aws.String("/service-role/"), Description: aws.String("OTA"), Tags: []types.Tag{{Key: aws.String("otactl:bootstrap"), Value: aws.String("demo")}}})
	if err != nil {
		t.Fatal(err)
	}
	r := out.Role
	if got := aws.ToString(r.Arn); !strings.HasSuffix(got, ":role/service-role/ota-role") || !strings.HasPrefix(aws.ToString(r.RoleId), "AROA") || r.CreateDate == nil {
		t.Fatalf("role %s id %s", got, aws.ToString(r.RoleId))
	}
	if doc, _ := url.QueryUnescape(aws.ToString(r.AssumeRolePolicyDocument)); doc != trust {
		t.Fatalf("trust policy %q", aws.ToString(r.AssumeRolePolicyDocument))
	}
	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("OTA-ROLE"), AssumeRolePolicyDocument: aws.String(trust)})
	wantCode(t, err, "EntityAlreadyExists", 409)

	g, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("ota-role")})
	if err != nil || aws.ToString(g.Role.Description) != "OTA" || len(g.Role.Tags) != 1 || aws.ToInt32(g.Role.MaxSessionDuration) != 3600 {
		t.Fatalf("GetRole: %+v %v", g, err)
	}

	if _, err := c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("ota-role"), PolicyArn: aws.String(otaArn)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.AttachRolePolicy(ctx, &iam.AttachRolePolicyInput{RoleName: aws.String("ota-role"), PolicyArn: aws.String("arn:aws:iam::aws:policy/AmazonFreeRTOSOTAUpdate")})
	wantCode(t, err, "NoSuchEntity", 404)
	if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("ota-role"), PolicyName: aws.String("s3"), PolicyDocument: aws.String(s3Inline)}); err != nil {
		t.Fatal(err)
	}
	la, err := c.ListAttachedRolePolicies(ctx, &iam.ListAttachedRolePoliciesInput{RoleName: aws.String("ota-role")})
	if err != nil || len(la.AttachedPolicies) != 1 || aws.ToString(la.AttachedPolicies[0].PolicyName) != "AmazonFreeRTOSOTAUpdate" {
		t.Fatalf("ListAttachedRolePolicies: %+v %v", la, err)
	}
	lp, err := c.ListRolePolicies(ctx, &iam.ListRolePoliciesInput{RoleName: aws.String("ota-role")})
	if err != nil || len(lp.PolicyNames) != 1 || lp.PolicyNames[0] != "s3" {
		t.Fatalf("ListRolePolicies: %+v %v", lp, err)
	}
	gp, err := c.GetRolePolicy(ctx, &iam.GetRolePolicyInput{RoleName: aws.String("ota-role"), PolicyName: aws.String("s3")})
	if doc, _ := url.QueryUnescape(aws.ToString(gp.PolicyDocument)); err != nil || doc != s3Inline {
		t.Fatalf("GetRolePolicy: %q %v", doc, err)
	}

	// DeleteConflict while anything is attached, then each removed in turn.
	_, err = c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("ota-role")})
	wantCode(t, err, "DeleteConflict", 409)
	if _, err := c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("ota-role"), PolicyArn: aws.String(otaArn)}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DetachRolePolicy(ctx, &iam.DetachRolePolicyInput{RoleName: aws.String("ota-role"), PolicyArn: aws.String(otaArn)})
	wantCode(t, err, "NoSuchEntity", 404)
	_, err = c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("ota-role")})
	wantCode(t, err, "DeleteConflict", 409)
	if _, err := c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("ota-role"), PolicyName: aws.String("s3")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DeleteRolePolicy(ctx, &iam.DeleteRolePolicyInput{RoleName: aws.String("ota-role"), PolicyName: aws.String("s3")})
	wantCode(t, err, "NoSuchEntity", 404)
	if _, err := c.DeleteRole(ctx, &iam.DeleteRoleInput{RoleName: aws.String("ota-role")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("ota-role")})
	wantCode(t, err, "NoSuchEntity", 404)
}

func TestRoleTags(t *testing.T) {
	c := client(t)
	ctx := t.Context()
	if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	tag := func(k, v string) types.Tag { return types.Tag{Key: aws.String(k), Value: aws.String(v)} }
	if _, err := c.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("r"), Tags: []types.Tag{tag("a", "1"), tag("b", "2")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("r"), Tags: []types.Tag{tag("A", "3")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagRole(ctx, &iam.UntagRoleInput{RoleName: aws.String("r"), TagKeys: []string{"b", "absent"}}); err != nil {
		t.Fatal(err)
	}
	lt, err := c.ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: aws.String("r")})
	if err != nil || len(lt.Tags) != 1 || aws.ToString(lt.Tags[0].Key) != "A" || aws.ToString(lt.Tags[0].Value) != "3" {
		t.Fatalf("ListRoleTags: %+v %v", lt, err)
	}
	_, err = c.TagRole(ctx, &iam.TagRoleInput{RoleName: aws.String("r"), Tags: []types.Tag{tag("aws:x", "1")}})
	wantCode(t, err, "InvalidInput", 400)
	_, err = c.ListRoleTags(ctx, &iam.ListRoleTagsInput{RoleName: aws.String("none")})
	wantCode(t, err, "NoSuchEntity", 404)
}

func TestMalformedPolicies(t *testing.T) {
	c := client(t)
	ctx := t.Context()
	for name, doc := range map[string]string{
		"not json":     `{"Statement":`,
		"no principal": `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:AssumeRole"}]}`,
		"bad effect":   `{"Statement":{"Effect":"Maybe","Principal":{"Service":"iot.amazonaws.com"},"Action":"sts:AssumeRole"}}`,
		"not sts":      `{"Statement":{"Effect":"Allow","Principal":{"Service":"iot.amazonaws.com"},"Action":"s3:GetObject"}}`,
		"bad version":  `{"Version":"2020-01-01","Statement":{"Effect":"Allow","Principal":"*","Action":"sts:AssumeRole"}}`,
	} {
		_, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(doc)})
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != "MalformedPolicyDocument" {
			t.Errorf("%s: %v, want MalformedPolicyDocument", name, err)
		}
	}
	if _, err := c.GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("r")}); err == nil {
		t.Fatal("a refused CreateRole stored the role")
	}
	if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	_, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("p"),
		PolicyDocument: aws.String(`{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:*","Resource":"*"}]}`)})
	wantCode(t, err, "MalformedPolicyDocument", 400)
	_, err = c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String("p"),
		PolicyDocument: aws.String(`{"Statement":[{"Effect":"Allow","Action":"s3:*"}]}`)})
	wantCode(t, err, "MalformedPolicyDocument", 400)
	_, err = c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("bad name!"), AssumeRolePolicyDocument: aws.String(trust)})
	wantCode(t, err, "ValidationError", 400)
}

func TestListPagination(t *testing.T) {
	c := client(t)
	ctx := t.Context()
	if _, err := c.CreateRole(ctx, &iam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trust)}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"c", "a", "b"} {
		if _, err := c.PutRolePolicy(ctx, &iam.PutRolePolicyInput{RoleName: aws.String("r"), PolicyName: aws.String(n), PolicyDocument: aws.String(s3Inline)}); err != nil {
			t.Fatal(err)
		}
	}
	var names []string
	p := iam.NewListRolePoliciesPaginator(c, &iam.ListRolePoliciesInput{RoleName: aws.String("r"), MaxItems: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		names = append(names, out.PolicyNames...)
	}
	if strings.Join(names, ",") != "a,b,c" || pages != 2 {
		t.Fatalf("names %v in %d pages", names, pages)
	}
}
