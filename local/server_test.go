package local_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	sdkacm "github.com/aws/aws-sdk-go-v2/service/acm"
	sdkiam "github.com/aws/aws-sdk-go-v2/service/iam"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	sdks3 "github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	sdksigner "github.com/aws/aws-sdk-go-v2/service/signer"
	sdksts "github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/otactl/otactl/local"
	"github.com/otactl/otactl/local/localtest"
)

// TestRouting sends each SDK's requests to the one port: the credential
// scope picks the service.
func TestRouting(t *testing.T) {
	env := localtest.Start(t)
	if _, err := env.S3().CreateBucket(ctx, &sdks3.CreateBucketInput{Bucket: aws.String("routed")}); err != nil {
		t.Fatal(err)
	}
	id, err := sdksts.NewFromConfig(env.Config).GetCallerIdentity(ctx, &sdksts.GetCallerIdentityInput{})
	if err != nil || *id.Account != local.DefaultAccountID || *id.UserId != local.DefaultAccessKeyID ||
		*id.Arn != "arn:aws:iam::"+local.DefaultAccountID+":user/otactl-local" {
		t.Fatalf("GetCallerIdentity = %+v, %v", id, err)
	}
	if _, err := sdkiot.NewFromConfig(env.Config).ListThings(ctx, &sdkiot.ListThingsInput{}); err != nil {
		t.Fatalf("iot: %v", err)
	}
	if _, err := sdksigner.NewFromConfig(env.Config).ListSigningPlatforms(ctx, &sdksigner.ListSigningPlatformsInput{}); err != nil {
		t.Fatalf("signer: %v", err)
	}
	if _, err := sdkacm.NewFromConfig(env.Config).ListCertificates(ctx, &sdkacm.ListCertificatesInput{}); err != nil {
		t.Fatalf("acm: %v", err)
	}
	// The Go API sees what the wire wrote.
	if _, err := env.Server.S3().HeadObject("routed", "none", ""); err == nil {
		t.Fatal("HeadObject of a missing key succeeded")
	}
	if v, err := env.Server.S3().Versioning("routed"); err != nil || v != "" {
		t.Fatalf("Versioning = %q %v", v, err)
	}
}

