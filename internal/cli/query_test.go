package cli

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// TestQueryAgainstLocal (L13): --query on list and describe against otactl
// local, in json (the default with --query), yaml and text; bad expressions
// are input errors before anything is done.
func TestQueryAgainstLocal(t *testing.T) {
	_, url := localEnv(t)
	ep := []string{"--endpoint-url", url}
	for _, id := range []string{"q-1", "q-2"} {
		if code, out, errOut := run(t, append([]string{"create", "-f", writeSpec(t, id)}, ep...)...); code != ExitOK {
			t.Fatalf("create %s: exit %d\n%s%s", id, code, out, errOut)
		}
	}
	ids := func(args ...string) []string {
		t.Helper()
		code, out, errOut := run(t, append(args, ep...)...)
		var got []string
		if code != ExitOK || json.Unmarshal([]byte(out), &got) != nil {
			t.Fatalf("otactl %s: exit %d\n%s%s", strings.Join(args, " "), code, out, errOut)
		}
		return got
	}
	want := []string{"q-1", "q-2"}
	if got := ids("list", "-o", "json", "--query", "sort([].otaUpdateId)"); !reflect.DeepEqual(got, want) {
		t.Errorf("list -o json --query: %v, want %v", got, want)
	}
	if got := ids("list", "--query", "sort([].otaUpdateId)"); !reflect.DeepEqual(got, want) {
		t.Errorf("list --query (json by default): %v, want %v", got, want)
	}
	if got := ids("list", "--query", "[?otaUpdateId=='q-2'].jobId"); !reflect.DeepEqual(got, []string{"AFR_OTA-q-2"}) {
		t.Errorf("list --query with a filter: %v", got)
	}

	code, out, errOut := run(t, append([]string{"describe", "q-1", "--query", "job.status"}, ep...)...)
	if code != ExitOK || out != "\"IN_PROGRESS\"\n" {
		t.Errorf("describe --query job.status: exit %d %q %s", code, out, errOut)
	}
	// A multi-select hash keeps the order written; a sub-object keeps the
	// document's order.
	code, out, _ = run(t, append([]string{"describe", "q-1", "--executions", "--query", "{status: job.status, id: otaUpdateId, n: length(executions), stream: stream.files[0].s3Location}"}, ep...)...)
	if code != ExitOK || !strings.HasPrefix(out, "{\n  \"status\": \"IN_PROGRESS\",\n  \"id\": \"q-1\",\n  \"n\": 3,\n  \"stream\": {\n    \"bucket\": \"fw-bucket\",\n    \"key\": ") {
		t.Errorf("describe --query multi-select: exit %d\n%s", code, out)
	}
	code, out, _ = run(t, append([]string{"describe", "q-1", "-o", "yaml", "--query", "job.jobProcessDetails"}, ep...)...)
	var details map[string]any
	if err := yaml.Unmarshal([]byte(out), &details); code != ExitOK || err != nil || details["numberOfQueuedThings"] != 3 {
		t.Errorf("describe -o yaml --query: exit %d %v\n%s", code, err, out)
	}

	// Text: list's scalars sorted by name, nested lists under their name.
	code, out, _ = run(t, append([]string{"list", "-o", "text", "--query", "[?otaUpdateId=='q-1']"}, ep...)...)
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if code != ExitOK || len(lines) < 3 {
		t.Fatalf("list -o text: exit %d\n%s", code, out)
	}
	// createdAt, jobId, otaUpdateId, status
	if f := strings.Split(lines[0], "\t"); len(f) != 4 || f[1] != "AFR_OTA-q-1" || f[2] != "q-1" || f[3] != "IN_PROGRESS" || !strings.HasSuffix(f[0], "Z") {
		t.Errorf("list -o text, first line %q", lines[0])
	}
	for _, l := range []string{"PROTOCOLS\tMQTT", "TARGETS\tarn:aws:iot:"} {
		if !strings.Contains(out, "\n"+l) {
			t.Errorf("list -o text lacks a line %q:\n%s", l, out)
		}
	}
	code, out, _ = run(t, append([]string{"list", "-o", "text", "--query", "sort_by(@, &otaUpdateId)[].[otaUpdateId, status]"}, ep...)...)
	if code != ExitOK || out != "q-1\tIN_PROGRESS\nq-2\tIN_PROGRESS\n" {
		t.Errorf("list -o text, a line per update: exit %d %q", code, out)
	}
	t.Setenv("OTACTL_OUTPUT", "text")
	code, out, _ = run(t, append([]string{"list", "--query", "sort([].otaUpdateId)"}, ep...)...)
	if code != ExitOK || out != "q-1\tq-2\n" {
		t.Errorf("OTACTL_OUTPUT=text list --query: exit %d %q", code, out)
	}
	// describe's whole document as text: a record a line.
	code, out, _ = run(t, append([]string{"describe", "q-1", "--executions"}, ep...)...)
	lines = strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if code != ExitOK || !strings.HasSuffix(lines[0], "\tq-1") || !strings.HasPrefix(lines[0], `{"afr_ota":`) {
		t.Errorf("describe -o text, first line (jobDocument, otaUpdateId): %q", lines[0])
	}
	count := map[string]int{}
	for _, l := range lines[1:] {
		count[strings.SplitN(l, "\t", 2)[0]]++
	}
	if count["JOB"] != 1 || count["EXECUTIONS"] != 3 || count["STREAM"] != 1 || count["FILES"] != 1 || count["S3LOCATION"] != 1 {
		t.Errorf("describe -o text, lines per identifier %v:\n%s", count, out)
	}
	t.Setenv("OTACTL_OUTPUT", "")

	// Bad expressions: exit 2, naming --query and the column, and nothing
	// is done (create would have created q-3).
	code, _, errOut = run(t, append([]string{"create", "-f", writeSpec(t, "q-3"), "--query", "[].otaUpdateId |"}, ep...)...)
	if code != ExitInvalid || !strings.Contains(errOut, "--query: incomplete expression at column 17") {
		t.Errorf("bad --query: exit %d %s", code, errOut)
	}
	if got := ids("list", "--query", "[?otaUpdateId=='q-3'].otaUpdateId"); len(got) != 0 {
		t.Errorf("create with a bad --query created %v", got)
	}
	for name, args := range map[string][]string{
		"unclosed":         {"list", "--query", "[?status=='x'"},
		"unknown function": {"list", "--query", "lenght(@)"},
		"empty":            {"list", "--query", ""},
		"table":            {"list", "-o", "table", "--query", "[].otaUpdateId"},
	} {
		code, out, errOut := run(t, append(args, ep...)...)
		if code != ExitInvalid || !strings.Contains(errOut, "--query") || out != "" {
			t.Errorf("%s: exit %d %q %s", name, code, out, errOut)
		}
	}
	t.Setenv("OTACTL_OUTPUT", "table")
	if code, _, errOut := run(t, append([]string{"list", "--query", "[].otaUpdateId"}, ep...)...); code != ExitInvalid || !strings.Contains(errOut, "OTACTL_OUTPUT is table") {
		t.Errorf("--query over OTACTL_OUTPUT=table: exit %d %s", code, errOut)
	}
	t.Setenv("OTACTL_OUTPUT", "")
	// An expression that fails on the data fails the command (exit 1).
	if code, _, errOut := run(t, append([]string{"describe", "q-1", "--query", "abs(otaUpdateId)"}, ep...)...); code != ExitFailure || !strings.Contains(errOut, "which is not a number") {
		t.Errorf("--query failing on the data: exit %d %s", code, errOut)
	}
}

