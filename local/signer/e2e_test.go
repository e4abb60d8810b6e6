package signer_test

// End-to-end tests through the full otactl local server (one port, routed by
// SigV4 service name): the firmware goes in with the S3 client, the signed
// object comes out with it.

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"github.com/otactl/otactl/internal/testtool"
	"io"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkacm "github.com/aws/aws-sdk-go-v2/service/acm"
	sdks3 "github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	sdksigner "github.com/aws/aws-sdk-go-v2/service/signer"
	"github.com/aws/aws-sdk-go-v2/service/signer/types"

	"github.com/otactl/otactl/local"
	"github.com/otactl/otactl/local/localtest"
)

type e2e struct {
	env    *localtest.Env
	s3     *sdks3.Client
	signer *sdksigner.Client
	acm    *sdkacm.Client
}

func startServer(t *testing.T, cfg local.Config) *e2e {
	t.Helper()
	env := localtest.StartWith(t, cfg)
	return &e2e{env: env, s3: env.S3(), signer: sdksigner.NewFromConfig(env.Config), acm: sdkacm.NewFromConfig(env.Config)}
}

// ok returns v, panicking (which fails the test) on an error.
func ok[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// bucket creates a bucket, versioned when asked.
func (e *e2e) bucket(t *testing.T, name string, versioned bool) {
	t.Helper()
	ctx := localtest.Ctx()
	ok(e.s3.CreateBucket(ctx, &sdks3.CreateBucketInput{Bucket: &name}))
	if versioned {
		ok(e.s3.PutBucketVersioning(ctx, &sdks3.PutBucketVersioningInput{Bucket: &name,
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}))
	}
}

func (e *e2e) put(t *testing.T, bucket, key string, body []byte) string {
	t.Helper()
	out := ok(e.s3.PutObject(localtest.Ctx(), &sdks3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(body)}))
	return aws.ToString(out.VersionId)
}

func (e *e2e) wait(t *testing.T, id string) *sdksigner.DescribeSigningJobOutput {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second) // hang guard only
	for {
		d := ok(e.signer.DescribeSigningJob(localtest.Ctx(), &sdksigner.DescribeSigningJobInput{JobId: &id}))
		if d.Status != types.SigningStatusInProgress {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("job %s still InProgress", id)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (e *e2e) start(t *testing.T, profile, bucket, key, version string) string {
	t.Helper()
	out := ok(e.signer.StartSigningJob(localtest.Ctx(), &sdksigner.StartSigningJobInput{
		ProfileName: &profile,
		Source:      &types.Source{S3: &types.S3Source{BucketName: &bucket, Key: &key, Version: &version}},
		Destination: &types.Destination{S3: &types.S3Destination{BucketName: aws.String("signed"), Prefix: aws.String("SignedImages/")}},
	}))
	return *out.JobId
}

// importKey makes an ECDSA P-256 code-signing certificate and imports it.
func (e *e2e) importKey(t *testing.T) (string, *x509.Certificate) {
	t.Helper()
	key := ok(ecdsa.GenerateKey(elliptic.P256(), rand.Reader))
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(42), Subject: pkix.Name{CommonName: "ota-signer"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageCodeSigning}}
	der := ok(x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key))
	pkcs8 := ok(x509.MarshalPKCS8PrivateKey(key))
	out := ok(e.acm.ImportCertificate(localtest.Ctx(), &sdkacm.ImportCertificateInput{
		Certificate: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		PrivateKey:  pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pkcs8}),
	}))
	return *out.CertificateArn, ok(x509.ParseCertificate(der))
}

// verify reads the signed object with the S3 client and checks it against
// the firmware and the certificate.
func (e *e2e) verify(t *testing.T, d *sdksigner.DescribeSigningJobOutput, fw []byte, cert *x509.Certificate) {
	t.Helper()
	if d.Status != types.SigningStatusSucceeded {
		t.Fatalf("%s: %s", d.Status, aws.ToString(d.StatusReason))
	}
	obj := ok(e.s3.GetObject(localtest.Ctx(), &sdks3.GetObjectInput{Bucket: d.SignedObject.S3.BucketName, Key: d.SignedObject.S3.Key}))
	defer obj.Body.Close()
	so, payloadSum, err := readSigned(obj.Body)
	if err != nil {
		t.Fatal(err)
	}
	sig := ok(base64.StdEncoding.DecodeString(so.Signature))
	digest := sha256.Sum256(fw)
	if so.RawPayloadSize != int64(len(fw)) || so.SignatureAlgorithm != "SHA256withECDSA" || payloadSum != digest ||
		!ecdsa.VerifyASN1(cert.PublicKey.(*ecdsa.PublicKey), digest[:], sig) {
		t.Fatalf("signed object does not verify (size %d, alg %s)", so.RawPayloadSize, so.SignatureAlgorithm)
	}
}

