package signer

import (
	"bytes"
	"context"
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
	"io"
	"math/big"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdkacm "github.com/aws/aws-sdk-go-v2/service/acm"
	sdksigner "github.com/aws/aws-sdk-go-v2/service/signer"
	"github.com/aws/aws-sdk-go-v2/service/signer/types"
	"github.com/aws/smithy-go"

	"github.com/otactl/otactl/local/acm"
	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/local/wire"
)

var testEnv = wire.Env{Region: "us-east-1", AccountID: "123456789012"}

// memObjects is an in-memory stand-in for local/s3 with versioned buckets,
// enough to drive signing jobs in this package's tests.
type memObjects struct {
	mu      sync.Mutex
	buckets map[string]*memBucket
	seq     int
}

type memBucket struct {
	versioning string
	objects    map[string][]memVersion // newest last
}

type memVersion struct {
	id   string
	data []byte
	ct   string
}

type notFoundErr string

func (e notFoundErr) Error() string { return string(e) }

func newMemObjects() *memObjects { return &memObjects{buckets: map[string]*memBucket{}} }

func (m *memObjects) bucket(name, versioning string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.buckets[name] = &memBucket{versioning: versioning, objects: map[string][]memVersion{}}
}

func (m *memObjects) put(bucket, key string, data []byte, ct string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.buckets[bucket]
	if !ok {
		return "", notFoundErr("NoSuchBucket: The specified bucket does not exist")
	}
	if b.versioning == "Enabled" {
		m.seq++
		id := "v" + strconv.Itoa(m.seq)
		b.objects[key] = append(b.objects[key], memVersion{id, data, ct})
		return id, nil
	}
	b.objects[key] = []memVersion{{"null", data, ct}}
	return "null", nil
}

func (m *memObjects) get(bucket, key, version string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.buckets[bucket]
	if !ok {
		return nil, notFoundErr("NoSuchBucket: The specified bucket does not exist")
	}
	vs := b.objects[key]
	if len(vs) == 0 {
		return nil, notFoundErr("NoSuchKey: The specified key does not exist.")
	}
	if version == "" {
		return vs[len(vs)-1].data, nil
	}
	for _, v := range vs {
		if v.id == version {
			return v.data, nil
		}
	}
	return nil, notFoundErr("NoSuchVersion: The specified version does not exist.")
}

func (m *memObjects) Versioning(bucket string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	b, ok := m.buckets[bucket]
	if !ok {
		return "", notFoundErr("NoSuchBucket: The specified bucket does not exist")
	}
	return b.versioning, nil
}

func (m *memObjects) Open(bucket, key, version string) (io.ReadCloser, int64, error) {
	data, err := m.get(bucket, key, version)
	if err != nil {
		return nil, 0, err
	}
	return io.NopCloser(bytes.NewReader(data)), int64(len(data)), nil
}

func (m *memObjects) Put(bucket, key string, body io.Reader, ct string) error {
	data, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	_, err = m.put(bucket, key, data, ct)
	return err
}

// harness is one Signer + ACM behind an httptest server with SDK clients.
type harness struct {
	svc    *Service
	acm    *acm.Service
	objs   *memObjects
	signer *sdksigner.Client
	certs  *sdkacm.Client
	url    string
	acmURL string
	dir    string
}

func newHarness(t *testing.T, dir string, objs *memObjects, hook func(string)) *harness {
	t.Helper()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{acm: acm.New(st, testEnv), objs: objs, dir: dir}
	h.svc = newService(st, testEnv, objs, h.acm, hook)
	srv := httptest.NewServer(h.svc)
	acmSrv := httptest.NewServer(h.acm)
	t.Cleanup(func() {
		srv.Close()
		acmSrv.Close()
		h.svc.Close()
		st.Close()
	})
	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDLOCAL", "secret", "")}
	h.signer = sdksigner.NewFromConfig(cfg, func(o *sdksigner.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	h.certs = sdkacm.NewFromConfig(cfg, func(o *sdkacm.Options) { o.BaseEndpoint = aws.String(acmSrv.URL) })
	h.url, h.acmURL = srv.URL, acmSrv.URL
	return h
}

func start(t *testing.T) *harness {
	return newHarness(t, t.TempDir(), newMemObjects(), nil)
}

// importCert generates a key and a code-signing certificate and imports them
// into ACM over the wire.
func (h *harness) importCert(t *testing.T, useRSA bool) (string, crypto.Signer, *x509.Certificate) {
	t.Helper()
	var key crypto.Signer
	var err error
	if useRSA {
		key, err = rsa.GenerateKey(rand.Reader, 2048)
	} else {
		key, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	}
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "fw-signer"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	k, _ := x509.MarshalPKCS8PrivateKey(key)
	out, err := h.certs.ImportCertificate(context.Background(), &sdkacm.ImportCertificateInput{
		Certificate: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		PrivateKey:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: k}),
	})
	if err != nil {
		t.Fatal(err)
	}
	return *out.CertificateArn, key, cert
}

func (h *harness) putProfile(t *testing.T, name, platform, certArn string) *sdksigner.PutSigningProfileOutput {
	t.Helper()
	in := &sdksigner.PutSigningProfileInput{
		ProfileName: aws.String(name), PlatformId: aws.String(platform),
		SigningParameters: map[string]string{"certname": "otasigner.crt"},
	}
	if certArn != "" {
		in.SigningMaterial = &types.SigningMaterial{CertificateArn: aws.String(certArn)}
	}
	out, err := h.signer.PutSigningProfile(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (h *harness) startJob(t *testing.T, profile, bucket, key, version, token string) string {
	t.Helper()
	in := &sdksigner.StartSigningJobInput{
		ProfileName: aws.String(profile),
		Source:      &types.Source{S3: &types.S3Source{BucketName: aws.String(bucket), Key: aws.String(key), Version: aws.String(version)}},
		Destination: &types.Destination{S3: &types.S3Destination{BucketName: aws.String("signed"), Prefix: aws.String("SignedImages/")}},
	}
	if token != "" {
		in.ClientRequestToken = aws.String(token)
	}
	out, err := h.signer.StartSigningJob(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.JobOwner) != testEnv.AccountID {
		t.Fatalf("jobOwner %q", aws.ToString(out.JobOwner))
	}
	return *out.JobId
}

// wait polls DescribeSigningJob until the job leaves InProgress.
func (h *harness) wait(t *testing.T, id string) *sdksigner.DescribeSigningJobOutput {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second) // a hang guard, not a timing assertion
	for {
		d, err := h.signer.DescribeSigningJob(context.Background(), &sdksigner.DescribeSigningJobInput{JobId: &id})
		if err != nil {
			t.Fatal(err)
		}
		if d.Status != types.SigningStatusInProgress {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still InProgress", id)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != code {
		t.Fatalf("want %s, got %v", code, err)
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(fmt.Sprint(err))
	}
	return v
}