// TestQueryNoBackend: --query and text on commands that need no cloud, and
// the parse error's caret under the fault.
func TestQueryNoBackend(t *testing.T) {
	code, out, _ := run(t, "plan", "-f", "../../examples/firmware-update.yaml", "--query", "otaUpdateId", "-o", "text")
	if code != ExitOK || out != "sensor-fw-1-4-0\n" {
		t.Errorf("plan --query -o text: exit %d %q", code, out)
	}
	code, _, errOut := run(t, "version", "--query", "foo bar")
	if code != ExitInvalid || !strings.Contains(errOut, "--query: unexpected token at the end of the expression: a name at column 5:\n  foo bar\n      ^") {
		t.Errorf("version --query 'foo bar': exit %d\n%s", code, errOut)
	}
	code, _, errOut = run(t, "version", "--query", "[version")
	if code != ExitInvalid || !strings.Contains(errOut, `expected ",", got the end of the expression at column 9`) {
		t.Errorf("version --query '[version': exit %d\n%s", code, errOut)
	}
}

// TestQueryKeyOrder: result objects in a stable order: a multi-select
// hash's keys as written (nested ones too), the document's members in the
// document's order, other keys after them alphabetically.
func TestQueryKeyOrder(t *testing.T) {
	doc := decodeDoc(t, `{"z": 1, "a": {"y": true, "b": null, "m": [1.5, 2]}, "k": "v"}`)
	for expr, want := range map[string]string{
		"@":                           `{"z":1,"a":{"y":true,"b":null,"m":[1.5,2]},"k":"v"}`,
		"{k: k, b: {z2: z, a1: a.y}}": `{"k":"v","b":{"z2":1,"a1":true}}`,
		"merge(a, {zz: k, aa: z})":    `{"y":true,"b":null,"m":[1.5,2],"aa":1,"zz":"v"}`,
		"a.m[0]":                      `1.5`,
		"length(a.m)":                 `2`,
		"missing":                     `null`,
		"[z, k]":                      `[1,"v"]`,
	} {
		q, err := compileQuery(expr)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		res, err := q.apply(doc)
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		if got := compact(t, res); got != want {
			t.Errorf("%s: %s, want %s", expr, got, want)
		}
	}
}

