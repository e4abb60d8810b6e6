package awscloud

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sync"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
)

// caBundle is AWS_CA_BUNDLE, loaded when the first HTTPS request is made
// rather than when the configuration is.
//
// Why: the SDK's LoadDefaultConfig reads and parses the whole bundle at
// once, and the usual bundle (the system's, ~140 certificates) costs 2-3
// ms, an eighth of `otactl create` against otactl local, which speaks
// plain HTTP and never needs it. So New hands the SDK the bundle's first
// certificate (the SDK then takes the bundle from the options instead of
// the environment, and installs it in the HTTP client New gives it) and
// installs a pool that is filled with the whole bundle before the first
// request that will need it: one to an https URL, or through an https
// proxy. The pool and the check of the server's certificate are crypto/tls's
// own (RootCAs), as the SDK's are; only the moment of loading differs. A
// bundle that cannot be loaded then fails that request, as it would have
// failed the configuration before.
type caBundle struct {
	path string
	pool *x509.CertPool
	once sync.Once
	err  error
}

// caBundleOptions returns the load options that defer AWS_CA_BUNDLE, or
// none when it is not set (a profile's ca_bundle is the SDK's to load).
func caBundleOptions() ([]func(*config.LoadOptions) error, error) {
	path := os.Getenv("AWS_CA_BUNDLE")
	if path == "" {
		return nil, nil
	}
	first, err := firstCertificate(path)
	if err != nil {
		return nil, fmt.Errorf("AWS_CA_BUNDLE: %w", err)
	}
	if first == nil {
		return nil, fmt.Errorf("AWS_CA_BUNDLE %s: no PEM certificate in the file", path)
	}
	b := &caBundle{path: path, pool: x509.NewCertPool()}
	client := awshttp.NewBuildableClient().WithTransportOptions(b.install)
	return []func(*config.LoadOptions) error{
		config.WithHTTPClient(client),
		// Taken instead of the environment's; the SDK adds it to the
		// pool install put in place (the pool dedups it on load).
		config.WithCustomCABundle(bytes.NewReader(first)),
	}, nil
}

// firstCertificate reads the file at path up to its first PEM block that
// parses as a certificate and returns the file's bytes up to that block's
// end; nil when there is none. Only the start of the file is read: the
// rest is the lazy load's.
func firstCertificate(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var raw []byte
	chunk := make([]byte, 16<<10)
	for {
		n, err := f.Read(chunk)
		raw = append(raw, chunk[:n]...)
		if first := throughFirstCertificate(raw); first != nil {
			return first, nil
		}
		if err == io.EOF {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
	}
}

// throughFirstCertificate is raw up to the end of its first complete PEM
// block that parses as a certificate, nil when there is none yet.
func throughFirstCertificate(raw []byte) []byte {
	rest := raw
	for {
		block, after := pem.Decode(rest)
		if block == nil {
			return nil
		}
		if block.Type == "CERTIFICATE" && len(block.Headers) == 0 {
			if _, err := x509.ParseCertificate(block.Bytes); err == nil {
				return raw[:len(raw)-len(after)]
			}
		}
		rest = after
	}
}

// install puts the bundle's pool in tr's TLS configuration and loads it
// from tr's proxy function, which net/http calls for every request before
// it finds or makes the connection: a request to an https URL, or through
// an https proxy, loads the bundle before any TLS handshake can use it.
// Copies of the transport (the SDK clones it per service client) share the
// pool and its loading.
func (b *caBundle) install(tr *http.Transport) {
	if tr.TLSClientConfig == nil {
		tr.TLSClientConfig = &tls.Config{}
	}
	tr.TLSClientConfig.RootCAs = b.pool
	proxy := tr.Proxy
	tr.Proxy = func(req *http.Request) (*url.URL, error) {
		var u *url.URL
		if proxy != nil {
			var err error
			if u, err = proxy(req); err != nil {
				return nil, err
			}
		}
		if req.URL.Scheme == "https" || u != nil && u.Scheme == "https" {
			if err := b.load(); err != nil {
				return nil, err
			}
		}
		return u, nil
	}
}

// load fills the pool once; every later call returns the first result.
func (b *caBundle) load() error {
	b.once.Do(func() {
		raw, err := os.ReadFile(b.path)
		switch {
		case err != nil:
			b.err = fmt.Errorf("AWS_CA_BUNDLE: %w", err)
		case !b.pool.AppendCertsFromPEM(raw):
			b.err = fmt.Errorf("AWS_CA_BUNDLE %s: %w", b.path, errNoCertificates)
		}
	})
	return b.err
}

var errNoCertificates = errors.New("no PEM certificate in the file")
