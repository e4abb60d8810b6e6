package shadow_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"

	"github.com/otactl/otactl/local"
	"github.com/otactl/otactl/local/localtest"
)

// TestShadowLifecycle: the classic shadow through UpdateThingShadow,
// GetThingShadow and DeleteThingShadow, signed as the SDKs sign iot-data.
func TestShadowLifecycle(t *testing.T) {
	f := start(t)
	var acc doc
	f.ok(f.data("POST", "/things/lamp/shadow", `{"state":{"desired":{"color":"red","level":3}},"clientToken":"c1"}`), &acc)
	if acc.Version != 1 || acc.ClientToken != "c1" || acc.State.Desired["color"] != "red" || acc.Metadata.Desired["level"] == nil || acc.Timestamp == 0 {
		t.Fatalf("update accepted: %+v", acc)
	}
	var got doc
	f.ok(f.data("GET", "/things/lamp/shadow", ""), &got)
	if got.Version != 1 || got.State.Delta["color"] != "red" || got.State.Reported != nil {
		t.Fatalf("get: %+v", got)
	}
	f.ok(f.data("POST", "/things/lamp/shadow", `{"state":{"reported":{"color":"red","level":3}}}`), nil)
	got = doc{}
	f.ok(f.data("GET", "/things/lamp/shadow", ""), &got)
	if got.Version != 2 || got.State.Delta != nil || got.State.Reported["level"] != 3.0 {
		t.Fatalf("after reporting the desired state: %+v", got)
	}

	var del struct{ Version, Timestamp int64 }
	f.ok(f.data("DELETE", "/things/lamp/shadow", ""), &del)
	if del.Version != 2 || del.Timestamp == 0 {
		t.Fatalf("delete: %+v", del)
	}
	f.expectError(f.data("GET", "/things/lamp/shadow", ""), 404, "ResourceNotFoundException", "No shadow exists with name: 'lamp'")
	f.expectError(f.data("DELETE", "/things/lamp/shadow", ""), 404, "ResourceNotFoundException", "No shadow exists with name: 'lamp'")
	// A shadow created again continues the deleted one's versions.
	acc = doc{}
	f.ok(f.data("POST", "/things/lamp/shadow", `{"state":{"reported":{"on":true}}}`), &acc)
	if acc.Version != 3 {
		t.Fatalf("recreated shadow version %d, want 3", acc.Version)
	}
}

// TestNamedShadows: named shadows are separate documents, listed by
// ListNamedShadowsForThing with paging; the classic shadow is not listed.
func TestNamedShadows(t *testing.T) {
	f := start(t)
	for _, n := range []string{"cfg", "net", "$package"} {
		f.ok(f.data("POST", "/things/dev-1/shadow?name="+n, `{"state":{"reported":{"shadow":"`+n+`"}}}`), nil)
	}
	f.ok(f.data("POST", "/things/dev-1/shadow", `{"state":{"reported":{"shadow":"classic"}}}`), nil)
	f.ok(f.data("POST", "/things/dev-2/shadow?name=other", `{"state":{"reported":{}}}`), nil)
	var got doc
	f.ok(f.data("GET", "/things/dev-1/shadow?name=net", ""), &got)
	if got.State.Reported["shadow"] != "net" || got.Version != 1 {
		t.Fatalf("named get: %+v", got)
	}
	f.expectError(f.data("GET", "/things/dev-1/shadow?name=missing", ""), 404, "ResourceNotFoundException", "No shadow exists with name: 'missing'")

	type page struct {
		Results   []string `json:"results"`
		NextToken string   `json:"nextToken"`
		Timestamp int64    `json:"timestamp"`
	}
	var names []string
	token := ""
	for i := 0; ; i++ {
		var p page
		f.ok(f.data("GET", "/api/things/shadow/ListNamedShadowsForThing/dev-1?pageSize=2&nextToken="+token, ""), &p)
		if len(p.Results) > 2 || p.Timestamp == 0 || i > 3 {
			t.Fatalf("page %d: %+v", i, p)
		}
		names = append(names, p.Results...)
		if token = p.NextToken; token == "" {
			break
		}
	}
	if strings.Join(names, ",") != "$package,cfg,net" {
		t.Fatalf("named shadows: %v", names)
	}
	var none page
	f.ok(f.data("GET", "/api/things/shadow/ListNamedShadowsForThing/nobody", ""), &none)
	if none.Results == nil || len(none.Results) != 0 {
		t.Fatalf("a thing without shadows: %+v", none)
	}
	f.expectError(f.data("GET", "/api/things/shadow/ListNamedShadowsForThing/dev-1?pageSize=101", ""), 400, "InvalidRequestException", "pageSize must be an integer from 1 to 100")
	f.expectError(f.data("GET", "/things/dev-1/shadow?name=bad%2Fname", ""), 400, "InvalidRequestException",
		"Invalid shadow name: must be 1 to 64 characters of a-z, A-Z, 0-9, '$', ':', '_' or '-'")
	f.expectError(f.data("GET", "/things/"+strings.Repeat("t", 129)+"/shadow", ""), 400, "InvalidRequestException",
		"Invalid thing name: must be 1 to 128 characters of a-z, A-Z, 0-9, ':', '_' or '-'")
}

