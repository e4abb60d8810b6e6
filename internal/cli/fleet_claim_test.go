package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"

	"github.com/otactl/otactl/device"
)

// TestFleetProvisionedByClaim: devices with no certificate of their own
// provision themselves by claim (their key made here, a certificate over
// MQTT, RegisterThing with a FLEET_PROVISIONING template that puts them in
// the update's group and attaches the thing policy), then take the
// CONTINUOUS update's job and succeed, as a factory-fresh fleet would on
// AWS.
func TestFleetProvisionedByClaim(t *testing.T) {
	env, cert := fleetLocal(t, "MQTT", true) // an empty group "fleet" and its SNAPSHOT update
	ctx := context.Background()
	api := iot.NewFromConfig(env.Config)
	policyDoc, _ := json.Marshal(device.ThingPolicy("arn:aws:iot:us-east-1:000000000000"))
	template := `{
	  "Parameters": {"ThingName": {"Type": "String"}, "SerialNumber": {"Type": "String"}, "AWS::IoT::Certificate::Id": {"Type": "String"}},
	  "Resources": {
	    "thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": {"Ref": "ThingName"}, "AttributePayload": {"serial": {"Ref": "SerialNumber"}}, "ThingGroups": ["fleet"]}},
	    "certificate": {"Type": "AWS::IoT::Certificate", "Properties": {"CertificateId": {"Ref": "AWS::IoT::Certificate::Id"}, "Status": "ACTIVE"}},
	    "policy": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyDocument": ` + string(policyDoc) + `}}
	  }
	}`
	if _, err := api.CreateProvisioningTemplate(ctx, &iot.CreateProvisioningTemplateInput{TemplateName: aws.String("factory"),
		TemplateBody: aws.String(template), ProvisioningRoleArn: aws.String("arn:aws:iam::000000000000:role/provisioning"), Enabled: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	claimPolicy := `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Action":"iot:Connect","Resource":"*"},
	 {"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":["arn:aws:iot:us-east-1:000000000000:topic/$aws/certificates/create-from-csr/*","arn:aws:iot:us-east-1:000000000000:topic/$aws/provisioning-templates/factory/provision/*"]},
	 {"Effect":"Allow","Action":"iot:Subscribe","Resource":["arn:aws:iot:us-east-1:000000000000:topicfilter/$aws/certificates/create-from-csr/*","arn:aws:iot:us-east-1:000000000000:topicfilter/$aws/provisioning-templates/factory/provision/*"]}]}`
	if _, err := api.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String("claim"), PolicyDocument: aws.String(claimPolicy)}); err != nil {
		t.Fatal(err)
	}
	kc, err := api.CreateKeysAndCertificate(ctx, &iot.CreateKeysAndCertificateInput{SetAsActive: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := api.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: aws.String("claim"), Target: kc.CertificateArn}); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	claimCrt, claimKey := filepath.Join(dir, "claim.crt"), filepath.Join(dir, "claim.key")
	os.WriteFile(claimCrt, []byte(*kc.CertificatePem), 0o600)
	os.WriteFile(claimKey, []byte(*kc.KeyPair.PrivateKey), 0o600)
	spec := filepath.Join(dir, "continuous.yaml")
	body := strings.NewReplacer("%ID%", "fw-claim", "%PROTO%", "MQTT").Replace(fleetSpecYAML) + "targetSelection: CONTINUOUS\n"
	if err := os.WriteFile(spec, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, stdout, stderr := run(t, "create", "-f", spec, "--endpoint-url", env.URL); code != 0 {
		t.Fatalf("create: exit %d\n%s\n%s", code, stdout, stderr)
	}

	ca := filepath.Join(env.Server.Config().DataDir, "ca.pem")
	certs := filepath.Join(dir, "certs")
	rep := fleetJSON(t, "--devices", "3", "--prefix", "factory-", "--endpoint-url", env.URL, "--signing-cert", cert,
		"--provision-template", "factory", "--claim-cert", claimCrt, "--claim-key", claimKey, "--ca", ca, "--cert-dir", certs)
	if s := rep.Stats; s.Succeeded != 3 {
		t.Fatalf("stats %+v", s)
	}
	th, err := api.DescribeThing(ctx, &iot.DescribeThingInput{ThingName: aws.String("factory-2")})
	if err != nil || th.Attributes["serial"] != "factory-2" {
		t.Fatalf("thing: %+v %v", th, err)
	}
	if _, err := os.Stat(filepath.Join(certs, "factory-3.key")); err != nil {
		t.Fatal(err)
	}
	// A second run finds the certificates and provisions nothing again
	// (the devices have no job left: exit 1, NO_JOB).
	code, _, stderr := run(t, append([]string{"fleet", "--devices", "3", "--prefix", "factory-", "--endpoint-url", env.URL, "--signing-cert", cert,
		"--provision-template", "factory", "--claim-cert", claimCrt, "--claim-key", claimKey, "--ca", ca, "--cert-dir", certs}, "--run-timeout", "2s", "--idle", "1s")...)
	if strings.Contains(stderr, "provisioned themselves") {
		t.Errorf("second run provisioned again (exit %d): %s", code, stderr)
	}
	if certsNow, _ := api.ListCertificates(ctx, &iot.ListCertificatesInput{}); len(certsNow.Certificates) != 4 { // the claim's + 3
		t.Errorf("certificates after a second run: %d", len(certsNow.Certificates))
	}
}