// TestTextFormat: the AWS CLI's text rules on documents of each kind.
func TestTextFormat(t *testing.T) {
	for name, c := range map[string]struct{ in, want string }{
		"scalars sorted, nested under their name": {
			`{"status": "IN_PROGRESS", "jobId": "j1", "stream": {"streamId": "s1", "version": 2}, "counts": {"QUEUED": 1}}`,
			"j1\tIN_PROGRESS\nCOUNTS\t1\nSTREAM\ts1\t2\n"},
		"list of objects, columns aligned": {
			`[{"a": "1", "c": "3"}, {"b": "2", "c": "4", "l": ["x", "y"]}]`,
			"1\t\t3\n\t2\t4\nL\tx\nL\ty\n"},
		"objects under a name": {
			`{"executions": [{"thing": "t1", "status": "QUEUED"}, {"thing": "t2", "status": "FAILED"}]}`,
			"EXECUTIONS\tQUEUED\tt1\nEXECUTIONS\tFAILED\tt2\n"},
		"bare scalar list":                 {`["a", "b", 3]`, "a\tb\t3\n"},
		"list of lists":                    {`[["a", 1], ["b", 2]]`, "a\t1\nb\t2\n"},
		"mixed list":                       {`["a", ["b", "c"]]`, "a\nb\tc\n"},
		"True, False, None":                {`[true, false, null]`, "True\tFalse\tNone\n"},
		"scalar":                           {`"fw-1"`, "fw-1\n"},
		"empty list":                       {`{"a": "x", "l": []}`, "x\n"},
		"escapes":                          {`{"doc": "{\n\t\"a\": \"b\\c\"\r}"}`, `{\n\t"a": "b\\c"\r}` + "\n"},
		"object without scalars in a list": {`[{"l": [1]}, {"l": [2]}]`, "L\t1\nL\t2\n"},
	} {
		var b strings.Builder
		if err := writeText(&b, decodeDoc(t, c.in)); err != nil {
			t.Fatal(err)
		}
		if b.String() != c.want {
			t.Errorf("%s: %q, want %q", name, b.String(), c.want)
		}
	}
}

func decodeDoc(t *testing.T, s string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	v, err := decodeOrdered(dec)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func compact(t *testing.T, v any) string {
	t.Helper()
	var js, c bytes.Buffer
	encodeOrdered(&js, v, "")
	if err := json.Compact(&c, js.Bytes()); err != nil {
		t.Fatalf("%v: %s", err, js.String())
	}
	return c.String()
}
