// Package devicetest is otactl local's device side for tests, on loopback:
// the IoT control plane on the wire (AWS SDK client), the MQTT broker (plain
// and mutual TLS), objects served for streams and pre-signed HTTP URLs, a
// code-signing key, and signed OTA jobs built with the ota package.
package devicetest

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/otactl/otactl/device"
	"github.com/otactl/otactl/local"
	"github.com/otactl/otactl/local/iot"
	"github.com/otactl/otactl/local/mqtt"
	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/local/wire"
	"github.com/otactl/otactl/ota"
)

const (
	account = "123456789012"
	roleArn = "arn:aws:iam::123456789012:role/ota"
	region  = "us-east-1"
)

// Ctx is a background context for SDK calls in tests.
var Ctx = context.Background()

var bg = Ctx

// objects is an in-memory S3 stand-in for the broker (stream blocks), the
// IoT control plane (CreateStream checks) and HTTP downloads (Range GETs).
type objects struct {
	mu   sync.Mutex
	data map[string][]byte // bucket/key → body (one version: "v1")
}

func (o *objects) get(bucket, key string) ([]byte, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	b, ok := o.data[bucket+"/"+key]
	return b, ok
}

func (o *objects) Open(bucket, key, version string) (mqtt.Object, error) {
	b, ok := o.get(bucket, key)
	if !ok {
		return nil, mqtt.ErrNotFound
	}
	return object{bytes.NewReader(b)}, nil
}

func (o *objects) ObjectSize(bucket, key, version string) (int64, error) {
	b, ok := o.get(bucket, key)
	if !ok {
		return 0, mqtt.ErrNotFound
	}
	return int64(len(b)), nil
}

func (o *objects) ReadObject(bucket, key string, limit int64) ([]byte, error) {
	b, ok := o.get(bucket, key)
	if !ok {
		return nil, mqtt.ErrNotFound
	}
	return b[:min(int64(len(b)), limit)], nil
}

// ServeHTTP serves /bucket/key with Range support; a "deny" query is a 403.
func (o *objects) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Query().Get("deny") != "" {
		http.Error(w, "AccessDenied: Request has expired", http.StatusForbidden)
		return
	}
	bucket, key, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
	b, ok := o.get(bucket, key)
	if !ok {
		http.NotFound(w, r)
		return
	}
	http.ServeContent(w, r, key, time.Time{}, bytes.NewReader(b))
}

type object struct{ *bytes.Reader }

func (object) Close() error { return nil }

// presigner points pre-signed URLs at the objects' HTTP server.
type presigner struct{ base string }

func (p presigner) PresignGet(bucket, key, version string, expires time.Duration) (string, error) {
	return fmt.Sprintf("%s/%s/%s?X-Amz-Expires=%d", p.base, bucket, key, int(expires.Seconds())), nil
}

// env is otactl local's device side on loopback: the IoT control plane on
// the wire (AWS SDK), the MQTT broker (plain and mutual TLS), objects over HTTP.
type Env struct {
	t testing.TB
	// IoT is the control plane (tests may set its RetryPolicy and clock).
	IoT *iot.Service
	// API is an AWS SDK client of the control plane.
	API *sdkiot.Client
	// URL is the control plane's endpoint (for --endpoint-url).
	URL    string
	objs   *objects
	Broker *mqtt.Broker
	CA     *mqtt.CA
	// Signer signs the images of the jobs Job creates.
	Signer *SigningKey
}

