// Package local is otactl local: an embedded, AWS-compatible environment
// (S3, STS, and the OTA services) on one HTTP port. Each request goes to
// the service named in its SigV4 credential scope, so one
// AWS_ENDPOINT_URL serves every SDK client at once.
//
// Authentication (local/sigv4): every request must be signed, in the
// Authorization header or as a presigned URL; an unsigned one is refused
// (for S3, 403 AccessDenied: buckets are private, as on AWS). By default
// any access key is accepted and header signatures are not checked. With
// Config.StrictAuth the signature must be that of a configured key pair,
// and so must every chunk signature of an aws-chunked upload. Presigned
// URLs are always checked, strict or not: against the secret configured
// for their access key, or else against DefaultSecretAccessKey, so that a
// tampered, incomplete or expired link is refused.
package local

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/otactl/otactl/local/iam"
	"github.com/otactl/otactl/local/s3"
	"github.com/otactl/otactl/local/sigv4"
	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/local/sts"
	"github.com/otactl/otactl/local/wire"
)

// Defaults of Config.
const (
	DefaultAddr      = "127.0.0.1:4566"
	DefaultDataDir   = ".otactl"
	DefaultRegion    = "us-east-1"
	DefaultAccountID = "000000000000"
	// The well-known key pair: what users export by default, what presigned
	// URLs of unknown access keys are checked against, and what the server
	// presigns with when no other pair is configured.
	DefaultAccessKeyID     = "AKIDLOCAL"
	DefaultSecretAccessKey = "secret"
)

// Config configures a Server. Zero fields take the defaults above.
type Config struct {
	Addr, DataDir, Region, AccountID string
	// HTTPSAddr is a TLS listener (host:port, port 0 for a free one) for
	// the same services, with a certificate from the environment's CA
	// (https.go). Empty: none. With it, presigned URLs are https://.
	HTTPSAddr string
	// PublicEndpoint is the host[:port] presigned URLs and DescribeEndpoint
	// answers carry: what devices dial. Empty: localhost and the HTTPS port
	// when HTTPS is on (no port when 443), else the plain listener's address.
	PublicEndpoint string
	// StrictAuth verifies every request's SigV4 signature against Credentials.
	StrictAuth bool
	// Credentials maps access key id → secret access key. Empty: the
	// default pair.
	Credentials map[string]string
	// Diagnostics receives one line for each thing a user would look for
	// in AWS's logs (CloudWatch): a device certificate auto-registered or
	// provisioned, or why not. nil: discarded.
	Diagnostics io.Writer
}

// Server is a running otactl local environment.
type Server struct {
	cfg Config
	st  *store.Store
	env wire.Env
	s3  *s3.Service
	now func() time.Time

	mu       sync.RWMutex
	handlers map[string]http.Handler
	closers  []io.Closer
	hs       *http.Server
	ln       net.Listener
	done     chan struct{}
	tlsLn    net.Listener  // the HTTPS listener (nil: none)
	tlsDone  chan struct{} // closed when serving tlsLn ends
	public   string        // PublicEndpoint(), set by attach

	mqtt    mqttState    // the broker (mqtt_wiring.go)
	console consoleState // the web console (console_wiring.go)
}

// Check reports a setting New would refuse (an account id that is not 12
// digits, a public endpoint that is not host[:port]), so that a command
// can say so before it opens ports or directories.
func (cfg Config) Check() error {
	if cfg.AccountID != "" && (len(cfg.AccountID) != 12 || strings.Trim(cfg.AccountID, "0123456789") != "") {
		return fmt.Errorf("local: account id %q is not 12 digits", cfg.AccountID)
	}
	return checkPublicEndpoint(cfg.PublicEndpoint)
}

// New opens the store in cfg.DataDir and builds every service.
func New(cfg Config) (*Server, error) {
	if cfg.Addr == "" {
		cfg.Addr = DefaultAddr
	}
	if cfg.DataDir == "" {
		cfg.DataDir = DefaultDataDir
	}
	if cfg.Region == "" {
		cfg.Region = DefaultRegion
	}
	if cfg.AccountID == "" {
		cfg.AccountID = DefaultAccountID
	}
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	if len(cfg.Credentials) == 0 {
		cfg.Credentials = map[string]string{DefaultAccessKeyID: DefaultSecretAccessKey}
	}
	st, err := store.Open(cfg.DataDir)
	if err != nil {
		return nil, err
	}
	s := &Server{
		cfg: cfg, st: st, env: wire.Env{Region: cfg.Region, AccountID: cfg.AccountID},
		now: time.Now, handlers: map[string]http.Handler{},
	}
	s.s3 = s3.New(st, s.env)
	if host, _, err := net.SplitHostPort(cfg.Addr); err == nil && host != "" && net.ParseIP(host) == nil && host != "localhost" {
		s.s3.AddHostSuffix(host) // bucket.<host>:port is virtual-host style
	}
	ak, secret := s.PresignCredentials()
	s.s3.SetPresignCredentials(ak, secret, "")
	if err := s.registerServices(); err != nil {
		s.closeServices()
		st.Close()
		return nil, err
	}
	return s, nil
}

