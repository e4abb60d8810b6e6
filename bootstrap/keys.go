package bootstrap

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"slices"
	"time"
)

// signing is the code-signing pair: the certificate devices trust and the
// key Signer signs with (ACM holds both; the key also stays in OutDir).
type signing struct {
	certPEM, keyPEM []byte
	cert            *x509.Certificate
	generated       bool // made by this run
}

// loadSigning reads the user's pair (--cert/--key), or the pair an earlier
// run made in OutDir; otherwise it returns nil and the pair is made later
// (makeSigning), so that nothing is written before every check passed.
func (c *Config) loadSigning() (*signing, error) {
	certFile, keyFile := c.CertFile, c.KeyFile
	if certFile == "" {
		certFile, keyFile = c.signingCert(), c.signingKey()
		if _, err := os.Stat(keyFile); errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
	}
	certPEM, err := os.ReadFile(certFile)
	if err != nil {
		return nil, err
	}
	keyPEM, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, err
	}
	cert, err := checkPair(certPEM, keyPEM)
	if err != nil {
		return nil, fmt.Errorf("%s and %s: %w", certFile, keyFile, err)
	}
	return &signing{certPEM: certPEM, keyPEM: keyPEM, cert: cert}, nil
}

// checkPair parses a PEM certificate and private key and checks that the
// key is the certificate's.
func checkPair(certPEM, keyPEM []byte) (*x509.Certificate, error) {
	cb, _ := pem.Decode(certPEM)
	if cb == nil || cb.Type != "CERTIFICATE" {
		return nil, errors.New("the certificate file holds no PEM CERTIFICATE")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("certificate: %w", err)
	}
	kb, _ := pem.Decode(keyPEM)
	if kb == nil {
		return nil, errors.New("the key file holds no PEM private key")
	}
	var key crypto.Signer
	switch kb.Type {
	case "EC PRIVATE KEY":
		key, err = x509.ParseECPrivateKey(kb.Bytes)
	case "RSA PRIVATE KEY":
		key, err = x509.ParsePKCS1PrivateKey(kb.Bytes)
	default:
		var k any
		k, err = x509.ParsePKCS8PrivateKey(kb.Bytes)
		if s, ok := k.(crypto.Signer); ok {
			key = s
		} else if err == nil {
			err = fmt.Errorf("unsupported key type %T", k)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("private key: %w", err)
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, errors.New("the private key does not match the certificate's public key")
	}
	return cert, nil
}

// algorithm is the Signer name of the certificate's key algorithm.
func algorithm(cert *x509.Certificate) string {
	switch cert.PublicKey.(type) {
	case *ecdsa.PublicKey:
		return "ECDSA"
	case *rsa.PublicKey:
		return "RSA"
	}
	return cert.PublicKeyAlgorithm.String()
}

// fits checks that the platform signs with the certificate's algorithm
// (and P-256 for ECDSA, the curve FreeRTOS devices verify).
func (s *signing) fits(p Platform) error {
	alg := algorithm(s.cert)
	if !slices.Contains(p.Algorithms, alg) {
		return fmt.Errorf("platform %s signs with %v, the certificate's key is %s", p.ID, p.Algorithms, alg)
	}
	if k, ok := s.cert.PublicKey.(*ecdsa.PublicKey); ok && k.Curve != elliptic.P256() {
		return fmt.Errorf("the certificate's ECDSA key is on %s; devices verify P-256", k.Curve.Params().Name)
	}
	return nil
}

// makeSigning generates an ECDSA P-256 key and a self-signed code-signing
// certificate, and writes them in OutDir/signing (the key 0600).
func (c *Config) makeSigning() (*signing, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "otactl bootstrap " + c.Name + " code signing"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(10, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, err
	}
	s := &signing{
		certPEM:   pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:    pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}),
		generated: true,
	}
	if s.cert, err = x509.ParseCertificate(der); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(c.signingDir(), 0o700); err != nil {
		return nil, err
	}
	// The key last: loadSigning takes a pair as complete when the key
	// exists, so a run stopped between the two writes makes a new pair.
	if err := writeFile(c.signingCert(), s.certPEM, 0o644); err != nil {
		return nil, err
	}
	return s, writeFile(c.signingKey(), s.keyPEM, 0o600)
}

// writeFile writes through a temporary file and a rename, so a file is
// either whole or absent.
func writeFile(path string, b []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
