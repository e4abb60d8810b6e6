// Package localtest starts a full otactl local server for tests: on a free
// loopback port, with its data in t.TempDir(), closed by t.Cleanup. It
// imports every local service, so only external test packages
// (package foo_test) of those services can use it.
package localtest

import (
	"context"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdks3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/otactl/otactl/local"
)

// Env is a running server and an SDK configuration pointing at it.
type Env struct {
	Server *local.Server
	URL    string
	// Config has static credentials (local.DefaultAccessKeyID), the region
	// and BaseEndpoint = URL: ready for s3, iot, signer, sts, acm clients.
	Config aws.Config
}

// Start starts a server with the default configuration.
func Start(t testing.TB) *Env { return StartWith(t, local.Config{}) }

// StartWith starts a server with cfg; Addr and DataDir are always a free
// loopback port and a temporary directory. The SDK configuration uses the
// first credentials of cfg (by PresignCredentials' rule).
func StartWith(t testing.TB, cfg local.Config) *Env {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	srv, err := local.New(cfg)
	if err != nil {
		t.Fatalf("localtest: %v", err)
	}
	if err := srv.Start(); err != nil {
		srv.Close()
		t.Fatalf("localtest: %v", err)
	}
	url := srv.URL()
	t.Cleanup(func() { srv.Close() })
	ak, secret := srv.PresignCredentials()
	return &Env{Server: srv, URL: url, Config: Config(url, srv.Config().Region, ak, secret)}
}

// Config is an SDK configuration for an otactl local at url.
func Config(url, region, accessKey, secret string) aws.Config {
	return aws.Config{
		Region:       region,
		Credentials:  credentials.NewStaticCredentialsProvider(accessKey, secret, ""),
		BaseEndpoint: aws.String(url),
		HTTPClient:   &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()},
		// Retries would hide the first error a test means to see.
		RetryMaxAttempts: 1,
	}
}

// S3 returns a path-style S3 client.
func (e *Env) S3() *sdks3.Client {
	return sdks3.NewFromConfig(e.Config, func(o *sdks3.Options) { o.UsePathStyle = true })
}

// Ctx is a background context for SDK calls in tests.
func Ctx() context.Context { return context.Background() }
