package cli

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	"github.com/otactl/otactl/local/console"
	"github.com/otactl/otactl/local/jobs"
)

// writeRehearsalReport writes otactl rehearse --report FILE: one HTML file
// that plots exactly the JSON --output json prints (it is embedded in the
// page) with the text timeline below. Written to a temporary file and
// renamed, so that a failure leaves no half-written report.
func writeRehearsalReport(path string, r *jobs.Rehearsal) error {
	if path == "" {
		return nil
	}
	var js, text, page bytes.Buffer
	if err := printJSON(&js, rehearsalView(r)); err != nil {
		return err
	}
	printRehearsal(&text, r)
	title := fmt.Sprintf("Rehearsal of %s: %d devices from %s UTC", r.JobID, r.Devices, r.Start.Format(stamp))
	if err := console.Report(&page, title, js.Bytes(), text.String()); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".otactl-report-*")
	if err != nil {
		return fmt.Errorf("--report: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(page.Bytes()); err != nil {
		tmp.Close()
		return fmt.Errorf("--report: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("--report: %w", err)
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return fmt.Errorf("--report: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("--report: %w", err)
	}
	return nil
}
