package s3_test

import (
	"bytes"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdks3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/otactl/otactl/local/s3"
	"github.com/otactl/otactl/local/store"
)

// Tests of a bucket's default encryption (?encryption) and Block Public
// Access settings (?publicAccessBlock) through the Go SDK.

func putEncryption(t *testing.T, f *fixture, bucket string, alg types.ServerSideEncryption, key string, bucketKey bool) {
	t.Helper()
	def := &types.ServerSideEncryptionByDefault{SSEAlgorithm: alg}
	if key != "" {
		def.KMSMasterKeyID = aws.String(key)
	}
	_, err := f.client.PutBucketEncryption(ctx, &sdks3.PutBucketEncryptionInput{Bucket: aws.String(bucket),
		ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: def, BucketKeyEnabled: aws.Bool(bucketKey)}}}})
	if err != nil {
		t.Fatal(err)
	}
}

// encryptionOf returns GetBucketEncryption's one rule as "alg key bucketKey".
func encryptionOf(t *testing.T, client *sdks3.Client, bucket string) string {
	t.Helper()
	out, err := client.GetBucketEncryption(ctx, &sdks3.GetBucketEncryptionInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	rules := out.ServerSideEncryptionConfiguration.Rules
	if len(rules) != 1 || rules[0].ApplyServerSideEncryptionByDefault == nil {
		t.Fatalf("rules = %+v", rules)
	}
	d := rules[0].ApplyServerSideEncryptionByDefault
	return string(d.SSEAlgorithm) + " " + aws.ToString(d.KMSMasterKeyID) + " " + map[bool]string{true: "bucketKey", false: "-"}[aws.ToBool(rules[0].BucketKeyEnabled)]
}

// TestBucketEncryption: a new bucket reports SSE-S3; a KMS default is kept
// and given to objects written without encryption headers (PutObject,
// CopyObject, multipart upload), not to one that names its own; Delete
// resets the default to SSE-S3 without changing objects already written.
func TestBucketEncryption(t *testing.T) {
	f := newFixture(t)
	f.bucket(t, "enc", "Enabled")
	if got := encryptionOf(t, f.client, "enc"); got != "AES256  -" {
		t.Fatalf("new bucket's encryption = %q, want SSE-S3", got)
	}
	if out := f.put(t, "enc", "before", "x"); out.ServerSideEncryption != types.ServerSideEncryptionAes256 {
		t.Fatalf("object before PutBucketEncryption: %q", out.ServerSideEncryption)
	}

	const key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
	putEncryption(t, f, "enc", types.ServerSideEncryptionAwsKms, key, true)
	if got := encryptionOf(t, f.client, "enc"); got != "aws:kms "+key+" bucketKey" {
		t.Fatalf("encryption = %q", got)
	}
	sse := func(what string, got types.ServerSideEncryption, gotKey *string, want types.ServerSideEncryption, wantKey string) {
		t.Helper()
		if got != want || aws.ToString(gotKey) != wantKey {
			t.Errorf("%s: encryption %q key %q, want %q %q", what, got, aws.ToString(gotKey), want, wantKey)
		}
	}
	p := f.put(t, "enc", "fw", "firmware")
	sse("PutObject", p.ServerSideEncryption, p.SSEKMSKeyId, types.ServerSideEncryptionAwsKms, key)
	h, err := f.client.HeadObject(ctx, &sdks3.HeadObjectInput{Bucket: aws.String("enc"), Key: aws.String("fw")})
	if err != nil {
		t.Fatal(err)
	}
	sse("HeadObject", h.ServerSideEncryption, h.SSEKMSKeyId, types.ServerSideEncryptionAwsKms, key)
	own, err := f.client.PutObject(ctx, &sdks3.PutObjectInput{Bucket: aws.String("enc"), Key: aws.String("own"),
		Body: strings.NewReader("x"), ServerSideEncryption: types.ServerSideEncryptionAes256})
	if err != nil {
		t.Fatal(err)
	}
	sse("PutObject with AES256", own.ServerSideEncryption, own.SSEKMSKeyId, types.ServerSideEncryptionAes256, "")
	cp, err := f.client.CopyObject(ctx, &sdks3.CopyObjectInput{Bucket: aws.String("enc"), Key: aws.String("copy"),
		CopySource: aws.String("enc/own")})
	if err != nil {
		t.Fatal(err)
	}
	sse("CopyObject", cp.ServerSideEncryption, cp.SSEKMSKeyId, types.ServerSideEncryptionAwsKms, key)
	mp, err := f.client.CreateMultipartUpload(ctx, &sdks3.CreateMultipartUploadInput{Bucket: aws.String("enc"), Key: aws.String("mp")})
	if err != nil {
		t.Fatal(err)
	}
	sse("CreateMultipartUpload", mp.ServerSideEncryption, mp.SSEKMSKeyId, types.ServerSideEncryptionAwsKms, key)
	part, err := f.client.UploadPart(ctx, &sdks3.UploadPartInput{Bucket: aws.String("enc"), Key: aws.String("mp"),
		UploadId: mp.UploadId, PartNumber: aws.Int32(1), Body: strings.NewReader("part")})
	if err != nil {
		t.Fatal(err)
	}
	done, err := f.client.CompleteMultipartUpload(ctx, &sdks3.CompleteMultipartUploadInput{Bucket: aws.String("enc"), Key: aws.String("mp"),
		UploadId: mp.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{{ETag: part.ETag, PartNumber: aws.Int32(1)}}}})
	if err != nil {
		t.Fatal(err)
	}
	sse("CompleteMultipartUpload", done.ServerSideEncryption, done.SSEKMSKeyId, types.ServerSideEncryptionAwsKms, key)

	putEncryption(t, f, "enc", types.ServerSideEncryptionAwsKmsDsse, "", false)
	if got := encryptionOf(t, f.client, "enc"); got != "aws:kms:dsse  -" {
		t.Fatalf("encryption after a second Put = %q", got)
	}
	if _, err := f.client.DeleteBucketEncryption(ctx, &sdks3.DeleteBucketEncryptionInput{Bucket: aws.String("enc")}); err != nil {
		t.Fatal(err)
	}
	if got := encryptionOf(t, f.client, "enc"); got != "AES256  -" {
		t.Fatalf("encryption after Delete = %q, want SSE-S3", got)
	}
	p = f.put(t, "enc", "after", "x")
	sse("PutObject after Delete", p.ServerSideEncryption, p.SSEKMSKeyId, types.ServerSideEncryptionAes256, "")
	h, err = f.client.HeadObject(ctx, &sdks3.HeadObjectInput{Bucket: aws.String("enc"), Key: aws.String("fw")})
	if err != nil {
		t.Fatal(err)
	}
	sse("object written under the KMS default", h.ServerSideEncryption, h.SSEKMSKeyId, types.ServerSideEncryptionAwsKms, key)
}