// Handle serves service (the SigV4 signing name: "s3", "iot", ...) with h.
// If h is an io.Closer it is closed, in reverse order, before the store.
func (s *Server) Handle(service string, h http.Handler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handlers[service] = h
	if c, ok := h.(io.Closer); ok {
		s.closers = append(s.closers, c)
	}
}

// Service returns the handler registered for service (nil if none), for
// wiring that needs a concrete service: srv.Service("iot").(*iot.Service).
func (s *Server) Service(service string) http.Handler {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.handlers[service]
}

// OnClose registers c to be closed (in reverse order) before the store.
func (s *Server) OnClose(c io.Closer) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closers = append(s.closers, c)
}

// Store is the environment's persistence.
func (s *Server) Store() *store.Store { return s.st }

// Env is the account and region ARNs are built from.
func (s *Server) Env() wire.Env { return s.env }

// S3 is the object store other services read and write through.
func (s *Server) S3() *s3.Service { return s.s3 }

// Config is the configuration with defaults applied (PublicEndpoint too,
// once serving).
func (s *Server) Config() Config {
	c := s.cfg
	if pe := s.PublicEndpoint(); pe != "" {
		c.PublicEndpoint = pe
	}
	return c
}

// PresignCredentials is the key pair the server presigns URLs with: the
// default pair if configured, else the first access key in order.
func (s *Server) PresignCredentials() (accessKey, secret string) {
	if sk, ok := s.cfg.Credentials[DefaultAccessKeyID]; ok {
		return DefaultAccessKeyID, sk
	}
	keys := make([]string, 0, len(s.cfg.Credentials))
	for k := range s.cfg.Credentials {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys[0], s.cfg.Credentials[keys[0]]
}

// Start listens on Config.Addr (and Config.HTTPSAddr) and serves in the
// background; URL and HTTPSAddr are valid when it returns.
func (s *Server) Start() error {
	ln, err := net.Listen("tcp", s.cfg.Addr)
	if err != nil {
		return fmt.Errorf("local: %w", err)
	}
	hs, done, err := s.attach(ln)
	if err != nil {
		ln.Close()
		return err
	}
	go s.run(hs, done, ln)
	return nil
}

// Serve serves HTTP on l (and HTTPS on Config.HTTPSAddr, in the
// background) until Close. It returns nil after Close.
func (s *Server) Serve(l net.Listener) error {
	hs, done, err := s.attach(l)
	if err != nil {
		return err
	}
	return s.run(hs, done, l)
}

// attach makes l (and the HTTPS listener) the server's, starts serving
// HTTPS, and roots presigned URLs and DescribeEndpoint at the public
// endpoint.
func (s *Server) attach(l net.Listener) (*http.Server, chan struct{}, error) {
	s.mu.RLock()
	serving := s.hs != nil
	s.mu.RUnlock()
	if serving {
		return nil, nil, errors.New("local: already serving")
	}
	tl, err := s.listenTLS()
	if err != nil {
		return nil, nil, err
	}
	s.mu.Lock()
	if s.hs != nil {
		s.mu.Unlock()
		if tl != nil {
			tl.Close()
		}
		return nil, nil, errors.New("local: already serving")
	}
	s.ln, s.tlsLn = l, tl
	s.hs = &http.Server{Handler: s, ReadHeaderTimeout: 30 * time.Second,
		// HTTP/1.1 only, as S3: no h2 on the TLS listener.
		TLSNextProto: map[string]func(*http.Server, *tls.Conn, http.Handler){}}
	s.hs.RegisterOnShutdown(s.consoleShutdown)
	s.done = make(chan struct{})
	hs, done := s.hs, s.done
	var tlsDone chan struct{}
	if tl != nil {
		tlsDone = make(chan struct{})
		s.tlsDone = tlsDone
	}
	scheme, public := s.publicEndpointLocked()
	s.public = public
	s.mu.Unlock()
	if tl != nil {
		go func() { hs.Serve(tl); close(tlsDone) }()
	}
	ak, secret := s.PresignCredentials()
	s.s3.SetPresignCredentials(ak, secret, scheme+"://"+public)
	s.setIoTEndpoints(public)
	return hs, done, nil
}

func (s *Server) run(hs *http.Server, done chan struct{}, l net.Listener) error {
	err := hs.Serve(l)
	close(done)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// URL is the server's base URL (http://127.0.0.1:port), "" before Serve.
func (s *Server) URL() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.ln == nil {
		return ""
	}
	return "http://" + loopbackAddr(s.ln.Addr())
}

// Close stops serving, closes the services and then the store.
func (s *Server) Close() error {
	s.mu.Lock()
	hs, done, tlsDone := s.hs, s.done, s.tlsDone
	s.mu.Unlock()
	if hs != nil {
		// Let requests in flight finish (bounded) before the store closes.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if hs.Shutdown(ctx) != nil {
			hs.Close()
		}
		cancel()
		<-done
		if tlsDone != nil {
			<-tlsDone
		}
	}
	s.closeServices()
	return s.st.Close()
}