type signedHeader struct {
	RawPayloadSize     int64  `json:"rawPayloadSize"`
	Signature          string `json:"signature"`
	SignatureAlgorithm string `json:"signatureAlgorithm"`
	Payload            string `json:"payload"`
}

// readSigned parses a signed object as a stream: the JSON fields before the
// payload, then the SHA-256 of the base64-decoded payload (so a test of tens
// of MiB does not decode one huge JSON string).
func readSigned(r io.Reader) (signedHeader, [32]byte, error) {
	var h signedHeader
	br := bufio.NewReader(r)
	const marker = `"payload":"`
	var head []byte
	for !bytes.HasSuffix(head, []byte(marker)) {
		c, err := br.ReadByte()
		if err != nil || len(head) > 4096 {
			return h, [32]byte{}, fmt.Errorf("no payload field in the signed object: %.200s", head)
		}
		head = append(head, c)
	}
	if err := json.Unmarshal(append(head, '"', '}'), &h); err != nil {
		return h, [32]byte{}, fmt.Errorf("signed object header: %v", err)
	}
	sum := sha256.New()
	if _, err := io.Copy(sum, base64.NewDecoder(base64.StdEncoding, &untilQuote{r: br})); err != nil {
		return h, [32]byte{}, err
	}
	if rest, _ := io.ReadAll(br); string(rest) != "}" {
		return h, [32]byte{}, fmt.Errorf("signed object ends with %q", rest)
	}
	return h, [32]byte(sum.Sum(nil)), nil
}

// untilQuote reads up to (and consumes) the next '"'.
type untilQuote struct {
	r    *bufio.Reader
	done bool
}

func (u *untilQuote) Read(p []byte) (int, error) {
	if u.done {
		return 0, io.EOF
	}
	chunk, err := u.r.Peek(min(len(p), u.r.Buffered()+1))
	if i := bytes.IndexByte(chunk, '"'); i >= 0 {
		n := copy(p, chunk[:i])
		u.r.Discard(i + 1)
		u.done = true
		return n, nil
	}
	if len(chunk) == 0 {
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return 0, err
	}
	n := copy(p, chunk)
	u.r.Discard(n)
	return n, nil
}

func TestEndToEnd(t *testing.T) {
	e := startServer(t, local.Config{})
	ctx := localtest.Ctx()
	e.bucket(t, "firmware", true)
	e.bucket(t, "signed", true)
	e.bucket(t, "plain", false)
	arn, cert := e.importKey(t)
	ok(e.signer.PutSigningProfile(ctx, &sdksigner.PutSigningProfileInput{
		ProfileName: aws.String("e2e_profile"), PlatformId: aws.String("AmazonFreeRTOS-Default"),
		SigningMaterial:   &types.SigningMaterial{CertificateArn: &arn},
		SigningParameters: map[string]string{"certname": "ota.crt"},
	}))

	fw := make([]byte, 366816)
	rand.Read(fw)
	ver := e.put(t, "firmware", "app.bin", fw)
	d := e.wait(t, e.start(t, "e2e_profile", "firmware", "app.bin", ver))
	e.verify(t, d, fw, cert)
	if aws.ToString(d.SignedObject.S3.Key) != "SignedImages/"+aws.ToString(d.JobId) {
		t.Fatalf("signed key %s", aws.ToString(d.SignedObject.S3.Key))
	}
	// The account in ARNs is the server's.
	if aws.ToString(d.JobOwner) != local.DefaultAccountID {
		t.Fatalf("jobOwner %s", aws.ToString(d.JobOwner))
	}

	// A newer version of the same key does not change what a job signs.
	ver2 := e.put(t, "firmware", "app.bin", []byte("newer"))
	if ver2 == ver {
		t.Fatal("no new version")
	}
	e.verify(t, e.wait(t, e.start(t, "e2e_profile", "firmware", "app.bin", ver)), fw, cert)

	// Unversioned bucket, missing object: Failed with a reason.
	pv := e.put(t, "plain", "app.bin", fw)
	if pv == "" {
		pv = "null"
	}
	d = e.wait(t, e.start(t, "e2e_profile", "plain", "app.bin", pv))
	if d.Status != types.SigningStatusFailed || !strings.Contains(aws.ToString(d.StatusReason), "versioning") {
		t.Fatalf("unversioned: %s %s", d.Status, aws.ToString(d.StatusReason))
	}
	d = e.wait(t, e.start(t, "e2e_profile", "firmware", "nothing.bin", ver))
	if d.Status != types.SigningStatusFailed || !strings.Contains(aws.ToString(d.StatusReason), "NoSuch") {
		t.Fatalf("missing object: %s %s", d.Status, aws.ToString(d.StatusReason))
	}
}

