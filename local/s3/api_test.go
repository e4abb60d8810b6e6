package s3_test

import (
	"errors"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/otactl/otactl/local/s3"
)

func wantS3Error(t *testing.T, err error, code string, status int) {
	t.Helper()
	var e *s3.Error
	if !errors.As(err, &e) || e.Code != code || e.Status != status {
		t.Fatalf("want *s3.Error %s/%d, got %v", code, status, err)
	}
}

// TestGoAPI is the API the signer, IoT streams and MQTT file streams use:
// exact versions, block reads with ReadAt, listings, errors with S3 codes.
func TestGoAPI(t *testing.T) {
	f := newFixture(t)
	svc := f.svc
	if err := svc.CreateBucket("fwb"); err != nil {
		t.Fatal(err)
	}
	wantS3Error(t, svc.CreateBucket("fwb"), "BucketAlreadyOwnedByYou", 409)
	if v, _ := svc.Versioning("fwb"); v != "" {
		t.Fatalf("Versioning = %q", v)
	}
	if err := svc.SetVersioning("fwb", s3.VersioningEnabled); err != nil {
		t.Fatal(err)
	}
	wantS3Error(t, svc.SetVersioning("fwb", "On"), "MalformedXML", 400)
	_, err := svc.Versioning("nope")
	wantS3Error(t, err, "NoSuchBucket", 404)

	raw, err := svc.PutObject("fwb", "app.bin", strings.NewReader("0123456789"), "application/octet-stream")
	if err != nil || raw.Size != 10 || raw.VersionID == "" || raw.VersionID == s3.NullVersion || !raw.IsLatest {
		t.Fatalf("PutObject = %+v, %v", raw, err)
	}
	signed, err := svc.PutObject("fwb", "app.bin", strings.NewReader(`{"signature":"x"}`), "application/json")
	if err != nil {
		t.Fatal(err)
	}

	obj, err := svc.OpenObject("fwb", "app.bin", raw.VersionID)
	if err != nil {
		t.Fatal(err)
	}
	block := make([]byte, 4)
	if n, err := obj.ReadAt(block, 4); n != 4 || err != nil || string(block) != "4567" {
		t.Fatalf("ReadAt = %d %v %q", n, err, block)
	}
	if obj.Size != 10 || obj.VersionID != raw.VersionID || obj.IsLatest || obj.ETag != raw.ETag {
		t.Fatalf("Object info = %+v", obj.ObjectInfo)
	}
	obj.Seek(8, io.SeekStart)
	rest, _ := io.ReadAll(obj)
	if string(rest) != "89" {
		t.Fatalf("Seek+Read = %q", rest)
	}
	obj.Close()

	head, err := svc.HeadObject("fwb", "app.bin", "")
	if err != nil || head.VersionID != signed.VersionID || head.ContentType != "application/json" || !head.IsLatest {
		t.Fatalf("HeadObject(latest) = %+v, %v", head, err)
	}
	_, err = svc.HeadObject("fwb", "app.bin", "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
	wantS3Error(t, err, "NoSuchVersion", 404)
	_, err = svc.OpenObject("fwb", "missing", "")
	wantS3Error(t, err, "NoSuchKey", 404)
	_, err = svc.PutObject("nope", "k", strings.NewReader("x"), "")
	wantS3Error(t, err, "NoSuchBucket", 404)

	svc.PutObject("fwb", "other.bin", strings.NewReader("x"), "")
	vs, err := svc.ListVersions("fwb", "app")
	if err != nil || len(vs) != 2 || vs[0].VersionID != signed.VersionID || !vs[0].IsLatest || vs[1].IsLatest {
		t.Fatalf("ListVersions = %+v, %v", vs, err)
	}
	all, _ := svc.ListVersions("fwb", "")
	if len(all) != 3 || all[2].Key != "other.bin" || !all[2].IsLatest {
		t.Fatalf("ListVersions(all) = %+v", all)
	}

	// A deleted version can no longer be opened, but an open one keeps reading.
	keep, _ := svc.OpenObject("fwb", "app.bin", raw.VersionID)
	defer keep.Close()
	if _, err := svc.DeleteObject("fwb", "app.bin", raw.VersionID); err != nil {
		t.Fatal(err)
	}
	_, err = svc.OpenObject("fwb", "app.bin", raw.VersionID)
	wantS3Error(t, err, "NoSuchVersion", 404)
	if b, _ := io.ReadAll(keep); string(b) != "0123456789" {
		t.Fatalf("open object after delete read %q", b)
	}
}

func TestPayloadSHA256Mismatch(t *testing.T) {
	f := newFixture(t)
	f.bucket(t, "bkt", "")
	status, body, _ := rawRequest(t, http.MethodPut, f.url+"/bkt/k", []byte("data"),
		map[string]string{"X-Amz-Content-Sha256": strings.Repeat("ab", 32)})
	if status != 400 || !strings.Contains(body, "XAmzContentSHA256Mismatch") {
		t.Fatalf("%d %s", status, body)
	}
	if _, err := f.svc.HeadObject("bkt", "k", ""); err == nil {
		t.Fatal("mismatched body was stored")
	}
}

// TestPresignGetURL checks the URL's shape; that the server verifies it is
// tested in package local, where authentication lives.
func TestPresignGetURL(t *testing.T) {
	f := newFixture(t)
	f.bucket(t, "bkt", "Enabled")
	v := *f.put(t, "bkt", "dir/fw 1.bin", "firmware").VersionId
	u, err := f.svc.PresignGet("bkt", "dir/fw 1.bin", v, 10*time.Minute, "")
	if err != nil {
		t.Fatal(err)
	}
	pu, _ := url.Parse(u)
	q := pu.Query()
	if !strings.HasPrefix(u, f.url+"/bkt/dir/fw%201.bin?") || q.Get("versionId") != v || q.Get("X-Amz-Expires") != "600" ||
		q.Get("X-Amz-Algorithm") != "AWS4-HMAC-SHA256" || !strings.HasPrefix(q.Get("X-Amz-Credential"), "AKIDLOCAL/") ||
		q.Get("X-Amz-Signature") == "" || q.Get("X-Amz-SignedHeaders") != "host" {
		t.Fatalf("presigned URL %s", u)
	}
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || string(b) != "firmware" {
		t.Fatalf("GET presigned: %d %q", resp.StatusCode, b)
	}
	if _, err := f.svc.PresignGet("bkt", "k", "", 8*24*time.Hour, ""); err == nil {
		t.Fatal("presigning for 8 days succeeded")
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestPutObjectStreams writes 64 MiB through the Go API and checks the heap
// did not grow with the object: bodies stream to the blob file.
func TestPutObjectStreams(t *testing.T) {
	f := newFixture(t)
	f.svc.CreateBucket("big")
	const size = 64 << 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	oi, err := f.svc.PutObject("big", "blob", io.LimitReader(zeros{}, size), "")
	runtime.ReadMemStats(&after)
	if err != nil || oi.Size != size {
		t.Fatalf("PutObject = %+v, %v", oi, err)
	}
	if grew := after.TotalAlloc - before.TotalAlloc; grew > size/8 {
		t.Fatalf("PutObject of %d bytes allocated %d bytes", size, grew)
	}
}

// TestSweepOrphans: a blob no record names (a crash between writing a body
// and committing it) is removed when the service starts; named ones stay.
func TestSweepOrphans(t *testing.T) {
	f := newFixture(t)
	f.svc.CreateBucket("keep")
	f.svc.PutObject("keep", "k", strings.NewReader("kept"), "")
	orphan, err := f.st.WriteBlob(strings.NewReader("never committed"), nil)
	if err != nil {
		t.Fatal(err)
	}
	s3.New(f.st, testEnv)
	ids, _ := f.st.BlobIDs()
	if len(ids) != 1 || ids[0] == orphan.ID {
		t.Fatalf("blobs after sweep: %v (orphan %s)", ids, orphan.ID)
	}
	obj, err := f.svc.OpenObject("keep", "k", "")
	if err != nil {
		t.Fatal(err)
	}
	obj.Close()
}
