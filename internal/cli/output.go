package cli

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/otactl/otactl/ota"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"
)

// outputFlag is the --output flag every command has, with --query.
type outputFlag struct {
	format string
	query  string
	fs     *pflag.FlagSet
}

// outputFormats are --output's values; every one but table prints the JSON
// document (yaml and text are made from it on the way out, see reshapeOut).
var outputFormats = []string{"table", "json", "yaml", "text"}

func (o *outputFlag) register(fs *pflag.FlagSet) {
	o.fs = fs
	def := "table"
	if env := os.Getenv("OTACTL_OUTPUT"); env != "" {
		def = env // checked with the flag's own value
	}
	fs.StringVarP(&o.format, "output", "o", def, "output format: table, json, yaml or text (default from $OTACTL_OUTPUT; see otactl help output)")
	fs.StringVar(&o.query, "query", "", "JMESPath expression applied to the JSON document of -o json, e.g. '[].otaUpdateId'; the result is printed as json (the default), yaml or text")
	// --query completes nothing (not file names).
	completeEnums(fs, map[string][]string{"output": outputFormats, "query": {}})
}

func (o *outputFlag) check() error {
	if !slices.Contains(outputFormats, o.format) {
		return invalid(fmt.Errorf("--output (or OTACTL_OUTPUT) must be table, json, yaml or text, got %q", o.format))
	}
	if o.fs == nil || !o.fs.Changed("query") {
		return nil
	}
	if _, err := compileQuery(o.query); err != nil {
		return err
	}
	format, err := queryFormat(o.fs)
	if err != nil {
		return err
	}
	o.format = format
	return nil
}

// queryFormat is the format a --query result is printed in: json when no
// format was asked for (the table's columns are otactl's own, not the
// result's), an input error when table was.
func queryFormat(fs *pflag.FlagSet) (string, error) {
	format := fs.Lookup("output").Value.String()
	if format != "table" {
		return format, nil
	}
	if fs.Changed("output") {
		return "", invalid(errors.New("--query needs --output json, yaml or text (-o table draws otactl's own columns); leave -o out for json"))
	}
	if os.Getenv("OTACTL_OUTPUT") != "" {
		return "", invalid(errors.New("--query needs --output json, yaml or text, and OTACTL_OUTPUT is table; pass -o json (or yaml, text)"))
	}
	return "json", nil
}

// json: print the JSON document (for --output yaml and text too, and for
// --query, which the root command reshapes on the way out).
func (o *outputFlag) json() bool { return o.format != "table" }

// reshapeFor returns the writer that turns what cmd prints as JSON into
// what --output and --query ask for, or nil when the JSON goes out as it
// is (or cmd has no --output, or its flags are wrong: check says so).
func reshapeFor(cmd *cobra.Command) *reshapeOut {
	fs := cmd.Flags()
	f := fs.Lookup("output")
	if f == nil {
		return nil
	}
	format := f.Value.String()
	var q *query
	if fs.Changed("query") {
		var err error
		if q, err = compileQuery(fs.Lookup("query").Value.String()); err != nil {
			return nil
		}
		if format, err = queryFormat(fs); err != nil {
			return nil
		}
	}
	if format != "yaml" && format != "text" && q == nil {
		return nil
	}
	return &reshapeOut{w: cmd.OutOrStdout(), format: format, query: q}
}

// reshapeOut collects the JSON document a command prints and writes it at
// the end: the --query result of it, as json, yaml (the same members in
// the same order as json) or text.
type reshapeOut struct {
	w      io.Writer
	format string
	query  *query
	buf    bytes.Buffer
}

func (r *reshapeOut) Write(p []byte) (int, error) { return r.buf.Write(p) }

func (r *reshapeOut) flush() error {
	raw := r.buf.Bytes()
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	doc, err := decodeOrdered(dec)
	if err == nil {
		_, err = dec.Token()
		if err == io.EOF {
			err = nil
		} else if err == nil {
			err = errors.New("more than one JSON value")
		}
	}
	if err != nil {
		if r.query != nil {
			return fmt.Errorf("--query: the output is not one JSON document (%v)", err)
		}
		_, werr := r.w.Write(raw) // not one JSON document: as it is
		return werr
	}
	if r.query != nil {
		if doc, err = r.query.apply(doc); err != nil {
			return err
		}
	}
	switch r.format {
	case "text":
		return writeText(r.w, doc)
	case "yaml":
		return writeYAML(r.w, doc)
	}
	var b bytes.Buffer
	encodeOrdered(&b, doc, "")
	b.WriteByte('\n')
	_, err = r.w.Write(b.Bytes())
	return err
}

