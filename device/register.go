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
	// every thing that has none yet: an ECDSA P-256 key made here (it never
	// leaves the machine) and a certificate for it from
	// CreateCertificateFromCsr, ACTIVE and attached to the thing
	// (AttachThingPrincipal).
	CertDir string
	// Policy, with CertDir, is the IoT policy attached to every device
	// certificate (new or already in CertDir); when no policy of that name
	// exists, it is created with ThingPolicy's document.
	Policy string
}

// Register creates the things (existing ones are fine), the group, the
// policy and the certificates, a few calls at a time.
func Register(ctx context.Context, c *iot.Client, things []string, r Registration) error {
	if r.Group != "" {
		if _, err := c.CreateThingGroup(ctx, &iot.CreateThingGroupInput{ThingGroupName: aws.String(r.Group)}); err != nil && !alreadyExists(err) {
			return fmt.Errorf("CreateThingGroup %s: %w", r.Group, err)
		}
	}
	arns, err := each(things, func(th string) (string, error) { return registerThing(ctx, c, th, r.Group) })
	if err != nil || r.CertDir == "" {
		return err
	}
	if err := os.MkdirAll(r.CertDir, 0o700); err != nil {
		return err
	}
	if r.Policy != "" && len(arns) > 0 {
		if err := ensurePolicy(ctx, c, r.Policy, arns[0]); err != nil {
			return err
		}
	}
	_, err = each(things, func(th string) (string, error) { return "", registerCert(ctx, c, th, r) })
	return err
}

// each runs fn for every thing, 8 at a time, and returns the results in
// the things' order and every error.
func each(things []string, fn func(thing string) (string, error)) ([]string, error) {
	out := make([]string, len(things))
	work := make(chan int)
	errs := make(chan error, len(things))
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				v, err := fn(things[i])
				if err != nil {
					errs <- err
				}
				out[i] = v
			}
		}()
	}
	for i := range things {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return out, errors.Join(all...)
}

// registerThing creates the thing (or finds it) and returns its ARN.
func registerThing(ctx context.Context, c *iot.Client, thing, group string) (string, error) {
	var arn string
	out, err := c.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String(thing)})
	switch {
	case err == nil:
		arn = aws.ToString(out.ThingArn)
	case alreadyExists(err):
		d, err := c.DescribeThing(ctx, &iot.DescribeThingInput{ThingName: aws.String(thing)})
		if err != nil {
			return "", fmt.Errorf("DescribeThing %s: %w", thing, err)
		}
		arn = aws.ToString(d.ThingArn)
	default:
		return "", fmt.Errorf("CreateThing %s: %w", thing, err)
	}
	if group != "" {
		if _, err := c.AddThingToThingGroup(ctx, &iot.AddThingToThingGroupInput{ThingName: aws.String(thing), ThingGroupName: aws.String(group)}); err != nil {
			return "", fmt.Errorf("AddThingToThingGroup %s: %w", thing, err)
		}
	}
	return arn, nil
}

// ensurePolicy creates the policy unless one of that name exists (a policy
// the user wrote is theirs to keep). thingArn gives region and account.
func ensurePolicy(ctx context.Context, c *iot.Client, name, thingArn string) error {
	prefix, err := arnPrefix(thingArn)
	if err != nil {
		return err
	}
	_, err = c.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: aws.String(name), PolicyDocument: aws.String(ThingPolicy(prefix))})
	if err != nil && !alreadyExists(err) {
		return fmt.Errorf("CreatePolicy %s: %w", name, err)
	}
	return nil
}

// registerCert gives the thing a key and certificate in r.CertDir unless it
// has them, and attaches r.Policy to the certificate.
func registerCert(ctx context.Context, c *iot.Client, thing string, r Registration) error {
	crt, key := CertPaths(r.CertDir, thing)
	certArn, err := existingCertArn(ctx, c, crt)
	if err != nil {
		return err
	}
	if certArn == "" {
		if certArn, err = newCert(ctx, c, thing, crt, key); err != nil {
			return err
		}
	}
	if r.Policy == "" {
		return nil
	}
	if _, err := c.AttachPolicy(ctx, &iot.AttachPolicyInput{PolicyName: aws.String(r.Policy), Target: aws.String(certArn)}); err != nil {
		return fmt.Errorf("AttachPolicy %s to the certificate of %s: %w", r.Policy, thing, err)
	}
	return nil
}

// newCert makes a key here, has the control plane sign a certificate for it
// (CreateCertificateFromCsr, ACTIVE), attaches it to the thing and writes
// both files; it returns the certificate ARN.
func newCert(ctx context.Context, c *iot.Client, thing, crt, key string) (string, error) {
	csr, keyPEM, err := newCSR(thing)
	if err != nil {
		return "", err
	}
	out, err := c.CreateCertificateFromCsr(ctx, &iot.CreateCertificateFromCsrInput{CertificateSigningRequest: aws.String(csr), SetAsActive: true})
	if err != nil {
		return "", fmt.Errorf("CreateCertificateFromCsr for %s: %w", thing, err)
	}
	if _, err := c.AttachThingPrincipal(ctx, &iot.AttachThingPrincipalInput{ThingName: aws.String(thing), Principal: out.CertificateArn}); err != nil {
		return "", fmt.Errorf("AttachThingPrincipal %s: %w", thing, err)
	}
	if err := os.WriteFile(key, keyPEM, 0o600); err != nil {
		return "", err
	}
	return aws.ToString(out.CertificateArn), os.WriteFile(crt, []byte(aws.ToString(out.CertificatePem)), 0o644)
}

// CertPaths are a thing's certificate and key in a certificate directory.
func CertPaths(dir, thing string) (crt, key string) {
	return filepath.Join(dir, thing+".crt"), filepath.Join(dir, thing+".key")
}

func alreadyExists(err error) bool {
	var ae smithy.APIError
	return errors.As(err, &ae) && ae.ErrorCode() == "ResourceAlreadyExistsException"
}
