package iot

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/ota"
)

// maxDocumentBytes is the largest job document AWS accepts.
const maxDocumentBytes = 32768

var reasonCodePattern = regexp.MustCompile(`^[\p{Lu}\p{N}_]{1,128}$`)

func (s *Service) jobArn(id string) string { return s.env.ARN("iot", "job/"+id) }

func (s *Service) createJob(r *http.Request) (any, error) {
	var req ota.JobRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	req.JobID = r.PathValue("jobId") // the path names the job
	now := s.now()
	if errs := ota.ValidateJobRequest(&req, now); len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Error()
		}
		return nil, invalid("%s", strings.Join(msgs, "; "))
	}
	if req.DocumentSource != "" {
		doc, err := s.fetchDocument(req.DocumentSource)
		if err != nil {
			return nil, err
		}
		req.Document = doc
	}
	if req.Document != "" && !json.Valid([]byte(req.Document)) {
		return nil, invalid("the job document must be a JSON document")
	}
	if req.TargetSelection == "" {
		req.TargetSelection = "SNAPSHOT"
	}
	tags := req.Tags
	req.Tags = nil
	j := &Job{JobRequest: req, JobArn: s.jobArn(req.JobID), Status: JobInProgress, CreatedAt: now, LastUpdatedAt: now}
	if sc := req.SchedulingConfig; sc != nil && sc.StartTime != "" {
		if start, err := time.Parse(scheduleLayout, sc.StartTime); err == nil && start.After(now) {
			j.Status = JobScheduled // the job engine starts it (StartJob)
		}
	}
	var evs []Event
	err := s.st.Update(func(tx *store.Tx) error {
		evs = nil
		if tx.Has(tJobs, j.JobID) {
			return alreadyExists(j.JobID, j.JobArn, "Job %s already exists.", j.JobID)
		}
		for i, v := range j.DestinationPackageVersions {
			if err := s.packageVersionExists(tx, v); err != nil {
				return invalid("destinationPackageVersions[%d]: %v", i, err)
			}
		}
		things, err := s.expandTargets(tx, j.Targets) // checks every target exists
		if err != nil {
			return err
		}
		for _, t := range j.Targets {
			if kind, name := targetOf(t); kind == "thinggroup" {
				g, _ := s.getGroup(tx, name)
				j.ThingGroupIDs = append(j.ThingGroupIDs, g.ID)
				if err := tx.Put(tGroupJobs, name+"/"+j.JobID, ""); err != nil {
					return err
				}
			}
		}
		if err := putTags(tx, j.JobArn, tags); err != nil {
			return err
		}
		if j.Status == JobInProgress && s.DeferRollout != nil && s.DeferRollout(j) {
			j.RolloutPending = len(things) > 0
			s.settle(j, now)
		} else if j.Status == JobInProgress {
			created, err := s.createExecutions(tx, j, things, true)
			if err != nil {
				return err
			}
			j.LastUpdatedAt = now
			s.settle(j, now)
			evs = append(evs, Event{Kind: ExecutionsCreated, JobID: j.JobID, Things: created})
		}
		return tx.Put(tJobs, j.JobID, j)
	})
	if err != nil {
		return nil, err
	}
	// JobChanged tells the job engine of every new job (scheduled, deferred or not).
	s.emit(append(evs, Event{Kind: JobChanged, JobID: j.JobID})...)
	return map[string]string{"jobArn": j.JobArn, "jobId": j.JobID, "description": j.Description}, nil
}

// scheduleLayout is schedulingConfig's time format (UTC).
const scheduleLayout = "2006-01-02T15:04"

// fetchDocument reads a documentSource (an S3 URL) from the local S3.
func (s *Service) fetchDocument(src string) (string, error) {
	bucket, key, err := parseS3URL(src)
	if err != nil {
		return "", invalid("documentSource: %v", err)
	}
	if s.objects == nil {
		return "", invalid("documentSource: no S3 is attached to read %s from", src)
	}
	raw, err := s.objects.ReadObject(bucket, key, maxDocumentBytes+1)
	if err != nil {
		return "", invalid("documentSource: s3://%s/%s cannot be read: %v", bucket, key, err)
	}
	if len(raw) > maxDocumentBytes {
		return "", invalid("documentSource: the job document is more than %d bytes", maxDocumentBytes)
	}
	return string(raw), nil
}

