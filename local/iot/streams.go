package iot

import (
	"net/http"
	"time"

	"github.com/otactl/otactl/internal/lazyre"
	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/ota"
)

const tStreams = "iot.streams" // stream id → StreamInfo

var streamIDPattern = lazyre.New(`^[a-zA-Z0-9_-]{1,128}$`)

// StreamInfo is an MQTT stream as DescribeStream shows it.
type StreamInfo struct {
	StreamID      string       `json:"streamId"`
	StreamArn     string       `json:"streamArn"`
	StreamVersion int          `json:"streamVersion"`
	Description   string       `json:"description,omitempty"`
	Files         []StreamFile `json:"files"`
	CreatedAt     time.Time    `json:"createdAt"`
	LastUpdatedAt time.Time    `json:"lastUpdatedAt"`
	RoleArn       string       `json:"roleArn"`
}

// StreamFile is one file of a stream: an S3 object version.
type StreamFile struct {
	FileID     int            `json:"fileId"`
	S3Location ota.S3Location `json:"s3Location"`
}

// File returns the stream's file with id fileID.
func (si StreamInfo) File(fileID int) (StreamFile, bool) {
	for _, f := range si.Files {
		if f.FileID == fileID {
			return f, true
		}
	}
	return StreamFile{}, false
}

// Stream returns the stream with id, or a ResourceNotFoundException.
func (s *Service) Stream(id string) (StreamInfo, error) {
	si, ok, gen := s.streams.get(id)
	if ok {
		return si, nil
	}
	ok, err := s.st.Get(tStreams, id, &si)
	if err == nil && !ok {
		err = notFound("Stream %s cannot be found.", id)
	}
	if err == nil && si.StreamID == id {
		s.streams.keep(gen, si)
	}
	return si, err
}

// streamFileIn is a stream file as a request carries it: fileId is required.
type streamFileIn struct {
	FileID     *int            `json:"fileId"`
	S3Location *ota.S3Location `json:"s3Location"`
}

// checkFiles validates a stream's files and that each object exists.
func (s *Service) checkFiles(in []streamFileIn) ([]StreamFile, error) {
	if len(in) < 1 || len(in) > 50 {
		return nil, invalid("files must have 1-50 entries, got %d", len(in))
	}
	seen := map[int]bool{}
	out := make([]StreamFile, 0, len(in))
	for i, f := range in {
		switch {
		case f.FileID == nil:
			return nil, invalid("files[%d].fileId is required", i)
		case *f.FileID < 0 || *f.FileID > 255:
			return nil, invalid("files[%d].fileId must be 0-255, got %d", i, *f.FileID)
		case seen[*f.FileID]:
			return nil, invalid("files[%d].fileId %d is used twice", i, *f.FileID)
		case f.S3Location == nil || f.S3Location.Bucket == "" || f.S3Location.Key == "":
			return nil, invalid("files[%d].s3Location needs a bucket and a key", i)
		}
		seen[*f.FileID] = true
		if s.objects != nil {
			l := f.S3Location
			if _, err := s.objects.ObjectSize(l.Bucket, l.Key, l.Version); err != nil {
				return nil, invalid("files[%d].s3Location: s3://%s/%s (version %q) cannot be read: %v", i, l.Bucket, l.Key, l.Version, err)
			}
		}
		out = append(out, StreamFile{FileID: *f.FileID, S3Location: *f.S3Location})
	}
	return out, nil
}

func checkStreamText(description, roleArn string, needRole bool) error {
	if len(description) > 2028 {
		return invalid("description must be at most 2028 characters")
	}
	if (needRole || roleArn != "") && (len(roleArn) < 20 || len(roleArn) > 2048) {
		return invalid("roleArn must be 20-2048 characters")
	}
	return nil
}

type streamOut struct {
	StreamID      string `json:"streamId"`
	StreamArn     string `json:"streamArn"`
	Description   string `json:"description,omitempty"`
	StreamVersion int    `json:"streamVersion"`
}

