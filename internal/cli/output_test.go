package cli

import (
	"bytes"
	"sort"
	"strings"
	"testing"
	"unicode/utf8"
)

// TestTablesFit80Columns (M15): a list row with three long targets, as in
// the review, fits 80 columns; the first column is never cut.
func TestTablesFit80Columns(t *testing.T) {
	var tb table
	tb.row("UPDATE", "STATUS", "SUCCEEDED", "TARGETS", "CREATED", "PROTOCOLS")
	targets := []string{"arn:aws:iot:eu-west-1:123456789012:thinggroup/sensors-eu-west-production",
		"arn:aws:iot:eu-west-1:123456789012:thinggroup/b", "arn:aws:iot:eu-west-1:123456789012:thing/c"}
	tb.row("sensor-fw-1-4-0", "IN_PROGRESS", "25/25", firstTargets(targets), "2026-12-01 03:45 UTC", "MQTT+HTTP")
	tb.row("x", "COMPLETED", "-", "thinggroup/a", "2026-12-01 03:45 UTC", "MQTT")
	var b bytes.Buffer
	if err := tb.write(&b); err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(strings.TrimRight(b.String(), "\n"), "\n") {
		if n := utf8.RuneCountInString(l); n > tableWidth {
			t.Errorf("%d columns: %q", n, l)
		}
	}
	if !strings.Contains(b.String(), "sensor-fw-1-4-0 ") || !strings.Contains(b.String(), "…") {
		t.Errorf("first column cut or nothing cut:\n%s", b.String())
	}
	if got := firstTargets(targets); got != "thinggroup/sensors-eu-west-production +2" {
		t.Errorf("firstTargets: %q", got)
	}
	// Rows padded only to the columns' width, not to the widest row's.
	if strings.Contains(b.String(), "MQTT  \n") {
		t.Errorf("trailing padding:\n%q", b.String())
	}
}

func TestWrapAndNaturalOrder(t *testing.T) {
	text := strings.Repeat("word ", 40)
	for i, l := range strings.Split(wrap(text, 30, "    "), "\n") {
		if n := utf8.RuneCountInString(strings.TrimPrefix(l, "    ")); n > 30 || i > 0 && !strings.HasPrefix(l, "    ") {
			t.Errorf("line %d: %q", i, l)
		}
	}
	names := []string{"dev-10", "dev-2", "dev-1", "dev-100", "dev-11"}
	sort.Slice(names, func(a, b int) bool { return thingLess(names[a], names[b]) })
	if strings.Join(names, ",") != "dev-1,dev-2,dev-10,dev-11,dev-100" {
		t.Errorf("natural order: %v", names)
	}
}

// TestTableCutsFirstColumnLast: when cutting the other columns is not
// enough, the first is cut too, and every line still fits.
func TestTableCutsFirstColumnLast(t *testing.T) {
	var tb table
	tb.row(strings.Repeat("n", 60), strings.Repeat("a", 30), strings.Repeat("b", 30), strings.Repeat("c", 30))
	var b bytes.Buffer
	tb.write(&b)
	if n := utf8.RuneCountInString(strings.TrimRight(b.String(), "\n")); n > tableWidth {
		t.Errorf("%d columns: %q", n, b.String())
	}
}
