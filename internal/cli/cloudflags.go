package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/otactl/otactl/awscloud"
	"github.com/otactl/otactl/ota"
	"github.com/spf13/pflag"
	"golang.org/x/term"
)

// cloudFlags choose the AWS account, region and endpoint, as the AWS CLI does.
type cloudFlags struct {
	profile, region, endpoint string
	quiet                     bool
}

func (c *cloudFlags) register(fs *pflag.FlagSet) {
	fs.StringVar(&c.profile, "profile", "", "AWS profile (default: $AWS_PROFILE)")
	fs.StringVar(&c.region, "region", "", "AWS region (default: $AWS_REGION or the profile's)")
	fs.StringVar(&c.endpoint, "endpoint-url", "", "endpoint for every AWS service, e.g. http://127.0.0.1:4566 for otactl local (default: $AWS_ENDPOINT_URL)")
	fs.BoolVarP(&c.quiet, "quiet", "q", false, "no progress output")
}

// newCloud is how commands reach AWS; tests replace it to reach otactl local.
var newCloud = func(ctx context.Context, c *cloudFlags) (*awscloud.Cloud, error) {
	return awscloud.New(ctx, awscloud.Options{Profile: c.profile, Region: c.region, EndpointURL: c.endpoint})
}

// progress returns a printer for progress events: on a terminal unless
// --quiet; silent otherwise so that scripts read clean output.
func (c *cloudFlags) progress(w io.Writer) func(string) {
	if c.quiet {
		return nil
	}
	if f, ok := w.(*os.File); !ok || !term.IsTerminal(int(f.Fd())) {
		return nil
	}
	return func(event string) { fmt.Fprintf(w, "\r\033[K… %s", event) }
}

// cloudError gives a missing update exit code 3.
func cloudError(err error) error {
	if errors.Is(err, ota.ErrNotFound) {
		return notFound(err)
	}
	var es ota.Errors
	if errors.As(err, &es) {
		return invalid(err)
	}
	return err
}
