package s3_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/otactl/otactl/local/s3"
	"github.com/otactl/otactl/local/store"
)

// TestPutObjectThen: what then writes is committed with the new version;
// an error from then leaves neither the version nor its blob behind.
func TestPutObjectThen(t *testing.T) {
	f := newFixture(t)
	f.svc.CreateBucket("signed")
	f.svc.SetVersioning("signed", s3.VersioningEnabled)

	oi, err := f.svc.PutObjectThen("signed", "job-1", strings.NewReader(`{"rawPayloadSize":1}`), "application/json",
		func(tx *store.Tx) error { return tx.Put("test-jobs", "job-1", "Succeeded") })
	if err != nil {
		t.Fatal(err)
	}
	var status string
	if found, err := f.st.Get("test-jobs", "job-1", &status); !found || err != nil || status != "Succeeded" {
		t.Fatalf("then's record: %q found %v, %v", status, found, err)
	}
	if vs, err := f.svc.ListVersions("signed", "job-1"); err != nil || len(vs) != 1 || vs[0].VersionID != oi.VersionID {
		t.Fatalf("versions after a put: %+v, %v", vs, err)
	}

	boom := errors.New("job was deleted")
	blobsBefore, _ := f.st.BlobIDs()
	_, err = f.svc.PutObjectThen("signed", "job-1", strings.NewReader("second"), "application/json",
		func(tx *store.Tx) error {
			tx.Put("test-jobs", "job-1", "overwritten")
			return boom
		})
	if !errors.Is(err, boom) {
		t.Fatalf("PutObjectThen = %v, want then's error", err)
	}
	if vs, _ := f.svc.ListVersions("signed", "job-1"); len(vs) != 1 {
		t.Fatalf("a failed then left %d versions", len(vs))
	}
	if f.st.Get("test-jobs", "job-1", &status); status != "Succeeded" {
		t.Fatalf("a failed then's write was kept: %q", status)
	}
	if blobs, _ := f.st.BlobIDs(); len(blobs) != len(blobsBefore) {
		t.Fatalf("blobs %d after a failed then, %d before", len(blobs), len(blobsBefore))
	}
}
