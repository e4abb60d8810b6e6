package cli

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/signer"

	"github.com/otactl/otactl/awscloud"
	"github.com/otactl/otactl/device"
	"github.com/otactl/otactl/local"
	"github.com/otactl/otactl/local/mqtt"
)

// What otactl fleet finds by itself so that, against otactl local, it needs
// no flags besides the devices and the signing profile: the MQTT endpoint
// (DescribeEndpoint), whether it is mutual TLS (it answers a TLS
// handshake), the CA that signs the broker's certificate (otactl local
// writes it to <data dir>/ca.pem; fleet looks in ./.otactl, the default
// data dir), a certificate per device (CreateCertificateFromCsr, kept in
// <data dir>/fleet-certs so that they go away with the environment they
// were registered in) and the code-signing certificate (the signing
// profile's, through Signer GetSigningProfile and ACM GetCertificate).

// fleetCertDir is the per-device certificate directory fleet makes next to
// otactl local's CA when none is named.
const fleetCertDir = "fleet-certs"

// exitInterrupted is the exit code after Ctrl-C, as shells report SIGINT.
const exitInterrupted = 130

// localCA is --ca's default: otactl local's CA in ./.otactl, when it exists.
func localCA() string {
	p := filepath.Join(local.DefaultDataDir, mqtt.CAFile)
	if _, err := os.Stat(p); err == nil {
		return p
	}
	return ""
}

// cloud connects to the control plane once.
func (f *fleetFlags) control(ctx context.Context) (*awscloud.Cloud, error) {
	if f.api != nil {
		return f.api, nil
	}
	c, err := newCloud(ctx, &f.cloud)
	if err != nil {
		return nil, err
	}
	f.api = c
	return c, nil
}

// signingProfileCert fetches the certificate a signing profile signs with:
// GetSigningProfile names it (signingMaterial.certificateArn), ACM holds it.
func signingProfileCert(ctx context.Context, c *awscloud.Cloud, profile string) ([]byte, error) {
	p, err := signer.NewFromConfig(c.Config()).GetSigningProfile(ctx, &signer.GetSigningProfileInput{ProfileName: aws.String(profile)})
	if err != nil {
		if isNotFound(err) { // the user named it, and nothing was done yet
			return nil, invalid(fmt.Errorf("--signing-profile %s: no such signing profile (aws signer list-signing-profiles)", profile))
		}
		return nil, fmt.Errorf("--signing-profile %s: signer:GetSigningProfile: %w", profile, err)
	}
	if p.SigningMaterial == nil || aws.ToString(p.SigningMaterial.CertificateArn) == "" {
		return nil, fmt.Errorf("--signing-profile %s: the profile names no certificate (signingMaterial); pass the code-signing certificate with --signing-cert FILE", profile)
	}
	arn := aws.ToString(p.SigningMaterial.CertificateArn)
	out, err := acm.NewFromConfig(c.Config()).GetCertificate(ctx, &acm.GetCertificateInput{CertificateArn: aws.String(arn)})
	if err != nil {
		return nil, fmt.Errorf("--signing-profile %s: acm:GetCertificate %s: %w", profile, arn, err)
	}
	return []byte(aws.ToString(out.Certificate)), nil
}

// speaksTLS tells whether the endpoint answers a TLS handshake (a
// mutual-TLS listener) rather than plain MQTT. It only looks: the server's
// certificate is not checked here, the devices check it.
func speaksTLS(ctx context.Context, endpoint string) (bool, error) {
	conn, err := dialEndpoint(ctx, endpoint)
	if err != nil {
		return false, err
	}
	defer conn.Close()
	hctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}) //nolint:gosec // detection only
	return tc.HandshakeContext(hctx) == nil, nil
}

