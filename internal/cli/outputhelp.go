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
		Short: "The --output json contract and every command's JSON shape",
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