// writeYAML writes an ordered tree as YAML, members in the JSON's order.
func writeYAML(w io.Writer, doc any) error {
	var js bytes.Buffer
	encodeOrdered(&js, doc, "")
	var node yaml.Node
	if err := yaml.Unmarshal(js.Bytes(), &node); err != nil {
		return err
	}
	blockStyle(&node)
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&node); err != nil {
		return err
	}
	_, err := w.Write(b.Bytes())
	return err
}

// blockStyle drops JSON's flow style and quotes; the encoder quotes what
// would otherwise read as another type.
func blockStyle(n *yaml.Node) {
	n.Style = 0
	for _, c := range n.Content {
		blockStyle(c)
	}
}

// tableWidth is what every table and line of otactl's output fits in.
const tableWidth = 80

// table collects rows and writes them aligned in tableWidth columns: when
// the rows are wider, the widest column but the first (the name a user
// copies) is cut (with …) until they fit, the first only as a last resort.
type table struct {
	rows [][]string
}

func (t *table) row(cells ...string) { t.rows = append(t.rows, cells) }

func (t *table) write(w io.Writer) error {
	if len(t.rows) == 0 {
		return nil
	}
	n := 0
	for _, r := range t.rows {
		n = max(n, len(r))
	}
	widths := make([]int, n)
	for _, r := range t.rows {
		for i, c := range r {
			widths[i] = max(widths[i], utf8.RuneCountInString(c))
		}
	}
	const gap = 2
	total := func() int {
		s := gap * (n - 1)
		for _, w := range widths {
			s += w
		}
		return s
	}
	for total() > tableWidth {
		widest := min(1, n-1)
		for i := 1; i < n; i++ {
			if widths[i] > widths[widest] {
				widest = i
			}
		}
		if widths[widest] <= 8 {
			// Nothing sensible left to cut but the first column itself.
			widths[0] -= min(total()-tableWidth, max(widths[0]-8, 0))
			break
		}
		widths[widest] -= min(total()-tableWidth, widths[widest]-8)
	}
	var b strings.Builder
	for _, r := range t.rows {
		b.Reset()
		for i, c := range r {
			c = truncate(c, widths[i])
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)+gap))
			}
		}
		if _, err := fmt.Fprintln(w, b.String()); err != nil {
			return err
		}
	}
	return nil
}

// truncate cuts s to n runes, marking the cut with ….
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// wrap breaks text at spaces into lines of at most width runes, the lines
// after the first prefixed with indent (a single word longer than a line
// stays whole). Callers pick width so that the widest line fits tableWidth.
func wrap(text string, width int, indent string) string {
	var lines []string
	line := ""
	for _, word := range strings.Fields(text) {
		if line != "" && utf8.RuneCountInString(line)+1+utf8.RuneCountInString(word) > width {
			lines, line = append(lines, line), ""
		}
		if line == "" {
			line = word
		} else {
			line += " " + word
		}
	}
	if line != "" {
		lines = append(lines, line)
	}
	return strings.Join(lines, "\n"+indent)
}

// firstTargets shows a list of targets in one short cell: the first
// (thinggroup/name, not the ARN) and how many more.
func firstTargets(ts []string) string {
	if len(ts) == 0 {
		return "-"
	}
	first := ts[0]
	if j := strings.LastIndex(first, ":"); j >= 0 {
		first = first[j+1:]
	}
	if len(ts) > 1 {
		return fmt.Sprintf("%s +%d", first, len(ts)-1)
	}
	return first
}

// stampUTC is the one time format of otactl's tables: to the minute, in
// UTC, saying so. (JSON has RFC 3339; time flags take both.)
func stampUTC(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// scheduleStamp shows a schedulingConfig time (YYYY-MM-DDTHH:MM, UTC) in
// the tables' format.
func scheduleStamp(v string) string {
	if v == "" {
		return "-"
	}
	t, err := ota.ParseScheduleTime(v)
	if err != nil {
		return v
	}
	return stampUTC(t)
}