// TestShadowBadInput: an update over the size limit, malformed JSON or a
// wrong version gets AWS's answer and changes nothing.
func TestShadowBadInput(t *testing.T) {
	f := start(t)
	f.ok(f.data("POST", "/things/dev/shadow", `{"state":{"reported":{"fw":"1.0"}}}`), nil)
	before := f.data("GET", "/things/dev/shadow", "")
	big := `{"state":{"reported":{"blob":"` + strings.Repeat("x", 8*1024) + `"}}}`
	for _, tc := range []struct {
		payload, code, message string
		status                 int
	}{
		{big, "RequestEntityTooLargeException", "The payload exceeds the maximum size allowed", 413},
		{`{"state":{"reported":{"fw":`, "InvalidRequestException", "Invalid JSON", 400},
		{`{"state":{"reported":{"fw":"2.0"}},"version":5}`, "ConflictException", "Version conflict", 409},
		{`{"reported":{"fw":"2.0"}}`, "InvalidRequestException", "Missing required node: state", 400},
		{`{"state":{"reported":{"a":{"b":{"c":{"d":{"e":{"f":{"g":1}}}}}}}}}`, "InvalidRequestException", "JSON contains too many levels of nesting; maximum is 6", 400},
		{`{"state":{"desired":{"fw":"2.0"}},"clientToken":"` + strings.Repeat("t", 65) + `"}`, "InvalidRequestException", "Invalid clientToken", 400},
	} {
		f.expectError(f.data("POST", "/things/dev/shadow", tc.payload), tc.status, tc.code, tc.message)
	}
	after := f.data("GET", "/things/dev/shadow", "")
	// The timestamp of a get is the time of the answer; the rest must match.
	var b, a doc
	before.decode(t, &b)
	after.decode(t, &a)
	b.Timestamp, a.Timestamp = 0, 0
	if fmt.Sprint(b) != fmt.Sprint(a) || a.Version != 1 {
		t.Fatalf("a refused update changed the shadow:\n%s\n%s", before.body, after.body)
	}
	f.ok(f.data("POST", "/things/dev/shadow", `{"state":{"reported":{"fw":"2.0"}},"version":1}`), nil)
}

