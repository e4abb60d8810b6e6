package ota

import (
	"encoding/json"
	"strings"
	"testing"
)

func ops(p *Plan) string {
	var o []string
	for _, s := range p.Steps {
		o = append(o, s.Service+":"+s.Operation)
	}
	return strings.Join(o, " ")
}

func TestPlanVariants(t *testing.T) {
	env := PlanEnv{Region: "eu-west-1", AccountID: "123456789012", StreamID: testStream, Now: testNow}
	pinned := validSpec()
	pinned.Files[0].FileLocation.S3Location.Version = "v1"
	http := validSpec()
	http.Protocols = []string{"HTTP"}
	http.PresignedURLConfig = &PresignedURLConfig{ExpiresInSec: 600}
	custom := validSpec()
	custom.Files[0].CodeSigning = customSigning()
	presigned := validSpec()
	presigned.Files[0].CodeSigning = CodeSigning{AWSSignerJobID: "4d5f-22ab"}
	stream := validSpec()
	stream.Files[0].FileLocation = FileLocation{Stream: &StreamFile{StreamID: "fw-stream", FileID: intp(7)}}
	stream.Files[0].CodeSigning = customSigning()
	pkgs := validSpec()
	pkgs.DestinationPackageVersions = []string{"sensor@1.0", "arn:aws:iot:eu-west-1:123456789012:package/b/version/2"}

	cases := []struct {
		name string
		spec *Spec
		ops  string
	}{
		{"signer latest", validSpec(), "s3:HeadObject signer:GetSigningProfile signer:StartSigningJob signer:DescribeSigningJob s3:GetObject s3:CopyObject iot:CreateStream iot:CreateJob"},
		{"signer pinned", pinned, "signer:GetSigningProfile signer:StartSigningJob signer:DescribeSigningJob s3:GetObject s3:CopyObject iot:CreateStream iot:CreateJob"},
		{"http", http, "s3:HeadObject signer:GetSigningProfile signer:StartSigningJob signer:DescribeSigningJob s3:GetObject s3:CopyObject iot:CreateJob"},
		{"custom", custom, "s3:HeadObject iot:CreateStream iot:CreateJob"},
		{"awsSignerJobId", presigned, "s3:HeadObject signer:DescribeSigningJob signer:GetSigningProfile s3:GetObject iot:CreateStream iot:CreateJob"},
		{"existing stream", stream, "iot:DescribeStream iot:CreateJob"},
		{"package versions", pkgs, "s3:HeadObject signer:GetSigningProfile signer:StartSigningJob signer:DescribeSigningJob s3:GetObject s3:CopyObject iot:CreateStream iot:GetPackageVersion iot:CreateJob"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := NewPlan(tc.spec, env)
			if err != nil {
				t.Fatal(err)
			}
			if got := ops(p); got != tc.ops {
				t.Fatalf("steps\n got %s\nwant %s", got, tc.ops)
			}
			if errs := ValidateJobAPI(&p.CreateJob, testNow); len(errs) != 0 {
				t.Fatalf("the plan's CreateJob request breaks CreateJob's rules: %v", errs)
			}
			var doc struct {
				AfrOta struct {
					Protocols  []string         `json:"protocols"`
					Streamname *string          `json:"streamname"`
					Files      []map[string]any `json:"files"`
				} `json:"afr_ota"`
			}
			if err := json.Unmarshal(p.JobDocument, &doc); err != nil {
				t.Fatal(err)
			}
			if (doc.AfrOta.Streamname != nil) != tc.spec.HasProtocol(ProtocolMQTT) {
				t.Fatalf("streamname present iff MQTT: %s", p.JobDocument)
			}
		})
	}
	p, _ := NewPlan(stream, env)
	if p.StreamID != "fw-stream" || !strings.Contains(string(p.JobDocument), `"fileid":7`) {
		t.Errorf("existing stream: %s %s", p.StreamID, p.JobDocument)
	}
	p, _ = NewPlan(http, env)
	if p.CreateJob.PresignedURLConfig == nil || p.CreateJob.PresignedURLConfig.RoleArn != "arn:aws:iam::123456789012:role/ota-role" ||
		p.CreateJob.PresignedURLConfig.ExpiresInSec != 600 {
		t.Errorf("HTTP presignedUrlConfig: %+v", p.CreateJob.PresignedURLConfig)
	}
	p, _ = NewPlan(pkgs, env)
	if p.CreateJob.DestinationPackageVersions[0] != "arn:aws:iot:eu-west-1:123456789012:package/sensor/version/1.0" {
		t.Errorf("package ref not turned into an ARN: %v", p.CreateJob.DestinationPackageVersions)
	}
	if p.CreateJob.Tags[0] != (Tag{TagUpdateID, "fw-1-2-0"}) {
		t.Errorf("the job must carry the otactl:update-id tag: %v", p.CreateJob.Tags)
	}
}

func TestPlanRefusesInvalidSpec(t *testing.T) {
	s := validSpec()
	s.RoleArn = ""
	if _, err := NewPlan(s, PlanEnv{Now: testNow}); err == nil {
		t.Fatal("plan of an invalid spec")
	}
}
