package iot_test

import (
	"crypto/x509/pkix"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/otactl/otactl/internal/testtool"
)

const provRoleArn = "arn:aws:iam::000000000000:role/provisioning"

// TestProvisioningTemplates: the template API through the SDK: create,
// describe (default version's body), list, versions (at most 5, the
// default cannot go), update, delete; bad input refused naming the field.
func TestProvisioningTemplates(t *testing.T) {
	f := start(t)
	c := f.client
	created := must(c.CreateProvisioningTemplate(ctx, &sdkiot.CreateProvisioningTemplateInput{
		TemplateName: aws.String("fleet-v1"), TemplateBody: aws.String(jitpTemplate), ProvisioningRoleArn: aws.String(provRoleArn),
		Enabled: aws.Bool(true), Description: aws.String("factory devices"), Type: types.TemplateTypeJitp,
		Tags: []types.Tag{{Key: aws.String("team"), Value: aws.String("fw")}}}))
	if *created.TemplateName != "fleet-v1" || *created.DefaultVersionId != 1 || !strings.HasSuffix(*created.TemplateArn, ":provisioningtemplate/fleet-v1") {
		t.Fatalf("created: %+v", created)
	}
	d := must(c.DescribeProvisioningTemplate(ctx, &sdkiot.DescribeProvisioningTemplateInput{TemplateName: aws.String("fleet-v1")}))
	if *d.TemplateBody != jitpTemplate || !*d.Enabled || d.Type != types.TemplateTypeJitp || *d.ProvisioningRoleArn != provRoleArn || d.CreationDate == nil {
		t.Errorf("described: %+v", d)
	}
	_, err := c.CreateProvisioningTemplate(ctx, &sdkiot.CreateProvisioningTemplateInput{TemplateName: aws.String("fleet-v1"),
		TemplateBody: aws.String(jitpTemplate), ProvisioningRoleArn: aws.String(provRoleArn)})
	wantCode(t, err, "ResourceAlreadyExistsException")

	// Versions: 2..5 fit, a sixth does not; the default cannot be deleted.
	for i := 2; i <= 5; i++ {
		v := must(c.CreateProvisioningTemplateVersion(ctx, &sdkiot.CreateProvisioningTemplateVersionInput{
			TemplateName: aws.String("fleet-v1"), TemplateBody: aws.String(jitpTemplate), SetAsDefault: i == 3}))
		if *v.VersionId != int32(i) || v.IsDefaultVersion != (i == 3) {
			t.Errorf("version %d: %+v", i, v)
		}
	}
	_, err = c.CreateProvisioningTemplateVersion(ctx, &sdkiot.CreateProvisioningTemplateVersionInput{TemplateName: aws.String("fleet-v1"), TemplateBody: aws.String(jitpTemplate)})
	wantCode(t, err, "VersionsLimitExceededException")
	vs := must(c.ListProvisioningTemplateVersions(ctx, &sdkiot.ListProvisioningTemplateVersionsInput{TemplateName: aws.String("fleet-v1")})).Versions
	if len(vs) != 5 || !vs[2].IsDefaultVersion || vs[0].IsDefaultVersion {
		t.Errorf("versions: %+v", vs)
	}
	_, err = c.DeleteProvisioningTemplateVersion(ctx, &sdkiot.DeleteProvisioningTemplateVersionInput{TemplateName: aws.String("fleet-v1"), VersionId: aws.Int32(3)})
	wantCode(t, err, "DeleteConflictException")
	must(c.DeleteProvisioningTemplateVersion(ctx, &sdkiot.DeleteProvisioningTemplateVersionInput{TemplateName: aws.String("fleet-v1"), VersionId: aws.Int32(1)}))
	_, err = c.DescribeProvisioningTemplateVersion(ctx, &sdkiot.DescribeProvisioningTemplateVersionInput{TemplateName: aws.String("fleet-v1"), VersionId: aws.Int32(1)})
	wantCode(t, err, "ResourceNotFoundException")
	if v := must(c.DescribeProvisioningTemplateVersion(ctx, &sdkiot.DescribeProvisioningTemplateVersionInput{TemplateName: aws.String("fleet-v1"), VersionId: aws.Int32(3)})); !v.IsDefaultVersion || *v.TemplateBody != jitpTemplate {
		t.Errorf("version 3: %+v", v)
	}

	must(c.UpdateProvisioningTemplate(ctx, &sdkiot.UpdateProvisioningTemplateInput{TemplateName: aws.String("fleet-v1"),
		Enabled: aws.Bool(false), DefaultVersionId: aws.Int32(5), Description: aws.String("retired")}))
	d = must(c.DescribeProvisioningTemplate(ctx, &sdkiot.DescribeProvisioningTemplateInput{TemplateName: aws.String("fleet-v1")}))
	if *d.Enabled || *d.DefaultVersionId != 5 || *d.Description != "retired" {
		t.Errorf("updated: %+v", d)
	}
	_, err = c.UpdateProvisioningTemplate(ctx, &sdkiot.UpdateProvisioningTemplateInput{TemplateName: aws.String("fleet-v1"), DefaultVersionId: aws.Int32(1)})
	wantCode(t, err, "ResourceNotFoundException")

	ls := must(c.ListProvisioningTemplates(ctx, &sdkiot.ListProvisioningTemplatesInput{})).Templates
	if len(ls) != 1 || *ls[0].TemplateName != "fleet-v1" || *ls[0].Enabled {
		t.Errorf("listed: %+v", ls)
	}

	for name, in := range map[string]*sdkiot.CreateProvisioningTemplateInput{
		"bad name":     {TemplateName: aws.String("a b"), TemplateBody: aws.String(jitpTemplate), ProvisioningRoleArn: aws.String(provRoleArn)},
		"short role":   {TemplateName: aws.String("x"), TemplateBody: aws.String(jitpTemplate), ProvisioningRoleArn: aws.String("arn:aws:iam::1:r")},
		"bad body":     {TemplateName: aws.String("x"), TemplateBody: aws.String(`{"Resources": {"a": {"Type": "AWS::S3::Bucket", "Properties": {}}}}`), ProvisioningRoleArn: aws.String(provRoleArn)},
		"hook on JITP": {TemplateName: aws.String("x"), TemplateBody: aws.String(jitpTemplate), ProvisioningRoleArn: aws.String(provRoleArn), Type: types.TemplateTypeJitp, PreProvisioningHook: &types.ProvisioningHook{TargetArn: aws.String("arn:aws:lambda:us-east-1:1:function:f")}},
	} {
		if _, err := c.CreateProvisioningTemplate(ctx, in); err == nil {
			t.Errorf("%s: accepted", name)
		} else if !isSDKValidation(err) {
			wantCode(t, err, "InvalidRequestException")
		}
	}

	must(c.DeleteProvisioningTemplate(ctx, &sdkiot.DeleteProvisioningTemplateInput{TemplateName: aws.String("fleet-v1")}))
	_, err = c.DescribeProvisioningTemplate(ctx, &sdkiot.DescribeProvisioningTemplateInput{TemplateName: aws.String("fleet-v1")})
	wantCode(t, err, "ResourceNotFoundException")
}

