package s3_test

import (
	"bytes"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdks3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestMultipartUpload(t *testing.T) {
	f := newFixture(t)
	f.bucket(t, "bkt", "Enabled")
	part1 := make([]byte, 5<<20)
	rand.Read(part1)
	part2 := []byte("the tail")

	up, err := f.client.CreateMultipartUpload(ctx, &sdks3.CreateMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("big.bin"),
		ContentType: aws.String("application/x-fw")})
	if err != nil {
		t.Fatal(err)
	}
	uploadPart := func(n int32, body []byte) string {
		t.Helper()
		out, err := f.client.UploadPart(ctx, &sdks3.UploadPartInput{Bucket: aws.String("bkt"), Key: aws.String("big.bin"),
			UploadId: up.UploadId, PartNumber: aws.Int32(n), Body: bytes.NewReader(body)})
		if err != nil {
			t.Fatal(err)
		}
		return *out.ETag
	}
	uploadPart(2, []byte("replaced below"))
	e1, e2 := uploadPart(1, part1), uploadPart(2, part2)
	complete := func(ps ...types.CompletedPart) (*sdks3.CompleteMultipartUploadOutput, error) {
		return f.client.CompleteMultipartUpload(ctx, &sdks3.CompleteMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("big.bin"),
			UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: ps}})
	}
	p := func(n int32, etag string) types.CompletedPart {
		return types.CompletedPart{PartNumber: aws.Int32(n), ETag: aws.String(etag)}
	}
	_, err = complete(p(1, e1), p(2, `"0000"`))
	wantCode(t, err, "InvalidPart", 400)
	_, err = complete(p(2, e2), p(1, e1))
	wantCode(t, err, "InvalidPartOrder", 400)
	_, err = complete(p(2, e2), p(3, e2))
	wantCode(t, err, "InvalidPart", 400)

	out, err := complete(p(1, e1), p(2, e2))
	if err != nil {
		t.Fatal(err)
	}
	s1, s2 := md5.Sum(part1), md5.Sum(part2)
	all := md5.Sum(append(s1[:], s2[:]...))
	if *out.ETag != fmt.Sprintf(`"%s-2"`, hex.EncodeToString(all[:])) || out.VersionId == nil {
		t.Fatalf("Complete = ETag %s version %v", *out.ETag, out.VersionId)
	}
	if got := f.get(t, "bkt", "big.bin", ""); got != string(part1)+string(part2) {
		t.Fatalf("assembled object is %d bytes", len(got))
	}
	head, _ := f.client.HeadObject(ctx, &sdks3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("big.bin")})
	if *head.ETag != *out.ETag || *head.ContentType != "application/x-fw" {
		t.Fatalf("head = %s %s", *head.ETag, *head.ContentType)
	}
	// Completing it again answers the same result, as S3 does; its parts
	// can no longer change.
	again, err := complete(p(1, e1), p(2, e2))
	if err != nil || *again.ETag != *out.ETag || *again.VersionId != *out.VersionId {
		t.Fatalf("repeated Complete = %+v, %v", again, err)
	}
	_, err = f.client.UploadPart(ctx, &sdks3.UploadPartInput{Bucket: aws.String("bkt"), Key: aws.String("big.bin"),
		UploadId: up.UploadId, PartNumber: aws.Int32(3), Body: bytes.NewReader([]byte("x"))})
	wantCode(t, err, "NoSuchUpload", 404)

	// A part under 5 MiB that is not the last is EntityTooSmall; abort ends an upload.
	up, _ = f.client.CreateMultipartUpload(ctx, &sdks3.CreateMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("big.bin")})
	a, b := uploadPart(1, []byte("small")), uploadPart(2, []byte("x"))
	_, err = complete(p(1, a), p(2, b))
	wantCode(t, err, "EntityTooSmall", 400)
	if _, err := f.client.AbortMultipartUpload(ctx, &sdks3.AbortMultipartUploadInput{Bucket: aws.String("bkt"), Key: aws.String("big.bin"), UploadId: up.UploadId}); err != nil {
		t.Fatal(err)
	}
	_, err = f.client.UploadPart(ctx, &sdks3.UploadPartInput{Bucket: aws.String("bkt"), Key: aws.String("big.bin"),
		UploadId: up.UploadId, PartNumber: aws.Int32(3), Body: bytes.NewReader([]byte("x"))})
	wantCode(t, err, "NoSuchUpload", 404)
	_, err = f.client.CreateMultipartUpload(ctx, &sdks3.CreateMultipartUploadInput{Bucket: aws.String("nope"), Key: aws.String("k")})
	wantCode(t, err, "NoSuchBucket", 404)
}
