package local

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/otactl/otactl/local/iot"
	"github.com/otactl/otactl/local/mqtt"
)

// The HTTPS side of otactl local: the same services as the plain listener,
// over TLS with a server certificate from the environment's CA (the one
// the MQTT broker's certificate and device certificates come from, written
// to <data dir>/ca.pem), so that a device downloads a presigned URL exactly
// as from S3: https://<host>/<bucket>/<key>?X-Amz-..., with no port when
// the port is 443. The plain listener stays for SDKs on loopback.
//
// The public endpoint is the host[:port] that presigned URLs and
// DescribeEndpoint answers carry: what devices dial, which may differ from
// the listen address (a name in /etc/hosts, a port forward). SigV4 signs
// the Host header, and a client sends the URL's host[:port] as Host, so a
// URL presigned for the public endpoint verifies when requested through
// it, whatever the listener it lands on.

// DefaultPublicHost is the host name presigned URLs carry when HTTPS is on
// and no public endpoint is configured: a name the certificate covers.
const DefaultPublicHost = "localhost"

// checkPublicEndpoint validates Config.PublicEndpoint: host or host:port,
// without scheme or path.
func checkPublicEndpoint(pe string) error {
	if pe == "" {
		return nil
	}
	u, err := url.Parse("//" + pe)
	if err != nil || u.Host != pe || u.Hostname() == "" || u.User != nil {
		return fmt.Errorf("local: public endpoint %q is not host or host:port (no scheme, no path)", pe)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("local: public endpoint %q: port must be 1 to 65535", pe)
		}
	}
	return nil
}

// publicHost is the host name devices are told to dial: the configured
// public endpoint's, DefaultPublicHost when HTTPS is on, else "" (none:
// the listeners' own addresses are used).
func (s *Server) publicHost() string {
	if s.cfg.PublicEndpoint != "" {
		u, _ := url.Parse("//" + s.cfg.PublicEndpoint) // checked by New
		return u.Hostname()
	}
	if s.cfg.HTTPSAddr != "" {
		return DefaultPublicHost
	}
	return ""
}

// listenTLS opens the HTTPS listener on Config.HTTPSAddr (nil, nil when
// there is none). Its certificate, fresh at each start and signed by the
// environment's CA, covers localhost, 127.0.0.1, ::1, the listen host and
// the public host; it is served whatever name the client asks for, also
// when it sends no SNI (the FreeRTOS HTTP demo does not).
func (s *Server) listenTLS() (net.Listener, error) {
	if s.cfg.HTTPSAddr == "" {
		return nil, nil
	}
	ca, err := mqtt.LoadCA(s.st)
	if err != nil {
		return nil, fmt.Errorf("local: HTTPS: %w", err)
	}
	listenHost, _, _ := net.SplitHostPort(s.cfg.HTTPSAddr)
	if ip := net.ParseIP(listenHost); ip != nil && ip.IsUnspecified() {
		listenHost = ""
	}
	cert, err := ca.ServerCertificate(listenHost, s.publicHost())
	if err != nil {
		return nil, fmt.Errorf("local: HTTPS: %w", err)
	}
	ln, err := net.Listen("tcp", s.cfg.HTTPSAddr)
	if err != nil {
		return nil, fmt.Errorf("local: HTTPS: %w", err)
	}
	return tls.NewListener(ln, &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
		// HTTP/1.1 only, as S3 (and the SigV4 checks assume one request
		// per stream, with its own Content-Length or chunking).
		NextProtos: []string{"http/1.1"},
	}), nil
}

// HTTPSAddr is the HTTPS listener's host:port (an unspecified listen host
// reads 127.0.0.1), "" when there is none or before Start.
func (s *Server) HTTPSAddr() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.tlsLn == nil {
		return ""
	}
	return loopbackAddr(s.tlsLn.Addr())
}

// PublicEndpoint is the host[:port] presigned URLs and DescribeEndpoint's
// iot:Jobs answer carry, "" before Start: Config.PublicEndpoint; else, with
// HTTPS, localhost and the HTTPS port (no port when it is 443); else the
// plain listener's host:port.
func (s *Server) PublicEndpoint() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.public
}

// publicEndpointLocked is the scheme and public endpoint presigned URLs are
// rooted at. Called with s.mu held, once the listeners are known.
func (s *Server) publicEndpointLocked() (scheme, endpoint string) {
	scheme = "http"
	if s.tlsLn != nil {
		scheme = "https"
	}
	endpoint = s.cfg.PublicEndpoint
	switch {
	case endpoint != "":
	case s.tlsLn != nil:
		_, port, _ := net.SplitHostPort(s.tlsLn.Addr().String())
		endpoint = net.JoinHostPort(DefaultPublicHost, port)
	default:
		endpoint = loopbackAddr(s.ln.Addr())
	}
	return scheme, withoutDefaultPort(scheme, endpoint)
}

// withoutDefaultPort drops :443 from an https endpoint and :80 from an http
// one, as AWS's URLs have none: a client then sends the Host header without
// a port, which is what the URL was signed with (the SDK's signer drops a
// default port too).
func withoutDefaultPort(scheme, hostport string) string {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return hostport
	}
	if scheme == "https" && port == "443" || scheme == "http" && port == "80" {
		if strings.Contains(host, ":") { // an IPv6 literal keeps its brackets
			return "[" + host + "]"
		}
		return host
	}
	return hostport
}

// mqttEndpoint is DescribeEndpoint's iot:Data and iot:Data-ATS answer for a
// broker listening at addr (host:port): the public host with the broker's
// port when a public name is configured (or HTTPS is on), else addr.
func (s *Server) mqttEndpoint(addr string) string {
	host := s.publicHost()
	_, port, err := net.SplitHostPort(addr)
	if host == "" || err != nil {
		return addr
	}
	return net.JoinHostPort(host, port)
}

// setIoTEndpoints points DescribeEndpoint's iot:Jobs at the public
// endpoint, where iot-jobs-data is served.
func (s *Server) setIoTEndpoints(public string) {
	if svc, ok := s.Service("iot").(*iot.Service); ok {
		svc.SetEndpoint("iot:Jobs", public)
	}
}

// loopbackAddr is a listener's host:port, 127.0.0.1 for an unspecified host.
func loopbackAddr(a net.Addr) string {
	addr := a.(*net.TCPAddr)
	host := addr.IP.String()
	if addr.IP.IsUnspecified() {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, strconv.Itoa(addr.Port))
}
