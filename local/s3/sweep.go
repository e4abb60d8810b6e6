package s3

import (
	"encoding/json"

	"github.com/otactl/otactl/local/store"
)

// sweepOrphans removes blobs no object version or upload part names: what a
// crash between writing a body and committing its record left behind. It
// runs in New, before anything is served, so no write is in flight (the
// store's file lock keeps other processes out). S3 is the only user of
// blobs. Best effort: errors leave the files for the next start.
func (s *Service) sweepOrphans() {
	ids, err := s.st.BlobIDs()
	if err != nil || len(ids) == 0 {
		return
	}
	used := map[string]bool{}
	err = s.st.View(func(tx *store.Tx) error {
		if err := tx.List(objectsTable, "", func(_ string, raw []byte) error {
			var o objectRecord
			if err := json.Unmarshal(raw, &o); err != nil {
				return err
			}
			used[o.Blob] = true
			return nil
		}); err != nil {
			return err
		}
		return tx.List(partsTable, "", func(_ string, raw []byte) error {
			var p partRecord
			if err := json.Unmarshal(raw, &p); err != nil {
				return err
			}
			used[p.Blob] = true
			return nil
		})
	})
	if err != nil {
		return
	}
	for _, id := range ids {
		if !used[id] {
			s.st.RemoveBlob(id)
		}
	}
}
