package s3_test

import (
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdks3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/otactl/otactl/local/s3"
)

// blobCount is how many blob files the store holds.
func (f *fixture) blobCount(t *testing.T) int {
	t.Helper()
	ids, err := f.st.BlobIDs()
	if err != nil {
		t.Fatal(err)
	}
	return len(ids)
}

func (f *fixture) copyObject(t *testing.T, bucket, key, source string, opt ...func(*sdks3.CopyObjectInput)) *sdks3.CopyObjectOutput {
	t.Helper()
	in := &sdks3.CopyObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), CopySource: aws.String(source)}
	for _, o := range opt {
		o(in)
	}
	out, err := f.client.CopyObject(ctx, in)
	if err != nil {
		t.Fatalf("CopyObject %s → %s/%s: %v", source, bucket, key, err)
	}
	return out
}

func (f *fixture) deleteVersion(t *testing.T, bucket, key, version string) {
	t.Helper()
	in := &sdks3.DeleteObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if version != "" {
		in.VersionId = aws.String(version)
	}
	if _, err := f.client.DeleteObject(ctx, in); err != nil {
		t.Fatal(err)
	}
}

func md5Tag(body string) string {
	sum := md5.Sum([]byte(body))
	return `"` + hex.EncodeToString(sum[:]) + `"`
}

// TestCopySharesBlob: a copy names its source's blob instead of writing
// the bytes again; the file stays while any version names it and goes
// with the last, whichever is deleted first, over the SDK.
func TestCopySharesBlob(t *testing.T) {
	f := newFixture(t)
	f.bucket(t, "firmware", "Enabled")
	f.bucket(t, "plain", "")
	body := strings.Repeat("firmware image;", 5000)
	v := *f.put(t, "firmware", "image.bin", body).VersionId
	if n := f.blobCount(t); n != 1 {
		t.Fatalf("%d blobs after one put", n)
	}
	cp := f.copyObject(t, "firmware", "SignedImages/job", "firmware/image.bin?versionId="+v)
	f.copyObject(t, "plain", "raw", "firmware/image.bin")
	if n := f.blobCount(t); n != 1 {
		t.Fatalf("%d blobs after two copies of one version, want the one shared", n)
	}
	if *cp.CopyObjectResult.ETag != md5Tag(body) || *cp.CopySourceVersionId != v {
		t.Fatalf("copy ETag %s source version %s", *cp.CopyObjectResult.ETag, *cp.CopySourceVersionId)
	}
	head, err := f.client.HeadObject(ctx, &sdks3.HeadObjectInput{Bucket: aws.String("plain"), Key: aws.String("raw")})
	if err != nil || *head.ContentLength != int64(len(body)) || *head.ETag != md5Tag(body) {
		t.Fatalf("HeadObject of the copy: %+v %v", head, err)
	}

	// The source version goes; both copies keep the body.
	f.deleteVersion(t, "firmware", "image.bin", v)
	if f.get(t, "firmware", "SignedImages/job", *cp.VersionId) != body || f.get(t, "plain", "raw", "") != body {
		t.Fatal("a copy lost its body when its source was deleted")
	}
	// Copied onto its own key with new metadata, the null version is
	// replaced by a version sharing its blob: the blob stays.
	f.copyObject(t, "plain", "raw", "plain/raw", func(in *sdks3.CopyObjectInput) {
		in.MetadataDirective, in.ContentType = types.MetadataDirectiveReplace, aws.String("application/octet-stream")
	})
	if f.get(t, "plain", "raw", "") != body || f.blobCount(t) != 1 {
		t.Fatalf("copy onto itself: body lost or %d blobs", f.blobCount(t))
	}
	f.deleteVersion(t, "firmware", "SignedImages/job", *cp.VersionId)
	if f.get(t, "plain", "raw", "") != body || f.blobCount(t) != 1 {
		t.Fatal("the last copy lost its body")
	}

	// A restart's sweep keeps a shared blob, and the count survives it.
	f.copyObject(t, "firmware", "again", "plain/raw")
	s3.New(f.st, testEnv)
	if f.blobCount(t) != 1 || f.get(t, "firmware", "again", "") != body {
		t.Fatal("the sweep at start removed a shared blob")
	}
	// Overwriting one sharer releases it; deleting the last removes the file.
	f.put(t, "plain", "raw", "replaced")
	if f.get(t, "firmware", "again", "") != body || f.blobCount(t) != 2 {
		t.Fatalf("after overwriting one sharer: %d blobs, want the shared one and the new", f.blobCount(t))
	}
	vs, err := f.client.ListObjectVersions(ctx, &sdks3.ListObjectVersionsInput{Bucket: aws.String("firmware"), Prefix: aws.String("again")})
	if err != nil || len(vs.Versions) != 1 {
		t.Fatalf("versions of fw/again: %v %v", vs, err)
	}
	f.deleteVersion(t, "firmware", "again", *vs.Versions[0].VersionId)
	if n := f.blobCount(t); n != 1 {
		t.Fatalf("%d blobs after the last sharer went, want only plain/raw's", n)
	}
}

