package device

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/smithy-go"
)

// Endpoint asks DescribeEndpoint (iot:Data-ATS) for the MQTT endpoint and
// adds the MQTT port when the answer has none: 8883 with TLS, 1883 without.
func Endpoint(ctx context.Context, c *iot.Client, tls bool) (string, error) {
	out, err := c.DescribeEndpoint(ctx, &iot.DescribeEndpointInput{EndpointType: aws.String("iot:Data-ATS")})
	if err != nil {
		return "", fmt.Errorf("DescribeEndpoint: %w", err)
	}
	addr := aws.ToString(out.EndpointAddress)
	if addr == "" {
		return "", errors.New("DescribeEndpoint returned no address")
	}
	if _, _, err := net.SplitHostPort(addr); err == nil {
		return addr, nil
	}
	port := "1883"
	if tls {
		port = "8883"
	}
	return net.JoinHostPort(addr, port), nil
}

// Registration is what Register does for a fleet.
type Registration struct {
	// Group, when set, is created if missing and every thing is added to it.
	Group string
	// CertDir, when set, receives DIR/<thing>.crt and DIR/<thing>.key for
	// every thing that has none yet: a new ACTIVE certificate
	// (CreateKeysAndCertificate) attached to the thing (AttachThingPrincipal).
	CertDir string
}

// Register creates the things (existing ones are fine), the group and the
// certificates, a few calls at a time.
func Register(ctx context.Context, c *iot.Client, things []string, r Registration) error {
	if r.Group != "" {
		if _, err := c.CreateThingGroup(ctx, &iot.CreateThingGroupInput{ThingGroupName: aws.String(r.Group)}); err != nil && !alreadyExists(err) {
			return fmt.Errorf("CreateThingGroup %s: %w", r.Group, err)
		}
	}
	if r.CertDir != "" {
		if err := os.MkdirAll(r.CertDir, 0o700); err != nil {
			return err
		}
	}
	work := make(chan string)
	errs := make(chan error, len(things))
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for th := range work {
				if err := registerOne(ctx, c, th, r); err != nil {
					errs <- err
				}
			}
		}()
	}
	for _, th := range things {
		work <- th
	}
	close(work)
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return errors.Join(all...)
}

func registerOne(ctx context.Context, c *iot.Client, thing string, r Registration) error {
	if _, err := c.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String(thing)}); err != nil && !alreadyExists(err) {
		return fmt.Errorf("CreateThing %s: %w", thing, err)
	}
	if r.Group != "" {
		if _, err := c.AddThingToThingGroup(ctx, &iot.AddThingToThingGroupInput{ThingName: aws.String(thing), ThingGroupName: aws.String(r.Group)}); err != nil {
			return fmt.Errorf("AddThingToThingGroup %s: %w", thing, err)
		}
	}
	if r.CertDir == "" {
		return nil
	}
	crt, key := CertPaths(r.CertDir, thing)
	if _, err := os.Stat(crt); err == nil {
		return nil
	}
	kc, err := c.CreateKeysAndCertificate(ctx, &iot.CreateKeysAndCertificateInput{SetAsActive: true})
	if err != nil {
		return fmt.Errorf("CreateKeysAndCertificate for %s: %w", thing, err)
	}
	if _, err := c.AttachThingPrincipal(ctx, &iot.AttachThingPrincipalInput{ThingName: aws.String(thing), Principal: kc.CertificateArn}); err != nil {
		return fmt.Errorf("AttachThingPrincipal %s: %w", thing, err)
	}
	if err := os.WriteFile(key, []byte(aws.ToString(kc.KeyPair.PrivateKey)), 0o600); err != nil {
		return err
	}
	return os.WriteFile(crt, []byte(aws.ToString(kc.CertificatePem)), 0o644)
}

// CertPaths are a thing's certificate and key in a certificate directory.
func CertPaths(dir, thing string) (crt, key string) {
	return filepath.Join(dir, thing+".crt"), filepath.Join(dir, thing+".key")
}

func alreadyExists(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "ResourceAlreadyExistsException"
}
