package mqtt

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
)

// Identity on the TLS listener. What a connection may do once it is known
// is the policy hook's question (policy_hook.go).

// serverTLS is the TLS listener's configuration: a server certificate from
// the CA, and a client certificate required. Which client certificates are
// good is not a question of chains (AWS IoT accepts registered certificates
// whatever signed them) but of the registry: the certificate must be known
// and ACTIVE to finish the handshake; at CONNECT the policies attached to
// it (and to its thing's groups) decide the rest.
func (b *Broker) serverTLS() (*tls.Config, error) {
	host, _, _ := net.SplitHostPort(b.cfg.TLSAddr)
	cert, err := b.deps.CA.ServerCertificate(append([]string{host}, b.cfg.Hostnames...)...)
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAnyClientCert,
		MinVersion:   tls.VersionTLS12,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 {
				return errors.New("a client certificate is required")
			}
			if !b.deps.Identities.CertificateActive(CertificateID(raw[0])) {
				b.autoRegister(raw)
				return errors.New("client certificate is not registered or not ACTIVE")
			}
			return nil
		},
	}, nil
}
