package cli

import (
	"embed"
	"path"
	"sort"
	"strings"

	"github.com/spf13/cobra"
)

func init() { extraCommands = append(extraCommands, newOutputHelp) }

// shapes are the documented --output json shapes, one file per command;
// json_shape_test.go checks every command's output against them.
//
//go:embed shapes/*.json
var shapes embed.FS

const outputContract = `--output json (-o json) prints one JSON value on stdout; progress and
warnings go to stderr. On every command the JSON follows one contract:

  - member names are AWS's own, in camelCase, as the AWS CLI prints them
    (jobArn, jobProcessDetails.numberOfQueuedThings, streamId, thingArn);
    Tag's Key and Value are capitalised, as in the AWS API, and plan's step
    inputs use each API's own names (S3's are PascalCase: Bucket, Key)
  - an absent field is left out: never null, "" or a zero time
  - times are RFC 3339 in UTC (2026-12-01T03:45:25Z)
  - lists are [] when empty; the same members come back on every run
  - members keep the order shown below
  - the management commands (create, describe, cancel, delete) print an
    object that starts with otaUpdateId; create's outcome says what
    happened: created, unchanged, updated or replaced

--output yaml prints the same document as YAML, members in the same order.

--query EXPR applies a JMESPath expression (jmespath.org; the AWS CLI's
--query) to the document -o json prints, and prints the result:
  otactl list --query '[].otaUpdateId'                    the ids, a JSON list
  otactl list -o text --query '[].[otaUpdateId,status]'   one update a line
  otactl describe fw-1 --query 'job.jobProcessDetails.numberOfSucceededThings'
The result is JSON unless -o yaml or -o text is given; -o table with --query
(or OTACTL_OUTPUT=table) is an input error, because the table's columns are
otactl's own and not the result's. Objects keep the document's member order;
a multi-select hash ({id: otaUpdateId, s: status}) keeps the order written. An
expression that does not parse, or calls an unknown function, is an input
error (exit 2) that names the column, before the command does anything; one
that fails on the data (length() of a number) exits 1 after the command ran.

--output text is the AWS CLI's text format, made from the same document
(after --query), for cut, awk and while-read loops:
  - an object's scalar members go on one line, tab-separated, in the
    alphabetical order of their names; its lists and objects follow, their
    lines starting with the member's name in capitals (EXECUTIONS, FILES)
  - a list of objects is a line per object, the columns the union of the
    objects' scalar members (empty where one lacks it), so that they line up
  - a list of scalars is one tab-separated line ([].otaUpdateId); write
    [].[otaUpdateId] for one a line. Under a name, each is a line NAME<TAB>v
  - true, false and null are True, False and None, as the AWS CLI prints them
  - a tab, newline, carriage return or backslash in a value is written \t,
    \n, \r or \\, so that a record is always one line
OTACTL_OUTPUT=text (or yaml, json) makes a format the default.

The shapes below give each member's type (string, number, boolean, or any
where it depends on what the member describes); a list shows the shape of
its elements; "name?" is a member some elements leave out; "*" stands for
the keys of a map whose keys are data (statuses, package names). demo's
"fleet" member is what otactl fleet prints; campaign advance, pause,
resume and abort print what campaign start prints.
`

// shapeTitles name the shapes whose file name is not the command line.
var shapeTitles = map[string]string{
	"rehearse-campaign": "rehearse CAMPAIGN_SPEC",
	"rehearse":          "rehearse SPEC",
}

func newOutputHelp() *cobra.Command {
	return &cobra.Command{
		Use:   "output",
		Short: "The --output json contract, --query, text and yaml, and every command's JSON shape",
		Long:  outputContract + "\n" + shapeDocs(),
	}
}

// shapeDocs lists the embedded shapes, one section per command.
func shapeDocs() string {
	entries, err := shapes.ReadDir("shapes")
	if err != nil {
		return ""
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	var b strings.Builder
	for _, n := range names {
		raw, err := shapes.ReadFile(path.Join("shapes", n))
		if err != nil {
			continue
		}
		name := strings.TrimSuffix(n, ".json")
		cmd, ok := shapeTitles[name]
		if !ok {
			cmd = strings.ReplaceAll(name, "-", " ")
		}
		b.WriteString("otactl " + cmd + " -o json:\n")
		for _, l := range strings.Split(strings.TrimRight(string(raw), "\n"), "\n") {
			b.WriteString("  " + l + "\n")
		}
		b.WriteString("\n")
	}
	return b.String()
}
