package acm

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"encoding/pem"
	"strconv"
	"strings"
)

// Size limits of ImportCertificate's fields (bytes), from the ACM API.
const (
	maxCertSize  = 32768
	maxKeySize   = 5120
	maxChainSize = 2097152
)

// material is a validated certificate, its key and chain, re-encoded in the
// canonical PEM forms the store keeps.
type material struct {
	cert     *x509.Certificate
	key      crypto.Signer
	certPEM  string
	keyPEM   string // PKCS#8
	chainPEM string
}

// parseMaterial validates what ImportCertificate receives: exactly one PEM
// certificate, an unencrypted private key of a supported type that matches
// the certificate's public key, and an optional chain of PEM certificates.
func parseMaterial(certPEM, keyPEM, chainPEM []byte) (*material, error) {
	switch {
	case len(certPEM) == 0:
		return nil, validation("1 validation error detected: Value null at 'certificate' failed to satisfy constraint: Member must not be null")
	case len(keyPEM) == 0:
		return nil, validation("1 validation error detected: Value null at 'privateKey' failed to satisfy constraint: Member must not be null")
	case len(certPEM) > maxCertSize:
		return nil, validation("The certificate field exceeds the maximum length of %d bytes.", maxCertSize)
	case len(keyPEM) > maxKeySize:
		return nil, validation("The private key field exceeds the maximum length of %d bytes.", maxKeySize)
	case len(chainPEM) > maxChainSize:
		return nil, validation("The certificate chain field exceeds the maximum length of %d bytes.", maxChainSize)
	}
	certs, err := parseCerts(certPEM, "certificate")
	if err != nil {
		return nil, err
	}
	if len(certs) != 1 {
		return nil, validation("The certificate field contains more than one certificate. You can specify only one certificate in this field.")
	}
	cert := certs[0]
	if _, err := keyAlgorithm(cert.PublicKey); err != nil {
		return nil, err
	}
	key, err := parseKey(keyPEM)
	if err != nil {
		return nil, err
	}
	pub, ok := key.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(cert.PublicKey) {
		return nil, validation("The private key does not match the public key in the certificate.")
	}
	m := &material{cert: cert, key: key}
	m.certPEM = string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Raw}))
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, validation("The private key is not supported: %v", err)
	}
	m.keyPEM = string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	if len(chainPEM) > 0 {
		chain, err := parseCerts(chainPEM, "certificate chain")
		if err != nil {
			return nil, err
		}
		var b strings.Builder
		for _, c := range chain {
			b.Write(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Raw}))
		}
		m.chainPEM = b.String()
	}
	return m, nil
}

// parseCerts reads every CERTIFICATE block of a PEM text; anything else in
// it, or no certificate at all, is a ValidationException.
func parseCerts(data []byte, field string) ([]*x509.Certificate, error) {
	var certs []*x509.Certificate
	rest := data
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			return nil, validation("The %s field contains a PEM block of type %q; only CERTIFICATE blocks are accepted.", field, b.Type)
		}
		c, err := x509.ParseCertificate(b.Bytes)
		if err != nil {
			return nil, validation("Could not parse the %s: %v", field, err)
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 || strings.TrimSpace(string(rest)) != "" {
		return nil, validation("The %s field is not a valid PEM-encoded X.509 certificate.", field)
	}
	return certs, nil
}

// parseKey reads one unencrypted private key (PKCS#8, PKCS#1 or SEC 1 PEM).
func parseKey(data []byte) (crypto.Signer, error) {
	b, rest := pem.Decode(data)
	if b == nil || strings.TrimSpace(string(rest)) != "" {
		return nil, validation("The private key is not a valid PEM-encoded private key.")
	}
	if strings.Contains(b.Type, "ENCRYPTED") || b.Headers["Proc-Type"] != "" {
		return nil, validation("The private key is encrypted; import an unencrypted private key.")
	}
	var (
		k   any
		err error
	)
	switch b.Type {
	case "PRIVATE KEY":
		k, err = x509.ParsePKCS8PrivateKey(b.Bytes)
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(b.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(b.Bytes)
	default:
		return nil, validation("The private key PEM block type %q is not supported.", b.Type)
	}
	if err != nil {
		return nil, validation("Could not parse the private key: %v", err)
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, validation("The private key type is not supported.")
	}
	if _, err := keyAlgorithm(s.Public()); err != nil {
		return nil, err
	}
	return s, nil
}

// keyAlgorithm names a public key as ACM does (RSA_2048, EC_prime256v1...).
func keyAlgorithm(pub crypto.PublicKey) (string, error) {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		switch n := k.N.BitLen(); n {
		case 1024, 2048, 3072, 4096:
			return "RSA_" + strconv.Itoa(n), nil
		}
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256():
			return "EC_prime256v1", nil
		case elliptic.P384():
			return "EC_secp384r1", nil
		case elliptic.P521():
			return "EC_secp521r1", nil
		}
	}
	return "", validation("The certificate's key algorithm is not supported: ACM imports RSA 1024-4096 and EC P-256/P-384/P-521 keys.")
}

