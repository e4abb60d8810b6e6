package ota

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"
)

// Manager manages the updates otactl made. No OTAUpdate resource exists for
// them: an update is its job (AFR_OTA-<id>, tagged otactl:update-id) and the
// stream the job's tag names.
type Manager struct {
	Cloud Cloud
	Now   func() time.Time
}

// UpdateSummary is one line of otactl list.
type UpdateSummary struct {
	UpdateID  string    `json:"otaUpdateId"`
	JobID     string    `json:"jobId"`
	Status    string    `json:"status"`
	Targets   []string  `json:"targets"`
	Protocols []string  `json:"protocols"`
	CreatedAt time.Time `json:"createdAt"`
	// Counts are the job's executions by status (DescribeJob's jobProcessDetails).
	Counts map[string]int `json:"executionCounts,omitempty"`
}

// List returns the updates otactl made, newest first.
func (m *Manager) List(ctx context.Context) ([]UpdateSummary, error) {
	jobs, err := m.Cloud.ListJobs(ctx)
	if err != nil {
		return nil, err
	}
	var out []UpdateSummary
	for _, j := range jobs {
		tags, err := m.Cloud.ListTags(ctx, j.JobArn)
		if err != nil {
			return nil, err
		}
		id := tagValue(tags, TagUpdateID)
		if id == "" {
			continue // an OTA job otactl did not make
		}
		s := UpdateSummary{UpdateID: id, JobID: j.JobID, Status: j.Status, CreatedAt: j.CreatedAt}
		if job, err := m.Cloud.DescribeJob(ctx, j.JobID); err == nil {
			s.Targets, s.Counts = job.Targets, nonZero(job.Counts)
		}
		if doc, err := m.Cloud.GetJobDocument(ctx, j.JobID); err == nil {
			s.Protocols = ParseJobDocument(doc).Protocols
		}
		out = append(out, s)
	}
	sort.Slice(out, func(a, b int) bool {
		if !out[a].CreatedAt.Equal(out[b].CreatedAt) {
			return out[a].CreatedAt.After(out[b].CreatedAt)
		}
		return len(out[a].JobID) > len(out[b].JobID) || len(out[a].JobID) == len(out[b].JobID) && out[a].JobID > out[b].JobID
	})
	// An update replaced with --replace has several jobs: the newest runs it.
	seen, kept := map[string]bool{}, out[:0]
	for _, u := range out {
		if !seen[u.UpdateID] {
			seen[u.UpdateID] = true
			kept = append(kept, u)
		}
	}
	return kept, nil
}

// DocumentSummary is what otactl reads back from an afr_ota document.
type DocumentSummary struct {
	Protocols  []string
	StreamName string
	Files      []DocumentFile
}

// DocumentFile is one file entry of an afr_ota document.
type DocumentFile struct {
	FilePath, CertFile, SigKey, UpdateDataURL string
	Signature                                 string // the value under SigKey
	FileSize                                  int64
	FileID                                    int
	FileType                                  *int
}

// ParseJobDocument reads an afr_ota document; what it cannot read stays empty.
func ParseJobDocument(doc string) DocumentSummary {
	var d struct {
		AfrOta struct {
			Protocols  []string         `json:"protocols"`
			StreamName string           `json:"streamname"`
			Files      []map[string]any `json:"files"`
		} `json:"afr_ota"`
	}
	var out DocumentSummary
	if json.Unmarshal([]byte(doc), &d) != nil {
		return out
	}
	out.Protocols, out.StreamName = d.AfrOta.Protocols, d.AfrOta.StreamName
	for _, f := range d.AfrOta.Files {
		df := DocumentFile{}
		df.FilePath, _ = f["filepath"].(string)
		df.CertFile, _ = f["certfile"].(string)
		df.UpdateDataURL, _ = f["update_data_url"].(string)
		if n, ok := f["filesize"].(float64); ok {
			df.FileSize = int64(n)
		}
		if n, ok := f["fileid"].(float64); ok {
			df.FileID = int(n)
		}
		if n, ok := f["fileType"].(float64); ok {
			t := int(n)
			df.FileType = &t
		}
		for k, v := range f {
			if strings.HasPrefix(k, "sig-") {
				df.SigKey = k
				df.Signature, _ = v.(string)
			}
		}
		out.Files = append(out.Files, df)
	}
	return out
}

// UpdateDetails is what otactl describe shows.
type UpdateDetails struct {
	UpdateID string `json:"otaUpdateId"`
	Job      Job    `json:"-"`
	JobRaw   any    `json:"job"`
	// OpenWindow is the maintenance window open now, within the schedule.
	OpenWindow *Opening `json:"maintenanceWindowOpen,omitempty"`
	// NextWindows are the next openings, none past endTime, none once the
	// job is over.
	NextWindows []time.Time     `json:"nextMaintenanceWindows,omitempty"`
	Stream      *Stream         `json:"stream,omitempty"`
	Document    string          `json:"jobDocument"`
	DocSummary  DocumentSummary `json:"-"`
	Executions  []Execution     `json:"executions,omitempty"`
	// Replaced are the update's earlier jobs (otactl create --replace), oldest first.
	Replaced []JobSummary `json:"replacedJobs,omitempty"`
}

