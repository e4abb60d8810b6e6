package shadow_test

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/otactl/otactl/internal/testtool"
)

// boto3Script drives the shadow API with boto3's iot-data client.
const boto3Script = `
import json, sys, boto3
data = boto3.client("iot-data", endpoint_url=sys.argv[1], region_name="us-east-1",
    aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3])
def doc(r): return json.loads(r["payload"].read())
acc = doc(data.update_thing_shadow(thingName="lamp", payload=json.dumps({"state": {"desired": {"on": True}}, "clientToken": "py"})))
assert acc["version"] == 1 and acc["clientToken"] == "py", acc
data.update_thing_shadow(thingName="lamp", shadowName="cfg", payload=b'{"state":{"reported":{"rate":5}}}')
got = doc(data.get_thing_shadow(thingName="lamp"))
assert got["state"]["delta"] == {"on": True}, got
assert "timestamp" in got["metadata"]["desired"]["on"], got
names = data.list_named_shadows_for_thing(thingName="lamp")["results"]
errors = []
for call in [
    lambda: data.update_thing_shadow(thingName="lamp", payload=b'{"state":{"desired":{"on":false}},"version":9}'),
    lambda: data.update_thing_shadow(thingName="lamp", payload=b'{"state":'),
    lambda: data.update_thing_shadow(thingName="lamp", payload=json.dumps({"state": {"reported": {"x": "y" * 9000}}})),
    lambda: data.get_thing_shadow(thingName="lamp", shadowName="missing"),
]:
    try:
        call()
        raise SystemExit("accepted: %r" % call)
    except data.exceptions.ClientError as e:
        errors.append([e.response["Error"]["Code"], e.response["Error"]["Message"], e.response["ResponseMetadata"]["HTTPStatusCode"]])
deleted = doc(data.delete_thing_shadow(thingName="lamp"))
try:
    data.get_thing_shadow(thingName="lamp")
    raise SystemExit("deleted shadow still there")
except data.exceptions.ResourceNotFoundException:
    pass
print(json.dumps({"names": names, "errors": errors, "deleted": deleted["version"]}))
`

func TestBoto3(t *testing.T) {
	python := testtool.Boto3(t)
	f := start(t)
	creds, err := f.env.Config.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, "-c", boto3Script, f.env.URL, creds.AccessKeyID, creds.SecretAccessKey)
	cmd.Env = append(os.Environ(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_EC2_METADATA_DISABLED=true")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("boto3: %v\n%s", err, out)
	}
	want := `{"names": ["cfg"], "errors": [` +
		`["ConflictException", "Version conflict", 409], ` +
		`["InvalidRequestException", "Invalid JSON", 400], ` +
		`["RequestEntityTooLargeException", "The payload exceeds the maximum size allowed", 413], ` +
		`["ResourceNotFoundException", "No shadow exists with name: 'missing'", 404]], "deleted": 1}`
	if got := strings.TrimSpace(string(out)); got != want {
		t.Fatalf("boto3 saw %s\nwant %s", got, want)
	}
}

// TestAWSCLI: aws iot-data, as a user types it (awscli v1 writes the
// payload to the outfile argument).
func TestAWSCLI(t *testing.T) {
	aws := testtool.Require(t, "aws", "apt-get install awscli")
	f := start(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "out.json")
	run := func(args ...string) (string, error) {
		t.Helper()
		os.Remove(out)
		cmd := exec.Command(aws, args...)
		cmd.Env = cliEnv(f.env.URL)
		stdout, err := cmd.CombinedOutput()
		body, _ := os.ReadFile(out)
		if err != nil {
			return string(stdout), err
		}
		return string(body), nil
	}
	must := func(args ...string) map[string]any {
		t.Helper()
		body, err := run(args...)
		if err != nil {
			t.Fatalf("aws %v: %v\n%s", args, err, body)
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatalf("aws %v wrote %q: %v", args, body, err)
		}
		return v
	}
	payload := filepath.Join(dir, "payload.json")
	os.WriteFile(payload, []byte(`{"state":{"reported":{"fw":"1.2.0"},"desired":{"fw":"1.3.0"}}}`), 0o600)
	acc := must("iot-data", "update-thing-shadow", "--thing-name", "dev-1", "--shadow-name", "ota", "--payload", "fileb://"+payload, out)
	if acc["version"] != 1.0 {
		t.Fatalf("update: %v", acc)
	}
	got := must("iot-data", "get-thing-shadow", "--thing-name", "dev-1", "--shadow-name", "ota", out)
	if delta, _ := got["state"].(map[string]any)["delta"].(map[string]any); delta["fw"] != "1.3.0" {
		t.Fatalf("get: %v", got)
	}
	cmd := exec.Command(aws, "iot-data", "list-named-shadows-for-thing", "--thing-name", "dev-1")
	cmd.Env = cliEnv(f.env.URL)
	listed, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(listed), `"ota"`) {
		t.Fatalf("list-named-shadows-for-thing: %v\n%s", err, listed)
	}
	if del := must("iot-data", "delete-thing-shadow", "--thing-name", "dev-1", "--shadow-name", "ota", out); del["version"] != 1.0 {
		t.Fatalf("delete: %v", del)
	}
	msg, err := run("iot-data", "get-thing-shadow", "--thing-name", "dev-1", "--shadow-name", "ota", out)
	if err == nil || !strings.Contains(msg, "ResourceNotFoundException") || !strings.Contains(msg, "No shadow exists with name: 'ota'") {
		t.Fatalf("get of a deleted shadow: %v\n%s", err, msg)
	}
	os.WriteFile(payload, []byte(`{"state":{"reported":{"fw":"1.3.0"}},"version":7}`), 0o600)
	msg, err = run("iot-data", "update-thing-shadow", "--thing-name", "dev-1", "--payload", "fileb://"+payload, out)
	if err == nil || !strings.Contains(msg, "ConflictException") || !strings.Contains(msg, "Version conflict") {
		t.Fatalf("update with a wrong version: %v\n%s", err, msg)
	}
}

// cliEnv points the AWS CLI at url with the default key pair.
func cliEnv(url string) []string {
	env := []string{"AWS_ENDPOINT_URL=" + url, "AWS_ACCESS_KEY_ID=AKIDLOCAL", "AWS_SECRET_ACCESS_KEY=secret",
		"AWS_DEFAULT_REGION=us-east-1", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
		"AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true"}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	return env
}