// TestShadowsSurviveRestart: shadows and deleted shadows' versions are in
// the store.
func TestShadowsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	f := &fixture{t: t, env: localtest.StartWith(t, local.Config{StrictAuth: true, DataDir: dir})}
	f.ok(f.data("POST", "/things/dev/shadow?name=cfg", `{"state":{"desired":{"rate":10}}}`), nil)
	f.ok(f.data("POST", "/things/dev/shadow", `{"state":{"reported":{"n":12345678901234567890}}}`), nil)
	f.ok(f.data("POST", "/things/dev/shadow", `{"state":{"reported":{"n":1}}}`), nil)
	f.ok(f.data("DELETE", "/things/dev/shadow", ""), nil)
	f.env.Server.Close()

	f.env = localtest.StartWith(t, local.Config{StrictAuth: true, DataDir: dir})
	r := f.data("GET", "/things/dev/shadow?name=cfg", "")
	var got doc
	f.ok(r, &got)
	if got.Version != 1 || got.State.Desired["rate"] != 10.0 || got.State.Delta["rate"] != 10.0 {
		t.Fatalf("after restart: %s", r.body)
	}
	var acc doc
	f.ok(f.data("POST", "/things/dev/shadow", `{"state":{"reported":{"n":12345678901234567890}}}`), &acc)
	if acc.Version != 3 {
		t.Fatalf("a deleted shadow's version was forgotten: %d", acc.Version)
	}
	if r := f.data("GET", "/things/dev/shadow", ""); !strings.Contains(string(r.body), `"n":12345678901234567890`) {
		t.Fatalf("numbers are not kept as written: %s", r.body)
	}
}

// TestPublishWithoutBroker: Publish says plainly why it cannot deliver.
func TestPublishWithoutBroker(t *testing.T) {
	f := start(t)
	f.expectError(f.data("POST", "/topics/fleet%2Fstatus?qos=1", `hello`), 503, "ServiceUnavailableException",
		"Publish: no MQTT broker is running in this otactl local (start it with its MQTT listener)")
	f.expectError(f.data("POST", "/topics/fleet%2F%23", `hello`), 400, "InvalidRequestException", "topic must be 1 to 256 bytes without the wildcards + and #")
	f.expectError(f.data("POST", "/topics/a?qos=2", `hello`), 400, "InvalidRequestException", "qos must be 0 or 1")
}

// TestPackageShadowFromJobs: a job with destinationPackageVersions that a
// device completes (over the HTTPS Jobs API) sets the thing's $package
// shadow, which GetThingShadow then serves.
func TestPackageShadowFromJobs(t *testing.T) {
	f := start(t)
	c := sdkiot.NewFromConfig(f.env.Config)
	if _, err := c.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String("dev")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreatePackage(ctx, &sdkiot.CreatePackageInput{PackageName: aws.String("fw")}); err != nil {
		t.Fatal(err)
	}
	v, err := c.CreatePackageVersion(ctx, &sdkiot.CreatePackageVersionInput{PackageName: aws.String("fw"), VersionName: aws.String("1.4.0")})
	if err != nil {
		t.Fatal(err)
	}
	f.ok(f.data("POST", "/things/dev/shadow?name=$package", `{"state":{"reported":{"bootloader":{"version":"7"}}}}`), nil)
	if _, err := c.CreateJob(ctx, &sdkiot.CreateJobInput{JobId: aws.String("j"), Document: aws.String(`{}`),
		Targets:                    []string{"arn:aws:iot:us-east-1:" + local.DefaultAccountID + ":thing/dev"},
		DestinationPackageVersions: []string{aws.ToString(v.PackageVersionArn)}}); err != nil {
		t.Fatal(err)
	}
	f.ok(f.call("iot-jobs-data", "PUT", "/things/dev/jobs/$next", `{}`), nil)
	f.ok(f.call("iot-jobs-data", "POST", "/things/dev/jobs/j", `{"status":"SUCCEEDED"}`), nil)
	var got doc
	f.ok(f.data("GET", "/things/dev/shadow?name=%24package", ""), &got)
	fw, _ := got.State.Reported["fw"].(map[string]any)
	boot, _ := got.State.Reported["bootloader"].(map[string]any)
	if fw["version"] != "1.4.0" || boot["version"] != "7" || got.Version != 2 {
		t.Fatalf("$package shadow: %+v", got)
	}
}
