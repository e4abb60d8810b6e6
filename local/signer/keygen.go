package signer

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"
)

// generated is the material otactl local made for a profile that named
// none: the ACM ARN it was imported under.
type generated struct {
	CertificateArn string `json:"certificateArn"`
}

// generatedMaterial returns the ARN of the key and self-signed code-signing
// certificate generated for profile name, making them on first use. The
// material is imported into ACM, so the certificate a device must trust is
// one GetCertificate away and signing has a single path (by certificate
// ARN). A new version of the profile keeps its material while the platform's
// key type still fits, so devices keep trusting it.
func (s *Service) generatedMaterial(name string, pl *platform) (string, error) {
	var g generated
	found, err := s.st.Get(materialTable, name, &g)
	if err != nil {
		return "", err
	}
	if found {
		if cert, _, err := s.certs.KeyPair(g.CertificateArn); err == nil && pl.keyFits(cert.PublicKey) {
			return g.CertificateArn, nil
		}
	}
	certPEM, keyPEM, err := selfSigned(name, pl.rsa, s.now())
	if err != nil {
		return "", err
	}
	arn, err := s.certs.Import(certPEM, keyPEM, nil)
	if err != nil {
		return "", fmt.Errorf("signer: keeping generated material for %s: %w", name, err)
	}
	if err := s.st.Put(materialTable, name, generated{CertificateArn: arn}); err != nil {
		return "", err
	}
	return arn, nil
}

// selfSigned makes a key (RSA 2048 or ECDSA P-256) and a self-signed
// certificate for code signing (key usage digitalSignature, extended key
// usage codeSigning), valid for ten years.
func selfSigned(profileName string, useRSA bool, now time.Time) (certPEM, keyPEM []byte, err error) {
	var key crypto.Signer
	if useRSA {
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "otactl local code signing " + profileName, Organization: []string{"otactl local"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(10, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return nil, nil, err
	}
	k, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: k}), nil
}
