package iot_test

import (
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/otactl/otactl/internal/testtool"
)

// TestAWSCLICertificates drives the certificate operations with the AWS
// CLI: keys made by the service, a CSR made by openssl, and a user's CA
// registered with its verification certificate, then a device certificate
// it signed.
func TestAWSCLICertificates(t *testing.T) {
	awscli := testtool.Require(t, "aws", "apt-get install awscli")
	openssl := testtool.Require(t, "openssl", "apt-get install openssl")
	f, issuer := startCerts(t)
	dir := t.TempDir()
	run := func(args ...string) map[string]any {
		t.Helper()
		cmd := exec.Command(awscli, append(append([]string{"iot"}, args...), "--endpoint-url", f.url, "--output", "json")...)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDLOCAL", "AWS_SECRET_ACCESS_KEY=secret", "AWS_DEFAULT_REGION=us-east-1",
			"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("aws iot %v: %v\n%s", args, err, out)
		}
		var v map[string]any
		if err := json.Unmarshal(out, &v); err != nil {
			t.Fatalf("aws iot %v: %v\n%s", args, err, out)
		}
		return v
	}
	ssl := func(args ...string) {
		t.Helper()
		if out, err := exec.Command(openssl, args...).CombinedOutput(); err != nil {
			t.Fatalf("openssl %v: %v\n%s", args, err, out)
		}
	}

	// create-keys-and-certificate writes the files the AWS guides use.
	keys := run("create-keys-and-certificate", "--set-as-active",
		"--certificate-pem-outfile", filepath.Join(dir, "dev.crt"), "--private-key-outfile", filepath.Join(dir, "dev.key"))
	keyPEM, _ := os.ReadFile(filepath.Join(dir, "dev.key"))
	if b, _ := pem.Decode(keyPEM); b == nil || b.Type != "RSA PRIVATE KEY" {
		t.Fatalf("private key file: %.40q", keyPEM)
	}
	if !f.svc.CertificateActive(keys["certificateId"].(string)) {
		t.Error("create-keys-and-certificate --set-as-active: not ACTIVE")
	}

	// A CSR made by openssl.
	csr := filepath.Join(dir, "dev.csr")
	ssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=cli-device", "-keyout", filepath.Join(dir, "csr.key"), "-out", csr)
	fromCSR := run("create-certificate-from-csr", "--certificate-signing-request", "file://"+csr)
	cb, _ := pem.Decode([]byte(fromCSR["certificatePem"].(string)))
	cert, err := x509.ParseCertificate(cb.Bytes)
	if err != nil || cert.Subject.CommonName != "cli-device" || cert.CheckSignatureFrom(issuer.cert) != nil {
		t.Fatalf("create-certificate-from-csr: %v %v", err, cert.Subject)
	}

	// A user's CA, made and used with openssl as the AWS guide does.
	caKey, caCrt := filepath.Join(dir, "ca.key"), filepath.Join(dir, "ca.crt")
	ssl("req", "-x509", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", caKey, "-sha256", "-days", "30", "-subj", "/CN=CLI Factory CA", "-out", caCrt)
	code := run("get-registration-code")["registrationCode"].(string)
	verKey, verCSR, verCrt := filepath.Join(dir, "ver.key"), filepath.Join(dir, "ver.csr"), filepath.Join(dir, "ver.crt")
	ssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", verKey, "-subj", "/CN="+code, "-out", verCSR)
	ssl("x509", "-req", "-in", verCSR, "-CA", caCrt, "-CAkey", caKey, "-CAcreateserial", "-out", verCrt, "-days", "30", "-sha256")
	ca := run("register-ca-certificate", "--ca-certificate", "file://"+caCrt, "--verification-certificate", "file://"+verCrt, "--set-as-active")
	caID := ca["certificateId"].(string)

	devKey, devCSR, devCrt := filepath.Join(dir, "d.key"), filepath.Join(dir, "d.csr"), filepath.Join(dir, "d.crt")
	ssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", devKey, "-subj", "/CN=factory-0001", "-out", devCSR)
	ssl("x509", "-req", "-in", devCSR, "-CA", caCrt, "-CAkey", caKey, "-CAcreateserial", "-out", devCrt, "-days", "30", "-sha256")
	reg := run("register-certificate", "--certificate-pem", "file://"+devCrt, "--status", "ACTIVE")
	byCA := run("list-certificates-by-ca", "--ca-certificate-id", caID)["certificates"].([]any)
	if len(byCA) != 1 || byCA[0].(map[string]any)["certificateId"] != reg["certificateId"] {
		t.Fatalf("list-certificates-by-ca: %v", byCA)
	}
	desc := run("describe-certificate", "--certificate-id", reg["certificateId"].(string))["certificateDescription"].(map[string]any)
	if desc["caCertificateId"] != caID || desc["status"] != "ACTIVE" || desc["certificateMode"] != "DEFAULT" {
		t.Fatalf("describe-certificate: %v", desc)
	}
	if all := run("list-certificates")["certificates"].([]any); len(all) != 3 {
		t.Fatalf("list-certificates: %d certificates, want 3", len(all))
	}
}