// TestBucketEncryptionBadInput: S3's errors for a body outside its schema,
// a KMS key with AES256 and a missing bucket; a refused Put changes nothing.
func TestBucketEncryptionBadInput(t *testing.T) {
	f := newFixture(t)
	f.bucket(t, "enc", "")
	putEncryption(t, f, "enc", types.ServerSideEncryptionAwsKms, "alias/fw", false)
	rule := func(inner string) string {
		return `<ServerSideEncryptionConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">` + inner + `</ServerSideEncryptionConfiguration>`
	}
	for _, c := range []struct{ name, body, code, says string }{
		{"unknown algorithm", rule(`<Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>DES</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule>`), "MalformedXML", "SSEAlgorithm"},
		{"no algorithm", rule(`<Rule><ApplyServerSideEncryptionByDefault></ApplyServerSideEncryptionByDefault></Rule>`), "MalformedXML", "SSEAlgorithm is required"},
		{"no default", rule(`<Rule><BucketKeyEnabled>true</BucketKeyEnabled></Rule>`), "MalformedXML", "ApplyServerSideEncryptionByDefault is required"},
		{"no rule", rule(``), "MalformedXML", "exactly one Rule"},
		{"two rules", rule(strings.Repeat(`<Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule>`, 2)), "MalformedXML", "exactly one Rule"},
		{"not a boolean", rule(`<Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>yes</BucketKeyEnabled></Rule>`), "MalformedXML", "not well-formed"},
		{"blocked type", rule(`<Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BlockedEncryptionTypes><EncryptionType>SSE-X</EncryptionType></BlockedEncryptionTypes></Rule>`), "MalformedXML", "EncryptionType"},
		{"not XML", `{"Rules": []}`, "MalformedXML", "not well-formed"},
		{"KMS key with AES256", rule(`<Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm><KMSMasterKeyID>alias/x</KMSMasterKeyID></ApplyServerSideEncryptionByDefault></Rule>`), "InvalidArgument", "KMSMasterKeyID"},
	} {
		status, body, _ := rawRequest(t, http.MethodPut, f.url+"/enc?encryption", []byte(c.body), nil)
		if status != http.StatusBadRequest || !strings.Contains(body, "<Code>"+c.code+"</Code>") || !strings.Contains(body, c.says) {
			t.Errorf("%s: %d %s, want 400 %s naming %q", c.name, status, body, c.code, c.says)
		}
	}
	if got := encryptionOf(t, f.client, "enc"); got != "aws:kms alias/fw -" {
		t.Fatalf("encryption after refused Puts = %q", got)
	}
	// BlockedEncryptionTypes is kept and reported.
	status, body, _ := rawRequest(t, http.MethodPut, f.url+"/enc?encryption", []byte(rule(`<Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>AES256</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BlockedEncryptionTypes><EncryptionType>SSE-C</EncryptionType></BlockedEncryptionTypes></Rule>`)), nil)
	if status != http.StatusOK {
		t.Fatalf("Put with BlockedEncryptionTypes: %d %s", status, body)
	}
	out, err := f.client.GetBucketEncryption(ctx, &sdks3.GetBucketEncryptionInput{Bucket: aws.String("enc")})
	if err != nil {
		t.Fatal(err)
	}
	if b := out.ServerSideEncryptionConfiguration.Rules[0].BlockedEncryptionTypes; b == nil || len(b.EncryptionType) != 1 || b.EncryptionType[0] != types.EncryptionTypeSseC {
		t.Fatalf("BlockedEncryptionTypes = %+v", b)
	}

	missing := aws.String("no-such-bucket")
	_, err = f.client.GetBucketEncryption(ctx, &sdks3.GetBucketEncryptionInput{Bucket: missing})
	wantCode(t, err, "NoSuchBucket", http.StatusNotFound)
	_, err = f.client.DeleteBucketEncryption(ctx, &sdks3.DeleteBucketEncryptionInput{Bucket: missing})
	wantCode(t, err, "NoSuchBucket", http.StatusNotFound)
	_, err = f.client.PutBucketEncryption(ctx, &sdks3.PutBucketEncryptionInput{Bucket: missing,
		ServerSideEncryptionConfiguration: &types.ServerSideEncryptionConfiguration{Rules: []types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &types.ServerSideEncryptionByDefault{SSEAlgorithm: types.ServerSideEncryptionAes256}}}}})
	wantCode(t, err, "NoSuchBucket", http.StatusNotFound)
}

