package cli

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/otactl/otactl/ota"
)

// inputErrors are validation errors in the words of the input the user
// gave: flags by their name, a request by its own field names, a file with
// line:col.
type inputErrors []string

func (es inputErrors) Error() string {
	if len(es) == 1 {
		return es[0]
	}
	return fmt.Sprintf("%d invalid field(s):\n  %s", len(es), strings.Join(es, "\n  "))
}

// jobFlagFields maps each job-configuration flag to the spec field it sets.
var jobFlagFields = []struct{ flag, path string }{
	{"retries", "jobExecutionsRetryConfig"},
	{"retry-on", "jobExecutionsRetryConfig"},
	{"in-progress-timeout", "timeoutConfig"},
	{"timeout", "timeoutConfig"},
	{"start", "schedulingConfig.startTime"},
	{"end", "schedulingConfig.endTime"},
	{"end-behavior", "schedulingConfig.endBehavior"},
	{"maintenance-window", "schedulingConfig.maintenanceWindows"},
	{"rollout-rate", "jobExecutionsRolloutConfig"},
	{"package-version", "destinationPackageVersions"},
	{"presign-expires", "presignedUrlConfig"},
	{"protocol", "protocols"},
	{"target-selection", "targetSelection"},
}

// updateFlagFields maps the flags of the flag-only way in to what they fill.
var updateFlagFields = []struct{ flag, path string }{
	{"update-id", "otaUpdateId"},
	{"bucket", "files[0].fileLocation.s3Location.bucket"},
	{"file-key", "files[0].fileLocation.s3Location.key"},
	{"file-version", "files[0].fileLocation.s3Location.version"},
	{"bucket", "files[0].fileLocation"},
	{"file-name", "files[0].fileName"},
	{"signing-profile", "files[0].codeSigning"},
	{"role", "roleArn"},
	{"thing-group", "targets"},
	{"description", "description"},
}

func under(path, prefix string) bool {
	rest, ok := strings.CutPrefix(path, prefix)
	return ok && (rest == "" || rest[0] == '.' || rest[0] == '[')
}

// explain rewrites the rule errors of a spec built from this input; other
// errors pass through.
func (f *specFlags) explain(err error) error {
	var es ota.Errors
	if !errors.As(err, &es) {
		return err
	}
	var pos map[string]ota.Position
	if f.path() != "" {
		if raw, rerr := os.ReadFile(f.path()); rerr == nil {
			pos = ota.FieldPositions(raw)
		}
	}
	out := make(inputErrors, 0, len(es))
	for _, e := range es {
		out = append(out, f.explainOne(e, pos))
	}
	return out
}

func (f *specFlags) explainOne(e ota.FieldError, pos map[string]ota.Position) string {
	for _, m := range jobFlagFields {
		if f.changed(m.flag) && under(e.Path, m.path) {
			return "--" + m.flag + ": " + e.Rule
		}
	}
	if f.path() == "" {
		for _, m := range updateFlagFields {
			if !under(e.Path, m.path) {
				continue
			}
			if f.changed(m.flag) || m.flag == "thing-group" && f.changed("thing") {
				return "--" + m.flag + ": " + e.Rule
			}
			if m.flag == "thing-group" {
				return "--thing-group or --thing is required (or give -f SPEC / --request FILE)"
			}
			return "--" + m.flag + " is required (or give -f SPEC / --request FILE)"
		}
		return e.Error()
	}
	path := e.Path
	if f.request != "" {
		path = ota.RequestPath(path)
	}
	msg := ota.FieldError{Path: path, Rule: e.Rule}.Error()
	// The nearest field written in the file: the path itself, else its parent.
	for p := path; p != ""; p = parentPath(p) {
		if at, ok := pos[p]; ok {
			return fmt.Sprintf("%s:%d:%d: %s", f.path(), at.Line, at.Column, msg)
		}
	}
	return f.path() + ": " + msg
}

// parentPath drops a path's last segment: a.b[0].c → a.b[0] → a.b → a.
func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// noteFlags names, in warnings about fields a flag set, the flag:
// "schedulingConfig.endBehavior: does not apply without an endTime (set by --end-behavior)".
func (f *specFlags) noteFlags(ws []string) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w
		path, _, ok := strings.Cut(w, ": ")
		if !ok {
			continue
		}
		for _, m := range jobFlagFields {
			if f.changed(m.flag) && under(path, m.path) {
				out[i] = w + " (set by --" + m.flag + ")"
				break
			}
		}
	}
	return out
}
