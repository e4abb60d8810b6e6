package cli

import (
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/pflag"
)

// outputFlag is the --output flag every command has.
type outputFlag struct{ format string }

func (o *outputFlag) register(fs *pflag.FlagSet) {
	fs.StringVarP(&o.format, "output", "o", "table", "output format: table or json")
}

func (o *outputFlag) check() error {
	if o.format != "table" && o.format != "json" {
		return invalid(fmt.Errorf("--output: must be table or json, got %q", o.format))
	}
	return nil
}

func (o *outputFlag) json() bool { return o.format == "json" }

func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}
