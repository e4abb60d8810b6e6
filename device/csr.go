package device

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
)

// newCSR makes an ECDSA P-256 key and a certificate signing request for it
// (subject CN = the thing name), both PEM.
func newCSR(thing string) (csrPEM string, keyPEM []byte, err error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", nil, err
	}
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{Subject: pkix.Name{CommonName: thing}}, k)
	if err != nil {
		return "", nil, err
	}
	kd, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return "", nil, err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kd}), nil
}

// existingCertArn returns the ARN of the certificate already in file crt
// ("" when there is no file): AWS IoT names a certificate by the SHA-256 of
// its DER, and DescribeCertificate gives its ARN.
func existingCertArn(ctx context.Context, c *iot.Client, crt string) (string, error) {
	raw, err := os.ReadFile(crt)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	b, _ := pem.Decode(raw)
	if b == nil || b.Type != "CERTIFICATE" {
		return "", fmt.Errorf("%s: no PEM certificate", crt)
	}
	sum := sha256.Sum256(b.Bytes)
	out, err := c.DescribeCertificate(ctx, &iot.DescribeCertificateInput{CertificateId: aws.String(hex.EncodeToString(sum[:]))})
	if err != nil {
		return "", fmt.Errorf("DescribeCertificate for %s: %w", crt, err)
	}
	return aws.ToString(out.CertificateDescription.CertificateArn), nil
}
