package s3_test

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdks3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// TestListPartsAndUploads: ListParts pages an upload's parts,
// ListMultipartUploads lists uploads in progress (by key, with prefix,
// delimiter and markers) and no longer lists completed or aborted ones.
func TestListPartsAndUploads(t *testing.T) {
	f := newFixture(t)
	f.bucket(t, "mpu", "")
	b := aws.String("mpu")
	create := func(key string) string {
		t.Helper()
		up, err := f.client.CreateMultipartUpload(ctx, &sdks3.CreateMultipartUploadInput{Bucket: b, Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		return *up.UploadId
	}
	id := create("fw/a.bin")
	for n, body := range []string{"one", "two", "three"} {
		if _, err := f.client.UploadPart(ctx, &sdks3.UploadPartInput{Bucket: b, Key: aws.String("fw/a.bin"), UploadId: aws.String(id),
			PartNumber: aws.Int32(int32(n + 1)), Body: strings.NewReader(body)}); err != nil {
			t.Fatal(err)
		}
	}
	var got []int32
	var sizes []int64
	pg := sdks3.NewListPartsPaginator(f.client, &sdks3.ListPartsInput{Bucket: b, Key: aws.String("fw/a.bin"), UploadId: aws.String(id), MaxParts: aws.Int32(2)})
	for pg.HasMorePages() {
		page, err := pg.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range page.Parts {
			got = append(got, *p.PartNumber)
			sizes = append(sizes, *p.Size)
			if p.ETag == nil || p.LastModified == nil {
				t.Fatalf("part %+v", p)
			}
		}
	}
	if len(got) != 3 || got[0] != 1 || got[2] != 3 || sizes[2] != 5 {
		t.Fatalf("ListParts = %v %v", got, sizes)
	}
	_, err := f.client.ListParts(ctx, &sdks3.ListPartsInput{Bucket: b, Key: aws.String("fw/a.bin"), UploadId: aws.String("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")})
	wantCode(t, err, "NoSuchUpload", 404)

	id2 := create("fw/a.bin")
	id3 := create("fw/b.bin")
	create("top.bin")
	list := func(in *sdks3.ListMultipartUploadsInput) *sdks3.ListMultipartUploadsOutput {
		t.Helper()
		in.Bucket = b
		out, err := f.client.ListMultipartUploads(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	keys := func(out *sdks3.ListMultipartUploadsOutput) string {
		var s []string
		for _, u := range out.Uploads {
			s = append(s, *u.Key+"#"+*u.UploadId)
		}
		for _, p := range out.CommonPrefixes {
			s = append(s, *p.Prefix)
		}
		return strings.Join(s, ",")
	}
	if k := keys(list(&sdks3.ListMultipartUploadsInput{})); k != "fw/a.bin#"+id+",fw/a.bin#"+id2+",fw/b.bin#"+id3+",top.bin#"+strings.Split(k, "top.bin#")[1] {
		t.Fatalf("all uploads: %s", k)
	}
	if k := keys(list(&sdks3.ListMultipartUploadsInput{Delimiter: aws.String("/")})); !strings.HasPrefix(k, "top.bin#") || !strings.HasSuffix(k, ",fw/") {
		t.Fatalf("with delimiter: %s", k)
	}
	page := list(&sdks3.ListMultipartUploadsInput{Prefix: aws.String("fw/"), MaxUploads: aws.Int32(2)})
	if !aws.ToBool(page.IsTruncated) || keys(page) != "fw/a.bin#"+id+",fw/a.bin#"+id2 {
		t.Fatalf("first page: %s truncated %v", keys(page), page.IsTruncated)
	}
	next := list(&sdks3.ListMultipartUploadsInput{Prefix: aws.String("fw/"), KeyMarker: page.NextKeyMarker, UploadIdMarker: page.NextUploadIdMarker})
	if keys(next) != "fw/b.bin#"+id3 || aws.ToBool(next.IsTruncated) {
		t.Fatalf("second page: %s", keys(next))
	}
	// Completed and aborted uploads are no longer in progress.
	lp, _ := f.client.ListParts(ctx, &sdks3.ListPartsInput{Bucket: b, Key: aws.String("fw/a.bin"), UploadId: aws.String(id)})
	var done []types.CompletedPart
	for _, p := range lp.Parts {
		done = append(done, types.CompletedPart{PartNumber: p.PartNumber, ETag: p.ETag})
	}
	if _, err := f.client.CompleteMultipartUpload(ctx, &sdks3.CompleteMultipartUploadInput{Bucket: b, Key: aws.String("fw/a.bin"),
		UploadId: aws.String(id), MultipartUpload: &types.CompletedMultipartUpload{Parts: done[2:]}}); err != nil {
		t.Fatal(err)
	}
	f.client.AbortMultipartUpload(ctx, &sdks3.AbortMultipartUploadInput{Bucket: b, Key: aws.String("fw/b.bin"), UploadId: aws.String(id3)})
	if k := keys(list(&sdks3.ListMultipartUploadsInput{Prefix: aws.String("fw/")})); k != "fw/a.bin#"+id2 {
		t.Fatalf("after complete and abort: %s", k)
	}
	_, err = f.client.ListParts(ctx, &sdks3.ListPartsInput{Bucket: b, Key: aws.String("fw/a.bin"), UploadId: aws.String(id)})
	wantCode(t, err, "NoSuchUpload", 404)
}

// TestUploadPartCopyAndPartNumber: parts copied from objects (whole, or a
// byte range of a given version) assemble into an object whose parts
// GetObject/HeadObject serve by partNumber with x-amz-mp-parts-count.
func TestUploadPartCopyAndPartNumber(t *testing.T) {
	f := newFixture(t)
	f.bucket(t, "src", "Enabled")
	f.bucket(t, "dst", "")
	big := bytes.Repeat([]byte("0123456789"), 6<<17) // 7.5 MiB: a part may be 5 MiB or more
	if _, err := f.client.PutObject(ctx, &sdks3.PutObjectInput{Bucket: aws.String("src"), Key: aws.String("big"), Body: bytes.NewReader(big)}); err != nil {
		t.Fatal(err)
	}
	v1 := *f.put(t, "src", "small", "first version").VersionId
	f.put(t, "src", "small", "second")
	up, err := f.client.CreateMultipartUpload(ctx, &sdks3.CreateMultipartUploadInput{Bucket: aws.String("dst"), Key: aws.String("joined")})
	if err != nil {
		t.Fatal(err)
	}
	copyPart := func(n int32, source, rng string) (*sdks3.UploadPartCopyOutput, error) {
		in := &sdks3.UploadPartCopyInput{Bucket: aws.String("dst"), Key: aws.String("joined"), UploadId: up.UploadId,
			PartNumber: aws.Int32(n), CopySource: aws.String(source)}
		if rng != "" {
			in.CopySourceRange = aws.String(rng)
		}
		return f.client.UploadPartCopy(ctx, in)
	}
	p1, err := copyPart(1, "src/big", "bytes=0-5242879")
	if err != nil {
		t.Fatal(err)
	}
	p2, err := copyPart(2, "src/small?versionId="+v1, "bytes=6-12")
	if err != nil || aws.ToString(p2.CopySourceVersionId) != v1 {
		t.Fatalf("UploadPartCopy of a version: %+v, %v", p2, err)
	}
	_, err = copyPart(3, "src/small", "bytes=0-100")
	wantCode(t, err, "InvalidArgument", 400)
	_, err = copyPart(3, "src/small", "0-1")
	wantCode(t, err, "InvalidArgument", 400)
	_, err = copyPart(3, "src/none", "")
	wantCode(t, err, "NoSuchKey", 404)
	if _, err := f.client.CompleteMultipartUpload(ctx, &sdks3.CompleteMultipartUploadInput{Bucket: aws.String("dst"), Key: aws.String("joined"),
		UploadId: up.UploadId, MultipartUpload: &types.CompletedMultipartUpload{Parts: []types.CompletedPart{
			{PartNumber: aws.Int32(1), ETag: p1.CopyPartResult.ETag}, {PartNumber: aws.Int32(2), ETag: p2.CopyPartResult.ETag}}}}); err != nil {
		t.Fatal(err)
	}
	if got := f.get(t, "dst", "joined", ""); got != string(big[:5<<20])+"version" {
		t.Fatalf("joined object is %d bytes, ends %q", len(got), got[len(got)-10:])
	}
	part := func(n int32) (*sdks3.GetObjectOutput, string, error) {
		out, err := f.client.GetObject(ctx, &sdks3.GetObjectInput{Bucket: aws.String("dst"), Key: aws.String("joined"), PartNumber: aws.Int32(n)})
		if err != nil {
			return nil, "", err
		}
		defer out.Body.Close()
		body, err := io.ReadAll(out.Body)
		return out, string(body), err
	}
	out, body, err := part(2)
	if err != nil || body != "version" || aws.ToInt32(out.PartsCount) != 2 || aws.ToString(out.ContentRange) != "bytes 5242880-5242886/5242887" {
		t.Fatalf("part 2: %q count %v range %v, %v", body, out.PartsCount, out.ContentRange, err)
	}
	head, err := f.client.HeadObject(ctx, &sdks3.HeadObjectInput{Bucket: aws.String("dst"), Key: aws.String("joined"), PartNumber: aws.Int32(1)})
	if err != nil || aws.ToInt64(head.ContentLength) != 5<<20 || aws.ToInt32(head.PartsCount) != 2 {
		t.Fatalf("HeadObject part 1: %v %v, %v", head.ContentLength, head.PartsCount, err)
	}
	_, _, err = part(3)
	wantCode(t, err, "InvalidPartNumber", 416)
	// An object one PutObject wrote is its own part 1.
	whole, err := f.client.GetObject(ctx, &sdks3.GetObjectInput{Bucket: aws.String("src"), Key: aws.String("small"), PartNumber: aws.Int32(1)})
	if err != nil || aws.ToInt64(whole.ContentLength) != 6 {
		t.Fatalf("part 1 of a plain object: %v", err)
	}
	whole.Body.Close()
}