// ErrNotOurs is returned for a job otactl did not make.
var ErrNotOurs = errors.New("not made by otactl")

// find returns the job that runs update id now (the newest of its jobs,
// see JobIDFor), checking otactl made it, and the jobs it replaced.
func (m *Manager) find(ctx context.Context, id string) (Job, []Tag, []Job, error) {
	updateID := strings.TrimPrefix(id, JobIDPrefix)
	g, err := findUpdate(ctx, m.Cloud, updateID)
	if errors.Is(err, ErrNotFound) {
		return Job{}, nil, nil, fmt.Errorf("update %s: %w", id, err)
	} else if err != nil {
		return Job{}, nil, nil, err
	}
	return g.Job, g.Tags, g.Earlier, nil
}

// Describe gathers an update's job, windows, stream, document and, when
// executions is set, every device's execution.
func (m *Manager) Describe(ctx context.Context, id string, executions bool) (*UpdateDetails, error) {
	job, tags, earlier, err := m.find(ctx, id)
	if err != nil {
		return nil, err
	}
	d := &UpdateDetails{UpdateID: tagValue(tags, TagUpdateID), Job: job, JobRaw: job.Raw}
	for _, e := range earlier {
		d.Replaced = append(d.Replaced, JobSummary{JobID: e.JobID, JobArn: e.JobArn, Status: e.Status, TargetSelection: e.TargetSelection, CreatedAt: e.CreatedAt})
	}
	if d.Document, err = m.Cloud.GetJobDocument(ctx, job.JobID); err != nil {
		return nil, err
	}
	d.DocSummary = ParseJobDocument(d.Document)
	streamID := tagValue(tags, TagStreamID)
	if streamID == "" {
		streamID = d.DocSummary.StreamName
	}
	if streamID != "" {
		if st, err := m.Cloud.DescribeStream(ctx, streamID); err == nil {
			d.Stream = &st
		}
	}
	now := time.Now()
	if m.Now != nil {
		now = m.Now()
	}
	sched := ScheduleAt(job.SchedulingConfig, job.Status, now, 3)
	d.OpenWindow, d.NextWindows = sched.OpenNow, sched.Next
	if executions {
		if d.Executions, err = m.Cloud.ListJobExecutions(ctx, job.JobID); err != nil {
			return nil, err
		}
		if err := m.packages(ctx, d); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// packages adds, for an update that sets destinationPackageVersions, the
// package versions each device reports running.
func (m *Manager) packages(ctx context.Context, d *UpdateDetails) error {
	pr, ok := m.Cloud.(PackageReporter)
	if !ok || len(d.Job.DestinationPackageVersions) == 0 {
		return nil
	}
	for i := range d.Executions {
		e := &d.Executions[i]
		thing := e.ThingArn[strings.LastIndex(e.ThingArn, "/")+1:]
		pkgs, err := pr.ThingPackages(ctx, thing)
		if err != nil {
			return err
		}
		e.Packages = pkgs
	}
	return nil
}

// NextWindows returns the next n window openings after now, across windows.
func NextWindows(ws []MaintenanceWindow, now time.Time, n int) []time.Time {
	var out []time.Time
	for _, w := range ws {
		c, err := ParseCron(w.StartTime)
		if err != nil {
			continue
		}
		t := now
		for i := 0; i < n; i++ {
			if t = c.Next(t); t.IsZero() {
				break
			}
			out = append(out, t)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Before(out[b]) })
	if len(out) > n {
		out = out[:n]
	}
	return out
}

// Cancel cancels an update's job; force also cancels executions in progress.
func (m *Manager) Cancel(ctx context.Context, id string, force bool) error {
	_, err := m.CancelUpdate(ctx, id, force)
	return err
}

// Canceled reports what CancelUpdate did.
type Canceled struct {
	UpdateID string `json:"otaUpdateId"`
	JobID    string `json:"jobId"`
	// AlreadyCanceled: the job was CANCELED before; nothing was done.
	AlreadyCanceled bool `json:"alreadyCanceled"`
	Force           bool `json:"force"`
	// Counts are the job's executions by status just before the cancel.
	Counts map[string]int `json:"executionCounts,omitempty"`
}

// CancelUpdate cancels an update's job unless it is canceled already.
func (m *Manager) CancelUpdate(ctx context.Context, id string, force bool) (*Canceled, error) {
	job, tags, _, err := m.find(ctx, id)
	if err != nil {
		return nil, err
	}
	out := &Canceled{UpdateID: orID(tagValue(tags, TagUpdateID), id), JobID: job.JobID, Force: force, Counts: nonZero(job.Counts)}
	if job.Status == "CANCELED" {
		out.AlreadyCanceled = true
		return out, nil
	}
	return out, m.Cloud.CancelJob(ctx, job.JobID, force)
}

// Lookup returns the job that runs update id now.
func (m *Manager) Lookup(ctx context.Context, id string) (Job, error) {
	job, _, _, err := m.find(ctx, id)
	return job, err
}

func orID(v, id string) string {
	if v == "" {
		return strings.TrimPrefix(id, JobIDPrefix)
	}
	return v
}

// DeleteOptions choose what delete removes besides the job.
type DeleteOptions struct {
	Force              bool // delete a job with executions in progress
	KeepStream         bool
	PurgeSignedObjects bool // remove the signed-object versions signing made
}

// Deleted reports what Delete removed.
type Deleted struct {
	Job           string   `json:"job"`
	Stream        string   `json:"stream,omitempty"`
	Replaced      []string `json:"replacedJobs,omitempty"`    // the update's earlier jobs, deleted too
	OtherStreams  []string `json:"replacedStreams,omitempty"` // their streams
	ObjectVersion []string `json:"objectVersions,omitempty"`
}

// Delete deletes the update's job, then the stream otactl made for it (a
// stream the user gave is never deleted), then optionally the signed
// objects; the jobs --replace canceled go the same way, newest first.
func (m *Manager) Delete(ctx context.Context, id string, o DeleteOptions) (*Deleted, error) {
	job, tags, earlier, err := m.find(ctx, id)
	if err != nil {
		return nil, err
	}
	out := &Deleted{Job: job.JobID}
	purged := map[S3Location]bool{}
	if out.Stream, err = m.deleteJob(ctx, job, tags, o, out, purged); err != nil {
		return out, err
	}
	for i := len(earlier) - 1; i >= 0; i-- {
		e := earlier[i]
		etags, err := m.Cloud.ListTags(ctx, e.JobArn)
		if err != nil {
			return out, err
		}
		st, err := m.deleteJob(ctx, e, etags, o, out, purged)
		if err != nil {
			return out, err
		}
		out.Replaced = append(out.Replaced, e.JobID)
		if st != "" {
			out.OtherStreams = append(out.OtherStreams, st)
		}
	}
	return out, nil
}

// deleteJob deletes one job of the update and what goes with it; it
// returns the stream it deleted.
func (m *Manager) deleteJob(ctx context.Context, job Job, tags []Tag, o DeleteOptions, out *Deleted, purged map[S3Location]bool) (string, error) {
	var streamFiles []S3Location
	streamID := tagValue(tags, TagStreamID)
	if streamID != "" {
		if st, err := m.Cloud.DescribeStream(ctx, streamID); err == nil {
			for _, f := range st.Files {
				streamFiles = append(streamFiles, f.S3)
			}
		}
	}
	if err := m.Cloud.DeleteJob(ctx, job.JobID, o.Force); err != nil {
		return "", fmt.Errorf("iot:DeleteJob %s: %w", job.JobID, err)
	}
	deleted := ""
	if streamID != "" && !o.KeepStream {
		if err := m.Cloud.DeleteStream(ctx, streamID); err != nil && !errors.Is(err, ErrNotFound) {
			return "", fmt.Errorf("job %s deleted; iot:DeleteStream %s: %w", job.JobID, streamID, err)
		}
		deleted = streamID
	}
	if o.PurgeSignedObjects {
		for _, loc := range streamFiles {
			key := S3Location{Bucket: loc.Bucket, Key: loc.Key}
			if purged[key] { // an unchanged file: both jobs streamed the same signed object
				continue
			}
			purged[key] = true
			if err := m.purgeSigned(ctx, loc, out); err != nil {
				return deleted, err
			}
		}
	}
	return deleted, nil
}

// purgeSigned deletes every version of a signed object's key, but only when
// the key is one a Signer job wrote (it ends with that job's id): the user's
// own binaries are never touched.
func (m *Manager) purgeSigned(ctx context.Context, loc S3Location, out *Deleted) error {
	id := signingJobKey.FindString(loc.Key)
	if id == "" {
		return nil
	}
	sj, err := m.Cloud.DescribeSigningJob(ctx, id)
	if err != nil || sj.SignedObject.Bucket != loc.Bucket || sj.SignedObject.Key != loc.Key {
		return nil
	}
	versions, err := m.Cloud.ListObjectVersions(ctx, loc.Bucket, loc.Key)
	if err != nil {
		return err
	}
	for _, v := range versions {
		if err := m.Cloud.DeleteObjectVersion(ctx, loc.Bucket, loc.Key, v.VersionID); err != nil {
			return fmt.Errorf("s3:DeleteObject %s/%s version %s: %w", loc.Bucket, loc.Key, v.VersionID, err)
		}
		out.ObjectVersion = append(out.ObjectVersion, fmt.Sprintf("s3://%s/%s?versionId=%s", loc.Bucket, loc.Key, v.VersionID))
	}
	return nil
}

// nonZero drops the statuses no execution is in.
func nonZero(counts map[string]int) map[string]int {
	var out map[string]int
	for k, n := range counts {
		if n != 0 {
			if out == nil {
				out = map[string]int{}
			}
			out[k] = n
		}
	}
	return out
}
