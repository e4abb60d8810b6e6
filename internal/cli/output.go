package cli

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/otactl/otactl/ota"

	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"
)

// outputFlag is the --output flag every command has.
type outputFlag struct{ format string }

func (o *outputFlag) register(fs *pflag.FlagSet) {
	def := "table"
	if env := os.Getenv("OTACTL_OUTPUT"); env != "" {
		def = env // checked with the flag's own value
	}
	fs.StringVarP(&o.format, "output", "o", def, "output format: table, json or yaml (default from $OTACTL_OUTPUT; see otactl help output)")
	completeEnums(fs, map[string][]string{"output": {"table", "json", "yaml"}})
}

func (o *outputFlag) check() error {
	if o.format != "table" && o.format != "json" && o.format != "yaml" {
		return invalid(fmt.Errorf("--output (or OTACTL_OUTPUT) must be table, json or yaml, got %q", o.format))
	}
	return nil
}

// json: print the JSON document (for --output yaml too, which the root
// command turns into YAML on the way out).
func (o *outputFlag) json() bool { return o.format == "json" || o.format == "yaml" }

// yamlOut collects what a command prints and writes it as YAML at the end:
// the same members in the same order as --output json.
type yamlOut struct {
	w   io.Writer
	buf bytes.Buffer
}

func (y *yamlOut) Write(p []byte) (int, error) { return y.buf.Write(p) }

func (y *yamlOut) flush() error {
	raw := y.buf.Bytes()
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		_, werr := y.w.Write(raw) // not one JSON document: as it is
		return werr
	}
	blockStyle(&doc)
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&doc); err != nil {
		return err
	}
	_, err := y.w.Write(b.Bytes())
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