func pabOf(t *testing.T, client *sdks3.Client, bucket string) types.PublicAccessBlockConfiguration {
	t.Helper()
	out, err := client.GetPublicAccessBlock(ctx, &sdks3.GetPublicAccessBlockInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	return *out.PublicAccessBlockConfiguration
}

func pabString(p types.PublicAccessBlockConfiguration) string {
	b := func(v *bool) string {
		if v == nil {
			return "nil"
		}
		return map[bool]string{true: "1", false: "0"}[*v]
	}
	return b(p.BlockPublicAcls) + b(p.IgnorePublicAcls) + b(p.BlockPublicPolicy) + b(p.RestrictPublicBuckets)
}

// TestPublicAccessBlock: a new bucket blocks all public access; Put
// replaces the four settings (one left out is false); Delete removes them
// and Get then answers NoSuchPublicAccessBlockConfiguration; a body naming
// none of the settings or with a non-boolean is refused.
func TestPublicAccessBlock(t *testing.T) {
	f := newFixture(t)
	f.bucket(t, "pab", "")
	if got := pabString(pabOf(t, f.client, "pab")); got != "1111" {
		t.Fatalf("new bucket's public access block = %s, want all on", got)
	}
	_, err := f.client.PutPublicAccessBlock(ctx, &sdks3.PutPublicAccessBlockInput{Bucket: aws.String("pab"),
		PublicAccessBlockConfiguration: &types.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(true), RestrictPublicBuckets: aws.Bool(false)}})
	if err != nil {
		t.Fatal(err)
	}
	if got := pabString(pabOf(t, f.client, "pab")); got != "1000" {
		t.Fatalf("public access block after Put = %s, want 1000", got)
	}
	if _, err := f.client.DeletePublicAccessBlock(ctx, &sdks3.DeletePublicAccessBlockInput{Bucket: aws.String("pab")}); err != nil {
		t.Fatal(err)
	}
	_, err = f.client.GetPublicAccessBlock(ctx, &sdks3.GetPublicAccessBlockInput{Bucket: aws.String("pab")})
	wantCode(t, err, "NoSuchPublicAccessBlockConfiguration", http.StatusNotFound)
	if _, err := f.client.DeletePublicAccessBlock(ctx, &sdks3.DeletePublicAccessBlockInput{Bucket: aws.String("pab")}); err != nil {
		t.Fatalf("Delete without a configuration: %v", err)
	}

	for _, c := range []struct{ name, body, code string }{
		{"no setting", `<PublicAccessBlockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>`, "InvalidRequest"},
		{"not a boolean", `<PublicAccessBlockConfiguration><BlockPublicAcls>TRUE</BlockPublicAcls></PublicAccessBlockConfiguration>`, "MalformedXML"},
		{"another root", `<Tagging><TagSet/></Tagging>`, "MalformedXML"},
	} {
		status, body, _ := rawRequest(t, http.MethodPut, f.url+"/pab?publicAccessBlock", []byte(c.body), nil)
		if status != http.StatusBadRequest || !strings.Contains(body, "<Code>"+c.code+"</Code>") {
			t.Errorf("%s: %d %s, want 400 %s", c.name, status, body, c.code)
		}
	}
	_, err = f.client.GetPublicAccessBlock(ctx, &sdks3.GetPublicAccessBlockInput{Bucket: aws.String("pab")})
	wantCode(t, err, "NoSuchPublicAccessBlockConfiguration", http.StatusNotFound)
	// xs:boolean's 1 and 0 are booleans too.
	status, body, _ := rawRequest(t, http.MethodPut, f.url+"/pab?publicAccessBlock",
		[]byte(`<PublicAccessBlockConfiguration><IgnorePublicAcls>1</IgnorePublicAcls><BlockPublicPolicy>0</BlockPublicPolicy></PublicAccessBlockConfiguration>`), nil)
	if status != http.StatusOK {
		t.Fatalf("Put with 1/0: %d %s", status, body)
	}
	if got := pabString(pabOf(t, f.client, "pab")); got != "0100" {
		t.Fatalf("public access block = %s, want 0100", got)
	}

	missing := aws.String("no-such-bucket")
	_, err = f.client.GetPublicAccessBlock(ctx, &sdks3.GetPublicAccessBlockInput{Bucket: missing})
	wantCode(t, err, "NoSuchBucket", http.StatusNotFound)
	_, err = f.client.DeletePublicAccessBlock(ctx, &sdks3.DeletePublicAccessBlockInput{Bucket: missing})
	wantCode(t, err, "NoSuchBucket", http.StatusNotFound)
	_, err = f.client.PutPublicAccessBlock(ctx, &sdks3.PutPublicAccessBlockInput{Bucket: missing,
		PublicAccessBlockConfiguration: &types.PublicAccessBlockConfiguration{BlockPublicAcls: aws.Bool(true)}})
	wantCode(t, err, "NoSuchBucket", http.StatusNotFound)
}

