package iot_test

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/otactl/otactl/local/iot"
)

// TestRegisterThingRefusals: each refusal of fleet provisioning names its
// cause with the MQTT API's status and code, and leaves the certificate
// PENDING_ACTIVATION and its token usable.
func TestRegisterThingRefusals(t *testing.T) {
	f := start(t)
	f.svc.SetCertificateIssuer(newTestCA(t, "otactl local CA"))
	body := `{"Parameters": {"Serial": {"Type": "String"}, "AWS::IoT::Certificate::Id": {"Type": "String"}},
	  "Resources": {"thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": {"Ref": "Serial"}, "ThingGroups": ["missing-group"]}},
	    "certificate": {"Type": "AWS::IoT::Certificate", "Properties": {"CertificateId": {"Ref": "AWS::IoT::Certificate::Id"}}}}}`
	must(f.client.CreateProvisioningTemplate(ctx, &sdkiot.CreateProvisioningTemplateInput{TemplateName: aws.String("fp"),
		TemplateBody: aws.String(body), ProvisioningRoleArn: aws.String(provRoleArn)}))
	must(f.client.CreateProvisioningTemplate(ctx, &sdkiot.CreateProvisioningTemplateInput{TemplateName: aws.String("jitp-only"),
		TemplateBody: aws.String(body), ProvisioningRoleArn: aws.String(provRoleArn), Type: types.TemplateTypeJitp, Enabled: aws.Bool(true)}))
	c := must(f.svc.CreateClaimedCertificate(""))
	if c.PrivateKey == "" || c.OwnershipToken == "" {
		t.Fatalf("claimed certificate: %+v", c)
	}
	refused := func(name, template, token string, params map[string]string, status int, code string) {
		t.Helper()
		_, _, err := f.svc.RegisterThing(template, token, params)
		var pe *iot.ProvisioningError
		if !errors.As(err, &pe) || pe.StatusCode != status || pe.Code != code {
			t.Errorf("%s: %v, want %d %s", name, err, status, code)
		}
	}
	refused("unknown template", "nope", c.OwnershipToken, nil, 404, "ResourceNotFound")
	refused("disabled template", "fp", c.OwnershipToken, nil, 403, "Forbidden")
	refused("JITP template", "jitp-only", c.OwnershipToken, nil, 400, "InvalidParameters")
	must(f.client.UpdateProvisioningTemplate(ctx, &sdkiot.UpdateProvisioningTemplateInput{TemplateName: aws.String("fp"), Enabled: aws.Bool(true)}))
	refused("unknown token", "fp", "forged", map[string]string{"Serial": "1"}, 400, "InvalidCertificateOwnershipToken")
	refused("missing parameter", "fp", c.OwnershipToken, nil, 400, "InvalidParameters")
	refused("missing group", "fp", c.OwnershipToken, map[string]string{"Serial": "dev-1"}, 400, "InvalidParameters")
	if _, err := f.client.DescribeThing(ctx, &sdkiot.DescribeThingInput{ThingName: aws.String("dev-1")}); err == nil {
		t.Error("a refused registration left its thing")
	}
	d := must(f.client.DescribeCertificate(ctx, &sdkiot.DescribeCertificateInput{CertificateId: aws.String(c.ID)}))
	if d.CertificateDescription.Status != "PENDING_ACTIVATION" {
		t.Errorf("certificate after refusals: %s", d.CertificateDescription.Status)
	}
	must(f.client.CreateThingGroup(ctx, &sdkiot.CreateThingGroupInput{ThingGroupName: aws.String("missing-group")}))
	thing, _, err := f.svc.RegisterThing("fp", c.OwnershipToken, map[string]string{"Serial": "dev-1"})
	if err != nil || thing != "dev-1" || !f.svc.CertificateActive(c.ID) {
		t.Fatalf("registration: %q %v", thing, err)
	}
}