func TestRoutingErrors(t *testing.T) {
	env := localtest.Start(t)
	sign := func(service string, req *http.Request) {
		t.Helper()
		err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: "AKIDLOCAL", SecretAccessKey: "secret"}, req,
			"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", service, "us-east-1", time.Now())
		if err != nil {
			t.Fatal(err)
		}
	}
	do := func(req *http.Request) (int, string, http.Header) {
		t.Helper()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		return resp.StatusCode, b.String(), resp.Header
	}
	// An unknown service is a JSON error, never a 404 page or a 500.
	req, _ := http.NewRequest(http.MethodGet, env.URL+"/whatever", nil)
	sign("dynamodb", req)
	status, _, hdr := do(req)
	if status != 400 || hdr.Get("X-Amzn-ErrorType") != "UnrecognizedClientException" {
		t.Fatalf("unknown service: %d %v", status, hdr)
	}
	// An unsigned JSON/query request needs authentication.
	req, _ = http.NewRequest(http.MethodPost, env.URL+"/", strings.NewReader("Action=GetCallerIdentity&Version=2011-06-15"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	status, body, _ := do(req)
	if status != 403 || !strings.Contains(body, "<Code>MissingAuthenticationToken</Code>") {
		t.Fatalf("unsigned STS: %d %s", status, body)
	}
	// A malformed credential scope is S3's AuthorizationHeaderMalformed.
	req, _ = http.NewRequest(http.MethodGet, env.URL+"/", nil)
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/bad, SignedHeaders=host, Signature=00")
	status, body, _ = do(req)
	if status != 400 || !strings.Contains(body, "AuthorizationHeaderMalformed") {
		t.Fatalf("malformed auth: %d %s", status, body)
	}
	// STS: unknown and missing actions in the query protocol's error shape.
	for form, code := range map[string]string{"Action=AssumeRoleWithMagic": "InvalidAction", "Version=2011-06-15": "MissingAction"} {
		req, _ = http.NewRequest(http.MethodPost, env.URL+"/", strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		sign("sts", req)
		status, body, _ = do(req)
		if status != 400 || !strings.Contains(body, "<ErrorResponse") || !strings.Contains(body, "<Code>"+code+"</Code>") ||
			!strings.Contains(body, "<Type>Sender</Type>") || !strings.Contains(body, "<RequestId>") {
			t.Fatalf("STS %s: %d %s", form, status, body)
		}
	}
	// Unsigned S3 reads are refused in the default mode too: buckets are
	// private (s3auth_test.go has the rest).
	env.S3().CreateBucket(ctx, &sdks3.CreateBucketInput{Bucket: aws.String("open")})
	env.S3().PutObject(ctx, &sdks3.PutObjectInput{Bucket: aws.String("open"), Key: aws.String("k"), Body: strings.NewReader("hi")})
	if status, body := httpGet(t, env.URL+"/open/k"); status != 403 || !strings.Contains(body, "<Code>AccessDenied</Code>") {
		t.Fatalf("unsigned GET: %d %q", status, body)
	}
}

func TestStrictAuth(t *testing.T) {
	env := localtest.StartWith(t, local.Config{StrictAuth: true, Credentials: map[string]string{"AKIDSTRICT": "s3cr3t/with+chars"}})
	good := env.Config
	if _, err := env.S3().CreateBucket(ctx, &sdks3.CreateBucketInput{Bucket: aws.String("strict")}); err != nil {
		t.Fatal(err)
	}
	odd := "dir/a b+c~é.bin"
	if _, err := env.S3().PutObject(ctx, &sdks3.PutObjectInput{Bucket: aws.String("strict"), Key: aws.String(odd),
		Body: strings.NewReader("x"), Metadata: map[string]string{"Note": "  two  spaces "}}); err != nil {
		t.Fatal(err)
	}
	// Verifying the signature canonicalises header values without changing them.
	if oi, err := env.Server.S3().HeadObject("strict", odd, ""); err != nil || oi.Metadata["note"] != "two  spaces" {
		t.Fatalf("metadata after strict auth: %q %v", oi.Metadata, err)
	}
	if _, err := env.S3().ListObjectsV2(ctx, &sdks3.ListObjectsV2Input{Bucket: aws.String("strict"), Prefix: aws.String("dir/a b"), MaxKeys: aws.Int32(5)}); err != nil {
		t.Fatal(err)
	}
	if _, err := sdksts.NewFromConfig(good).GetCallerIdentity(ctx, &sdksts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	iot := sdkiot.NewFromConfig(good)
	if _, err := iot.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String("thing:with:colons")}); err != nil {
		t.Fatal(err)
	}
	if _, err := iot.DescribeThing(ctx, &sdkiot.DescribeThingInput{ThingName: aws.String("thing:with:colons")}); err != nil {
		t.Fatal(err)
	}
	if _, err := iot.ListThings(ctx, &sdkiot.ListThingsInput{AttributeName: aws.String("a b"), AttributeValue: aws.String("c/d")}); err != nil {
		t.Fatal(err)
	}

	wrongSecret := localtest.Config(env.URL, "us-east-1", "AKIDSTRICT", "wrong")
	unknownKey := localtest.Config(env.URL, "us-east-1", "AKIDNOBODY", "s3cr3t/with+chars")
	s3c := func(cfg aws.Config) *sdks3.Client {
		return sdks3.NewFromConfig(cfg, func(o *sdks3.Options) { o.UsePathStyle = true })
	}
	_, err := s3c(wrongSecret).ListBuckets(ctx, &sdks3.ListBucketsInput{})
	wantCode(t, err, "SignatureDoesNotMatch", 403)
	_, err = s3c(unknownKey).ListBuckets(ctx, &sdks3.ListBucketsInput{})
	wantCode(t, err, "InvalidAccessKeyId", 403)
	_, err = sdksts.NewFromConfig(wrongSecret).GetCallerIdentity(ctx, &sdksts.GetCallerIdentityInput{})
	wantCode(t, err, "SignatureDoesNotMatch", 403)
	_, err = sdksts.NewFromConfig(unknownKey).GetCallerIdentity(ctx, &sdksts.GetCallerIdentityInput{})
	wantCode(t, err, "InvalidClientTokenId", 403)
	// IAM speaks the query protocol, as STS: its SDK reads the XML shape.
	_, err = sdkiam.NewFromConfig(wrongSecret).ListRoles(ctx, &sdkiam.ListRolesInput{})
	wantCode(t, err, "SignatureDoesNotMatch", 403)
	_, err = sdkiam.NewFromConfig(unknownKey).ListRoles(ctx, &sdkiam.ListRolesInput{})
	wantCode(t, err, "InvalidClientTokenId", 403)
	_, err = sdkiot.NewFromConfig(wrongSecret).ListThings(ctx, &sdkiot.ListThingsInput{})
	wantCode(t, err, "InvalidSignatureException", 403)
	_, err = sdkiot.NewFromConfig(unknownKey).ListThings(ctx, &sdkiot.ListThingsInput{})
	wantCode(t, err, "UnrecognizedClientException", 403)

	// Unsigned: S3's AccessDenied.
	if status, body := httpGet(t, env.URL+"/strict/"+url.PathEscape("x")); status != 403 || !strings.Contains(body, "<Code>AccessDenied</Code>") {
		t.Fatalf("unsigned in strict mode: %d %s", status, body)
	}
	// A request signed 20 minutes ago is too skewed.
	req, _ := http.NewRequest(http.MethodGet, env.URL+"/", nil)
	v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: "AKIDSTRICT", SecretAccessKey: "s3cr3t/with+chars"}, req,
		"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "s3", "us-east-1", time.Now().Add(-20*time.Minute))
	req.Header.Set("X-Amz-Content-Sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("skewed request: %d", resp.StatusCode)
	}
	// Presigned URLs by the configured key work in strict mode.
	u, err := env.Server.S3().PresignGet("strict", odd, "", time.Minute, "")
	if err != nil {
		t.Fatal(err)
	}
	if status, body := httpGet(t, u); status != 200 || body != "x" {
		t.Fatalf("presigned in strict mode: %d %s", status, body)
	}
}