func Start(t testing.TB) *Env {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	objs := &objects{data: map[string][]byte{}}
	svc := iot.New(st, wire.Env{Region: region, AccountID: account}, objs)
	ca, err := mqtt.LoadCA(st)
	if err != nil {
		t.Fatal(err)
	}
	svc.SetCertificateIssuer(ca)
	hs := httptest.NewServer(svc)
	t.Cleanup(hs.Close)
	files := httptest.NewServer(objs)
	t.Cleanup(files.Close)
	api := sdkiot.New(sdkiot.Options{Region: region, BaseEndpoint: aws.String(hs.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDLOCAL", "secret", "")})
	adapter := local.NewMQTTIoT(svc)
	b, err := mqtt.New(mqtt.Config{Addr: "127.0.0.1:0", TLSAddr: "127.0.0.1:0", Region: region, AccountID: account},
		mqtt.Deps{Jobs: adapter, Streams: adapter, Identities: adapter, Principals: adapter, Objects: objs, Presigner: presigner{files.URL}, CA: ca})
	if err != nil {
		t.Fatal(err)
	}
	adapter.Watch(b)
	if err := b.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return &Env{t: t, URL: hs.URL, IoT: svc, API: api, objs: objs, Broker: b, CA: ca, Signer: NewECDSAKey(t)}
}

func (e *Env) Things(names ...string) {
	e.t.Helper()
	for _, n := range names {
		if _, err := e.API.CreateThing(bg, &sdkiot.CreateThingInput{ThingName: aws.String(n)}); err != nil {
			e.t.Fatal(err)
		}
	}
}

// signingKey is a code-signing key and its certificate.
type SigningKey struct {
	key     crypto.Signer
	CertPEM []byte
	SigAlg  string // SHA256withECDSA, SHA256withRSA
}

func NewECDSAKey(t testing.TB) *SigningKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &SigningKey{key: k, CertPEM: selfSigned(t, k), SigAlg: "SHA256withECDSA"}
}

func NewRSAKey(t testing.TB) *SigningKey {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return &SigningKey{key: k, CertPEM: selfSigned(t, k), SigAlg: "SHA256withRSA"}
}

func selfSigned(t testing.TB, k crypto.Signer) []byte {
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "ota signer"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, k.Public(), k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func (s *SigningKey) Sign(t testing.TB, data []byte) string {
	d := sha256.Sum256(data)
	sig, err := s.key.Sign(rand.Reader, d[:], crypto.SHA256)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

func (s *SigningKey) Trust(t testing.TB) *device.Trust {
	tr, err := device.TrustPEM(s.CertPEM)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

// firmware is a deterministic image of n bytes.
func Firmware(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i/251)
	}
	return b
}

// update puts a signed image in place (object, stream) and returns the
// afr_ota document for it, built by the ota package as otactl create does.
type Update struct {
	ID        string
	Image     []byte
	Protocols []string    // default MQTT
	Key       *SigningKey // default Env.Signer
	// Mutate may change the document before CreateJob (bad documents).
	Mutate func(doc string) string
	// Retries is jobExecutionsRetryConfig's FAILED numberOfRetries.
	Retries int
}

func (e *Env) Job(u Update, things ...string) string {
	e.t.Helper()
	if u.Key == nil {
		u.Key = e.Signer
	}
	if u.Protocols == nil {
		u.Protocols = []string{"MQTT"}
	}
	key := "fw/" + u.ID + ".bin"
	e.objs.mu.Lock()
	e.objs.data["bucket/"+key] = u.Image
	e.objs.mu.Unlock()
	streamID := "AFR_OTA-" + u.ID
	spec := &ota.Spec{OTAUpdateID: u.ID, Protocols: u.Protocols, Files: []ota.File{{FileName: "/fw.bin"}}}
	if spec.HasProtocol(ota.ProtocolMQTT) {
		if _, err := e.API.CreateStream(bg, &sdkiot.CreateStreamInput{StreamId: aws.String(streamID), RoleArn: aws.String(roleArn),
			Files: []types.StreamFile{{FileId: aws.Int32(0), S3Location: &types.S3Location{Bucket: aws.String("bucket"), Key: aws.String(key), Version: aws.String("v1")}}}}); err != nil {
			e.t.Fatal(err)
		}
	}
	doc, err := ota.BuildJobDocument(spec, ota.DocumentInput{StreamID: streamID, Region: region, Files: []ota.FileArtifact{{
		FileID: 0, Size: int64(len(u.Image)), SigKey: ota.SignatureKey(u.Key.SigAlg), Signature: u.Key.Sign(e.t, u.Image),
		CertFile: "code-signer.crt", Raw: &ota.S3Location{Bucket: "bucket", Key: key}}}})
	if err != nil {
		e.t.Fatal(err)
	}
	d := string(doc)
	if u.Mutate != nil {
		d = u.Mutate(d)
	}
	var targets []string
	for _, th := range things {
		targets = append(targets, "arn:aws:iot:"+region+":"+account+":thing/"+th)
	}
	in := &sdkiot.CreateJobInput{JobId: aws.String("AFR_OTA-" + u.ID), Targets: targets, Document: aws.String(d)}
	if spec.HasProtocol(ota.ProtocolHTTP) {
		in.PresignedUrlConfig = &types.PresignedUrlConfig{RoleArn: aws.String(roleArn), ExpiresInSec: aws.Int64(300)}
	}
	if u.Retries > 0 {
		in.JobExecutionsRetryConfig = &types.JobExecutionsRetryConfig{CriteriaList: []types.RetryCriteria{
			{FailureType: types.RetryableFailureTypeFailed, NumberOfRetries: aws.Int32(int32(u.Retries))}}}
		n := u.Retries
		// The job engine sets the policy from the retry config; this test
		// environment has no engine, so it does the same here.
		e.IoT.RetryPolicy = func(j *iot.Job, ex *iot.Execution) bool { return ex.RetryAttempt < n }
	}
	if _, err := e.API.CreateJob(bg, in); err != nil {
		e.t.Fatal(err)
	}
	return "AFR_OTA-" + u.ID
}

// config is a device configured for fast tests.
func (e *Env) Config(thing string) device.Config {
	return device.Config{ThingName: thing, Endpoint: e.Broker.Addr(), Trust: e.Signer.Trust(e.t),
		RequestTimeout: 300 * time.Millisecond, IdleTimeout: 2 * time.Second,
		FirstJobTimeout: 10 * time.Second, ExitOnSuccess: true, Reboot: true, KeepFiles: true, ProgressEvery: 16}
}

func (e *Env) Run(cfg device.Config) *device.Result {
	e.t.Helper()
	a, err := device.NewAgent(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(bg, 60*time.Second)
	defer cancel()
	return a.Run(ctx)
}

// execution is DescribeJobExecution through the AWS SDK.
func (e *Env) Execution(jobID, thing string) *types.JobExecution {
	e.t.Helper()
	out, err := e.API.DescribeJobExecution(bg, &sdkiot.DescribeJobExecutionInput{JobId: aws.String(jobID), ThingName: aws.String(thing)})
	if err != nil {
		e.t.Fatal(err)
	}
	return out.Execution
}

// thingPolicy lets a certificate's thing connect with its name and use its
// own topics.
const thingPolicy = `{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:` + region + `:` + account + `:client/${iot:Connection.Thing.ThingName}"},
 {"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":"arn:aws:iot:` + region + `:` + account + `:topic/$aws/things/${iot:Connection.Thing.ThingName}/*"},
 {"Effect":"Allow","Action":"iot:Subscribe","Resource":"arn:aws:iot:` + region + `:` + account + `:topicfilter/$aws/things/${iot:Connection.Thing.ThingName}/*"}]}`

// deviceTLS registers a certificate for the thing (CreateKeysAndCertificate,
// AttachThingPrincipal) and returns the device's TLS configuration.
func (e *Env) DeviceTLS(thing string) *tls.Config {
	e.t.Helper()
	kc, err := e.API.CreateKeysAndCertificate(bg, &sdkiot.CreateKeysAndCertificateInput{SetAsActive: true})
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.API.AttachThingPrincipal(bg, &sdkiot.AttachThingPrincipalInput{ThingName: aws.String(thing), Principal: kc.CertificateArn}); err != nil {
		e.t.Fatal(err)
	}
	// The broker decides by IoT policies: a thing-scoped one, as AWS's
	// getting-started guides attach.
	const pol = "devicetest-thing"
	if _, err := e.API.GetPolicy(bg, &sdkiot.GetPolicyInput{PolicyName: aws.String(pol)}); err != nil {
		if _, err := e.API.CreatePolicy(bg, &sdkiot.CreatePolicyInput{PolicyName: aws.String(pol), PolicyDocument: aws.String(thingPolicy)}); err != nil {
			e.t.Fatal(err)
		}
	}
	if _, err := e.API.AttachPolicy(bg, &sdkiot.AttachPolicyInput{PolicyName: aws.String(pol), Target: kc.CertificateArn}); err != nil {
		e.t.Fatal(err)
	}
	cert, err := tls.X509KeyPair([]byte(*kc.CertificatePem), []byte(*kc.KeyPair.PrivateKey))
	if err != nil {
		e.t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: e.CA.Pool(), MinVersion: tls.VersionTLS12}
}