// TestJITPByTemplateName: a CA whose registrationConfig names a JITP
// provisioning template provisions devices with its default version; a
// disabled template provisions nothing.
func TestJITPByTemplateName(t *testing.T) {
	f := start(t)
	c := f.client
	must(c.CreateThingGroup(ctx, &sdkiot.CreateThingGroupInput{ThingGroupName: aws.String("fleet")}))
	must(c.CreateThingGroup(ctx, &sdkiot.CreateThingGroupInput{ThingGroupName: aws.String("country-FR")}))
	must(c.CreateProvisioningTemplate(ctx, &sdkiot.CreateProvisioningTemplateInput{TemplateName: aws.String("jitp-fleet"),
		TemplateBody: aws.String(jitpTemplate), ProvisioningRoleArn: aws.String(provRoleArn), Type: types.TemplateTypeJitp}))
	ca := newTestCA(t, "maker CA")
	must(c.RegisterCACertificate(ctx, &sdkiot.RegisterCACertificateInput{CaCertificate: aws.String(ca.pem), CertificateMode: types.CertificateModeSniOnly,
		SetAsActive: true, AllowAutoRegistration: true, RegistrationConfig: &types.RegistrationConfig{TemplateName: aws.String("jitp-fleet")}}))
	der := issueDER(t, ca, pkix.Name{CommonName: "dev-fr", Country: []string{"FR"}}, time.Now().AddDate(1, 0, 0))
	if _, err := f.svc.AutoRegister([][]byte{der}); err == nil || !strings.Contains(err.Error(), "not enabled") {
		t.Fatalf("disabled template: %v", err)
	}
	must(c.UpdateProvisioningTemplate(ctx, &sdkiot.UpdateProvisioningTemplateInput{TemplateName: aws.String("jitp-fleet"), Enabled: aws.Bool(true)}))
	reg, err := f.svc.AutoRegister([][]byte{der})
	if err != nil || !reg.Provisioned || reg.ThingName != "dev-fr" || reg.Status != "ACTIVE" {
		t.Fatalf("provisioned: %+v %v", reg, err)
	}
}

