package s3_test

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdks3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func tagSet(kv ...string) []types.Tag {
	var ts []types.Tag
	for i := 0; i+1 < len(kv); i += 2 {
		ts = append(ts, types.Tag{Key: aws.String(kv[i]), Value: aws.String(kv[i+1])})
	}
	return ts
}

func tagString(ts []types.Tag) string {
	s := ""
	for _, t := range ts {
		s += aws.ToString(t.Key) + "=" + aws.ToString(t.Value) + ";"
	}
	return s
}

func TestBucketTagging(t *testing.T) {
	f := newFixture(t)
	f.bucket(t, "tagged", "")
	b := aws.String("tagged")
	_, err := f.client.GetBucketTagging(ctx, &sdks3.GetBucketTaggingInput{Bucket: b})
	wantCode(t, err, "NoSuchTagSet", 404)
	if _, err := f.client.PutBucketTagging(ctx, &sdks3.PutBucketTaggingInput{Bucket: b,
		Tagging: &types.Tagging{TagSet: tagSet("team", "fw", "env", "dev")}}); err != nil {
		t.Fatal(err)
	}
	got, err := f.client.GetBucketTagging(ctx, &sdks3.GetBucketTaggingInput{Bucket: b})
	if err != nil || tagString(got.TagSet) != "team=fw;env=dev;" {
		t.Fatalf("GetBucketTagging = %v, %v", got, err)
	}
	// Refused sets leave the stored one as it was.
	var many []string
	for i := range 51 {
		many = append(many, fmt.Sprint("k", i), "v")
	}
	for name, set := range map[string][]types.Tag{"51 tags": tagSet(many...), "duplicate key": tagSet("a", "1", "a", "2"),
		"aws: prefix": tagSet("aws:x", "1")} {
		_, err := f.client.PutBucketTagging(ctx, &sdks3.PutBucketTaggingInput{Bucket: b, Tagging: &types.Tagging{TagSet: set}})
		if err == nil {
			t.Fatalf("%s accepted", name)
		}
		wantCode(t, err, "InvalidTag", 400)
	}
	if got, _ := f.client.GetBucketTagging(ctx, &sdks3.GetBucketTaggingInput{Bucket: b}); tagString(got.TagSet) != "team=fw;env=dev;" {
		t.Fatalf("tags after refusals: %v", tagString(got.TagSet))
	}
	if _, err := f.client.DeleteBucketTagging(ctx, &sdks3.DeleteBucketTaggingInput{Bucket: b}); err != nil {
		t.Fatal(err)
	}
	_, err = f.client.GetBucketTagging(ctx, &sdks3.GetBucketTaggingInput{Bucket: b})
	wantCode(t, err, "NoSuchTagSet", 404)
	_, err = f.client.GetBucketTagging(ctx, &sdks3.GetBucketTaggingInput{Bucket: aws.String("none")})
	wantCode(t, err, "NoSuchBucket", 404)
}

