package ota

import (
	"fmt"
	"strings"
)

// FieldError is one broken rule: the field's path in the spec
// (files[1].codeSigning.startSigningJobParameter.signingProfileName) and the rule.
type FieldError struct {
	Path string `json:"path"`
	Rule string `json:"rule"`
}

func (e FieldError) Error() string {
	if e.Path == "" {
		return e.Rule
	}
	return e.Path + ": " + e.Rule
}

// Errors is every rule a spec breaks, reported together.
type Errors []FieldError

func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return fmt.Sprintf("%d invalid field(s):\n  %s", len(es), strings.Join(lines, "\n  "))
}

// Err returns es as an error, or nil when there are none.
func (es Errors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// checker accumulates FieldErrors.
type checker struct{ errs Errors }

func (c *checker) add(path, format string, args ...any) {
	c.errs = append(c.errs, FieldError{Path: path, Rule: fmt.Sprintf(format, args...)})
}

// join builds a field path: join("files[1]", "fileName").
func join(parent, field string) string {
	if parent == "" {
		return field
	}
	return parent + "." + field
}

func index(parent string, i int) string { return fmt.Sprintf("%s[%d]", parent, i) }