// TestAWSCLIProvisioningTemplates: the JITP set-up of AWS's guide with the
// AWS CLI: create-provisioning-template --type JITP from a file, a second
// version as the default, list and describe.
func TestAWSCLIProvisioningTemplates(t *testing.T) {
	awscli := testtool.Require(t, "aws", "apt-get install awscli")
	f := start(t)
	body := filepath.Join(t.TempDir(), "template.json")
	if err := os.WriteFile(body, []byte(jitpTemplate), 0o600); err != nil {
		t.Fatal(err)
	}
	run := func(args ...string) map[string]any {
		t.Helper()
		cmd := exec.Command(awscli, append(append([]string{"iot"}, args...), "--endpoint-url", f.url, "--output", "json")...)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDLOCAL", "AWS_SECRET_ACCESS_KEY=secret", "AWS_DEFAULT_REGION=us-east-1",
			"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=", "AWS_MAX_ATTEMPTS=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws iot %v: %v\n%s", args, err, out)
		}
		var v map[string]any
		if len(strings.TrimSpace(string(out))) > 0 {
			if err := json.Unmarshal(out, &v); err != nil {
				t.Fatalf("aws iot %v: %v\n%s", args, err, out)
			}
		}
		return v
	}
	run("create-provisioning-template", "--template-name", "cli-jitp", "--template-body", "file://"+body,
		"--type", "JITP", "--provisioning-role-arn", provRoleArn, "--enabled")
	v := run("create-provisioning-template-version", "--template-name", "cli-jitp", "--template-body", "file://"+body, "--set-as-default")
	if v["versionId"] != 2.0 || v["isDefaultVersion"] != true {
		t.Fatalf("version: %v", v)
	}
	d := run("describe-provisioning-template", "--template-name", "cli-jitp")
	if d["defaultVersionId"] != 2.0 || d["type"] != "JITP" || d["enabled"] != true || d["templateBody"] != jitpTemplate {
		t.Fatalf("describe: %v", d)
	}
	if vs := run("list-provisioning-template-versions", "--template-name", "cli-jitp")["versions"].([]any); len(vs) != 2 {
		t.Fatalf("versions: %v", vs)
	}
	if ts := run("list-provisioning-templates")["templates"].([]any); len(ts) != 1 {
		t.Fatalf("templates: %v", ts)
	}
}
