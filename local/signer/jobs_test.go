package signer

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdksigner "github.com/aws/aws-sdk-go-v2/service/signer"
	"github.com/aws/aws-sdk-go-v2/service/signer/types"
)

// signedObject is the JSON document a signing job writes.
type signedObject struct {
	RawPayloadSize     int64  `json:"rawPayloadSize"`
	Signature          string `json:"signature"`
	SignatureAlgorithm string `json:"signatureAlgorithm"`
	Payload            string `json:"payload"`
}

func firmware(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// readSigned fetches and parses the signed object a job wrote.
func (h *harness) readSigned(t *testing.T, d *sdksigner.DescribeSigningJobOutput) (signedObject, []byte, []byte) {
	t.Helper()
	if d.SignedObject == nil || d.SignedObject.S3 == nil {
		t.Fatalf("no signedObject: %+v", d)
	}
	raw, err := h.objs.get(*d.SignedObject.S3.BucketName, *d.SignedObject.S3.Key, "")
	if err != nil {
		t.Fatal(err)
	}
	var so signedObject
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&so); err != nil {
		t.Fatalf("signed object: %v", err)
	}
	sig, err := base64.StdEncoding.DecodeString(so.Signature)
	if err != nil {
		t.Fatal(err)
	}
	payload, err := base64.StdEncoding.DecodeString(so.Payload)
	if err != nil {
		t.Fatal(err)
	}
	return so, sig, payload
}

func TestSignECDSA(t *testing.T) {
	inProgress := make(chan string, 1)
	release := make(chan struct{})
	h := newHarness(t, t.TempDir(), newMemObjects(), func(id string) {
		inProgress <- id
		<-release
	})
	ctx := context.Background()
	arn, key, cert := h.importCert(t, false)
	h.putProfile(t, "ecdsa_profile", "AmazonFreeRTOS-Default", arn)
	h.objs.bucket("firmware", "Enabled")
	h.objs.bucket("signed", "Enabled")
	fw := firmware(366816)
	ver := must(h.objs.put("firmware", "app.bin", fw, "application/octet-stream"))

	id := h.startJob(t, "ecdsa_profile", "firmware", "app.bin", ver, "tok-1")
	<-inProgress
	d := must(h.signer.DescribeSigningJob(ctx, &sdksigner.DescribeSigningJobInput{JobId: &id}))
	if d.Status != types.SigningStatusInProgress || d.SignedObject != nil || d.CompletedAt != nil {
		t.Fatalf("while signing: %s %+v", d.Status, d.SignedObject)
	}
	close(release)
	d = h.wait(t, id)
	if d.Status != types.SigningStatusSucceeded || aws.ToString(d.StatusReason) != "Signing Succeeded" {
		t.Fatalf("status %s: %s", d.Status, aws.ToString(d.StatusReason))
	}
	if aws.ToString(d.JobId) != id || aws.ToString(d.ProfileName) != "ecdsa_profile" || len(aws.ToString(d.ProfileVersion)) != 10 ||
		aws.ToString(d.PlatformId) != "AmazonFreeRTOS-Default" || aws.ToString(d.PlatformDisplayName) != "Amazon FreeRTOS SHA256-ECDSA" ||
		aws.ToString(d.SigningMaterial.CertificateArn) != arn || d.SigningParameters["certname"] != "otasigner.crt" ||
		aws.ToString(d.Source.S3.BucketName) != "firmware" || aws.ToString(d.Source.S3.Key) != "app.bin" || aws.ToString(d.Source.S3.Version) != ver ||
		aws.ToString(d.JobOwner) != testEnv.AccountID || aws.ToString(d.JobInvoker) != testEnv.AccountID ||
		aws.ToString(d.RequestedBy) == "" || d.CreatedAt == nil || d.CompletedAt == nil || d.CompletedAt.Before(*d.CreatedAt) {
		t.Fatalf("describe %+v", d)
	}
	if aws.ToString(d.SignedObject.S3.BucketName) != "signed" || aws.ToString(d.SignedObject.S3.Key) != "SignedImages/"+id {
		t.Fatalf("signed object at %s/%s", aws.ToString(d.SignedObject.S3.BucketName), aws.ToString(d.SignedObject.S3.Key))
	}
	so, sig, payload := h.readSigned(t, d)
	if so.RawPayloadSize != int64(len(fw)) || so.SignatureAlgorithm != "SHA256withECDSA" || !bytes.Equal(payload, fw) {
		t.Fatalf("signed object: size %d alg %s payload equal %v", so.RawPayloadSize, so.SignatureAlgorithm, bytes.Equal(payload, fw))
	}
	digest := sha256.Sum256(fw)
	if !ecdsa.VerifyASN1(cert.PublicKey.(*ecdsa.PublicKey), digest[:], sig) {
		t.Fatal("signature does not verify against the certificate")
	}
	_ = key
}

