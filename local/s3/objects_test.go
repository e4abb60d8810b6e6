package s3_test

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdks3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestUnversionedObjects(t *testing.T) {
	f := newFixture(t)
	f.bucket(t, "plain", "")
	out := f.put(t, "plain", "dir/fw.bin", "first")
	if out.VersionId != nil {
		t.Errorf("unversioned PutObject returned version %q", *out.VersionId)
	}
	sum := md5.Sum([]byte("second"))
	out = f.put(t, "plain", "dir/fw.bin", "second")
	if *out.ETag != `"`+hex.EncodeToString(sum[:])+`"` {
		t.Errorf("ETag = %s", *out.ETag)
	}
	if got := f.get(t, "plain", "dir/fw.bin", ""); got != "second" {
		t.Fatalf("GetObject = %q", got)
	}
	head, err := f.client.HeadObject(ctx, &sdks3.HeadObjectInput{Bucket: aws.String("plain"), Key: aws.String("dir/fw.bin")})
	if err != nil || *head.ContentLength != 6 || *head.ETag != *out.ETag || head.LastModified == nil {
		t.Fatalf("HeadObject = %+v, %v", head, err)
	}
	// The overwritten body is gone: one "null" version.
	vs, err := f.client.ListObjectVersions(ctx, &sdks3.ListObjectVersionsInput{Bucket: aws.String("plain")})
	if err != nil || len(vs.Versions) != 1 || *vs.Versions[0].VersionId != "null" || !*vs.Versions[0].IsLatest {
		t.Fatalf("ListObjectVersions = %+v, %v", vs, err)
	}
	if got := f.get(t, "plain", "dir/fw.bin", "null"); got != "second" {
		t.Fatalf("GetObject(null) = %q", got)
	}
	// Metadata and content type round-trip.
	_, err = f.client.PutObject(ctx, &sdks3.PutObjectInput{Bucket: aws.String("plain"), Key: aws.String("meta"),
		Body: strings.NewReader("{}"), ContentType: aws.String("application/json"),
		Metadata: map[string]string{"build": "42"}})
	if err != nil {
		t.Fatal(err)
	}
	head, err = f.client.HeadObject(ctx, &sdks3.HeadObjectInput{Bucket: aws.String("plain"), Key: aws.String("meta")})
	if err != nil || *head.ContentType != "application/json" || head.Metadata["build"] != "42" {
		t.Fatalf("HeadObject(meta) = %+v, %v", head, err)
	}
	// Keys with characters that need escaping.
	odd := "a b/ü+%?#=&.bin"
	f.put(t, "plain", odd, "odd")
	if got := f.get(t, "plain", odd, ""); got != "odd" {
		t.Fatalf("GetObject(%q) = %q", odd, got)
	}
}

