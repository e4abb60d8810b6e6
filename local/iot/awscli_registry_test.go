package iot_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/otactl/otactl/internal/testtool"
)

// TestAWSCLIRegistry: the registry commands of issue 11 as a shell script
// would run them.
func TestAWSCLIRegistry(t *testing.T) {
	awscli := testtool.Require(t, "aws", "apt-get install awscli")
	f := start(t)
	aws := func(args ...string) (map[string]any, string, error) {
		t.Helper()
		cmd := exec.Command(awscli, append(append([]string{"iot"}, args...), "--endpoint-url", f.url, "--output", "json")...)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDLOCAL", "AWS_SECRET_ACCESS_KEY=secret", "AWS_DEFAULT_REGION=us-east-1",
			"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=", "AWS_MAX_ATTEMPTS=1")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		var v map[string]any
		if err == nil && len(strings.TrimSpace(string(out))) > 0 {
			if jerr := json.Unmarshal(out, &v); jerr != nil {
				t.Fatalf("aws %v: %v\n%s", args, jerr, out)
			}
		}
		return v, stderr.String(), err
	}
	ok := func(args ...string) map[string]any {
		t.Helper()
		v, stderr, err := aws(args...)
		if err != nil {
			t.Fatalf("aws iot %v: %v\n%s", args, err, stderr)
		}
		return v
	}
	fails := func(code string, args ...string) {
		t.Helper()
		if _, stderr, err := aws(args...); err == nil || !strings.Contains(stderr, "("+code+")") {
			t.Fatalf("aws iot %v: want %s, got %v\n%s", args, code, err, stderr)
		}
	}

	ok("create-thing-type", "--thing-type-name", "StopLight",
		"--thing-type-properties", `thingTypeDescription="traffic light type",searchableAttributes=wattage,numOfLights,model`)
	tt := ok("describe-thing-type", "--thing-type-name", "StopLight")
	if props := tt["thingTypeProperties"].(map[string]any); len(props["searchableAttributes"].([]any)) != 3 ||
		tt["thingTypeMetadata"].(map[string]any)["deprecated"] != false {
		t.Fatalf("describe-thing-type: %v", tt)
	}
	ok("create-thing", "--thing-name", "MyLight", "--thing-type-name", "StopLight",
		"--attribute-payload", `{"attributes":{"wattage":"75","model":"123"}}`)
	ok("update-thing", "--thing-name", "MyLight", "--expected-version", "1",
		"--attribute-payload", `{"attributes":{"model":"","numOfLights":"3"},"merge":true}`)
	th := ok("describe-thing", "--thing-name", "MyLight")
	if a := th["attributes"].(map[string]any); len(a) != 2 || a["numOfLights"] != "3" || a["model"] != nil || th["version"] != 2.0 {
		t.Fatalf("describe-thing after update-thing: %v", th)
	}
	fails("VersionConflictException", "update-thing", "--thing-name", "MyLight", "--expected-version", "1", "--remove-thing-type")
	if l := ok("list-things", "--thing-type-name", "StopLight")["things"].([]any); len(l) != 1 {
		t.Fatalf("list-things --thing-type-name: %v", l)
	}

	ok("deprecate-thing-type", "--thing-type-name", "StopLight")
	fails("InvalidRequestException", "create-thing", "--thing-name", "Other", "--thing-type-name", "StopLight")
	fails("InvalidRequestException", "delete-thing-type", "--thing-type-name", "StopLight")
	ok("deprecate-thing-type", "--thing-type-name", "StopLight", "--undo-deprecate")
	if l := ok("list-thing-types")["thingTypes"].([]any); len(l) != 1 || l[0].(map[string]any)["thingTypeMetadata"].(map[string]any)["deprecated"] != false {
		t.Fatalf("list-thing-types: %v", l)
	}

	ok("create-thing-group", "--thing-group-name", "LightBulbs")
	ok("create-thing-group", "--thing-group-name", "HalogenBulbs", "--parent-group-name", "LightBulbs")
	names := func(v map[string]any) string {
		var out []string
		for _, g := range v["thingGroups"].([]any) {
			out = append(out, g.(map[string]any)["groupName"].(string))
		}
		return strings.Join(out, ",")
	}
	if got := names(ok("list-thing-groups", "--no-recursive")); got != "LightBulbs" {
		t.Fatalf("list-thing-groups --no-recursive: %s", got)
	}
	if got := names(ok("list-thing-groups", "--parent-group", "LightBulbs")); got != "HalogenBulbs" {
		t.Fatalf("list-thing-groups --parent-group: %s", got)
	}
	if got := names(ok("list-thing-groups")); got != "HalogenBulbs,LightBulbs" {
		t.Fatalf("list-thing-groups: %s", got)
	}
	v := ok("update-thing-group", "--thing-group-name", "HalogenBulbs", "--expected-version", "1",
		"--thing-group-properties", `{"thingGroupDescription":"halogen","attributePayload":{"attributes":{"Manufacturer":"AnyCompany"}}}`)
	if v["version"] != 2.0 {
		t.Fatalf("update-thing-group: %v", v)
	}
	g := ok("describe-thing-group", "--thing-group-name", "HalogenBulbs")
	if m := g["thingGroupMetadata"].(map[string]any); m["parentGroupName"] != "LightBulbs" ||
		g["thingGroupProperties"].(map[string]any)["thingGroupDescription"] != "halogen" {
		t.Fatalf("describe-thing-group: %v", g)
	}
	ok("add-thing-to-thing-group", "--thing-group-name", "HalogenBulbs", "--thing-name", "MyLight")
	if got := names(ok("list-thing-groups-for-thing", "--thing-name", "MyLight")); got != "HalogenBulbs" {
		t.Fatalf("list-thing-groups-for-thing: %s", got)
	}
	if p := ok("list-thing-principals-v2", "--thing-name", "MyLight")["thingPrincipalObjects"].([]any); len(p) != 0 {
		t.Fatalf("list-thing-principals-v2: %v", p)
	}
}
