package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// updateShapes rewrites shapes/*.json from this run: OTACTL_UPDATE_SHAPES=1.
var (
	updateShapes = os.Getenv("OTACTL_UPDATE_SHAPES") == "1"
	written      = map[string]any{}
)

// checkShape compares the shape of a command's --output json with its
// documented shape in shapes/NAME.json (which otactl help output prints).
func checkShape(t *testing.T, name, out string) {
	t.Helper()
	got, err := shapeOf([]byte(out))
	if err != nil {
		t.Fatalf("%s: output is not JSON: %v\n%s", name, err, out)
	}
	for _, bad := range []string{`"0001-01-01T00:00:00Z"`, ": null", `: ""`} {
		if strings.Contains(out, bad) {
			t.Errorf("%s: output has %s (absent fields are left out)", name, bad)
		}
	}
	path := filepath.Join("shapes", name+".json")
	if updateShapes {
		// Several runs of one command document the union of their shapes.
		if prev, ok := written[name]; ok {
			got = mergeShapes(prev, got)
		}
		written[name] = got
		if err := os.WriteFile(path, []byte(shapeText(got)), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: no documented shape: %v (OTACTL_UPDATE_SHAPES=1 writes it)", name, err)
	}
	// The documented file is itself a shape: its values are type names.
	want, err := decodeOrdered(json.NewDecoder(bytes.NewReader(raw)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	for _, d := range shapeDiff("", want, got) {
		t.Errorf("%s --output json differs from %s: %s", name, path, d)
	}
}

// goKeys reports members that are Go field names (JobArn) rather than
// AWS's camelCase (jobArn), outside the user-data maps.
func goKeys(t *testing.T, name, out string) {
	t.Helper()
	s, err := shapeOf([]byte(out))
	if err != nil {
		return
	}
	var walk func(v any, path string)
	walk = func(v any, path string) {
		switch x := v.(type) {
		case jsonObject:
			for _, m := range x {
				k := strings.TrimSuffix(m.key, "?")
				if k != "*" && !(keepCase[k] && isTagShape(x)) && camel(k) != k {
					t.Errorf("%s: member %s is a Go field name", name, join(path, k))
				}
				walk(m.val, join(path, k))
			}
		case []any:
			for _, el := range x {
				walk(el, path+"[]")
			}
		}
	}
	walk(s, "")
}

func jsonCmd(t *testing.T, name string, args ...string) string {
	t.Helper()
	code, out, errOut := run(t, append(args, "-o", "json")...)
	if code != ExitOK {
		t.Fatalf("%s: exit %d\n%s\n%s", name, code, out, errOut)
	}
	checkShape(t, name, out)
	goKeys(t, name, out)
	return out
}

// TestJSONOutputShapes: every command's --output json against otactl
// local has its documented shape, no Go field names, no null and no zero
// times, and the same shape on a second run (create: created, then
// unchanged).
func TestJSONOutputShapes(t *testing.T) {
	_, url := localEnv(t)
	ep := []string{"--endpoint-url", url}
	spec := writeSpec(t, "shape-1")
	jsonCmd(t, "version", "version")
	jsonCmd(t, "plan", "plan", "-f", spec)
	jsonCmd(t, "create", append([]string{"create", "-f", spec}, ep...)...)
	jsonCmd(t, "create", append([]string{"create", "-f", spec}, ep...)...)                   // unchanged: same shape
	jsonCmd(t, "create", append([]string{"create", "-f", spec, "--retries", "3"}, ep...)...) // updated in place
	jsonCmd(t, "list", append([]string{"list"}, ep...)...)
	jsonCmd(t, "describe", append([]string{"describe", "shape-1", "--executions"}, ep...)...)
	jsonCmd(t, "cancel", append([]string{"cancel", "shape-1"}, ep...)...)
	jsonCmd(t, "delete", append([]string{"delete", "shape-1", "--force", "--yes"}, ep...)...)
	jsonCmd(t, "rehearse", "rehearse", "../../examples/firmware-update.yaml", "--devices", "20", "--failure-rate", "0.2",
		"--start", "2030-01-07T00:00")
	jsonCmd(t, "rehearse-campaign", "rehearse", "../../examples/campaign.yaml", "--devices", "40", "--start", "2030-01-07T00:00")
}

// TestJSONOutputShapesDemoAndCampaign: demo (whose fleet member is otactl
// fleet's report) and the campaign commands.
func TestJSONOutputShapesDemoAndCampaign(t *testing.T) {
	jsonCmd(t, "demo", "demo", "--devices", "3", "--fail-first", "1")
	env, _, dir := campaignLocal(t)
	ep := []string{"--endpoint-url", env.URL}
	spec := writeFile(t, filepath.Join(dir, "campaign.yaml"), campaignYAML)
	jsonCmd(t, "campaign-plan", append([]string{"campaign", "plan", "-f", spec}, ep...)...)
	jsonCmd(t, "campaign-start", append([]string{"campaign", "start", "-f", spec}, ep...)...)
	jsonCmd(t, "campaign-status", append([]string{"campaign", "status", "-f", spec}, ep...)...)
	// pause and resume print what start prints.
	jsonCmd(t, "campaign-start", append([]string{"campaign", "pause", "-f", spec}, ep...)...)
	jsonCmd(t, "campaign-start", append([]string{"campaign", "resume", "-f", spec}, ep...)...)
}

// TestJSONOutputShapeFleet: otactl fleet's report is what demo's fleet
// member documents.
func TestJSONOutputShapeFleet(t *testing.T) {
	env, cert := fleetLocal(t, "HTTP", false, "web-1", "web-2")
	out := jsonCmd(t, "fleet", append([]string{"fleet", "--thing", "web-1,web-2", "--endpoint-url", env.URL, "--signing-cert", cert}, fastFleet...)...)
	_, demoOut, _ := run(t, "demo", "--devices", "2", "--failing-devices", "1", "-o", "json")
	var d struct{ Fleet json.RawMessage }
	if err := json.Unmarshal([]byte(demoOut), &d); err != nil {
		t.Fatal(err)
	}
	fleet, _ := shapeOf([]byte(out))
	demoFleet, _ := shapeOf(d.Fleet)
	for _, diff := range shapeDiff("", demoFleet, fleet) {
		t.Errorf("fleet -o json differs from demo's fleet member: %s", diff)
	}
}

// isTagShape: a shape object of Key and Value only (an AWS Tag).
func isTagShape(o jsonObject) bool {
	for _, m := range o {
		if !keepCase[strings.TrimSuffix(m.key, "?")] {
			return false
		}
	}
	return true
}