func dialEndpoint(ctx context.Context, endpoint string) (net.Conn, error) {
	d := net.Dialer{Timeout: 5 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", endpoint)
	if err == nil {
		return conn, nil
	}
	hint := "check --endpoint HOST:PORT"
	if errors.Is(err, syscall.ECONNREFUSED) {
		hint = "nothing listens there: is otactl local running (it prints its MQTT address)? Otherwise pass --endpoint HOST:PORT"
	}
	return nil, fmt.Errorf("cannot connect to the MQTT endpoint %s: %v; %s", endpoint, errors.Unwrap(errors.Unwrap(err)), hint)
}

var errUntrusted = errors.New("the broker's certificate is not signed by a CA the devices trust")

// roots is the pool --ca names; nil for the system roots.
func (f *fleetFlags) roots() (*x509.CertPool, error) {
	if f.ca == "" {
		return nil, nil
	}
	raw, err := os.ReadFile(f.ca)
	if err != nil {
		return nil, fmt.Errorf("--ca: %w", err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(raw) {
		return nil, fmt.Errorf("--ca %s: no PEM certificates", f.ca)
	}
	return roots, nil
}

// checkTLS makes one TLS handshake as the first device, so that a broker
// the devices cannot trust is one line, not a row per device.
func checkTLS(ctx context.Context, endpoint string, cfg *tls.Config) error {
	conn, err := dialEndpoint(ctx, endpoint)
	if err != nil {
		return err
	}
	defer conn.Close()
	c := cfg.Clone()
	if c.ServerName == "" {
		host, _, _ := net.SplitHostPort(endpoint)
		c.ServerName = host
	}
	hctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	err = tls.Client(conn, c).HandshakeContext(hctx)
	var unknown x509.UnknownAuthorityError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &unknown):
		return fmt.Errorf("%s: %w: pass --ca FILE (otactl local writes <data dir>/%s; fleet looks in ./%s)", endpoint, errUntrusted, mqtt.CAFile, local.DefaultDataDir)
	default:
		return fmt.Errorf("%s: TLS handshake: %v", endpoint, err)
	}
}

// setUpTLS decides how the devices connect to f.endpoint: plain when it
// speaks plain MQTT, else mutual TLS with --cert/--key, --cert-dir, or the
// certificates fleet makes next to otactl local's CA. Certificates are made
// (and the policy attached) for things that have none in the directory.
func (f *fleetFlags) setUpTLS(ctx context.Context, stderr io.Writer, things []string) error {
	if f.cert == "" && f.certDir == "" {
		isTLS, err := speaksTLS(ctx, f.endpoint)
		if err != nil {
			return err
		}
		if !isTLS {
			return nil
		}
		if f.ca == "" || !isLoopback(f.endpoint) {
			return fmt.Errorf("%s is a mutual-TLS listener: the devices need certificates: pass --cert-dir DIR (certificates are made there for things that have none) or --cert/--key, and --ca FILE (otactl local writes <data dir>/%s); against otactl local, run fleet where otactl local runs and it finds ./%s", f.endpoint, mqtt.CAFile, filepath.Join(local.DefaultDataDir, mqtt.CAFile))
		}
		f.certDir = filepath.Join(filepath.Dir(f.ca), fleetCertDir)
	}
	// The broker's certificate first: a CA that does not fit is one line,
	// before any certificate is made.
	if roots, err := f.roots(); err != nil {
		return invalid(err)
	} else if err := checkTLS(ctx, f.endpoint, &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}); err != nil && errors.Is(err, errUntrusted) {
		return err
	}
	switch {
	case f.claimTemplate != "":
		if err := f.provisionByClaim(ctx, stderr, things); err != nil {
			return err
		}
	case f.certDir != "":
		if err := f.makeCerts(ctx, stderr, things); err != nil {
			return err
		}
	}
	tlsFor, err := f.tlsFor()
	if err != nil {
		return invalid(err)
	}
	f.tlsConfig = tlsFor
	first, err := tlsFor(things[0])
	if err != nil {
		return invalid(err)
	}
	return checkTLS(ctx, f.endpoint, first)
}

// makeCerts registers a certificate for every thing without one in
// f.certDir; without --create-things the things must exist.
func (f *fleetFlags) makeCerts(ctx context.Context, stderr io.Writer, things []string) error {
	var missing []string
	for _, th := range things {
		crt, _ := device.CertPaths(f.certDir, th)
		if _, err := os.Stat(crt); err != nil {
			missing = append(missing, th)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	c, err := f.control(ctx)
	if err != nil {
		return err
	}
	api := c.IoT()
	var absent []string
	for _, th := range missing {
		if f.createThings {
			break // registered already
		}
		if _, err := api.DescribeThing(ctx, &iot.DescribeThingInput{ThingName: aws.String(th)}); err != nil {
			if isNotFound(err) {
				absent = append(absent, th)
				continue
			}
			return fmt.Errorf("iot:DescribeThing %s: %w", th, err)
		}
	}
	if len(absent) > 0 {
		return invalid(fmt.Errorf("no such thing: %s (create them, or pass --create-things)", abbreviate(absent, 5)))
	}
	if !f.cloud.quiet {
		devices := fmt.Sprintf("%d devices", len(missing))
		if len(missing) == 1 {
			devices = "1 device"
		}
		fmt.Fprintf(stderr, "otactl fleet: making certificates for %s in %s (CreateCertificateFromCsr, policy %s)\n", devices, f.certDir, orDefault(f.policy, "none"))
	}
	return device.Register(ctx, api, missing, device.Registration{CertDir: f.certDir, Policy: f.policy})
}

// provisionByClaim gives every device without a certificate in f.certDir
// its own, by claim (device.ProvisionByClaim).
func (f *fleetFlags) provisionByClaim(ctx context.Context, stderr io.Writer, things []string) error {
	claim, err := tls.LoadX509KeyPair(f.claimCert, f.claimKey)
	if err != nil {
		return invalid(fmt.Errorf("--claim-cert/--claim-key: %w", err))
	}
	roots, err := f.roots()
	if err != nil {
		return invalid(err)
	}
	n, err := device.ProvisionByClaim(ctx, device.Claim{Endpoint: f.endpoint, Template: f.claimTemplate, CertDir: f.certDir,
		TLS: &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{claim}, MinVersion: tls.VersionTLS12}}, things)
	if err != nil {
		return err
	}
	if n > 0 && !f.cloud.quiet {
		fmt.Fprintf(stderr, "otactl fleet: %d devices provisioned themselves by claim (template %s); their certificates and keys are in %s\n", n, f.claimTemplate, f.certDir)
	}
	return nil
}

func isNotFound(err error) bool {
	var nf interface{ ErrorCode() string }
	return errors.As(err, &nf) && nf.ErrorCode() == "ResourceNotFoundException"
}

func isLoopback(endpoint string) bool {
	host, _, err := net.SplitHostPort(endpoint)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// abbreviate lists at most n names and says how many more.
func abbreviate(names []string, n int) string {
	if len(names) <= n {
		return strings.Join(names, ", ")
	}
	return fmt.Sprintf("%s and %d more", strings.Join(names[:n], ", "), len(names)-n)
}