// TestCopyRacesDelete copies a version while other requests delete it and
// overwrite keys: every copy that succeeds reads back whole, and once
// every version is deleted no blob is left (none lost, none leaked).
func TestCopyRacesDelete(t *testing.T) {
	f := newFixture(t)
	f.bucket(t, "firmware", "Enabled")
	f.bucket(t, "plain", "")
	const rounds, copiers = 8, 4
	type copied struct{ bucket, key, version, etag string }
	var mu sync.Mutex
	var made []copied
	for r := range rounds {
		body := strings.Repeat(fmt.Sprintf("round %d;", r), 2000+r)
		v := *f.put(t, "firmware", "src", body).VersionId
		f.put(t, "plain", "src", body)
		var wg sync.WaitGroup
		for c := range copiers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, source := range []string{"firmware/src?versionId=" + v, "plain/src"} {
					bucket, key := "firmware", fmt.Sprintf("copy-%d-%d", r, c)
					if c%2 == 1 {
						bucket, key = "plain", fmt.Sprintf("copy-%d", c) // overwrites the null version
					}
					out, err := f.client.CopyObject(ctx, &sdks3.CopyObjectInput{Bucket: aws.String(bucket), Key: aws.String(key), CopySource: aws.String(source)})
					if err != nil {
						continue // the source was deleted first
					}
					mu.Lock()
					made = append(made, copied{bucket, key, aws.ToString(out.VersionId), *out.CopyObjectResult.ETag})
					mu.Unlock()
				}
			}()
		}
		wg.Add(2)
		go func() {
			defer wg.Done()
			f.client.DeleteObject(ctx, &sdks3.DeleteObjectInput{Bucket: aws.String("firmware"), Key: aws.String("src"), VersionId: aws.String(v)})
		}()
		go func() {
			defer wg.Done()
			f.client.DeleteObject(ctx, &sdks3.DeleteObjectInput{Bucket: aws.String("plain"), Key: aws.String("src")})
		}()
		wg.Wait()
	}
	if len(made) == 0 {
		t.Fatal("no copy succeeded")
	}
	// Every acknowledged copy into the versioned bucket is there, whole.
	for _, c := range made {
		if c.bucket == "firmware" {
			if got := md5Tag(f.get(t, c.bucket, c.key, c.version)); got != c.etag {
				t.Fatalf("acknowledged copy %s/%s@%s reads %s, ETag %s", c.bucket, c.key, c.version, got, c.etag)
			}
		}
	}
	// Every version listed now reads back whole.
	for _, bucket := range []string{"firmware", "plain"} {
		vs, err := f.client.ListObjectVersions(ctx, &sdks3.ListObjectVersionsInput{Bucket: aws.String(bucket)})
		if err != nil {
			t.Fatal(err)
		}
		for _, ver := range vs.Versions {
			if got := md5Tag(f.get(t, bucket, *ver.Key, *ver.VersionId)); got != *ver.ETag {
				t.Fatalf("%s/%s@%s reads %s, ETag %s", bucket, *ver.Key, *ver.VersionId, got, *ver.ETag)
			}
		}
		for _, m := range vs.DeleteMarkers {
			f.deleteVersion(t, bucket, *m.Key, *m.VersionId)
		}
		for _, ver := range vs.Versions {
			f.deleteVersion(t, bucket, *ver.Key, *ver.VersionId)
		}
	}
	if n := f.blobCount(t); n != 0 {
		t.Fatalf("%d blobs left after every version was deleted", n)
	}
}
