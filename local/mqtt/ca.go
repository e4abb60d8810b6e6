package mqtt

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/otactl/otactl/local/store"
)

// CA is otactl local's certificate authority: it signs the broker's server
// certificate (devices trust it as they trust Amazon's root CA) and the
// device certificates CreateKeysAndCertificate hands out. It is created on
// first start and kept in the store, so devices keep trusting it.
type CA struct {
	cert    *x509.Certificate
	key     crypto.Signer
	certPEM []byte
}

type caRecord struct {
	CertPEM string `json:"certPem"`
	KeyPEM  string `json:"keyPem"`
}

const (
	caTable = "mqtt"
	caKey   = "ca"
	// CAFile is the name of the CA certificate written into the store's
	// directory, for clients such as mosquitto_sub --cafile.
	CAFile = "ca.pem"
)

// LoadCA returns the store's CA, creating it on first use, and writes its
// certificate to CAFile in the store's directory.
func LoadCA(st *store.Store) (*CA, error) {
	var rec caRecord
	var ca *CA
	err := st.Update(func(tx *store.Tx) error {
		found, err := tx.Get(caTable, caKey, &rec)
		if err != nil {
			return err
		}
		if !found {
			if rec, err = newCARecord(); err != nil {
				return err
			}
			if err := tx.Put(caTable, caKey, rec); err != nil {
				return err
			}
		}
		ca, err = parseCA(rec)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("mqtt: CA: %w", err)
	}
	if err := os.WriteFile(filepath.Join(st.Dir(), CAFile), ca.certPEM, 0o644); err != nil {
		return nil, fmt.Errorf("mqtt: CA: %w", err)
	}
	return ca, nil
}

// NewCA makes a CA that lives only in memory (tests).
func NewCA() (*CA, error) {
	rec, err := newCARecord()
	if err != nil {
		return nil, err
	}
	return parseCA(rec)
}

func newCARecord() (caRecord, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return caRecord{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          randSerial(),
		Subject:               pkix.Name{CommonName: "otactl local CA", Organization: []string{"otactl"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(20, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		return caRecord{}, err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return caRecord{}, err
	}
	return caRecord{
		CertPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		KeyPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})),
	}, nil
}

func parseCA(rec caRecord) (*CA, error) {
	cb, _ := pem.Decode([]byte(rec.CertPEM))
	kb, _ := pem.Decode([]byte(rec.KeyPEM))
	if cb == nil || kb == nil {
		return nil, errors.New("stored CA is not PEM")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, err
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, errors.New("stored CA key cannot sign")
	}
	return &CA{cert: cert, key: signer, certPEM: []byte(rec.CertPEM)}, nil
}

// CertPEM is the CA certificate, PEM-encoded.
func (ca *CA) CertPEM() []byte { return append([]byte(nil), ca.certPEM...) }

// Pool is a cert pool holding only the CA (what a device trusts).
func (ca *CA) Pool() *x509.CertPool {
	p := x509.NewCertPool()
	p.AddCert(ca.cert)
	return p
}

// IssueCertificate signs a device (client) certificate for pub; it returns
// the certificate's DER. This is what CreateKeysAndCertificate uses.
func (ca *CA) IssueCertificate(pub crypto.PublicKey, commonName string) ([]byte, error) {
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: randSerial(),
		Subject:      pkix.Name{CommonName: commonName},
		Issuer:       ca.cert.Subject,
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     time.Date(2049, 12, 31, 23, 59, 59, 0, time.UTC), // as AWS IoT device certificates
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}
	return x509.CreateCertificate(rand.Reader, tmpl, ca.cert, pub, ca.key)
}

// ServerCertificate issues a fresh server certificate for the broker, valid
// for localhost, the loopback addresses and hosts (names or IPs).
func (ca *CA) ServerCertificate(hosts ...string) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber: randSerial(),
		Subject:      pkix.Name{CommonName: "otactl local MQTT"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.AddDate(1, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	for _, h := range hosts {
		if h == "" {
			continue
		}
		if ip := net.ParseIP(h); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, h)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, key.Public(), ca.key)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der, ca.cert.Raw}, PrivateKey: key}, nil
}

// CertificateID is AWS IoT's certificate id: the hex SHA-256 of the DER.
func CertificateID(der []byte) string {
	sum := sha256.Sum256(der)
	return hex.EncodeToString(sum[:])
}

func randSerial() *big.Int {
	n, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	return n
}
