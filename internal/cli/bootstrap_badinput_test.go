package cli

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/otactl/otactl/local/localtest"
)

// assertNothingMade: a refused run left no bucket, role or thing.
func assertNothingMade(t *testing.T, env *localtest.Env, out string) {
	t.Helper()
	ctx := context.Background()
	if b, err := env.S3().ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil || len(b.Buckets) != 0 {
		t.Fatalf("buckets after a refused run: %+v %v", b, err)
	}
	if _, err := iam.NewFromConfig(env.Config).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("otactl-bad-ota-role")}); err == nil {
		t.Fatal("a refused run made the role")
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("a refused run wrote %s: %v", out, err)
	}
}

func pemPair(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "signer"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})
}

func TestBootstrapRefusesBadInput(t *testing.T) {
	env, ca := bootstrapLocal(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "boot")
	cert1, _ := pemPair(t)
	_, key2 := pemPair(t)
	certFile, keyFile := filepath.Join(dir, "c.pem"), filepath.Join(dir, "k.pem")
	os.WriteFile(certFile, cert1, 0o644)
	os.WriteFile(keyFile, key2, 0o600)
	base := []string{"bootstrap", "--name", "bad", "--devices", "1", "--out", out, "--root-ca", ca}

	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"mismatched pair", []string{"--cert", certFile, "--key", keyFile}, "does not match"},
		{"cert without key", []string{"--cert", certFile}, "--cert and --key go together"},
		{"no such platform", []string{"--platform", "NoSuchPlatform"}, "list-signing-platforms"},
		{"bad name", []string{"--name", "Bad_Name"}, "lowercase"},
	} {
		msg, code := otactl(t, env, append(append([]string{}, base...), c.args...)...)
		if code != ExitInvalid || !strings.Contains(msg, c.want) {
			t.Errorf("%s: exit %d, want a message with %q:\n%s", c.name, code, c.want, msg)
		}
		assertNothingMade(t, env, out)
	}

	// A bucket of that name that bootstrap did not make.
	if _, err := env.S3().CreateBucket(context.Background(), &s3.CreateBucketInput{Bucket: aws.String("someone-elses")}); err != nil {
		t.Fatal(err)
	}
	msg, code := otactl(t, env, append(append([]string{}, base...), "--bucket", "someone-elses")...)
	if code == 0 || !strings.Contains(msg, "--bucket with another name") {
		t.Fatalf("untagged bucket: exit %d\n%s", code, msg)
	}
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("a refused run wrote %s", out)
	}
}

// TestBootstrapWithoutIAMPermission: IAM answers AccessDenied (the IAM
// endpoint is a stand-in that refuses everything, as AWS does for
// credentials without iam:GetRole); bootstrap stops before creating
// anything and says which permissions it needs; once IAM answers, the
// same command completes.
func TestBootstrapWithoutIAMPermission(t *testing.T) {
	env, ca := bootstrapLocal(t)
	deny := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`<ErrorResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::000000000000:user/dev is not authorized to perform: iam:GetRole</Message></Error><RequestId>1</RequestId></ErrorResponse>`))
	}))
	defer deny.Close()
	t.Setenv("AWS_ENDPOINT_URL_IAM", deny.URL)
	out := filepath.Join(t.TempDir(), "boot")
	args := []string{"bootstrap", "--name", "bad", "--devices", "1", "--out", out, "--root-ca", ca}
	msg, code := otactl(t, env, args...)
	if code == 0 || !strings.Contains(msg, "iam:CreateRole") || !strings.Contains(msg, "AccessDenied") {
		t.Fatalf("without IAM: exit %d\n%s", code, msg)
	}
	assertNothingMade(t, env, out)
	t.Setenv("AWS_ENDPOINT_URL_IAM", env.URL)
	if msg, code := otactl(t, env, args...); code != 0 {
		t.Fatalf("with IAM: exit %d\n%s", code, msg)
	}
}

// TestBootstrapResumes: a run that stops at its last step (the firmware
// file is missing) leaves complete, tagged resources; the next run reuses
// every one and makes only what is missing.
func TestBootstrapResumes(t *testing.T) {
	env, ca := bootstrapLocal(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "boot")
	fw := filepath.Join(dir, "fw.bin")
	args := []string{"bootstrap", "--name", "res", "--devices", "2", "--out", out, "--root-ca", ca, "--firmware", fw}
	msg, code := otactl(t, env, args...)
	if code == 0 || !strings.Contains(msg, "firmware") {
		t.Fatalf("missing firmware: exit %d\n%s", code, msg)
	}
	os.WriteFile(fw, []byte("image"), 0o644)
	msg, code = otactl(t, env, args...)
	if code != 0 || !strings.Contains(msg, "\n2 created,") {
		t.Fatalf("re-run: exit %d, want only the firmware and spec created:\n%s", code, msg)
	}
	for _, line := range strings.Split(msg, "\n") {
		if strings.HasPrefix(line, "created") && !strings.Contains(line, "firmware") && !strings.Contains(line, "spec") {
			t.Errorf("re-run created again: %s", line)
		}
	}
}
