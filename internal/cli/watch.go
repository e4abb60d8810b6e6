package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/otactl/otactl/ota"
)

// otactl describe --watch: the job's progress, live, until it ends. On a
// terminal the view is redrawn in place (a bar per status, rate, ETA, the
// latest events); otherwise, or with --plain, a line is printed whenever
// something changed, for logs and tests. The exit code is the job's
// outcome: 0 when every execution succeeded.

type watchFlags struct {
	watch    bool
	plain    bool
	interval time.Duration
}

func (w *watchFlags) register(fs *pflag.FlagSet) {
	fs.BoolVarP(&w.watch, "watch", "w", false, "follow the job until it ends: progress per status, rate, ETA, latest events; exit 0 only if every execution succeeded")
	fs.BoolVar(&w.plain, "plain", false, "with --watch, print a line per change instead of redrawing (the default off a terminal)")
	fs.DurationVar(&w.interval, "interval", 2*time.Second, "with --watch, how often to ask")
}

// watchStatuses are the execution statuses a bar is drawn for, in order.
var watchStatuses = []string{"QUEUED", "IN_PROGRESS", "SUCCEEDED", "FAILED", "TIMED_OUT", "REJECTED", "CANCELED", "REMOVED"}

// watchState is what the view is drawn from.
type watchState struct {
	d       *ota.UpdateDetails
	total   int
	done    int // executions in a terminal status
	started time.Time
	done0   int // done when watching began, for the rate
	now     time.Time
}

func (s *watchState) ratePerMin() float64 {
	el := s.now.Sub(s.started).Minutes()
	if el <= 0 {
		return 0
	}
	return float64(s.done-s.done0) / el
}

func (s *watchState) eta() string {
	r := s.ratePerMin()
	left := s.total - s.done
	switch {
	case left == 0:
		return "-"
	case r <= 0:
		return "unknown"
	}
	return (time.Duration(float64(left) / r * float64(time.Minute))).Round(time.Second).String()
}