// parseS3URL understands the URL forms AWS accepts for documentSource:
// path style (https://s3[.region].amazonaws.com/bucket/key, or any host with
// the bucket first in the path) and virtual-host style (bucket.s3...).
func parseS3URL(src string) (bucket, key string, err error) {
	u, err := url.Parse(src)
	if err != nil || u.Host == "" {
		return "", "", fmt.Errorf("%q is not an S3 URL", src)
	}
	path := strings.TrimPrefix(u.Path, "/")
	if i := strings.Index(u.Host, ".s3"); i > 0 && !strings.HasPrefix(u.Host, "s3") {
		bucket, key = u.Host[:i], path
	} else {
		bucket, key, _ = strings.Cut(path, "/")
	}
	if bucket == "" || key == "" {
		return "", "", fmt.Errorf("%q names no bucket and key", src)
	}
	return bucket, key, nil
}

func (s *Service) describeJob(r *http.Request) (any, error) {
	j, err := s.Job(r.PathValue("jobId"))
	if err != nil {
		return nil, err
	}
	out := map[string]any{"job": s.jobOut(&j)}
	if j.DocumentSource != "" {
		out["documentSource"] = j.DocumentSource
	}
	return out, nil
}

// jobOut is a Job in DescribeJob's shape.
func (s *Service) jobOut(j *Job) map[string]any {
	pd := map[string]any{}
	raw, _ := json.Marshal(j.Counts)
	json.Unmarshal(raw, &pd)
	if j.Status == JobInProgress {
		pd["processingTargets"] = j.Targets
	}
	out := map[string]any{
		"jobArn": j.JobArn, "jobId": j.JobID, "targetSelection": j.TargetSelection, "status": j.Status,
		"forceCanceled": j.ForceCanceled, "targets": j.Targets, "createdAt": at(j.CreatedAt),
		"lastUpdatedAt": at(j.LastUpdatedAt), "jobProcessDetails": pd, "isConcurrent": false,
	}
	set := func(k string, v any, present bool) {
		if present {
			out[k] = v
		}
	}
	set("description", j.Description, j.Description != "")
	set("reasonCode", j.ReasonCode, j.ReasonCode != "")
	set("comment", j.Comment, j.Comment != "")
	set("completedAt", at(j.CompletedAt), !j.CompletedAt.IsZero())
	set("presignedUrlConfig", j.PresignedURLConfig, j.PresignedURLConfig != nil)
	set("jobExecutionsRolloutConfig", j.JobExecutionsRolloutConfig, j.JobExecutionsRolloutConfig != nil)
	set("abortConfig", j.AbortConfig, j.AbortConfig != nil)
	set("timeoutConfig", j.TimeoutConfig, j.TimeoutConfig != nil)
	set("jobExecutionsRetryConfig", j.JobExecutionsRetryConfig, j.JobExecutionsRetryConfig != nil)
	set("schedulingConfig", j.SchedulingConfig, j.SchedulingConfig != nil)
	set("namespaceId", j.NamespaceID, j.NamespaceID != "")
	set("jobTemplateArn", j.JobTemplateArn, j.JobTemplateArn != "")
	set("documentParameters", j.DocumentParameters, len(j.DocumentParameters) > 0)
	set("destinationPackageVersions", j.DestinationPackageVersions, len(j.DestinationPackageVersions) > 0)
	if rollouts := s.scheduledRollouts(j); len(rollouts) > 0 {
		out["scheduledJobRollouts"] = rollouts
	}
	return out
}