func TestVersionedObjects(t *testing.T) {
	f := newFixture(t)
	f.bucket(t, "vers", "Enabled")
	v1 := *f.put(t, "vers", "fw", "one").VersionId
	v2 := *f.put(t, "vers", "fw", "two").VersionId
	if v1 == v2 || v1 == "null" || v2 == "" {
		t.Fatalf("versions %q %q", v1, v2)
	}
	if f.get(t, "vers", "fw", "") != "two" || f.get(t, "vers", "fw", v1) != "one" || f.get(t, "vers", "fw", v2) != "two" {
		t.Fatal("wrong bodies by version")
	}
	got, err := f.client.GetObject(ctx, &sdks3.GetObjectInput{Bucket: aws.String("vers"), Key: aws.String("fw"), VersionId: aws.String(v1)})
	if err != nil || *got.VersionId != v1 {
		t.Fatalf("GetObject(v1) version = %v, %v", got.VersionId, err)
	}
	got.Body.Close()

	// Suspended: new writes are the "null" version, replacing each other,
	// and the earlier versions stay.
	f.client.PutBucketVersioning(ctx, &sdks3.PutBucketVersioningInput{Bucket: aws.String("vers"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: "Suspended"}})
	f.put(t, "vers", "fw", "three")
	f.put(t, "vers", "fw", "four")
	f.put(t, "vers", "other", "x")
	vs, err := f.client.ListObjectVersions(ctx, &sdks3.ListObjectVersionsInput{Bucket: aws.String("vers")})
	if err != nil {
		t.Fatal(err)
	}
	var rows []string
	for _, v := range vs.Versions {
		rows = append(rows, *v.Key+"@"+short(*v.VersionId, v1, v2)+latest(*v.IsLatest)+"="+string(rune('0'+*v.Size)))
	}
	want := "fw@null*=4,fw@v2=3,fw@v1=3,other@null*=1"
	if strings.Join(rows, ",") != want {
		t.Fatalf("versions = %v, want %s", rows, want)
	}
	if f.get(t, "vers", "fw", "") != "four" || f.get(t, "vers", "fw", "null") != "four" {
		t.Fatal("suspended write not latest")
	}
	if f.get(t, "vers", "fw", v1) != "one" {
		t.Fatal("older version lost")
	}

	// Prefix filters versions.
	vs, err = f.client.ListObjectVersions(ctx, &sdks3.ListObjectVersionsInput{Bucket: aws.String("vers"), Prefix: aws.String("oth")})
	if err != nil || len(vs.Versions) != 1 {
		t.Fatalf("prefix listing = %+v, %v", vs.Versions, err)
	}
}

func short(v, v1, v2 string) string {
	switch v {
	case v1:
		return "v1"
	case v2:
		return "v2"
	}
	return v
}

func latest(b bool) string {
	if b {
		return "*"
	}
	return ""
}

func TestGetObjectErrors(t *testing.T) {
	f := newFixture(t)
	f.bucket(t, "vers", "Enabled")
	f.put(t, "vers", "fw", "body")
	get := func(bucket, key, version string) error {
		in := &sdks3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
		if version != "" {
			in.VersionId = aws.String(version)
		}
		_, err := f.client.GetObject(ctx, in)
		return err
	}
	wantCode(t, get("missing", "fw", ""), "NoSuchBucket", 404)
	wantCode(t, get("vers", "nope", ""), "NoSuchKey", 404)
	wantCode(t, get("vers", "fw", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), "NoSuchVersion", 404)
	wantCode(t, get("vers", "fw", "not-a-version"), "InvalidArgument", 400)
	_, err := f.client.PutObject(ctx, &sdks3.PutObjectInput{Bucket: aws.String("missing"), Key: aws.String("k"), Body: strings.NewReader("x")})
	wantCode(t, err, "NoSuchBucket", 404)
	_, err = f.client.HeadObject(ctx, &sdks3.HeadObjectInput{Bucket: aws.String("vers"), Key: aws.String("nope")})
	wantCode(t, err, "NotFound", 404)

	// The XML error carries Code, Message, Resource and RequestId.
	status, body, hdr := rawRequest(t, http.MethodGet, f.url+"/vers/nope", nil, nil)
	for _, want := range []string{"<Error>", "<Code>NoSuchKey</Code>", "<Message>", "<Resource>nope</Resource>", "<RequestId>" + hdr.Get("x-amz-request-id") + "</RequestId>"} {
		if !strings.Contains(body, want) {
			t.Errorf("error body %d %s lacks %s", status, body, want)
		}
	}
}