// TestLargeFirmwareThroughS3 signs tens of MiB stored on disk by the local
// S3: read twice from the blob, base64 streamed back into a new object.
func TestLargeFirmwareThroughS3(t *testing.T) {
	if testing.Short() {
		t.Skip("large firmware in -short mode")
	}
	e := startServer(t, local.Config{})
	e.bucket(t, "firmware", true)
	e.bucket(t, "signed", true)
	ok(e.signer.PutSigningProfile(localtest.Ctx(), &sdksigner.PutSigningProfileInput{
		ProfileName: aws.String("big"), PlatformId: aws.String("AWSIoTDeviceManagement-SHA256-ECDSA")}))
	g := ok(e.signer.GetSigningProfile(localtest.Ctx(), &sdksigner.GetSigningProfileInput{ProfileName: aws.String("big")}))
	c := ok(e.acm.GetCertificate(localtest.Ctx(), &sdkacm.GetCertificateInput{CertificateArn: g.SigningMaterial.CertificateArn}))
	b, _ := pem.Decode([]byte(aws.ToString(c.Certificate)))
	cert := ok(x509.ParseCertificate(b.Bytes))
	fw := make([]byte, 20<<20)
	rand.Read(fw)
	ver := e.put(t, "firmware", "big.bin", fw)
	e.verify(t, e.wait(t, e.start(t, "big", "firmware", "big.bin", ver)), fw, cert)
}

// TestRestartKeepsProfilesAndJobs stops the server and starts another on
// the same data directory.
func TestRestartKeepsProfilesAndJobs(t *testing.T) {
	dir := t.TempDir()
	e := startServer(t, local.Config{DataDir: dir})
	e.bucket(t, "firmware", true)
	e.bucket(t, "signed", true)
	ok(e.signer.PutSigningProfile(localtest.Ctx(), &sdksigner.PutSigningProfileInput{
		ProfileName: aws.String("kept"), PlatformId: aws.String("AmazonFreeRTOS-Default")}))
	ver := e.put(t, "firmware", "a.bin", []byte("firmware"))
	id := e.start(t, "kept", "firmware", "a.bin", ver)
	before := e.wait(t, id)
	if err := e.env.Server.Close(); err != nil {
		t.Fatal(err)
	}

	e2 := startServer(t, local.Config{DataDir: dir})
	after := e2.wait(t, id)
	if after.Status != before.Status || aws.ToString(after.SignedObject.S3.Key) != aws.ToString(before.SignedObject.S3.Key) {
		t.Fatalf("after restart %s %+v", after.Status, after.SignedObject)
	}
	g := ok(e2.signer.GetSigningProfile(localtest.Ctx(), &sdksigner.GetSigningProfileInput{ProfileName: aws.String("kept")}))
	if g.Status != types.SigningProfileStatusActive || g.SigningMaterial == nil {
		t.Fatalf("profile after restart %+v", g)
	}
	obj := ok(e2.s3.GetObject(localtest.Ctx(), &sdks3.GetObjectInput{Bucket: aws.String("signed"), Key: after.SignedObject.S3.Key}))
	body := ok(io.ReadAll(obj.Body))
	obj.Body.Close()
	if !bytes.Contains(body, []byte(`"signatureAlgorithm":"SHA256withECDSA"`)) {
		t.Fatalf("signed object after restart: %.100s", body)
	}
}

const boto3E2E = `
import json, sys, time, boto3
from botocore.config import Config
url = sys.argv[1]
kw = dict(endpoint_url=url, region_name="us-east-1", aws_access_key_id="AKIDLOCAL", aws_secret_access_key="secret")
s3 = boto3.client("s3", config=Config(s3={"addressing_style": "path"}), **kw)
signer = boto3.client("signer", **kw)
acm = boto3.client("acm", **kw)
for b in ("fw-src", "fw-signed"):
    s3.create_bucket(Bucket=b)
    s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={"Status": "Enabled"})
ver = s3.put_object(Bucket="fw-src", Key="fw.bin", Body=b"\x01" * 70000)["VersionId"]
platforms = [p["platformId"] for p in signer.list_signing_platforms()["platforms"]]
signer.put_signing_profile(profileName="boto3", platformId="AmazonFreeRTOS-Default",
                           signingParameters={"certname": "ota.crt"})
arn = signer.get_signing_profile(profileName="boto3")["signingMaterial"]["certificateArn"]
pem = acm.get_certificate(CertificateArn=arn)["Certificate"]
job = signer.start_signing_job(source={"s3": {"bucketName": "fw-src", "key": "fw.bin", "version": ver}},
                               destination={"s3": {"bucketName": "fw-signed", "prefix": "signed/"}},
                               profileName="boto3", clientRequestToken="boto3-token")
for _ in range(6000):
    d = signer.describe_signing_job(jobId=job["jobId"])
    if d["status"] != "InProgress":
        break
    time.sleep(0.01)
signed = json.loads(s3.get_object(Bucket="fw-signed", Key=d["signedObject"]["s3"]["key"])["Body"].read())
print(json.dumps({"platforms": platforms, "status": d["status"], "jobId": job["jobId"],
                  "key": d["signedObject"]["s3"]["key"], "rawPayloadSize": signed["rawPayloadSize"],
                  "signature": signed["signature"], "pem": pem}))
`