func (s *Server) closeServices() {
	s.mu.Lock()
	cs := s.closers
	s.closers = nil
	s.mu.Unlock()
	for i := len(cs) - 1; i >= 0; i-- {
		cs[i].Close()
	}
}

// ServeHTTP routes a request by the service of its credential scope,
// authenticating it first (local/sigv4). A request with no signature is
// refused everywhere: S3's buckets are private, as AWS's are by default,
// so a download needs a signed request or a presigned URL.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		// A bug in a service must not drop the connection without an answer.
		if v := recover(); v != nil && v != http.ErrAbortHandler {
			wire.WriteError(w, wire.Errorf(http.StatusInternalServerError, "InternalFailure", "internal error: %v", v))
		}
	}()
	if s.serveConsole(w, r) { // unsigned requests under /console/ (console_wiring.go)
		return
	}
	id, err := sigv4.Check(r, sigv4.Options{Secret: s.secret, Strict: s.cfg.StrictAuth, Now: s.now(), BucketFromHost: s.s3.BucketFromHost})
	service := "s3" // unsigned requests (curl, browsers) are S3 downloads
	if id != nil {
		service = id.Service
	} else if r.Header.Get("X-Amz-Target") != "" {
		service = "json"
	} else if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		service = "sts"
	}
	if service != "s3" {
		// Every answer of AWS's JSON and query services carries one; the
		// SDKs surface it in errors and otactl --debug logs it.
		wire.ResponseRequestID(w)
	}
	var ae *sigv4.Error
	if errors.As(err, &ae) {
		s.authError(w, r, service, ae.Status(), ae.Code(service), ae.Message)
		return
	}
	if id == nil {
		code, msg := "MissingAuthenticationToken", "Missing Authentication Token"
		if service == "s3" {
			code, msg = "AccessDenied", "Access Denied"
		}
		s.authError(w, r, service, http.StatusForbidden, code, msg)
		return
	}
	s.mu.RLock()
	h := s.handlers[service]
	s.mu.RUnlock()
	if h == nil {
		s.authError(w, r, service, http.StatusBadRequest, "UnrecognizedClientException",
			fmt.Sprintf("otactl local does not serve the service %q", service))
		return
	}
	h.ServeHTTP(w, r.WithContext(sigv4.NewContext(r.Context(), id)))
}

// secret is the key lookup requests are verified with: the configured
// pairs; without strict auth an unknown access key is checked against
// DefaultSecretAccessKey, so that a tampered presigned link is refused.
func (s *Server) secret(accessKey string) (string, bool) {
	if sk, ok := s.cfg.Credentials[accessKey]; ok {
		return sk, true
	}
	if !s.cfg.StrictAuth {
		return DefaultSecretAccessKey, true
	}
	return "", false
}

// authError writes an authentication error in the shape of the service's
// protocol: S3's XML, the query protocol's XML, or REST-JSON.
func (s *Server) authError(w http.ResponseWriter, r *http.Request, service string, status int, code, msg string) {
	switch service {
	case "s3":
		s3.WriteError(w, r, &s3.Error{Code: code, Message: msg, Status: status})
	case "sts":
		sts.WriteError(w, status, code, msg)
	case "iam":
		wire.WriteQueryError(w, iam.Namespace, status, code, msg)
	default:
		wire.WriteError(w, &wire.Error{Status: status, Code: code, Message: msg})
	}
}
