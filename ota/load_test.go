package ota

import (
	"reflect"
	"strings"
	"testing"
)

func TestDecodeErrorsHavePositions(t *testing.T) {
	cases := []struct {
		name, src, want string
	}{
		{"yaml unknown field", "otaUpdateId: x\nfiles:\n  - fileNme: a\n", `x.yaml:3:5: unknown field "files[0].fileNme"`},
		{"yaml wrong type", "otaUpdateId: x\ntimeoutConfig:\n  inProgressTimeoutInMinutes: soon\n", `x.yaml:3:31: timeoutConfig.inProgressTimeoutInMinutes: expected a whole number, got "soon"`},
		{"yaml list expected", "targets: g1\n", `x.yaml:1:10: targets: expected a list`},
		{"yaml syntax", "otaUpdateId: x\n  targets: [\n", `x.yaml:2: invalid YAML`},
		{"json syntax", "{\"otaUpdateId\": \"x\",,}", `x.yaml:1:21: invalid JSON`},
		{"json unknown field", "{\n  \"otaUpdateId\": \"x\",\n  \"bogus\": 1\n}", `x.yaml:3:3: unknown field "bogus"`},
		{"empty", "", "x.yaml: is empty"},
	}
	for _, tc := range cases {
		_, err := ParseSpec("x.yaml", []byte(tc.src))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: want %q, got %v", tc.name, tc.want, err)
		}
	}
}

func TestDecodeReportsAllStructureErrors(t *testing.T) {
	_, err := ParseSpec("x.yaml", []byte("a: 1\nb: 2\nfiles: [{fileType: x}]\n"))
	es, ok := err.(DecodeErrors)
	if !ok || len(es) != 3 {
		t.Fatalf("want 3 errors, got %v", err)
	}
}

func TestYAMLAndJSONSpecsAreEqual(t *testing.T) {
	y := `otaUpdateId: fw
targets: [g]
roleArn: r
files:
  - fileType: 3
    attributes: {a: "1"}
    fileLocation: {stream: {streamId: s, fileId: 2}}
    codeSigning: {awsSignerJobId: j-1}
abortConfig:
  criteriaList: [{failureType: ALL, action: CANCEL, thresholdPercentage: 12.5, minNumberOfExecutedThings: 4}]
`
	j := `{"otaUpdateId":"fw","targets":["g"],"roleArn":"r","files":[{"fileType":3,"attributes":{"a":"1"},
"fileLocation":{"stream":{"streamId":"s","fileId":2}},"codeSigning":{"awsSignerJobId":"j-1"}}],
"abortConfig":{"criteriaList":[{"failureType":"ALL","action":"CANCEL","thresholdPercentage":12.5,"minNumberOfExecutedThings":4}]}}`
	a, err := ParseSpec("a.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	b, err := ParseSpec("b.json", []byte(j))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatalf("yaml %+v\njson %+v", a, b)
	}
}

func TestRequestMapsAWSJobFields(t *testing.T) {
	req := `{"otaUpdateId":"fw","targets":["arn:aws:iot:us-east-1:123456789012:thinggroup/g"],"roleArn":"r",
"protocols":["HTTP"],
"files":[{"fileLocation":{"s3Location":{"bucket":"bkt","key":"k"}},"codeSigning":{"awsSignerJobId":"j"}}],
"awsJobPresignedUrlConfig":{"expiresInSec":900},
"awsJobAbortConfig":{"abortCriteriaList":[{"failureType":"FAILED","action":"CANCEL","thresholdPercentage":5,"minNumberOfExecutedThings":10}]},
"awsJobTimeoutConfig":{"inProgressTimeoutInMinutes":20},
"awsJobExecutionsRolloutConfig":{"maximumPerMinute":7},
"namespaceId":"ns","jobTemplateArn":"arn:aws:iot:us-east-1:123456789012:jobtemplate/t"}`
	s, err := ParseRequest("r.json", []byte(req))
	if err != nil {
		t.Fatal(err)
	}
	if s.PresignedURLConfig.ExpiresInSec != 900 || s.AbortConfig.CriteriaList[0].MinNumberOfExecutedThings != 10 ||
		s.TimeoutConfig.InProgressTimeoutInMinutes != 20 || s.JobExecutionsRolloutConfig.MaximumPerMinute != 7 ||
		s.NamespaceID != "ns" || s.JobTemplateArn == "" {
		t.Fatalf("mapped spec: %+v", s)
	}
	if errs := Validate(s, testNow); len(errs) != 0 {
		t.Fatal(errs)
	}
	if _, err := ParseRequest("r.json", []byte(`{"otaUpdateId":"fw","abortConfig":{}}`)); err == nil {
		t.Fatal("a request uses awsJobAbortConfig; abortConfig is unknown there")
	}
}