// signatureAlgorithm names a certificate's signature as ACM does (SHA256WITHRSA).
func signatureAlgorithm(c *x509.Certificate) string {
	// x509 says SHA256-RSA or ECDSA-SHA256; ACM says SHA256WITHRSA, SHA256WITHECDSA.
	name := c.SignatureAlgorithm.String()
	if h, ok := strings.CutPrefix(name, "ECDSA-"); ok {
		return h + "WITHECDSA"
	}
	return strings.ToUpper(strings.Replace(name, "-", "WITH", 1))
}

// serial formats a serial number as colon-separated hex bytes.
func serial(c *x509.Certificate) string {
	h := hex.EncodeToString(c.SerialNumber.Bytes())
	var parts []string
	for i := 0; i+2 <= len(h); i += 2 {
		parts = append(parts, h[i:i+2])
	}
	return strings.Join(parts, ":")
}

// domainName is the certificate's primary name: its CN, else its first DNS SAN.
func domainName(c *x509.Certificate) string {
	if c.Subject.CommonName != "" {
		return c.Subject.CommonName
	}
	if len(c.DNSNames) > 0 {
		return c.DNSNames[0]
	}
	return ""
}

func sans(c *x509.Certificate) []string {
	if len(c.DNSNames) > 0 {
		return c.DNSNames
	}
	if d := domainName(c); d != "" {
		return []string{d}
	}
	return nil
}

var keyUsageNames = []struct {
	bit  x509.KeyUsage
	name string
}{
	{x509.KeyUsageDigitalSignature, "DIGITAL_SIGNATURE"},
	{x509.KeyUsageContentCommitment, "NON_REPUDIATION"},
	{x509.KeyUsageKeyEncipherment, "KEY_ENCIPHERMENT"},
	{x509.KeyUsageDataEncipherment, "DATA_ENCIPHERMENT"},
	{x509.KeyUsageKeyAgreement, "KEY_AGREEMENT"},
	{x509.KeyUsageCertSign, "CERTIFICATE_SIGNING"},
	{x509.KeyUsageCRLSign, "CRL_SIGNING"},
	{x509.KeyUsageEncipherOnly, "ENCIPHER_ONLY"},
	{x509.KeyUsageDecipherOnly, "DECIPHER_ONLY"},
}

func keyUsages(c *x509.Certificate) []string {
	var out []string
	for _, u := range keyUsageNames {
		if c.KeyUsage&u.bit != 0 {
			out = append(out, u.name)
		}
	}
	return out
}

type extKeyUsage struct {
	Name string `json:"Name"`
	OID  string `json:"OID,omitempty"`
}

var extKeyUsageNames = map[x509.ExtKeyUsage]extKeyUsage{
	x509.ExtKeyUsageServerAuth:      {"TLS_WEB_SERVER_AUTHENTICATION", "1.3.6.1.5.5.7.3.1"},
	x509.ExtKeyUsageClientAuth:      {"TLS_WEB_CLIENT_AUTHENTICATION", "1.3.6.1.5.5.7.3.2"},
	x509.ExtKeyUsageCodeSigning:     {"CODE_SIGNING", "1.3.6.1.5.5.7.3.3"},
	x509.ExtKeyUsageEmailProtection: {"EMAIL_PROTECTION", "1.3.6.1.5.5.7.3.4"},
	x509.ExtKeyUsageTimeStamping:    {"TIME_STAMPING", "1.3.6.1.5.5.7.3.8"},
	x509.ExtKeyUsageOCSPSigning:     {"OCSP_SIGNING", "1.3.6.1.5.5.7.3.9"},
	x509.ExtKeyUsageIPSECEndSystem:  {"IPSEC_END_SYSTEM", "1.3.6.1.5.5.7.3.5"},
	x509.ExtKeyUsageIPSECTunnel:     {"IPSEC_TUNNEL", "1.3.6.1.5.5.7.3.6"},
	x509.ExtKeyUsageIPSECUser:       {"IPSEC_USER", "1.3.6.1.5.5.7.3.7"},
	x509.ExtKeyUsageAny:             {"ANY", "2.5.29.37.0"},
}

func extKeyUsages(c *x509.Certificate) []extKeyUsage {
	var out []extKeyUsage
	for _, u := range c.ExtKeyUsage {
		if n, ok := extKeyUsageNames[u]; ok {
			out = append(out, n)
		}
	}
	for _, oid := range c.UnknownExtKeyUsage {
		out = append(out, extKeyUsage{Name: "CUSTOM", OID: asn1.ObjectIdentifier(oid).String()})
	}
	return out
}