// TestBucketConfigSurvivesRestart: both settings, and the default's effect
// on new objects, outlive the process (a new Service on the same store).
func TestBucketConfigSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	serve := func() (*sdks3.Client, func()) {
		st, err := store.Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(s3.New(st, testEnv))
		cfg := aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
			Credentials: credentials.NewStaticCredentialsProvider("AKIDLOCAL", "secret", "")}
		client := sdks3.NewFromConfig(cfg, func(o *sdks3.Options) { o.UsePathStyle = true })
		return client, func() { srv.Close(); st.Close() }
	}
	client, stop := serve()
	f := &fixture{client: client}
	f.bucket(t, "keep", "")
	putEncryption(t, f, "keep", types.ServerSideEncryptionAwsKms, "alias/fw", false)
	if _, err := client.PutPublicAccessBlock(ctx, &sdks3.PutPublicAccessBlockInput{Bucket: aws.String("keep"),
		PublicAccessBlockConfiguration: &types.PublicAccessBlockConfiguration{BlockPublicPolicy: aws.Bool(true)}}); err != nil {
		t.Fatal(err)
	}
	stop()

	client, stop = serve()
	defer stop()
	if got := encryptionOf(t, client, "keep"); got != "aws:kms alias/fw -" {
		t.Fatalf("encryption after restart = %q", got)
	}
	if got := pabString(pabOf(t, client, "keep")); got != "0010" {
		t.Fatalf("public access block after restart = %s", got)
	}
	out, err := client.PutObject(ctx, &sdks3.PutObjectInput{Bucket: aws.String("keep"), Key: aws.String("k"), Body: bytes.NewReader(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if out.ServerSideEncryption != types.ServerSideEncryptionAwsKms || aws.ToString(out.SSEKMSKeyId) != "alias/fw" {
		t.Fatalf("object after restart: %q %q", out.ServerSideEncryption, aws.ToString(out.SSEKMSKeyId))
	}
}
