package ota

import (
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)

func intp(i int) *int { return &i }

// validSpec is a spec that breaks no rule; each case below breaks one.
func validSpec() *Spec {
	return &Spec{
		OTAUpdateID: "fw-1-2-0",
		Targets:     []string{"thinggroup/sensors"},
		RoleArn:     "ota-role",
		Files: []File{{
			FileName:     "/fw.bin",
			FileLocation: FileLocation{S3Location: &S3Location{Bucket: "fw-bucket", Key: "fw.bin"}},
			CodeSigning:  CodeSigning{StartSigningJobParameter: &StartSigningJobParameter{SigningProfileName: "fw_signer"}},
		}},
	}
}

func customSigning() CodeSigning {
	return CodeSigning{CustomCodeSigning: &CustomCodeSigning{
		Signature:          &CustomSignature{InlineDocument: "MEUCIQDx"},
		CertificateChain:   &CertificateChain{CertificateName: "code_sign.crt"},
		HashAlgorithm:      "SHA256",
		SignatureAlgorithm: "ECDSA",
	}}
}

type ruleCase struct {
	name   string
	mutate func(*Spec)
	path   string // expected path of the one error; "" means valid
	rule   string // substring of the rule
}

// ruleCases holds, for each rule, a spec that breaks it and (where the rule
// has an edge) one that just passes.
var ruleCases = []ruleCase{
	{"valid base", func(s *Spec) {}, "", ""},
	// otaUpdateId
	{"id required", func(s *Spec) { s.OTAUpdateID = "" }, "otaUpdateId", "required"},
	{"id pattern", func(s *Spec) { s.OTAUpdateID = "fw 1.2" }, "otaUpdateId", "[a-zA-Z0-9_-]+"},
	{"id max 128", func(s *Spec) { s.OTAUpdateID = strings.Repeat("a", 129) }, "otaUpdateId", "at most 128"},
	{"id fits job id", func(s *Spec) { s.OTAUpdateID = strings.Repeat("a", 57) }, "otaUpdateId", "fit 64"},
	{"id 56 ok", func(s *Spec) { s.OTAUpdateID = strings.Repeat("a", 56) }, "", ""},
	// description
	{"description length", func(s *Spec) { s.Description = strings.Repeat("d", 2029) }, "description", "2028"},
	{"description control chars", func(s *Spec) { s.Description = "a\x00b" }, "description", "control"},
	{"description 2028 ok", func(s *Spec) { s.Description = strings.Repeat("d", 2028) }, "", ""},
	// targets
	{"targets required", func(s *Spec) { s.Targets = nil }, "targets", "at least one"},
	{"target bad arn", func(s *Spec) { s.Targets = []string{"arn:aws:iot:us-east-1:123:thing/x"} }, "targets[0]", "ARN"},
	{"target arn ok", func(s *Spec) { s.Targets = []string{"arn:aws:iot:us-east-1:123456789012:thinggroup/x"} }, "", ""},
	{"target bad name", func(s *Spec) { s.Targets = []string{"bad name"} }, "targets[0]", "name"},
	{"target bad qualified name", func(s *Spec) { s.Targets = []string{"thing/a b"} }, "targets[0]", "1-128"},
	{"target duplicate", func(s *Spec) { s.Targets = []string{"g", "g"} }, "targets[1]", "duplicate"},
	{"target selection", func(s *Spec) { s.TargetSelection = "ONCE" }, "targetSelection", "SNAPSHOT or CONTINUOUS"},
	{"target selection ok", func(s *Spec) { s.TargetSelection = "CONTINUOUS" }, "", ""},
	// protocols
	{"protocol enum", func(s *Spec) { s.Protocols = []string{"COAP"} }, "protocols[0]", "MQTT or HTTP"},
	{"protocol duplicate", func(s *Spec) { s.Protocols = []string{"MQTT", "MQTT"} }, "protocols[1]", "duplicate"},
	{"protocol too many", func(s *Spec) { s.Protocols = []string{"MQTT", "HTTP", "MQTT"} }, "", ""}, // checked below: several errors
	{"http needs presigned config", func(s *Spec) { s.Protocols = []string{"HTTP"} }, "presignedUrlConfig", "required when protocols include HTTP"},
	{"http ok", func(s *Spec) {
		s.Protocols = []string{"MQTT", "HTTP"}
		s.PresignedURLConfig = &PresignedURLConfig{ExpiresInSec: 3600}
	}, "", ""},
	{"presign too short", func(s *Spec) {
		s.Protocols = []string{"HTTP"}
		s.PresignedURLConfig = &PresignedURLConfig{ExpiresInSec: 59}
	}, "presignedUrlConfig.expiresInSec", "60-3600"},
	{"presign too long", func(s *Spec) {
		s.Protocols = []string{"HTTP"}
		s.PresignedURLConfig = &PresignedURLConfig{ExpiresInSec: 3601}
	}, "presignedUrlConfig.expiresInSec", "60-3600"},
	{"http cannot use stream", func(s *Spec) {
		s.Protocols = []string{"HTTP"}
		s.PresignedURLConfig = &PresignedURLConfig{ExpiresInSec: 600}
		s.Files[0].FileLocation = FileLocation{Stream: &StreamFile{StreamID: "s1", FileID: intp(0)}}
		s.Files[0].CodeSigning = customSigning()
	}, "files[0].fileLocation.stream", "HTTP downloads need an s3Location"},
	// role
	{"role required", func(s *Spec) { s.RoleArn = "" }, "roleArn", "required"},
	{"role bad arn", func(s *Spec) { s.RoleArn = "arn:aws:iam::12:role/x" }, "roleArn", "IAM role ARN"},
	{"role arn ok", func(s *Spec) { s.RoleArn = "arn:aws:iam::123456789012:role/ota-role" }, "", ""},
	{"role bad name", func(s *Spec) { s.RoleArn = "ota role" }, "roleArn", "role name"},
	// files
	{"files required", func(s *Spec) { s.Files = nil }, "files", "at least one"},
	{"files max 50", func(s *Spec) {
		f := s.Files[0]
		for len(s.Files) < 51 {
			s.Files = append(s.Files, f)
		}
	}, "files", "at most 50"},
	{"fileType range", func(s *Spec) { s.Files[0].FileType = intp(256) }, "files[0].fileType", "0-255"},
	{"fileType 255 ok", func(s *Spec) { s.Files[0].FileType = intp(255) }, "", ""},
	{"location none", func(s *Spec) { s.Files[0].FileLocation = FileLocation{} }, "files[0].fileLocation", "exactly one"},
	{"location both", func(s *Spec) {
		s.Files[0].FileLocation.Stream = &StreamFile{StreamID: "s", FileID: intp(0)}
	}, "files[0].fileLocation", "got both"},
	{"bucket name", func(s *Spec) { s.Files[0].FileLocation.S3Location.Bucket = "Fw_Bucket" }, "files[0].fileLocation.s3Location.bucket", "bucket name"},
	{"key required", func(s *Spec) { s.Files[0].FileLocation.S3Location.Key = "" }, "files[0].fileLocation.s3Location.key", "1-1024"},
	{"stream id required", func(s *Spec) {
		s.Files[0].FileLocation = FileLocation{Stream: &StreamFile{FileID: intp(0)}}
		s.Files[0].CodeSigning = customSigning()
	}, "files[0].fileLocation.stream.streamId", "required"},
	{"stream id 44 for devices", func(s *Spec) {
		s.Files[0].FileLocation = FileLocation{Stream: &StreamFile{StreamID: strings.Repeat("s", 45), FileID: intp(0)}}
		s.Files[0].CodeSigning = customSigning()
	}, "files[0].fileLocation.stream.streamId", "at most 44"},
	{"stream id 44 ok", func(s *Spec) {
		s.Files[0].FileLocation = FileLocation{Stream: &StreamFile{StreamID: strings.Repeat("s", 44), FileID: intp(255)}}
		s.Files[0].CodeSigning = customSigning()
	}, "", ""},
	{"fileId required", func(s *Spec) {
		s.Files[0].FileLocation = FileLocation{Stream: &StreamFile{StreamID: "s"}}
		s.Files[0].CodeSigning = customSigning()
	}, "files[0].fileLocation.stream.fileId", "required"},
	{"fileId range", func(s *Spec) {
		s.Files[0].FileLocation = FileLocation{Stream: &StreamFile{StreamID: "s", FileID: intp(256)}}
		s.Files[0].CodeSigning = customSigning()
	}, "files[0].fileLocation.stream.fileId", "0-255"},
	{"fileId unique in stream", func(s *Spec) {
		s.Files = []File{
			{FileLocation: FileLocation{Stream: &StreamFile{StreamID: "s", FileID: intp(1)}}, CodeSigning: customSigning()},
			{FileLocation: FileLocation{Stream: &StreamFile{StreamID: "s", FileID: intp(1)}}, CodeSigning: customSigning()},
		}
	}, "files[1].fileLocation.stream.fileId", "same stream and fileId"},
	{"one stream per job", func(s *Spec) {
		s.Files = []File{
			{FileLocation: FileLocation{Stream: &StreamFile{StreamID: "s1", FileID: intp(0)}}, CodeSigning: customSigning()},
			{FileLocation: FileLocation{Stream: &StreamFile{StreamID: "s2", FileID: intp(1)}}, CodeSigning: customSigning()},
		}
	}, "files[1].fileLocation.stream.streamId", "one stream"},
	{"no mixing stream and s3 over MQTT", func(s *Spec) {
		s.Files = append(s.Files, File{FileLocation: FileLocation{Stream: &StreamFile{StreamID: "s1", FileID: intp(3)}}, CodeSigning: customSigning()})
	}, "files", "cannot mix"},
	// code signing
	{"signing none", func(s *Spec) { s.Files[0].CodeSigning = CodeSigning{} }, "files[0].codeSigning", "exactly one"},
	{"signing two", func(s *Spec) { s.Files[0].CodeSigning.AWSSignerJobID = "job-1" }, "files[0].codeSigning", "got 2"},
	{"signer job id ok", func(s *Spec) { s.Files[0].CodeSigning = CodeSigning{AWSSignerJobID: "4d5f-22ab"} }, "", ""},
	{"signer job id pattern", func(s *Spec) { s.Files[0].CodeSigning = CodeSigning{AWSSignerJobID: "job/1"} }, "files[0].codeSigning.awsSignerJobId", "Signer job id"},
	{"profile name", func(s *Spec) { s.Files[0].CodeSigning.StartSigningJobParameter.SigningProfileName = "a" }, "files[0].codeSigning.startSigningJobParameter.signingProfileName", "2-64"},
	{"profile name chars", func(s *Spec) { s.Files[0].CodeSigning.StartSigningJobParameter.SigningProfileName = "fw-signer" }, "files[0].codeSigning.startSigningJobParameter.signingProfileName", "[a-zA-Z0-9_]"},
	{"profile needs s3", func(s *Spec) {
		s.Files[0].FileLocation = FileLocation{Stream: &StreamFile{StreamID: "s", FileID: intp(0)}}
	}, "files[0].codeSigning.startSigningJobParameter", "needs fileLocation.s3Location"},
	{"destination bucket", func(s *Spec) {
		s.Files[0].CodeSigning.StartSigningJobParameter.Destination = &Destination{S3Destination: &S3Destination{Bucket: "x"}}
	}, "files[0].codeSigning.startSigningJobParameter.destination.s3Destination.bucket", "bucket name"},
	{"destination needs s3Destination", func(s *Spec) {
		s.Files[0].CodeSigning.StartSigningJobParameter.Destination = &Destination{}
	}, "files[0].codeSigning.startSigningJobParameter.destination.s3Destination", "required"},
	{"certificate arn", func(s *Spec) {
		s.Files[0].CodeSigning.StartSigningJobParameter.SigningProfileParameter = &SigningProfileParameter{CertificateArn: "cert"}
	}, "files[0].codeSigning.startSigningJobParameter.signingProfileParameter.certificateArn", "ACM"},
	{"custom ok", func(s *Spec) { s.Files[0].CodeSigning = customSigning() }, "", ""},
	{"custom signature required", func(s *Spec) {
		s.Files[0].CodeSigning = customSigning()
		s.Files[0].CodeSigning.CustomCodeSigning.Signature = nil
	}, "files[0].codeSigning.customCodeSigning.signature.inlineDocument", "required"},
	{"custom signature base64", func(s *Spec) {
		s.Files[0].CodeSigning = customSigning()
		s.Files[0].CodeSigning.CustomCodeSigning.Signature.InlineDocument = "not base64!"
	}, "files[0].codeSigning.customCodeSigning.signature.inlineDocument", "base64"},
	{"custom cert name", func(s *Spec) {
		s.Files[0].CodeSigning = customSigning()
		s.Files[0].CodeSigning.CustomCodeSigning.CertificateChain = nil
	}, "files[0].codeSigning.customCodeSigning.certificateChain.certificateName", "required"},
	{"custom hash with dash", func(s *Spec) {
		s.Files[0].CodeSigning = customSigning()
		s.Files[0].CodeSigning.CustomCodeSigning.HashAlgorithm = "SHA-256"
	}, "files[0].codeSigning.customCodeSigning.hashAlgorithm", "without a dash"},
	{"custom hash unknown", func(s *Spec) {
		s.Files[0].CodeSigning = customSigning()
		s.Files[0].CodeSigning.CustomCodeSigning.HashAlgorithm = "MD5"
	}, "files[0].codeSigning.customCodeSigning.hashAlgorithm", "SHA256 or SHA1"},
	{"custom sig alg", func(s *Spec) {
		s.Files[0].CodeSigning = customSigning()
		s.Files[0].CodeSigning.CustomCodeSigning.SignatureAlgorithm = "DSA"
	}, "files[0].codeSigning.customCodeSigning.signatureAlgorithm", "ECDSA or RSA"},
	// tags and parameters
	{"tag key empty", func(s *Spec) { s.Tags = []Tag{{Key: "", Value: "v"}} }, "tags[0].Key", "1-128"},
	{"tag key aws:", func(s *Spec) { s.Tags = []Tag{{Key: "aws:x", Value: "v"}} }, "tags[0].Key", "reserved"},
	{"tag key pattern", func(s *Spec) { s.Tags = []Tag{{"k#", "a"}} }, "tags[0].Key", "letters"},
	{"tag value length", func(s *Spec) { s.Tags = []Tag{{"k", strings.Repeat("v", 257)}} }, "tags[0].Value", "256"},
	{"tags max 50", func(s *Spec) {
		for i := 0; i < 51; i++ {
			s.Tags = append(s.Tags, Tag{Key: strings.Repeat("k", i+1), Value: "v"})
		}
	}, "tags", "at most 50"},
	{"attribute value length", func(s *Spec) { s.Files[0].Attributes = map[string]string{"hw": strings.Repeat("v", 4097)} }, "files[0].attributes.hw", "4096"},
	{"attribute value 4096 ok", func(s *Spec) { s.Files[0].Attributes = map[string]string{"hw": strings.Repeat("v", 4096)} }, "", ""},
}