func TestRange(t *testing.T) {
	f := newFixture(t)
	f.bucket(t, "bkt", "")
	f.put(t, "bkt", "k", "0123456789")
	for _, c := range []struct{ rng, body, contentRange string }{
		{"bytes=0-3", "0123", "bytes 0-3/10"},
		{"bytes=7-", "789", "bytes 7-9/10"},
		{"bytes=-2", "89", "bytes 8-9/10"},
		{"bytes=5-100", "56789", "bytes 5-9/10"},
		{"bytes=-50", "0123456789", "bytes 0-9/10"},
	} {
		out, err := f.client.GetObject(ctx, &sdks3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), Range: aws.String(c.rng)})
		if err != nil {
			t.Fatalf("%s: %v", c.rng, err)
		}
		b, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if string(b) != c.body || *out.ContentRange != c.contentRange || *out.ContentLength != int64(len(c.body)) {
			t.Errorf("%s: %q %s %d", c.rng, b, *out.ContentRange, *out.ContentLength)
		}
	}
	for _, rng := range []string{"bytes=10-", "bytes=20-30", "bytes=-0"} {
		_, err := f.client.GetObject(ctx, &sdks3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), Range: aws.String(rng)})
		wantCode(t, err, "InvalidRange", 416)
	}
	// A range S3 cannot parse is ignored: the whole object, 200.
	status, body, _ := rawRequest(t, http.MethodGet, f.url+"/bkt/k", nil, map[string]string{"Range": "bytes=5-2"})
	if status != 200 || body != "0123456789" {
		t.Fatalf("bad range syntax: %d %q", status, body)
	}
}

func TestContentMD5(t *testing.T) {
	f := newFixture(t)
	f.bucket(t, "bkt", "Enabled")
	sum := md5.Sum([]byte("payload"))
	good := base64.StdEncoding.EncodeToString(sum[:])
	_, err := f.client.PutObject(ctx, &sdks3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"),
		Body: strings.NewReader("payload"), ContentMD5: aws.String(good)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.client.PutObject(ctx, &sdks3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"),
		Body: strings.NewReader("tampered"), ContentMD5: aws.String(good)})
	wantCode(t, err, "BadDigest", 400)
	_, err = f.client.PutObject(ctx, &sdks3.PutObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"),
		Body: strings.NewReader("payload"), ContentMD5: aws.String("not base64!")})
	wantCode(t, err, "InvalidDigest", 400)
	// Nothing of the rejected bodies was kept.
	vs, _ := f.client.ListObjectVersions(ctx, &sdks3.ListObjectVersionsInput{Bucket: aws.String("bkt")})
	if len(vs.Versions) != 1 || f.get(t, "bkt", "k", "") != "payload" {
		t.Fatalf("versions after BadDigest: %d", len(vs.Versions))
	}
}

func TestCopyObject(t *testing.T) {
	f := newFixture(t)
	f.bucket(t, "src", "Enabled")
	f.bucket(t, "dst", "Enabled")
	v1 := *f.put(t, "src", "fw.bin", "raw firmware").VersionId
	v2 := *f.put(t, "src", "fw.bin", "newer").VersionId

	out, err := f.client.CopyObject(ctx, &sdks3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("signed/fw.bin"),
		CopySource: aws.String("src/fw.bin?versionId=" + v1)})
	if err != nil {
		t.Fatal(err)
	}
	if out.VersionId == nil || *out.VersionId == v1 || *out.CopySourceVersionId != v1 {
		t.Fatalf("CopyObject versions: new %v source %v", out.VersionId, out.CopySourceVersionId)
	}
	sum := md5.Sum([]byte("raw firmware"))
	if *out.CopyObjectResult.ETag != `"`+hex.EncodeToString(sum[:])+`"` {
		t.Errorf("copy ETag %s", *out.CopyObjectResult.ETag)
	}
	if f.get(t, "dst", "signed/fw.bin", *out.VersionId) != "raw firmware" {
		t.Fatal("copied body differs")
	}
	// Without versionId the latest is copied; the source version is reported.
	out, err = f.client.CopyObject(ctx, &sdks3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("signed/fw.bin"),
		CopySource: aws.String("/src/fw.bin")})
	if err != nil || *out.CopySourceVersionId != v2 {
		t.Fatalf("CopyObject(latest) = %+v, %v", out, err)
	}
	vs, _ := f.client.ListObjectVersions(ctx, &sdks3.ListObjectVersionsInput{Bucket: aws.String("dst")})
	if len(vs.Versions) != 2 {
		t.Fatalf("destination has %d versions, want 2", len(vs.Versions))
	}

	_, err = f.client.CopyObject(ctx, &sdks3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("x"), CopySource: aws.String("src/missing")})
	wantCode(t, err, "NoSuchKey", 404)
	_, err = f.client.CopyObject(ctx, &sdks3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("x"),
		CopySource: aws.String("src/fw.bin?versionId=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")})
	wantCode(t, err, "NoSuchVersion", 404)
	_, err = f.client.CopyObject(ctx, &sdks3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("x"), CopySource: aws.String("nobucketkey")})
	wantCode(t, err, "InvalidArgument", 400)
	_, err = f.client.CopyObject(ctx, &sdks3.CopyObjectInput{Bucket: aws.String("nope"), Key: aws.String("x"), CopySource: aws.String("src/fw.bin")})
	wantCode(t, err, "NoSuchBucket", 404)

	// REPLACE takes content type from the request; COPY keeps the source's.
	_, err = f.client.CopyObject(ctx, &sdks3.CopyObjectInput{Bucket: aws.String("dst"), Key: aws.String("typed"),
		CopySource: aws.String("src/fw.bin"), MetadataDirective: types.MetadataDirectiveReplace, ContentType: aws.String("application/x-fw")})
	if err != nil {
		t.Fatal(err)
	}
	head, _ := f.client.HeadObject(ctx, &sdks3.HeadObjectInput{Bucket: aws.String("dst"), Key: aws.String("typed")})
	if *head.ContentType != "application/x-fw" {
		t.Fatalf("content type %s", *head.ContentType)
	}
}