func TestSignRSA(t *testing.T) {
	h := start(t)
	arn, _, cert := h.importCert(t, true)
	h.putProfile(t, "ti_profile", "AmazonFreeRTOS-TI-CC3220SF", arn)
	h.objs.bucket("firmware", "Enabled")
	h.objs.bucket("signed", "Enabled")
	fw := firmware(100_000)
	ver := must(h.objs.put("firmware", "ti.bin", fw, ""))
	d := h.wait(t, h.startJob(t, "ti_profile", "firmware", "ti.bin", ver, ""))
	if d.Status != types.SigningStatusSucceeded {
		t.Fatalf("%s: %s", d.Status, aws.ToString(d.StatusReason))
	}
	so, sig, _ := h.readSigned(t, d)
	if so.SignatureAlgorithm != "SHA1withRSA" {
		t.Fatal(so.SignatureAlgorithm)
	}
	digest := sha1.Sum(fw)
	if err := rsa.VerifyPKCS1v15(cert.PublicKey.(*rsa.PublicKey), crypto.SHA1, digest[:], sig); err != nil {
		t.Fatal(err)
	}
}

// TestOpenSSLVerifies checks the signature with an independent verifier.
func TestOpenSSLVerifies(t *testing.T) {
	openssl := requireTool(t, "openssl", "version")
	h := start(t)
	h.putProfile(t, "generated", "AmazonFreeRTOS-Default", "") // generated material
	h.objs.bucket("firmware", "Enabled")
	h.objs.bucket("signed", "Enabled")
	fw := firmware(200_000)
	ver := must(h.objs.put("firmware", "fw.bin", fw, ""))
	d := h.wait(t, h.startJob(t, "generated", "firmware", "fw.bin", ver, ""))
	if d.Status != types.SigningStatusSucceeded {
		t.Fatalf("%s: %s", d.Status, aws.ToString(d.StatusReason))
	}
	_, sig, payload := h.readSigned(t, d)
	cert, err := h.svc.ProfileCertificate("generated")
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := x509.MarshalPKIXPublicKey(cert.PublicKey)
	dir := t.TempDir()
	files := map[string][]byte{
		"pubkey.pem": pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}),
		"sig.der":    sig,
		"file":       payload,
	}
	for n, b := range files {
		if err := os.WriteFile(filepath.Join(dir, n), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	out, err := exec.Command(openssl, "dgst", "-sha256", "-verify", filepath.Join(dir, "pubkey.pem"),
		"-signature", filepath.Join(dir, "sig.der"), filepath.Join(dir, "file")).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "Verified OK") {
		t.Fatalf("openssl: %v: %s", err, out)
	}
}

