package device

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"hash"
	"sync"
)

// Trust is the code-signing certificates a device holds, by the name a job
// document's certfile gives them; Default answers for any other name (the
// fleet is usually given one certificate).
type Trust struct {
	mu      sync.RWMutex
	byName  map[string]*x509.Certificate
	Default *x509.Certificate
}

// ParseCertificatePEM reads the first certificate of a PEM bundle.
func ParseCertificatePEM(pemBytes []byte) (*x509.Certificate, error) {
	for {
		var blk *pem.Block
		blk, pemBytes = pem.Decode(pemBytes)
		if blk == nil {
			return nil, errors.New("no PEM CERTIFICATE block")
		}
		if blk.Type == "CERTIFICATE" {
			return x509.ParseCertificate(blk.Bytes)
		}
	}
}

// TrustPEM trusts one certificate for every certfile name.
func TrustPEM(pemBytes []byte) (*Trust, error) {
	c, err := ParseCertificatePEM(pemBytes)
	if err != nil {
		return nil, err
	}
	return &Trust{Default: c}, nil
}

// Add trusts a certificate under the certfile name.
func (t *Trust) Add(name string, pemBytes []byte) error {
	c, err := ParseCertificatePEM(pemBytes)
	if err != nil {
		return fmt.Errorf("certificate %s: %w", name, err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byName == nil {
		t.byName = map[string]*x509.Certificate{}
	}
	t.byName[name] = c
	return nil
}

// Lookup returns the certificate for a certfile name.
func (t *Trust) Lookup(name string) *x509.Certificate {
	if t == nil {
		return nil
	}
	t.mu.RLock()
	defer t.mu.RUnlock()
	if c, ok := t.byName[name]; ok {
		return c
	}
	return t.Default
}

// Verification failures.
var (
	ErrBadSignerCert  = errors.New("no usable code-signing certificate for certfile")
	ErrSignatureCheck = errors.New("signature check failed")
)

// newHash returns the digest a signature key signs.
func newHash(sigKey string) (hash.Hash, crypto.Hash, error) {
	switch sigKey {
	case "sig-sha256-ecdsa", "sig-sha256-rsa":
		return sha256.New(), crypto.SHA256, nil
	case "sig-sha1-rsa":
		return sha1.New(), crypto.SHA1, nil
	}
	return nil, 0, fmt.Errorf("unsupported signature key %s", sigKey)
}

// VerifyDigest checks the file's signature over its digest with the
// certificate: ECDSA (DER) for sig-sha256-ecdsa, RSA PKCS#1 v1.5 for the RSA keys.
func VerifyDigest(cert *x509.Certificate, sigKey string, digest, sig []byte) error {
	if cert == nil {
		return ErrBadSignerCert
	}
	_, h, err := newHash(sigKey)
	if err != nil {
		return err
	}
	switch pub := cert.PublicKey.(type) {
	case *ecdsa.PublicKey:
		if sigKey != "sig-sha256-ecdsa" {
			return fmt.Errorf("%w: %s with an ECDSA certificate", ErrBadSignerCert, sigKey)
		}
		if !ecdsa.VerifyASN1(pub, digest, sig) {
			return ErrSignatureCheck
		}
	case *rsa.PublicKey:
		if sigKey == "sig-sha256-ecdsa" {
			return fmt.Errorf("%w: %s with an RSA certificate", ErrBadSignerCert, sigKey)
		}
		if err := rsa.VerifyPKCS1v15(pub, h, digest, sig); err != nil {
			return ErrSignatureCheck
		}
	default:
		return fmt.Errorf("%w: %T key", ErrBadSignerCert, cert.PublicKey)
	}
	return nil
}

// VerifyFile checks a whole file's signature (tests and tools).
func VerifyFile(cert *x509.Certificate, sigKey string, file, sig []byte) error {
	h, _, err := newHash(sigKey)
	if err != nil {
		return err
	}
	h.Write(file)
	return VerifyDigest(cert, sigKey, h.Sum(nil), sig)
}
