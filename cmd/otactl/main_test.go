package main

import (
	"math"
	"runtime/debug"
	"testing"
)

// TestShortRunGC: short commands run without collections up to 64 MiB;
// the server, fleets and a user's GOGC/GOMEMLIMIT keep theirs.
func TestShortRunGC(t *testing.T) {
	for _, c := range []struct {
		args []string
		env  map[string]string
		off  bool
	}{
		{args: []string{"create", "--update-id", "x"}, off: true},
		{args: []string{"--debug", "create"}, off: true},
		{args: []string{"describe", "x"}, off: true},
		{args: []string{"local"}},
		{args: []string{"--debug", "fleet", "--count", "10"}},
		{args: []string{"demo"}},
		{args: nil},
		{args: []string{"create"}, env: map[string]string{"GOGC": "200"}},
		{args: []string{"create"}, env: map[string]string{"GOMEMLIMIT": "1GiB"}},
	} {
		t.Run("", func(t *testing.T) {
			t.Setenv("GOGC", "")
			t.Setenv("GOMEMLIMIT", "")
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			defer debug.SetGCPercent(debug.SetGCPercent(100))
			defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
			shortRunGC(c.args)
			percent, limit := debug.SetGCPercent(100), debug.SetMemoryLimit(math.MaxInt64)
			if c.off && (percent != -1 || limit != 64<<20) {
				t.Errorf("%q %v: GC percent %d, limit %d; want -1 and 64 MiB", c.args, c.env, percent, limit)
			}
			if !c.off && (percent != 100 || limit != math.MaxInt64) {
				t.Errorf("%q %v: GC percent %d, limit %d; want them unchanged", c.args, c.env, percent, limit)
			}
		})
	}
}