func (s *Service) createStream(r *http.Request) (any, error) {
	id := r.PathValue("streamId")
	var in struct {
		Description string         `json:"description"`
		Files       []streamFileIn `json:"files"`
		RoleArn     string         `json:"roleArn"`
		Tags        []ota.Tag      `json:"tags"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if !streamIDPattern.MatchString(id) {
		return nil, invalid("streamId must be 1-128 characters of [a-zA-Z0-9_-], got %q", id)
	}
	if err := checkStreamText(in.Description, in.RoleArn, true); err != nil {
		return nil, err
	}
	files, err := s.checkFiles(in.Files)
	if err != nil {
		return nil, err
	}
	now := s.now()
	si := StreamInfo{StreamID: id, StreamArn: s.env.ARN("iot", "stream/"+id), StreamVersion: 1, Description: in.Description,
		Files: files, CreatedAt: now, LastUpdatedAt: now, RoleArn: in.RoleArn}
	err = s.st.Update(func(tx *store.Tx) error {
		if tx.Has(tStreams, id) {
			return alreadyExists(id, si.StreamArn, "Stream %s already exists.", id)
		}
		if err := putTags(tx, si.StreamArn, in.Tags); err != nil {
			return err
		}
		return tx.Put(tStreams, id, si)
	})
	s.streams.changed(id)
	if err != nil {
		return nil, err
	}
	return streamOut{si.StreamID, si.StreamArn, si.Description, si.StreamVersion}, nil
}

// streamInfoOut is StreamInfo on the wire (epoch timestamps).
func streamInfoOut(si StreamInfo) map[string]any {
	return map[string]any{"streamId": si.StreamID, "streamArn": si.StreamArn, "streamVersion": si.StreamVersion,
		"description": si.Description, "files": si.Files, "createdAt": at(si.CreatedAt),
		"lastUpdatedAt": at(si.LastUpdatedAt), "roleArn": si.RoleArn}
}

func (s *Service) describeStream(r *http.Request) (any, error) {
	si, err := s.Stream(r.PathValue("streamId"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"streamInfo": streamInfoOut(si)}, nil
}

func (s *Service) updateStream(r *http.Request) (any, error) {
	id := r.PathValue("streamId")
	var in struct {
		Description *string        `json:"description"`
		Files       []streamFileIn `json:"files"`
		RoleArn     string         `json:"roleArn"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	desc := ""
	if in.Description != nil {
		desc = *in.Description
	}
	if err := checkStreamText(desc, in.RoleArn, false); err != nil {
		return nil, err
	}
	var files []StreamFile
	if in.Files != nil {
		var err error
		if files, err = s.checkFiles(in.Files); err != nil {
			return nil, err
		}
	}
	var si StreamInfo
	err := s.st.Update(func(tx *store.Tx) error {
		ok, err := tx.Get(tStreams, id, &si)
		if err != nil {
			return err
		}
		if !ok {
			return notFound("Stream %s cannot be found.", id)
		}
		if in.Description != nil {
			si.Description = *in.Description
		}
		if files != nil {
			si.Files = files
		}
		if in.RoleArn != "" {
			si.RoleArn = in.RoleArn
		}
		if si.StreamVersion >= 65535 {
			return limitExceeded("stream %s has reached the maximum number of versions", id)
		}
		si.StreamVersion++
		si.LastUpdatedAt = s.now()
		return tx.Put(tStreams, id, si)
	})
	s.streams.changed(id)
	if err != nil {
		return nil, err
	}
	return streamOut{si.StreamID, si.StreamArn, si.Description, si.StreamVersion}, nil
}

func (s *Service) deleteStream(r *http.Request) (any, error) {
	id := r.PathValue("streamId")
	err := s.st.Update(func(tx *store.Tx) error {
		if !tx.Has(tStreams, id) {
			return notFound("Stream %s cannot be found.", id)
		}
		tx.Delete(tTags, s.env.ARN("iot", "stream/"+id))
		return tx.Delete(tStreams, id)
	})
	s.streams.changed(id)
	if err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (s *Service) listStreams(r *http.Request) (any, error) {
	p, err := parsePage(r)
	if err != nil {
		return nil, err
	}
	if _, err := boolQuery(r, "isAscendingOrder"); err != nil {
		return nil, err
	}
	return listView(s.st, "streams", func(tx *store.Tx) ([]streamOut, string, error) {
		return pageOf(tx, tStreams, "", p, records(func(si *StreamInfo) (streamOut, bool) {
			return streamOut{si.StreamID, si.StreamArn, si.Description, si.StreamVersion}, true
		}))
	})
}
