package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// bucketLine is the report's line of the bucket.
func bucketLine(t *testing.T, out, bucket string) string {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "bucket") && strings.Contains(l, bucket) {
			return l
		}
	}
	t.Fatalf("no line for bucket %s:\n%s", bucket, out)
	return ""
}

// TestBootstrapBucketSettings: against otactl local over the SDK, the
// bucket bootstrap makes is versioned, SSE-S3 and private, and its line
// says so; a KMS default encryption its owner set afterwards survives a
// second run (GetBucketEncryption is read first), and the line names it.
func TestBootstrapBucketSettings(t *testing.T) {
	env, _ := bootstrapLocal(t)
	ctx := context.Background()
	cl := env.S3()
	const bucket = "enc-firmware"
	args := []string{"bootstrap", "--name", "enc", "--bucket", bucket, "--out", filepath.Join(t.TempDir(), "boot")}
	out, code := otactl(t, env, args...)
	if code != 0 {
		t.Fatalf("bootstrap: exit %d\n%s", code, out)
	}
	if l := bucketLine(t, out, bucket); !strings.HasSuffix(l, "(versioning on, SSE-S3, public access blocked)") {
		t.Fatalf("bucket line: %q", l)
	}
	v, err := cl.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(bucket)})
	if err != nil || v.Status != s3types.BucketVersioningStatusEnabled {
		t.Fatalf("versioning: %+v %v", v, err)
	}
	pab, err := cl.GetPublicAccessBlock(ctx, &s3.GetPublicAccessBlockInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	if c := pab.PublicAccessBlockConfiguration; !aws.ToBool(c.BlockPublicAcls) || !aws.ToBool(c.IgnorePublicAcls) ||
		!aws.ToBool(c.BlockPublicPolicy) || !aws.ToBool(c.RestrictPublicBuckets) {
		t.Fatalf("public access block: %+v", c)
	}
	if alg, key := bucketEncryption(t, cl, bucket); alg != s3types.ServerSideEncryptionAes256 || key != "" {
		t.Fatalf("default encryption %s %q, want AES256", alg, key)
	}

	// The owner chooses a KMS key; bootstrap runs again.
	const kmsKey = "alias/fleet-firmware"
	if _, err := cl.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: aws.String(bucket),
		ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAwsKms, KMSMasterKeyID: aws.String(kmsKey)},
			BucketKeyEnabled:                   aws.Bool(true),
		}}}}); err != nil {
		t.Fatal(err)
	}
	out, code = otactl(t, env, args...)
	if code != 0 || !strings.Contains(out, "\n0 created,") {
		t.Fatalf("second bootstrap: exit %d\n%s", code, out)
	}
	if l := bucketLine(t, out, bucket); !strings.Contains(l, "reused") ||
		!strings.HasSuffix(l, "(versioning on, SSE-KMS key "+kmsKey+" kept as found, public access blocked)") {
		t.Fatalf("bucket line: %q", l)
	}
	if alg, key := bucketEncryption(t, cl, bucket); alg != s3types.ServerSideEncryptionAwsKms || key != kmsKey {
		t.Fatalf("default encryption after the second run: %s %q, want aws:kms %s", alg, key, kmsKey)
	}
}

func bucketEncryption(t *testing.T, cl *s3.Client, bucket string) (s3types.ServerSideEncryption, string) {
	t.Helper()
	enc, err := cl.GetBucketEncryption(context.Background(), &s3.GetBucketEncryptionInput{Bucket: aws.String(bucket)})
	if err != nil {
		t.Fatal(err)
	}
	d := enc.ServerSideEncryptionConfiguration.Rules[0].ApplyServerSideEncryptionByDefault
	return d.SSEAlgorithm, aws.ToString(d.KMSMasterKeyID)
}
