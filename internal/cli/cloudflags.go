package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"

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
	if err := checkEndpoint("--endpoint-url", c.endpoint); err != nil {
		return nil, err
	}
	if c.endpoint == "" {
		if err := checkEndpoint("AWS_ENDPOINT_URL", os.Getenv("AWS_ENDPOINT_URL")); err != nil {
			return nil, err
		}
	}
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

// checkEndpoint refuses an endpoint URL the SDK cannot use, before any
// call: "127.0.0.1:4566" has no scheme.
func checkEndpoint(flag, v string) error {
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return invalid(fmt.Errorf("%s %q must be a URL with http:// or https://, like http://127.0.0.1:4566", flag, v))
	}
	return nil
}

// plainCloudError says in plain words why AWS (or otactl local) could not
// be reached or would not accept us, with the endpoint tried and what to
// check; the SDK's own text is kept on a second line for bug reports.
func plainCloudError(err error) error {
	var oe *net.OpError
	var dns *net.DNSError
	var ue *url.Error
	// Only an HTTP call (an AWS API) is explained here: MQTT connections
	// (otactl fleet) say their own why.
	endpoint, http := "the AWS endpoint", errors.As(err, &ue)
	if http {
		if u, perr := url.Parse(ue.URL); perr == nil {
			endpoint = u.Scheme + "://" + u.Host
		}
	}
	msg := err.Error()
	var plain string
	switch {
	case http && errors.As(err, &dns):
		plain = fmt.Sprintf("cannot resolve %s (%s): check --endpoint-url, AWS_ENDPOINT_URL and --region", dns.Name, endpoint)
	case http && errors.As(err, &oe) && oe.Op == "dial":
		why := "connection refused"
		if !errors.Is(err, syscall.ECONNREFUSED) {
			why = oe.Err.Error()
		}
		plain = fmt.Sprintf("cannot reach %s (%s): is otactl local (or the service) running there? Check --endpoint-url and AWS_ENDPOINT_URL", endpoint, why)
	case strings.Contains(msg, "failed to retrieve credentials") || strings.Contains(msg, "get credentials:") || strings.Contains(msg, "no EC2 IMDS role found"):
		plain = "no AWS credentials found: set --profile or AWS_PROFILE, run aws configure (or aws sso login), or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
	case strings.Contains(msg, "ExpiredToken") || strings.Contains(msg, "token has expired"):
		plain = "your AWS credentials have expired: run aws sso login (or refresh them) and try again"
	case strings.Contains(msg, "UnrecognizedClientException") || strings.Contains(msg, "InvalidClientTokenId") || strings.Contains(msg, "SignatureDoesNotMatch"):
		plain = fmt.Sprintf("%s does not accept these AWS credentials: check --profile, AWS_PROFILE and the keys", endpoint)
	default:
		return err
	}
	return fmt.Errorf("%s\n  (%s)", plain, msg)
}
