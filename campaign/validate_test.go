package campaign

import (
	"sort"
	"strings"
	"testing"
	"time"
)

const goodSpec = `update:
  otaUpdateId: fw-2-0
  roleArn: ota-role
  files:
    - fileName: /fw.bin
      fileLocation:
        s3Location: {bucket: fw-bucket, key: fw.bin}
      codeSigning:
        startSigningJobParameter: {signingProfileName: fw_signer}
stages:
  - name: canary
    share: {group: fleet, percent: 5}
    gate: {minFinished: 2, minSuccessPercent: 50, maxFailurePercent: 60, bake: 30m, bakeFrom: thresholdMet}
  - name: early
    share: {group: fleet, percent: 25}
    gate: {minSuccessPercent: 90, maxFailurePercent: 5, bake: 1h, onFailure: abort}
  - name: rest
    share: {group: fleet, percent: 70}
    gate: {minSuccessPercent: 95}
`

// TestValidate: each row edits the good spec and lists the field paths
// that must be reported, all at once.
func TestValidate(t *testing.T) {
	now := time.Date(2030, 1, 7, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name  string
		edit  func(s string) string
		paths []string
		says  string
	}{
		{"good", func(s string) string { return s }, nil, ""},
		{"shares do not add up", func(s string) string { return strings.Replace(s, "percent: 70", "percent: 60", 1) },
			[]string{"stages[2].share.percent"}, "add up to 90%"},
		{"shares above 100", func(s string) string { return strings.Replace(s, "percent: 70", "percent: 80", 1) },
			[]string{"stages[2].share.percent"}, "add up to 110%"},
		{"overlap: a group whole and in shares", func(s string) string {
			return strings.Replace(s, "share: {group: fleet, percent: 70}", "targets: [thinggroup/fleet]", 1)
		}, []string{"stages[0].share.group", "stages[1].share.group", "stages[1].share.percent"}, "overlap"},
		{"overlap: one group in two stages", func(s string) string {
			s = strings.Replace(s, "share: {group: fleet, percent: 5}", "targets: [canaries]", 1)
			s = strings.Replace(s, "share: {group: fleet, percent: 25}", "targets: [arn:aws:iot:us-east-1:123456789012:thinggroup/canaries]", 1)
			return strings.Replace(s, "percent: 70", "percent: 100", 1)
		}, []string{"stages[1].targets[0]"}, "also targeted by stages[0].targets[0]"},
		{"missing targets", func(s string) string { return strings.Replace(s, "    share: {group: fleet, percent: 5}\n", "", 1) },
			[]string{"stages[0]", "stages[2].share.percent"}, "no targets"},
		{"a thing is not a stage target", func(s string) string {
			s = strings.Replace(s, "share: {group: fleet, percent: 5}", "targets: [thing/dev-1]", 1)
			return strings.Replace(s, "percent: 70", "percent: 75", 1)
		}, []string{"stages[0].targets[0]"}, "thing groups"},
		{"unreachable thresholds", func(s string) string {
			s = strings.Replace(s, "minSuccessPercent: 50", "minSuccessPercent: 120", 1)
			return strings.Replace(s, "maxFailurePercent: 5,", "maxFailurePercent: 101,", 1)
		}, []string{"stages[0].gate.minSuccessPercent", "stages[1].gate.maxFailurePercent"}, "above 100%"},
		{"bad gate words", func(s string) string {
			s = strings.Replace(s, "bakeFrom: thresholdMet", "bakeFrom: whenever", 1)
			s = strings.Replace(s, "onFailure: abort", "onFailure: panic", 1)
			return strings.Replace(s, "bake: 1h", "bake: 1 day", 1)
		}, []string{"stages[0].gate.bakeFrom", "stages[1].gate.onFailure", "stages[1].gate.bake"}, ""},
		{"bake longer than the jobs' end time", func(s string) string {
			return strings.Replace(s, "  roleArn: ota-role\n", "  roleArn: ota-role\n  schedulingConfig: {endTime: \"2030-01-07T01:00\", endBehavior: CANCEL}\n", 1)
		}, []string{"stages[1].gate.bake"}, "cannot pass before 2030-01-07T01:30"},
		{"startTime is refused", func(s string) string {
			return strings.Replace(s, "  roleArn: ota-role\n", "  roleArn: ota-role\n  schedulingConfig: {startTime: \"2030-01-08T00:00\"}\n", 1)
		}, []string{"update.schedulingConfig.startTime"}, ""},
		{"update targets and update errors under update.", func(s string) string {
			s = strings.Replace(s, "  roleArn: ota-role\n", "  targets: [fleet]\n", 1)
			return s
		}, []string{"update.targets", "update.roleArn"}, ""},
		{"names", func(s string) string {
			s = strings.Replace(s, "name: early", "name: canary", 1)
			return strings.Replace(s, "name: rest", "name: the rest", 1)
		}, []string{"stages[1].name", "stages[2].name"}, ""},
		{"job id too long", func(s string) string {
			return strings.Replace(s, "name: rest", "name: "+strings.Repeat("r", 60), 1)
		}, []string{"stages[2].name"}, "CreateJob allows 64"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := Parse("spec.yaml", []byte(c.edit(goodSpec)))
			if err != nil {
				t.Fatal(err)
			}
			errs := Validate(s, now)
			var got []string
			for _, e := range errs {
				got = append(got, e.Path)
			}
			sort.Strings(got)
			want := append([]string(nil), c.paths...)
			sort.Strings(want)
			if strings.Join(got, " ") != strings.Join(want, " ") {
				t.Fatalf("paths %v, want %v\n%v", got, want, errs)
			}
			if c.says != "" && !strings.Contains(errs.Error(), c.says) {
				t.Fatalf("errors do not say %q:\n%v", c.says, errs)
			}
		})
	}
}

func TestParseRefusesUnknownFields(t *testing.T) {
	_, err := Parse("c.yaml", []byte(strings.Replace(goodSpec, "bake: 30m", "bake: 30m, bakeTime: 1h", 1)))
	if err == nil || !strings.Contains(err.Error(), "bakeTime") || !strings.Contains(err.Error(), "c.yaml") {
		t.Fatalf("got %v", err)
	}
	if !IsCampaign([]byte(goodSpec)) || IsCampaign([]byte("otaUpdateId: x\ntargets: [g]\n")) {
		t.Fatal("IsCampaign")
	}
}