func TestJobFailures(t *testing.T) {
	h := start(t)
	h.putProfile(t, "fw", "AmazonFreeRTOS-Default", "")
	h.objs.bucket("plain", "")
	h.objs.bucket("suspended", "Suspended")
	h.objs.bucket("firmware", "Enabled")
	h.objs.bucket("signed", "Enabled")
	must(h.objs.put("plain", "a.bin", []byte("abc"), ""))
	must(h.objs.put("suspended", "a.bin", []byte("abc"), ""))
	ver := must(h.objs.put("firmware", "a.bin", []byte("abc"), ""))
	cases := []struct {
		name, bucket, key, version, reason string
	}{
		{"unversioned bucket", "plain", "a.bin", "null", "does not have versioning enabled"},
		{"suspended bucket", "suspended", "a.bin", "null", "does not have versioning enabled"},
		{"missing bucket", "nobucket", "a.bin", ver, "NoSuchBucket"},
		{"missing object", "firmware", "b.bin", ver, "NoSuchKey"},
		{"missing version", "firmware", "a.bin", "v999", "NoSuchVersion"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			d := h.wait(t, h.startJob(t, "fw", tc.bucket, tc.key, tc.version, ""))
			if d.Status != types.SigningStatusFailed || !strings.Contains(aws.ToString(d.StatusReason), tc.reason) || d.SignedObject != nil || d.CompletedAt == nil {
				t.Fatalf("%s: %s (%+v)", d.Status, aws.ToString(d.StatusReason), d.SignedObject)
			}
		})
	}
	t.Run("missing destination bucket", func(t *testing.T) {
		id := must(h.signer.StartSigningJob(context.Background(), &sdksigner.StartSigningJobInput{
			ProfileName: aws.String("fw"),
			Source:      &types.Source{S3: &types.S3Source{BucketName: aws.String("firmware"), Key: aws.String("a.bin"), Version: aws.String(ver)}},
			Destination: &types.Destination{S3: &types.S3Destination{BucketName: aws.String("nowhere")}},
		})).JobId
		d := h.wait(t, *id)
		if d.Status != types.SigningStatusFailed || !strings.Contains(aws.ToString(d.StatusReason), "NoSuchBucket") {
			t.Fatalf("%s: %s", d.Status, aws.ToString(d.StatusReason))
		}
	})
	t.Run("too large for the platform", func(t *testing.T) {
		big := must(h.objs.put("firmware", "big.bin", make([]byte, 16<<20+1), ""))
		d := h.wait(t, h.startJob(t, "fw", "firmware", "big.bin", big, ""))
		if d.Status != types.SigningStatusFailed || !strings.Contains(aws.ToString(d.StatusReason), "at most 16 MB") {
			t.Fatalf("%s: %s", d.Status, aws.ToString(d.StatusReason))
		}
	})
}

func TestStartErrors(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	h.putProfile(t, "gone", "AmazonFreeRTOS-Default", "")
	must(h.signer.CancelSigningProfile(ctx, &sdksigner.CancelSigningProfileInput{ProfileName: aws.String("gone")}))
	in := func(profile string) *sdksigner.StartSigningJobInput {
		return &sdksigner.StartSigningJobInput{
			ProfileName: aws.String(profile),
			Source:      &types.Source{S3: &types.S3Source{BucketName: aws.String("b"), Key: aws.String("k"), Version: aws.String("1")}},
			Destination: &types.Destination{S3: &types.S3Destination{BucketName: aws.String("d")}},
		}
	}
	_, err := h.signer.StartSigningJob(ctx, in("unknown"))
	wantCode(t, err, "ResourceNotFoundException")
	_, err = h.signer.StartSigningJob(ctx, in("gone"))
	wantCode(t, err, "ValidationException")
	_, err = h.signer.DescribeSigningJob(ctx, &sdksigner.DescribeSigningJobInput{JobId: aws.String("00000000-0000-0000-0000-000000000000")})
	wantCode(t, err, "ResourceNotFoundException")
}

func TestIdempotentToken(t *testing.T) {
	h := start(t)
	h.putProfile(t, "fw", "AmazonFreeRTOS-Default", "")
	h.objs.bucket("firmware", "Enabled")
	h.objs.bucket("signed", "Enabled")
	ver := must(h.objs.put("firmware", "a.bin", []byte("firmware"), ""))
	a := h.startJob(t, "fw", "firmware", "a.bin", ver, "same-token")
	b := h.startJob(t, "fw", "firmware", "a.bin", ver, "same-token")
	c := h.startJob(t, "fw", "firmware", "a.bin", ver, "other-token")
	if a != b || a == c {
		t.Fatalf("a=%s b=%s c=%s", a, b, c)
	}
	h.wait(t, a)
	h.wait(t, c)
	// After completion the token still names the same job.
	if again := h.startJob(t, "fw", "firmware", "a.bin", ver, "same-token"); again != a {
		t.Fatalf("after completion: %s", again)
	}
	l := must(h.signer.ListSigningJobs(context.Background(), &sdksigner.ListSigningJobsInput{}))
	if len(l.Jobs) != 2 {
		t.Fatalf("%d jobs", len(l.Jobs))
	}
}