// scheduledRollouts lists the next seven maintenance window starts of a
// scheduled or in-progress job, as DescribeJob's scheduledJobRollouts does.
func (s *Service) scheduledRollouts(j *Job) []map[string]string {
	sc := j.SchedulingConfig
	if sc == nil || len(sc.MaintenanceWindows) == 0 || (j.Status != JobScheduled && j.Status != JobInProgress) {
		return nil
	}
	from := s.now()
	if start, err := time.Parse(scheduleLayout, sc.StartTime); err == nil && start.After(from) {
		from = start.Add(-time.Minute)
	}
	var starts []time.Time
	for _, mw := range sc.MaintenanceWindows {
		c, err := ota.ParseCron(mw.StartTime)
		if err != nil {
			continue
		}
		for t, i := from, 0; i < 7; i++ {
			if t = c.Next(t); t.IsZero() {
				break
			}
			starts = append(starts, t)
		}
	}
	sortTimes(starts)
	var out []map[string]string
	for i, t := range starts {
		if i == 7 {
			break
		}
		out = append(out, map[string]string{"startTime": t.UTC().Format(scheduleLayout)})
	}
	return out
}

func (s *Service) getJobDocument(r *http.Request) (any, error) {
	j, err := s.Job(r.PathValue("jobId"))
	if err != nil {
		return nil, err
	}
	before, err := boolQuery(r, "beforeSubstitution")
	if err != nil {
		return nil, err
	}
	doc := j.Document
	if !before {
		doc = substitute(doc, j.DocumentParameters)
	}
	return map[string]string{"document": doc}, nil
}

// JobDocument returns the document a device receives for jobID, with the
// job's documentParameters substituted.
func (s *Service) JobDocument(jobID string) (string, error) {
	j, err := s.Job(jobID)
	if err != nil {
		return "", err
	}
	return substitute(j.Document, j.DocumentParameters), nil
}

// substitute resolves ${aws:iot:parameter:NAME} placeholders.
func substitute(doc string, params map[string]string) string {
	for k, v := range params {
		doc = strings.ReplaceAll(doc, "${aws:iot:parameter:"+k+"}", v)
	}
	return doc
}

type jobSummary struct {
	JobArn          string   `json:"jobArn"`
	JobID           string   `json:"jobId"`
	ThingGroupID    string   `json:"thingGroupId,omitempty"`
	TargetSelection string   `json:"targetSelection"`
	Status          string   `json:"status"`
	CreatedAt       *float64 `json:"createdAt,omitempty"`
	LastUpdatedAt   *float64 `json:"lastUpdatedAt,omitempty"`
	CompletedAt     *float64 `json:"completedAt,omitempty"`
	IsConcurrent    bool     `json:"isConcurrent"`
}

var jobStatuses = map[string]bool{JobInProgress: true, JobScheduled: true, JobCompleted: true, JobCanceled: true, JobDeletionInProgress: true}