func TestDeleteObject(t *testing.T) {
	f := newFixture(t)
	f.bucket(t, "vers", "Enabled")
	v1 := *f.put(t, "vers", "fw", "one").VersionId
	del, err := f.client.DeleteObject(ctx, &sdks3.DeleteObjectInput{Bucket: aws.String("vers"), Key: aws.String("fw")})
	if err != nil || !*del.DeleteMarker || del.VersionId == nil {
		t.Fatalf("DeleteObject = %+v, %v", del, err)
	}
	marker := *del.VersionId
	_, err = f.client.GetObject(ctx, &sdks3.GetObjectInput{Bucket: aws.String("vers"), Key: aws.String("fw")})
	wantCode(t, err, "NoSuchKey", 404)
	if f.get(t, "vers", "fw", v1) != "one" {
		t.Fatal("old version lost under delete marker")
	}
	_, err = f.client.GetObject(ctx, &sdks3.GetObjectInput{Bucket: aws.String("vers"), Key: aws.String("fw"), VersionId: aws.String(marker)})
	wantCode(t, err, "MethodNotAllowed", 405)

	vs, err := f.client.ListObjectVersions(ctx, &sdks3.ListObjectVersionsInput{Bucket: aws.String("vers")})
	if err != nil || len(vs.DeleteMarkers) != 1 || !*vs.DeleteMarkers[0].IsLatest || *vs.DeleteMarkers[0].VersionId != marker ||
		len(vs.Versions) != 1 || *vs.Versions[0].IsLatest {
		t.Fatalf("versions after delete = %+v, %v", vs, err)
	}
	lst, _ := f.client.ListObjectsV2(ctx, &sdks3.ListObjectsV2Input{Bucket: aws.String("vers")})
	if len(lst.Contents) != 0 {
		t.Fatalf("deleted key still listed: %+v", lst.Contents)
	}

	// Deleting the marker brings the object back.
	del, err = f.client.DeleteObject(ctx, &sdks3.DeleteObjectInput{Bucket: aws.String("vers"), Key: aws.String("fw"), VersionId: aws.String(marker)})
	if err != nil || !*del.DeleteMarker || *del.VersionId != marker {
		t.Fatalf("DeleteObject(marker) = %+v, %v", del, err)
	}
	if f.get(t, "vers", "fw", "") != "one" {
		t.Fatal("object not back after removing the marker")
	}
	// Deleting a version removes it for good.
	if _, err := f.client.DeleteObject(ctx, &sdks3.DeleteObjectInput{Bucket: aws.String("vers"), Key: aws.String("fw"), VersionId: aws.String(v1)}); err != nil {
		t.Fatal(err)
	}
	_, err = f.client.GetObject(ctx, &sdks3.GetObjectInput{Bucket: aws.String("vers"), Key: aws.String("fw"), VersionId: aws.String(v1)})
	wantCode(t, err, "NoSuchVersion", 404)
	_, err = f.client.DeleteObject(ctx, &sdks3.DeleteObjectInput{Bucket: aws.String("vers"), Key: aws.String("fw"), VersionId: aws.String("bad id")})
	wantCode(t, err, "InvalidArgument", 400)

	// Unversioned: the object is simply gone; deleting again is fine.
	f.bucket(t, "plain", "")
	f.put(t, "plain", "k", "x")
	for i := 0; i < 2; i++ {
		del, err := f.client.DeleteObject(ctx, &sdks3.DeleteObjectInput{Bucket: aws.String("plain"), Key: aws.String("k")})
		if err != nil || del.DeleteMarker != nil && *del.DeleteMarker {
			t.Fatalf("DeleteObject(unversioned) = %+v, %v", del, err)
		}
	}
	vs, _ = f.client.ListObjectVersions(ctx, &sdks3.ListObjectVersionsInput{Bucket: aws.String("plain")})
	if len(vs.Versions)+len(vs.DeleteMarkers) != 0 {
		t.Fatal("unversioned delete left versions")
	}
	// Suspended: the delete marker is the "null" version.
	f.bucket(t, "susp", "Suspended")
	f.put(t, "susp", "k", "x")
	del, err = f.client.DeleteObject(ctx, &sdks3.DeleteObjectInput{Bucket: aws.String("susp"), Key: aws.String("k")})
	if err != nil || !*del.DeleteMarker || *del.VersionId != "null" {
		t.Fatalf("DeleteObject(suspended) = %+v, %v", del, err)
	}
	vs, _ = f.client.ListObjectVersions(ctx, &sdks3.ListObjectVersionsInput{Bucket: aws.String("susp")})
	if len(vs.Versions) != 0 || len(vs.DeleteMarkers) != 1 {
		t.Fatalf("suspended delete: %d versions %d markers", len(vs.Versions), len(vs.DeleteMarkers))
	}
	_, err = f.client.DeleteObject(ctx, &sdks3.DeleteObjectInput{Bucket: aws.String("nope"), Key: aws.String("k")})
	wantCode(t, err, "NoSuchBucket", 404)
}

