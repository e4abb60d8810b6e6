package signer_test

import (
	"bytes"
	"crypto/rand"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdks3 "github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	sdksigner "github.com/aws/aws-sdk-go-v2/service/signer"
	"github.com/aws/aws-sdk-go-v2/service/signer/types"

	"github.com/otactl/otactl/local/localtest"
)

// BenchmarkSigningJob16MiB runs whole signing jobs over the wire against
// the full server: StartSigningJob, the job reading a 16 MiB version from
// the local S3 twice and writing the signed object back, DescribeSigningJob
// polled until Succeeded. B/op counts the server too (it is in-process).
func BenchmarkSigningJob16MiB(b *testing.B) {
	env := localtest.Start(b)
	ctx := localtest.Ctx()
	s3c, sc := env.S3(), sdksigner.NewFromConfig(env.Config)
	for _, name := range []string{"firmware", "signed"} {
		if _, err := s3c.CreateBucket(ctx, &sdks3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
			b.Fatal(err)
		}
		if _, err := s3c.PutBucketVersioning(ctx, &sdks3.PutBucketVersioningInput{Bucket: aws.String(name),
			VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
			b.Fatal(err)
		}
	}
	fw := make([]byte, 16<<20)
	rand.Read(fw)
	put, err := s3c.PutObject(ctx, &sdks3.PutObjectInput{Bucket: aws.String("firmware"), Key: aws.String("fw.bin"), Body: bytes.NewReader(fw)})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := sc.PutSigningProfile(ctx, &sdksigner.PutSigningProfileInput{ProfileName: aws.String("bench"), PlatformId: aws.String("AmazonFreeRTOS-Default")}); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(fw)))
	b.ReportAllocs()
	for b.Loop() {
		job, err := sc.StartSigningJob(ctx, &sdksigner.StartSigningJobInput{
			ProfileName: aws.String("bench"),
			Source:      &types.Source{S3: &types.S3Source{BucketName: aws.String("firmware"), Key: aws.String("fw.bin"), Version: put.VersionId}},
			Destination: &types.Destination{S3: &types.S3Destination{BucketName: aws.String("signed")}},
		})
		if err != nil {
			b.Fatal(err)
		}
		for {
			d, err := sc.DescribeSigningJob(ctx, &sdksigner.DescribeSigningJobInput{JobId: job.JobId})
			if err != nil {
				b.Fatal(err)
			}
			if d.Status == types.SigningStatusSucceeded {
				break
			}
			if d.Status == types.SigningStatusFailed {
				b.Fatal(aws.ToString(d.StatusReason))
			}
			time.Sleep(time.Millisecond)
		}
	}
}