func (s *Service) listJobs(r *http.Request) (any, error) {
	p, err := parsePage(r)
	if err != nil {
		return nil, err
	}
	q := r.URL.Query()
	status, sel, group, groupID, ns := q.Get("status"), q.Get("targetSelection"), q.Get("thingGroupName"), q.Get("thingGroupId"), q.Get("namespaceId")
	if status != "" && !jobStatuses[status] {
		return nil, invalid("status must be IN_PROGRESS, CANCELED, COMPLETED, DELETION_IN_PROGRESS or SCHEDULED, got %q", status)
	}
	if sel != "" && sel != "SNAPSHOT" && sel != "CONTINUOUS" {
		return nil, invalid("targetSelection must be SNAPSHOT or CONTINUOUS, got %q", sel)
	}
	summary := records(func(j *Job) (jobSummary, bool) {
		if (status != "" && j.Status != status) || (sel != "" && j.TargetSelection != sel) ||
			(ns != "" && j.NamespaceID != ns) || (groupID != "" && !contains(j.ThingGroupIDs, groupID)) {
			return jobSummary{}, false
		}
		sum := jobSummary{JobArn: j.JobArn, JobID: j.JobID, TargetSelection: j.TargetSelection, Status: j.Status,
			CreatedAt: at(j.CreatedAt), LastUpdatedAt: at(j.LastUpdatedAt), CompletedAt: at(j.CompletedAt)}
		if len(j.ThingGroupIDs) > 0 {
			sum.ThingGroupID = j.ThingGroupIDs[0]
		}
		return sum, true
	})
	return listView(s.st, "jobs", func(tx *store.Tx) ([]jobSummary, string, error) {
		var only map[string]bool // the jobs that target thingGroupName
		if group != "" {
			only = map[string]bool{}
			for _, id := range keysUnder(tx, tGroupJobs, group+"/") {
				only[id] = true
			}
		}
		return pageOf(tx, tJobs, "", p, func(k string, raw []byte) (jobSummary, bool, error) {
			if only != nil && !only[k] {
				return jobSummary{}, false, nil
			}
			return summary(k, raw)
		})
	})
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

func (s *Service) cancelJob(r *http.Request) (any, error) {
	id := r.PathValue("jobId")
	var in struct {
		ReasonCode string `json:"reasonCode"`
		Comment    string `json:"comment"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	force, err := boolQuery(r, "force")
	if err != nil {
		return nil, err
	}
	if in.ReasonCode != "" && !reasonCodePattern.MatchString(in.ReasonCode) {
		return nil, invalid("reasonCode must be 1-128 characters of [A-Z0-9_]")
	}
	if len(in.Comment) > 2028 {
		return nil, invalid("comment must be at most 2028 characters")
	}
	j, err := s.CancelJob(id, force, in.ReasonCode, in.Comment)
	if err != nil {
		return nil, err
	}
	return map[string]string{"jobArn": j.JobArn, "jobId": j.JobID, "description": j.Description}, nil
}

// CancelJob cancels a job: its QUEUED executions become CANCELED, and its
// IN_PROGRESS ones too when force is set. Canceling a canceled job again
// changes nothing, unless force now cancels what the first call left. The
// job engine uses it for endBehavior and abort criteria.
func (s *Service) CancelJob(id string, force bool, reasonCode, comment string) (Job, error) {
	var out Job
	var evs []Event
	err := s.st.Update(func(tx *store.Tx) error {
		evs = nil
		j, err := s.loadJob(tx, id)
		if err != nil {
			return err
		}
		switch j.Status {
		case JobCompleted, JobDeletionInProgress:
			return stateTransition("job %s is %s and cannot be canceled", id, j.Status)
		case JobCanceled:
			if !force || j.ForceCanceled {
				out = *j
				return nil
			}
		}
		if evs, err = s.cancelExecutions(tx, j, force); err != nil {
			return err
		}
		now := s.now()
		j.Status, j.LastUpdatedAt = JobCanceled, now
		j.ForceCanceled = j.ForceCanceled || force
		if reasonCode != "" {
			j.ReasonCode = reasonCode
		}
		if comment != "" {
			j.Comment = comment
		}
		evs = append(evs, Event{Kind: JobChanged, JobID: id})
		out = *j
		return tx.Put(tJobs, id, j)
	})
	if err != nil {
		return Job{}, err
	}
	s.emit(evs...)
	return out, nil
}

func (s *Service) deleteJob(r *http.Request) (any, error) {
	id := r.PathValue("jobId")
	force, err := boolQuery(r, "force")
	if err != nil {
		return nil, err
	}
	var things []string
	err = s.st.Update(func(tx *store.Tx) error {
		j, err := s.loadJob(tx, id)
		if err != nil {
			return err
		}
		if (j.Status == JobInProgress || j.Status == JobScheduled) && !force {
			return stateTransition("job %s is %s; deleting it needs force", id, j.Status)
		}
		things = keysUnder(tx, tExecs, id+"/")
		for _, thing := range things {
			tx.Delete(tThingExecs, thing+"/"+id)
			tx.Delete(tExecs, id+"/"+thing)
		}
		for _, t := range j.Targets {
			if kind, name := targetOf(t); kind == "thinggroup" {
				tx.Delete(tGroupJobs, name+"/"+id)
			}
		}
		tx.Delete(tTags, j.JobArn)
		return tx.Delete(tJobs, id)
	})
	if err != nil {
		return nil, err
	}
	s.emit(Event{Kind: JobDeleted, JobID: id, Things: things})
	return struct{}{}, nil
}
