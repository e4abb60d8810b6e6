package iot

import (
	"testing"
	"time"

	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/local/wire"
	"github.com/otactl/otactl/ota"
)

// TestOTAUpdateRestart checks how a start settles the updates a stopped (or
// killed) server left in progress: complete when their job exists, failed
// otherwise; finished ones are left alone.
func TestOTAUpdateRestart(t *testing.T) {
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := New(st, wire.Env{Region: "us-east-1", AccountID: "123456789012"}, nil)
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	put := func(id, status string) {
		u := &otaUpdate{ID: id, Status: status, JobID: "AFR_OTA-" + id, JobArn: svc.jobArn("AFR_OTA-" + id), CreatedAt: created, UpdatedAt: created,
			Request: ota.OTAUpdateRequest{OTAUpdateID: id, Files: []ota.File{{FileLocation: ota.FileLocation{S3Location: &ota.S3Location{Bucket: "b", Key: "k"}}}}}}
		if err := st.Put(tOTAUpdates, id, u); err != nil {
			t.Fatal(err)
		}
	}
	put("job-made", OTACreateInProgress)
	put("cut-short", OTACreateInProgress)
	put("never-started", OTACreatePending)
	put("done", OTACreateComplete)
	// The interrupted pipeline got as far as CreateJob for job-made.
	err = st.Update(func(tx *store.Tx) error {
		return putTags(tx, svc.jobArn("AFR_OTA-job-made"), []ota.Tag{{Key: ota.TagUpdateID, Value: "job-made"}, {Key: ota.TagStreamID, Value: "AFR_OTA-s1"}})
	})
	if err != nil {
		t.Fatal(err)
	}

	o, err := ServeOTAUpdates(svc, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	want := map[string]string{"job-made": OTACreateComplete, "cut-short": OTACreateFailed, "never-started": OTACreateFailed, "done": OTACreateComplete}
	for id, status := range want {
		u, err := o.load(id)
		if err != nil {
			t.Fatal(err)
		}
		if u.Status != status {
			t.Errorf("%s: %s, want %s", id, u.Status, status)
		}
		if failed := status == OTACreateFailed; failed != (u.Error != nil) {
			t.Errorf("%s: errorInfo %+v", id, u.Error)
		}
		if id == "done" && !u.UpdatedAt.Equal(created) {
			t.Errorf("a finished update was touched: %+v", u)
		}
	}
	if u, _ := o.load("job-made"); u.StreamID != "AFR_OTA-s1" {
		t.Errorf("stream of the settled update: %q", u.StreamID)
	}
	if u, _ := o.load("cut-short"); u.Error.Code != "InternalFailureException" || u.info().JobArn != "" {
		t.Errorf("interrupted update: %+v", u.info())
	}
}
