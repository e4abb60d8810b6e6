package cli

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/otactl/otactl/ota"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

var (
	unknownFlagRE = regexp.MustCompile(`^unknown (?:shorthand )?flag: '?-{0,2}([^' ]+)'?`)
	badValueRE    = regexp.MustCompile(`^invalid argument "(.*)" for "(?:-\w, )?--([\w-]+)" flag: `)
	argCountRE    = regexp.MustCompile(`^accepts (?:at most )?(\d+) arg\(s\), received (\d+)$|^unknown command "(.*)" for`)
)

// flagError rewrites pflag's errors in otactl's words: a did-you-mean for
// an unknown flag, and the rule (not strconv's or time's message) for a
// value that does not parse. Every flag error is invalid input.
func flagError(c *cobra.Command, err error) error {
	msg := err.Error()
	if m := unknownFlagRE.FindStringSubmatch(msg); m != nil {
		var names []string
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if !f.Hidden && f.Deprecated == "" {
				names = append(names, f.Name)
			}
		})
		if s := ota.Suggest(strings.TrimLeft(m[1], "-"), names); s != "" {
			msg += fmt.Sprintf("; did you mean --%s?", s)
		}
		return invalid(fmt.Errorf("%s\nSee '%s --help'.", msg, c.CommandPath()))
	}
	if m := badValueRE.FindStringSubmatch(msg); m != nil {
		if f := c.Flags().Lookup(m[2]); f != nil {
			return invalid(fmt.Errorf("--%s %s, got %q", m[2], valueRule(f.Value.Type()), m[1]))
		}
	}
	return invalid(err)
}

// valueRule says what a flag of a pflag type takes.
func valueRule(typ string) string {
	switch typ {
	case "int", "int64", "int32", "uint", "intSlice":
		return "must be a whole number"
	case "float64", "float32":
		return "must be a number, like 0.05"
	case "duration":
		return "needs a duration with a unit, like 30s, 30m or 1h30m"
	case "bool":
		return "takes true or false"
	}
	return "has an invalid value"
}

// usageError rewrites cobra's argument-count errors with what the command
// needs, read from its Use line.
func usageError(c *cobra.Command, err error) error {
	m := argCountRE.FindStringSubmatch(err.Error())
	if m == nil || c == nil || m[3] != "" {
		return err
	}
	want := strings.Fields(c.Use)[1:]
	name, path := strings.TrimPrefix(c.CommandPath(), c.Root().Name()+" "), c.CommandPath()
	switch {
	case m[1] == "0":
		return fmt.Errorf("%s takes no arguments, got %s; see '%s --help'", name, m[2], path)
	case m[2] == "0":
		hint := ""
		if strings.Contains(c.Use, "UPDATE_ID") {
			hint = " (see otactl list)"
		}
		return fmt.Errorf("%s needs %s%s", name, strings.Join(want, " "), hint)
	}
	return fmt.Errorf("%s takes %s only, got %s arguments; see '%s --help'", name, strings.Join(want, " "), m[2], path)
}

const deprecatedAnnotation = "otactl_deprecated"

// deprecate keeps an old flag name working, hidden from help, with a
// warning on stderr when used (pflag's own notice would go to stdout and
// spoil --output json).
func deprecate(fs *pflag.FlagSet, name, instead string) {
	f := fs.Lookup(name)
	if f == nil {
		return
	}
	f.Hidden = true
	if f.Annotations == nil {
		f.Annotations = map[string][]string{}
	}
	f.Annotations[deprecatedAnnotation] = []string{instead}
}

// warnDeprecated prints the warning of each deprecated flag that was set.
func warnDeprecated(c *cobra.Command) {
	c.Flags().Visit(func(f *pflag.Flag) {
		if msg, ok := f.Annotations[deprecatedAnnotation]; ok {
			fmt.Fprintf(c.ErrOrStderr(), "warning: --%s is deprecated: %s\n", f.Name, msg[0])
		}
	})
}