func watch(cmd *cobra.Command, m *ota.Manager, id string, f *watchFlags, out *outputFlag) error {
	if f.interval <= 0 {
		return invalid(errors.New("--interval must be positive, e.g. 2s"))
	}
	if out.json() {
		return invalid(errors.New("--watch draws a live view; use describe -o json without --watch, repeatedly, for JSON"))
	}
	// manageCmd bounds a command's calls; a watch runs until the job ends
	// or Ctrl-C.
	ctx, stop := signal.NotifyContext(context.WithoutCancel(cmd.Context()), os.Interrupt)
	defer stop()
	w := cmd.OutOrStdout()
	redraw := !f.plain && isTerminal(w)
	var st watchState
	last := ""
	for {
		d, err := m.Describe(ctx, id, true)
		if err != nil {
			if ctx.Err() != nil {
				return &exitError{exitInterrupted, errors.New("interrupted")}
			}
			return err
		}
		now := time.Now()
		if st.d == nil {
			st.started = now
		}
		st.d, st.now = d, now
		st.total, st.done = 0, 0
		for _, e := range d.Executions {
			st.total++
			if terminalExecution(e.Status) {
				st.done++
			}
		}
		if st.started.Equal(now) {
			st.done0 = st.done
		}
		if redraw {
			fmt.Fprint(w, "\033[H\033[2J")
			drawWatch(w, &st)
		} else if line := watchLine(&st); line != last {
			fmt.Fprintf(w, "%s  %s\n", now.UTC().Format("15:04:05"), line)
			last = line
		}
		if jobEnded(d) {
			return watchOutcome(w, d)
		}
		select {
		case <-ctx.Done():
			fmt.Fprintln(w, "interrupted; the job keeps running")
			return &exitError{exitInterrupted, errors.New("interrupted")}
		case <-time.After(f.interval):
		}
	}
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func terminalExecution(status string) bool {
	switch status {
	case "QUEUED", "IN_PROGRESS":
		return false
	}
	return true
}

// jobEnded: nothing more will happen to the job's executions.
func jobEnded(d *ota.UpdateDetails) bool {
	switch d.Job.Status {
	case "COMPLETED", "CANCELED", "DELETION_IN_PROGRESS":
		for _, e := range d.Executions {
			if !terminalExecution(e.Status) && d.Job.Status != "CANCELED" {
				return false
			}
		}
		return true
	}
	return false
}

// watchOutcome ends a watch: exit 0 only when there were executions and
// every one succeeded.
func watchOutcome(w io.Writer, d *ota.UpdateDetails) error {
	counts := map[string]int{}
	for _, e := range d.Executions {
		counts[e.Status]++
	}
	if len(d.Executions) > 0 && counts["SUCCEEDED"] == len(d.Executions) {
		fmt.Fprintf(w, "Job %s %s: all %d executions SUCCEEDED\n", d.Job.JobID, d.Job.Status, len(d.Executions))
		return nil
	}
	return &exitError{ExitFailure, fmt.Errorf("job %s %s: %s", d.Job.JobID, d.Job.Status, countLine(counts))}
}

func countLine(counts map[string]int) string {
	var parts []string
	for _, s := range watchStatuses {
		if n := counts[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", s, n))
		}
	}
	if len(parts) == 0 {
		return "no executions"
	}
	return strings.Join(parts, ", ")
}

// watchLine is the plain view: status, counts, rate and ETA in one line.
func watchLine(s *watchState) string {
	counts := map[string]int{}
	for _, e := range s.d.Executions {
		counts[e.Status]++
	}
	line := fmt.Sprintf("%s  %s  %d/%d done", s.d.Job.Status, countLine(counts), s.done, s.total)
	if s.done < s.total && s.done > s.done0 {
		line += fmt.Sprintf(", %.1f/min, ETA %s", s.ratePerMin(), s.eta())
	}
	return line
}

// drawWatch is the terminal view.
func drawWatch(w io.Writer, s *watchState) {
	d := s.d
	fmt.Fprintf(w, "%s  %s  (%s)\n\n", d.UpdateID, d.Job.Status, s.now.UTC().Format("15:04:05 MST"))
	counts := map[string]int{}
	for _, e := range d.Executions {
		counts[e.Status]++
	}
	const width = 30
	for _, st := range watchStatuses {
		n := counts[st]
		if n == 0 && st != "SUCCEEDED" && st != "QUEUED" && st != "IN_PROGRESS" {
			continue
		}
		filled := 0
		if s.total > 0 {
			filled = n * width / s.total
		}
		fmt.Fprintf(w, "  %-11s [%s%s] %d/%d\n", st, strings.Repeat("#", filled), strings.Repeat(".", width-filled), n, s.total)
	}
	fmt.Fprintf(w, "\n  done %d/%d   rate %.1f/min   ETA %s\n", s.done, s.total, s.ratePerMin(), s.eta())
	if o := d.OpenWindow; o != nil {
		fmt.Fprintf(w, "  maintenance window open until %s\n", o.Closes.UTC().Format("15:04 MST"))
	} else if len(d.NextWindows) > 0 {
		fmt.Fprintf(w, "  next maintenance window %s\n", d.NextWindows[0].UTC().Format("2006-01-02 15:04 MST"))
	}
	ex := append([]ota.Execution(nil), d.Executions...)
	sort.SliceStable(ex, func(a, b int) bool { return ex[a].LastUpdt.After(ex[b].LastUpdt) })
	if len(ex) > 8 {
		ex = ex[:8]
	}
	if len(ex) > 0 {
		fmt.Fprintln(w, "\n  Latest:")
	}
	for _, e := range ex {
		fmt.Fprintf(w, "  %s  %-28s %s", e.LastUpdt.UTC().Format("15:04:05"), shortTargets([]string{e.ThingArn}), e.Status)
		if r := e.StatusDetails["reason"]; r != "" {
			fmt.Fprintf(w, "  %s", r)
		}
		fmt.Fprintln(w)
	}
}