func TestPresignedURLs(t *testing.T) {
	env := localtest.Start(t)
	c := env.S3()
	c.CreateBucket(ctx, &sdks3.CreateBucketInput{Bucket: aws.String("fwb")})
	c.PutBucketVersioning(ctx, &sdks3.PutBucketVersioningInput{Bucket: aws.String("fwb"),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: "Enabled"}})
	put, _ := c.PutObject(ctx, &sdks3.PutObjectInput{Bucket: aws.String("fwb"), Key: aws.String("image.bin"), Body: strings.NewReader("v1")})
	c.PutObject(ctx, &sdks3.PutObjectInput{Bucket: aws.String("fwb"), Key: aws.String("image.bin"), Body: strings.NewReader("v2")})

	u, err := env.Server.S3().PresignGet("fwb", "image.bin", *put.VersionId, 5*time.Minute, "")
	if err != nil {
		t.Fatal(err)
	}
	if status, body := httpGet(t, u); status != 200 || body != "v1" {
		t.Fatalf("presigned version: %d %q", status, body)
	}
	// Tampering with any signed part (the version, the key) breaks the signature.
	tampered := strings.Replace(u, "versionId="+url.QueryEscape(*put.VersionId), "versionId=null", 1)
	if status, body := httpGet(t, tampered); status != 403 || !strings.Contains(body, "<Code>SignatureDoesNotMatch</Code>") {
		t.Fatalf("tampered version: %d %s", status, body)
	}
	tampered = strings.Replace(u, "image.bin", "other.bin", 1)
	if status, body := httpGet(t, tampered); status != 403 || !strings.Contains(body, "<Code>SignatureDoesNotMatch</Code>") {
		t.Fatalf("tampered key: %d %s", status, body)
	}
	// The SDK's own presigner (x-id=GetObject, its own escaping) is accepted.
	pc := sdks3.NewPresignClient(c)
	req, err := pc.PresignGetObject(ctx, &sdks3.GetObjectInput{Bucket: aws.String("fwb"), Key: aws.String("image.bin")},
		sdks3.WithPresignExpires(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if status, body := httpGet(t, req.URL); status != 200 || body != "v2" {
		t.Fatalf("SDK presigned: %d %q", status, body)
	}
	// Signed an hour ago for 60 seconds: expired.
	old, err := sdks3.NewPresignClient(c).PresignGetObject(ctx, &sdks3.GetObjectInput{Bucket: aws.String("fwb"), Key: aws.String("image.bin")},
		sdks3.WithPresignExpires(time.Minute), func(o *sdks3.PresignOptions) {
			o.Presigner = backdated{v4.NewSigner(), time.Hour}
		})
	if err != nil {
		t.Fatal(err)
	}
	if status, body := httpGet(t, old.URL); status != 403 || !strings.Contains(body, "<Code>AccessDenied</Code>") ||
		!strings.Contains(body, "Request has expired") {
		t.Fatalf("expired URL: %d %s", status, body)
	}
	// A URL presigned with another secret is refused even without strict auth.
	other := localtest.Config(env.URL, "us-east-1", "AKIDOTHER", "not-the-default")
	bad, err := sdks3.NewPresignClient(sdks3.NewFromConfig(other, func(o *sdks3.Options) { o.UsePathStyle = true })).
		PresignGetObject(ctx, &sdks3.GetObjectInput{Bucket: aws.String("fwb"), Key: aws.String("image.bin")})
	if err != nil {
		t.Fatal(err)
	}
	if status, body := httpGet(t, bad.URL); status != 403 || !strings.Contains(body, "SignatureDoesNotMatch") {
		t.Fatalf("foreign secret: %d %s", status, body)
	}
	// Garbage in the presign parameters is AuthorizationQueryParametersError.
	garbled := strings.Replace(u, "X-Amz-Date=", "X-Amz-Date=x", 1)
	if status, body := httpGet(t, garbled); status != 400 || !strings.Contains(body, "AuthorizationQueryParametersError") {
		t.Fatalf("garbled date: %d %s", status, body)
	}
}

// backdated presigns as if it were d ago.
type backdated struct {
	s *v4.Signer
	d time.Duration
}

func (b backdated) PresignHTTP(ctx context.Context, creds aws.Credentials, r *http.Request, payloadHash, service, region string,
	signingTime time.Time, optFns ...func(*v4.SignerOptions)) (string, http.Header, error) {
	return b.s.PresignHTTP(ctx, creds, r, payloadHash, service, region, signingTime.Add(-b.d), optFns...)
}

// TestSigV2Presigned builds S3's legacy query-string signature by hand (what
// botocore presigns for custom endpoints by default).
func TestSigV2Presigned(t *testing.T) {
	env := localtest.StartWith(t, local.Config{StrictAuth: true})
	c := env.S3()
	c.CreateBucket(ctx, &sdks3.CreateBucketInput{Bucket: aws.String("legacy")})
	c.PutObject(ctx, &sdks3.PutObjectInput{Bucket: aws.String("legacy"), Key: aws.String("a b.bin"), Body: strings.NewReader("v2 body")})
	presign := func(expires int64, secret string) string {
		sts := fmt.Sprintf("GET\n\n\n%d\n/legacy/a%%20b.bin", expires)
		m := hmac.New(sha1.New, []byte(secret))
		m.Write([]byte(sts))
		return fmt.Sprintf("%s/legacy/a%%20b.bin?AWSAccessKeyId=%s&Expires=%d&Signature=%s", env.URL,
			local.DefaultAccessKeyID, expires, url.QueryEscape(base64.StdEncoding.EncodeToString(m.Sum(nil))))
	}
	future := time.Now().Add(time.Hour).Unix()
	if status, body := httpGet(t, presign(future, local.DefaultSecretAccessKey)); status != 200 || body != "v2 body" {
		t.Fatalf("SigV2 presigned: %d %q", status, body)
	}
	if status, body := httpGet(t, presign(future, "wrong")); status != 403 || !strings.Contains(body, "SignatureDoesNotMatch") {
		t.Fatalf("SigV2 wrong secret: %d %s", status, body)
	}
	if status, body := httpGet(t, presign(time.Now().Add(-time.Hour).Unix(), local.DefaultSecretAccessKey)); status != 403 ||
		!strings.Contains(body, "Request has expired") {
		t.Fatalf("SigV2 expired: %d %s", status, body)
	}
}