func TestConditionalGet(t *testing.T) {
	f := newFixture(t)
	f.bucket(t, "bkt", "")
	etag := *f.put(t, "bkt", "k", "body").ETag
	head, _ := f.client.HeadObject(ctx, &sdks3.HeadObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k")})
	lm := *head.LastModified

	_, err := f.client.GetObject(ctx, &sdks3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), IfMatch: aws.String(`"nope"`)})
	wantCode(t, err, "PreconditionFailed", 412)
	out, err := f.client.GetObject(ctx, &sdks3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), IfMatch: aws.String(etag)})
	if err != nil {
		t.Fatal(err)
	}
	out.Body.Close()
	_, err = f.client.GetObject(ctx, &sdks3.GetObjectInput{Bucket: aws.String("bkt"), Key: aws.String("k"), IfUnmodifiedSince: aws.Time(lm.Add(-time.Hour))})
	wantCode(t, err, "PreconditionFailed", 412)

	status, body, _ := rawRequest(t, http.MethodGet, f.url+"/bkt/k", nil, map[string]string{"If-None-Match": etag})
	if status != 304 || body != "" {
		t.Fatalf("If-None-Match: %d %q", status, body)
	}
	status, _, _ = rawRequest(t, http.MethodGet, f.url+"/bkt/k", nil, map[string]string{"If-Modified-Since": lm.Add(time.Hour).Format(http.TimeFormat)})
	if status != 304 {
		t.Fatalf("If-Modified-Since (future): %d", status)
	}
	status, _, _ = rawRequest(t, http.MethodGet, f.url+"/bkt/k", nil, map[string]string{"If-Modified-Since": lm.Add(-time.Hour).Format(http.TimeFormat)})
	if status != 200 {
		t.Fatalf("If-Modified-Since (past): %d", status)
	}
}