func TestValidateRules(t *testing.T) {
	for _, tc := range append(ruleCases, jobRuleCases...) {
		t.Run(tc.name, func(t *testing.T) {
			s := validSpec()
			tc.mutate(s)
			errs := Validate(s, testNow)
			if tc.name == "protocol too many" {
				if !hasError(errs, "protocols", "at most 2") {
					t.Fatalf("want 'at most 2 protocols', got %v", errs)
				}
				return
			}
			if tc.path == "" {
				if len(errs) != 0 {
					t.Fatalf("want valid, got %v", errs)
				}
				return
			}
			if len(errs) != 1 || errs[0].Path != tc.path || !strings.Contains(errs[0].Rule, tc.rule) {
				t.Fatalf("want exactly one error %s: ...%s..., got %v", tc.path, tc.rule, errs)
			}
		})
	}
}

func hasError(errs Errors, path, rule string) bool {
	for _, e := range errs {
		if e.Path == path && strings.Contains(e.Rule, rule) {
			return true
		}
	}
	return false
}

func TestValidateReportsEveryError(t *testing.T) {
	s := validSpec()
	s.OTAUpdateID = "bad id"
	s.Targets = nil
	s.RoleArn = ""
	s.Protocols = []string{"COAP"}
	s.TargetSelection = "X"
	s.Files[0].FileType = intp(-1)
	s.Files[0].FileLocation.S3Location.Bucket = "B"
	s.Files[0].CodeSigning.StartSigningJobParameter.SigningProfileName = "-"
	s.TimeoutConfig = &TimeoutConfig{InProgressTimeoutInMinutes: 0}
	s.JobExecutionsRolloutConfig = &RolloutConfig{MaximumPerMinute: -1} // over 1000 is advice now
	errs := Validate(s, testNow)
	if len(errs) != 10 {
		t.Fatalf("want 10 errors, got %d:\n%v", len(errs), errs)
	}
}