func TestBoto3EndToEnd(t *testing.T) {
	python := testtool.Boto3(t)
	e := startServer(t, local.Config{})
	script := filepath.Join(t.TempDir(), "e2e.py")
	if err := os.WriteFile(script, []byte(boto3E2E), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(python, script, e.env.URL)
	cmd.Env = append(os.Environ(), "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("boto3: %v\n%s", err, stderr.String())
	}
	var got struct {
		Platforms      []string `json:"platforms"`
		Status, JobID  string
		Key            string `json:"key"`
		RawPayloadSize int    `json:"rawPayloadSize"`
		Signature, PEM string
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(got.Platforms) != 5 || got.Status != "Succeeded" || got.Key != "signed/"+got.JobID || got.RawPayloadSize != 70000 {
		t.Fatalf("boto3 saw %+v", got)
	}
	b, _ := pem.Decode([]byte(got.PEM))
	cert := ok(x509.ParseCertificate(b.Bytes))
	digest := sha256.Sum256(bytes.Repeat([]byte{1}, 70000))
	if !ecdsa.VerifyASN1(cert.PublicKey.(*ecdsa.PublicKey), digest[:], ok(base64.StdEncoding.DecodeString(got.Signature))) {
		t.Fatal("boto3 round trip: signature does not verify")
	}
}

// TestAWSCLI lists platforms and describes a job with the AWS CLI.
func TestAWSCLI(t *testing.T) {
	awsCLI := testtool.Require(t, "aws", "apt-get install awscli")
	e := startServer(t, local.Config{})
	e.bucket(t, "firmware", true)
	e.bucket(t, "signed", true)
	ok(e.signer.PutSigningProfile(localtest.Ctx(), &sdksigner.PutSigningProfileInput{
		ProfileName: aws.String("cli"), PlatformId: aws.String("AmazonFreeRTOS-Default")}))
	id := e.start(t, "cli", "firmware", "fw.bin", e.put(t, "firmware", "fw.bin", []byte("fw")))
	e.wait(t, id)
	run := func(args ...string) []byte {
		cmd := exec.Command(awsCLI, append(args, "--endpoint-url", e.env.URL, "--region", "us-east-1", "--output", "json")...)
		cmd.Env = append(os.Environ(), "AWS_ACCESS_KEY_ID=AKIDLOCAL", "AWS_SECRET_ACCESS_KEY=secret",
			"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("aws %v: %v\n%s", args, err, stderr.String())
		}
		return out
	}
	var platforms struct {
		Platforms []struct {
			PlatformID string `json:"platformId"`
		}
	}
	json.Unmarshal(run("signer", "list-signing-platforms"), &platforms)
	var job struct {
		Status       string `json:"status"`
		SignedObject struct {
			S3 struct{ Key string } `json:"s3"`
		} `json:"signedObject"`
	}
	json.Unmarshal(run("signer", "describe-signing-job", "--job-id", id), &job)
	// A Lambda profile, as CDK and Terraform set them up, is made.
	var lambda struct {
		PlatformID string `json:"platformId"`
		Validity   struct {
			Value int
			Type  string
		} `json:"signatureValidityPeriod"`
	}
	run("signer", "put-signing-profile", "--profile-name", "lambda_cli", "--platform-id", "AWSLambda-SHA384-ECDSA")
	json.Unmarshal(run("signer", "get-signing-profile", "--profile-name", "lambda_cli"), &lambda)
	if lambda.PlatformID != "AWSLambda-SHA384-ECDSA" || lambda.Validity.Value != 135 || lambda.Validity.Type != "MONTHS" {
		t.Fatalf("aws cli lambda profile %+v", lambda)
	}
	if len(platforms.Platforms) != 5 || job.Status != "Succeeded" || job.SignedObject.S3.Key != "SignedImages/"+id {
		t.Fatalf("aws cli saw %+v %+v", platforms, job)
	}
}
