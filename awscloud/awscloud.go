// Package awscloud implements ota.Cloud with the AWS SDK for Go v2. The same
// code talks to AWS and to otactl local: only the endpoint differs.
package awscloud

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/signer"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/otactl/otactl/ota"
)

// Options choose the account, region and endpoint, as every AWS tool does.
type Options struct {
	Profile     string // --profile (default: AWS_PROFILE / default)
	Region      string // --region (default: AWS_REGION / shared config)
	EndpointURL string // --endpoint-url (default: AWS_ENDPOINT_URL)
}

// Cloud is ota.Cloud over the AWS SDK.
type Cloud struct {
	cfg    aws.Config
	s3     *s3.Client
	signer *signer.Client
	iot    *iot.Client
	sts    *sts.Client

	accountOnce sync.Once
	account     string
	accountErr  error
}

var _ ota.Cloud = (*Cloud)(nil)

// New loads the standard AWS configuration chain (environment, shared config
// and credentials files, SSO, the profile) and builds the clients. The SDK's
// standard retryer handles throttling.
func New(ctx context.Context, o Options) (*Cloud, error) {
	var opts []func(*config.LoadOptions) error
	if o.Profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(o.Profile))
	}
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	ca, err := caBundleOptions() // AWS_CA_BUNDLE, loaded at the first HTTPS request (cabundle.go)
	if err != nil {
		return nil, fmt.Errorf("loading AWS configuration: %w", err)
	}
	cfg, err := config.LoadDefaultConfig(ctx, append(opts, ca...)...)
	if err != nil {
		return nil, fmt.Errorf("loading AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		return nil, fmt.Errorf("no AWS region: set --region, AWS_REGION or a region in your profile")
	}
	if o.EndpointURL != "" {
		cfg.BaseEndpoint = aws.String(o.EndpointURL)
	}
	if d := debugFrom(ctx); d != nil {
		cfg.APIOptions = append(cfg.APIOptions, d.middleware)
	}
	return FromConfig(cfg), nil
}

// FromConfig builds the clients from an aws.Config (tests use it with a
// static-credential config pointing at otactl local).
func FromConfig(cfg aws.Config) *Cloud {
	// A custom endpoint (otactl local, a proxy) is addressed path-style: a
	// bucket name cannot be prepended to an IP address.
	custom := cfg.BaseEndpoint != nil || os.Getenv("AWS_ENDPOINT_URL") != "" || os.Getenv("AWS_ENDPOINT_URL_S3") != ""
	return &Cloud{
		cfg: cfg,
		s3: s3.NewFromConfig(cfg, func(o *s3.Options) {
			o.UsePathStyle = o.UsePathStyle || custom
			o.DisableLogOutputChecksumValidationSkipped = true // signed objects carry no checksum; not worth a log line
		}),
		signer: signer.NewFromConfig(cfg),
		iot:    iot.NewFromConfig(cfg),
		sts:    sts.NewFromConfig(cfg),
	}
}

// Config is the loaded AWS configuration.
func (c *Cloud) Config() aws.Config { return c.cfg }

// IoT is the IoT client, for commands that need more than ota.Cloud.
func (c *Cloud) IoT() *iot.Client { return c.iot }

// Region is the configured region.
func (c *Cloud) Region() string { return c.cfg.Region }

// AccountID asks STS once.
func (c *Cloud) AccountID(ctx context.Context) (string, error) {
	c.accountOnce.Do(func() {
		out, err := c.sts.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			c.accountErr = wrap(err)
			return
		}
		c.account = aws.ToString(out.Account)
	})
	return c.account, c.accountErr
}

// wrap maps AWS error codes onto ota's sentinel errors, keeping the message.
func wrap(err error) error {
	if err == nil {
		return nil
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "ResourceNotFoundException", "NoSuchKey", "NoSuchBucket", "NoSuchVersion", "NotFound":
			return fmt.Errorf("%w: %s: %s", ota.ErrNotFound, ae.ErrorCode(), ae.ErrorMessage())
		case "ResourceAlreadyExistsException":
			return fmt.Errorf("%w: %s", ota.ErrAlreadyExists, ae.ErrorMessage())
		}
		return fmt.Errorf("%s: %s", ae.ErrorCode(), ae.ErrorMessage())
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) && re.HTTPStatusCode() == http.StatusNotFound {
		return fmt.Errorf("%w: %v", ota.ErrNotFound, err)
	}
	return err
}

func str(s string) *string {
	if s == "" {
		return nil
	}
	return aws.String(s)
}