func TestListJobs(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	h.putProfile(t, "fw", "AmazonFreeRTOS-Default", "")
	h.putProfile(t, "ti", "AmazonFreeRTOS-TI-CC3220SF", "")
	h.objs.bucket("firmware", "Enabled")
	h.objs.bucket("plain", "")
	h.objs.bucket("signed", "Enabled")
	ver := must(h.objs.put("firmware", "a.bin", []byte("firmware"), ""))
	must(h.objs.put("plain", "a.bin", []byte("firmware"), ""))
	var ids []string
	for range 3 {
		ids = append(ids, h.startJob(t, "fw", "firmware", "a.bin", ver, ""))
	}
	ids = append(ids, h.startJob(t, "ti", "firmware", "a.bin", ver, ""))
	ids = append(ids, h.startJob(t, "fw", "plain", "a.bin", "null", "")) // fails
	for _, id := range ids {
		h.wait(t, id)
	}
	list := func(in *sdksigner.ListSigningJobsInput) []types.SigningJob {
		var out []types.SigningJob
		p := sdksigner.NewListSigningJobsPaginator(h.signer, in)
		for p.HasMorePages() {
			out = append(out, must(p.NextPage(ctx)).Jobs...)
		}
		return out
	}
	all := list(&sdksigner.ListSigningJobsInput{MaxResults: aws.Int32(2)})
	if len(all) != 5 {
		t.Fatalf("%d jobs", len(all))
	}
	seen := map[string]bool{}
	for _, j := range all {
		seen[*j.JobId] = true
		if j.Source == nil || j.SigningMaterial == nil || j.CreatedAt == nil || aws.ToString(j.JobOwner) != testEnv.AccountID {
			t.Fatalf("summary %+v", j)
		}
	}
	for _, id := range ids {
		if !seen[id] {
			t.Fatalf("%s not listed", id)
		}
	}
	if n := len(list(&sdksigner.ListSigningJobsInput{Status: types.SigningStatusFailed})); n != 1 {
		t.Fatalf("failed: %d", n)
	}
	if n := len(list(&sdksigner.ListSigningJobsInput{Status: types.SigningStatusSucceeded})); n != 4 {
		t.Fatalf("succeeded: %d", n)
	}
	ti := list(&sdksigner.ListSigningJobsInput{PlatformId: aws.String("AmazonFreeRTOS-TI-CC3220SF")})
	if len(ti) != 1 || *ti[0].JobId != ids[3] || ti[0].SignedObject == nil {
		t.Fatalf("TI: %+v", ti)
	}
	if n := len(list(&sdksigner.ListSigningJobsInput{IsRevoked: true})); n != 0 {
		t.Fatalf("revoked: %d", n)
	}
}

// TestResumeAfterCrash: a job InProgress when the process died is resumed
// by the next process and ends Succeeded.
func TestResumeAfterCrash(t *testing.T) {
	started := make(chan string, 1)
	release := make(chan struct{})
	defer close(release)
	objs := newMemObjects()
	dir := t.TempDir()
	h1 := newHarness(t, dir, objs, func(id string) {
		started <- id
		<-release // the "crash": this process never finishes the job
	})
	h1.putProfile(t, "fw", "AmazonFreeRTOS-Default", "")
	objs.bucket("firmware", "Enabled")
	objs.bucket("signed", "Enabled")
	fw := firmware(5000)
	ver := must(objs.put("firmware", "a.bin", fw, ""))
	id := h1.startJob(t, "fw", "firmware", "a.bin", ver, "crash-token")
	<-started

	// Copy the state as kill -9 would leave it (the start was committed).
	crashDir := t.TempDir()
	copyFile(t, filepath.Join(dir, "state.db"), filepath.Join(crashDir, "state.db"))
	h2 := newHarness(t, crashDir, objs, nil)
	d := h2.wait(t, id)
	if d.Status != types.SigningStatusSucceeded {
		t.Fatalf("resumed job: %s %s", d.Status, aws.ToString(d.StatusReason))
	}
	_, sig, payload := h2.readSigned(t, d)
	cert := must(h2.svc.ProfileCertificate("fw"))
	digest := sha256.Sum256(fw)
	if !bytes.Equal(payload, fw) || !ecdsa.VerifyASN1(cert.PublicKey.(*ecdsa.PublicKey), digest[:], sig) {
		t.Fatal("resumed job's signature does not verify")
	}
	// The token survived too.
	if again := h2.startJob(t, "fw", "firmware", "a.bin", ver, "crash-token"); again != id {
		t.Fatalf("token after restart: %s", again)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}