func TestObjectTagging(t *testing.T) {
	f := newFixture(t)
	f.bucket(t, "otag", "Enabled")
	b := aws.String("otag")
	p1, err := f.client.PutObject(ctx, &sdks3.PutObjectInput{Bucket: b, Key: aws.String("fw"), Body: nil,
		Tagging: aws.String("stage=beta&note=a%20b")})
	if err != nil {
		t.Fatal(err)
	}
	v1 := *p1.VersionId
	v2 := *f.put(t, "otag", "fw", "two").VersionId
	tags := func(version string) string {
		t.Helper()
		in := &sdks3.GetObjectTaggingInput{Bucket: b, Key: aws.String("fw")}
		if version != "" {
			in.VersionId = aws.String(version)
		}
		out, err := f.client.GetObjectTagging(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if want := version; want != "" && aws.ToString(out.VersionId) != want {
			t.Fatalf("GetObjectTagging version %v, want %s", out.VersionId, want)
		}
		return tagString(out.TagSet)
	}
	if tags(v1) != "stage=beta;note=a b;" || tags("") != "" {
		t.Fatalf("tags v1 %q latest %q", tags(v1), tags(""))
	}
	put, err := f.client.PutObjectTagging(ctx, &sdks3.PutObjectTaggingInput{Bucket: b, Key: aws.String("fw"), VersionId: aws.String(v2),
		Tagging: &types.Tagging{TagSet: tagSet("stage", "prod")}})
	if err != nil || aws.ToString(put.VersionId) != v2 {
		t.Fatalf("PutObjectTagging = %+v, %v", put, err)
	}
	if tags("") != "stage=prod;" || tags(v1) != "stage=beta;note=a b;" {
		t.Fatal("tagging one version changed another")
	}
	// x-amz-tagging-count on GET and HEAD.
	if status, _, h := rawRequest(t, "HEAD", f.url+"/otag/fw?versionId="+v1, nil, nil); status != 200 || h.Get("x-amz-tagging-count") != "2" {
		t.Fatalf("HEAD: %d, x-amz-tagging-count %q", status, h.Get("x-amz-tagging-count"))
	}
	get, err := f.client.GetObject(ctx, &sdks3.GetObjectInput{Bucket: b, Key: aws.String("fw")})
	if err != nil || aws.ToInt32(get.TagCount) != 1 {
		t.Fatalf("GetObject TagCount %v, %v", get.TagCount, err)
	}
	get.Body.Close()
	// Copy keeps the source's tags, or replaces them with the directive.
	copyTo := func(key string, in *sdks3.CopyObjectInput) string {
		t.Helper()
		in.Bucket, in.Key, in.CopySource = b, aws.String(key), aws.String("otag/fw?versionId="+v1)
		if _, err := f.client.CopyObject(ctx, in); err != nil {
			t.Fatal(err)
		}
		out, err := f.client.GetObjectTagging(ctx, &sdks3.GetObjectTaggingInput{Bucket: b, Key: aws.String(key)})
		if err != nil {
			t.Fatal(err)
		}
		return tagString(out.TagSet)
	}
	if got := copyTo("kept", &sdks3.CopyObjectInput{}); got != "stage=beta;note=a b;" {
		t.Fatalf("COPY directive: %q", got)
	}
	if got := copyTo("replaced", &sdks3.CopyObjectInput{TaggingDirective: types.TaggingDirectiveReplace, Tagging: aws.String("x=1")}); got != "x=1;" {
		t.Fatalf("REPLACE directive: %q", got)
	}
	if _, err := f.client.DeleteObjectTagging(ctx, &sdks3.DeleteObjectTaggingInput{Bucket: b, Key: aws.String("fw"), VersionId: aws.String(v1)}); err != nil {
		t.Fatal(err)
	}
	if tags(v1) != "" || tags("") != "stage=prod;" {
		t.Fatal("DeleteObjectTagging removed the wrong set")
	}
	// Eleven tags, on PUT or PutObjectTagging, are refused and store nothing.
	var eleven []string
	q := ""
	for i := range 11 {
		eleven = append(eleven, "k"+strconv.Itoa(i), "v")
		q += fmt.Sprintf("k%d=v&", i)
	}
	_, err = f.client.PutObjectTagging(ctx, &sdks3.PutObjectTaggingInput{Bucket: b, Key: aws.String("fw"), Tagging: &types.Tagging{TagSet: tagSet(eleven...)}})
	wantCode(t, err, "InvalidTag", 400)
	_, err = f.client.PutObject(ctx, &sdks3.PutObjectInput{Bucket: b, Key: aws.String("eleven"), Tagging: aws.String(q)})
	wantCode(t, err, "InvalidTag", 400)
	_, err = f.client.HeadObject(ctx, &sdks3.HeadObjectInput{Bucket: b, Key: aws.String("eleven")})
	wantCode(t, err, "NotFound", 404)
	_, err = f.client.GetObjectTagging(ctx, &sdks3.GetObjectTaggingInput{Bucket: b, Key: aws.String("none")})
	wantCode(t, err, "NoSuchKey", 404)
}
