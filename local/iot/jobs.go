package iot

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/ota"
)

// The IoT control plane's jobs (CreateJob, UpdateJob, AssociateTargetsWithJob,
// CancelJob, DeleteJob): their rules and Go methods. The wire is in
// jobs_http.go, executions in executions.go, the device side in local/mqtt
// and local/jobsdata, and the job engine in local/jobs.
//
// What AWS refuses in a request is ota.ValidateJobAPI (the rules the API
// reference states); otactl's stricter advice (ota.AdviseJob) is for
// otactl plan and never refuses a call here.

// maxDocumentBytes is the largest job document AWS accepts.
const maxDocumentBytes = 32768

// maxJobTargets is how many targets a job may have in all: AWS documents it
// for AssociateTargetsWithJob ("must not exceed 100").
const maxJobTargets = 100

func (s *Service) jobArn(id string) string { return s.env.ARN("iot", "job/"+id) }

// CreateJob creates a job from a CreateJob request (tags included) and
// queues its executions, unless it is scheduled or the job engine rolls it
// out. With jobTemplateArn the template supplies what the request leaves out.
func (s *Service) CreateJob(req ota.JobRequest) (Job, error) {
	now := s.now()
	if errs := ota.ValidateJobAPI(&req, now); len(errs) > 0 {
		return Job{}, invalidFields(errs)
	}
	if req.JobTemplateArn != "" {
		if err := s.applyTemplate(&req); err != nil {
			return Job{}, err
		}
	}
	if req.Document == "" && req.DocumentSource != "" {
		doc, err := s.fetchDocument(req.DocumentSource)
		if err != nil {
			return Job{}, err
		}
		req.Document = doc
	}
	if req.Document != "" && !json.Valid([]byte(req.Document)) {
		return Job{}, invalid("the job document must be a JSON document")
	}
	if err := targetKinds(req.Targets); err != nil {
		return Job{}, err
	}
	if len(req.Targets) > maxJobTargets {
		return Job{}, limitExceeded("a job has at most %d targets, got %d", maxJobTargets, len(req.Targets))
	}
	if req.TargetSelection == "" {
		req.TargetSelection = "SNAPSHOT"
	}
	tags := req.Tags
	req.Tags = nil
	req.Targets = dedup(req.Targets)
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
		if err := s.linkGroups(tx, j, j.Targets); err != nil {
			return err
		}
		if err := putTags(tx, j.JobArn, tags); err != nil {
			return err
		}
		if j.Status == JobInProgress {
			if evs, err = s.rollOut(tx, j, things, true); err != nil {
				return err
			}
		}
		return tx.Put(tJobs, j.JobID, j)
	})
	if err != nil {
		return Job{}, err
	}
	// JobChanged tells the job engine of every new job (scheduled, deferred or not).
	s.emit(append(evs, Event{Kind: JobChanged, JobID: j.JobID})...)
	return *j, nil
}

// rollOut gives things executions of the IN_PROGRESS job j now, or leaves
// them to the job engine when it rolls j out (rate, maintenance windows).
// fresh: none of things has an execution of j yet.
func (s *Service) rollOut(tx *store.Tx, j *Job, things []string, fresh bool) ([]Event, error) {
	now := s.now()
	if s.DeferRollout != nil && s.DeferRollout(j) {
		for _, t := range things {
			if fresh || !tx.Has(tExecs, j.JobID+"/"+t) {
				j.RolloutPending = true // QueueExecutions finds the things without one
				break
			}
		}
		s.settle(j, now)
		return nil, nil
	}
	created, err := s.createExecutions(tx, j, things, fresh)
	if err != nil {
		return nil, err
	}
	j.LastUpdatedAt = now
	s.settle(j, now)
	if len(created) == 0 {
		return nil, nil
	}
	return []Event{{Kind: ExecutionsCreated, JobID: j.JobID, Things: created}}, nil
}

// linkGroups records that j targets the thing groups among targets (for
// ListJobs thingGroupName and continuous jobs).
func (s *Service) linkGroups(tx *store.Tx, j *Job, targets []string) error {
	for _, t := range targets {
		if kind, name := targetOf(t); kind == "thinggroup" {
			g, err := s.getGroup(tx, name)
			if err != nil {
				return err
			}
			j.ThingGroupIDs = append(j.ThingGroupIDs, g.ID)
			if err := tx.Put(tGroupJobs, name+"/"+j.JobID, ""); err != nil {
				return err
			}
		}
	}
	return nil
}

// JobUpdate is what UpdateJob may change; nil members stay as they are.
// schedulingConfig, targets and the document cannot be changed.
type JobUpdate struct {
	Description                *string                 `json:"description"`
	PresignedURLConfig         *ota.PresignedURLConfig `json:"presignedUrlConfig"`
	JobExecutionsRolloutConfig *ota.RolloutConfig      `json:"jobExecutionsRolloutConfig"`
	AbortConfig                *ota.AbortConfig        `json:"abortConfig"`
	TimeoutConfig              *ota.TimeoutConfig      `json:"timeoutConfig"`
	JobExecutionsRetryConfig   *ota.RetryConfig        `json:"jobExecutionsRetryConfig"`
	NamespaceID                string                  `json:"-"` // the namespaceId query parameter
}

// UpdateJob changes the members u sets. A job that has ended (COMPLETED,
// CANCELED, DELETION_IN_PROGRESS) cannot be changed: InvalidRequestException,
// the only client error UpdateJob's reference lists. A new timeoutConfig
// applies to executions that start after it; the engine reads the new
// rollout, abort and retry configurations at its next step (JobChanged).
func (s *Service) UpdateJob(id string, u JobUpdate) (Job, error) {
	cfg := ota.JobConfig{PresignedURLConfig: u.PresignedURLConfig, JobExecutionsRolloutConfig: u.JobExecutionsRolloutConfig,
		AbortConfig: u.AbortConfig, TimeoutConfig: u.TimeoutConfig, JobExecutionsRetryConfig: u.JobExecutionsRetryConfig, NamespaceID: u.NamespaceID}
	errs := ota.ValidateJobConfigAPI(&cfg, s.now())
	if u.Description != nil {
		errs = append(errs, ota.ValidateTextAPI("description", *u.Description)...)
	}
	if len(errs) > 0 {
		return Job{}, invalidFields(errs)
	}
	var out Job
	err := s.st.Update(func(tx *store.Tx) error {
		j, err := s.loadJob(tx, id)
		if err != nil {
			return err
		}
		if ended(j.Status) {
			return invalid("job %s is %s and can no longer be updated", id, j.Status)
		}
		if u.Description != nil {
			j.Description = *u.Description
		}
		if u.PresignedURLConfig != nil {
			j.PresignedURLConfig = u.PresignedURLConfig
		}
		if u.JobExecutionsRolloutConfig != nil {
			j.JobExecutionsRolloutConfig = u.JobExecutionsRolloutConfig
		}
		if u.AbortConfig != nil {
			j.AbortConfig = u.AbortConfig
		}
		if u.TimeoutConfig != nil {
			j.TimeoutConfig = u.TimeoutConfig
		}
		if u.JobExecutionsRetryConfig != nil {
			j.JobExecutionsRetryConfig = u.JobExecutionsRetryConfig
		}
		if u.NamespaceID != "" {
			j.NamespaceID = u.NamespaceID
		}
		j.LastUpdatedAt = s.now()
		out = *j
		return tx.Put(tJobs, id, j)
	})
	if err != nil {
		return Job{}, err
	}
	s.emit(Event{Kind: JobChanged, JobID: id})
	return out, nil
}

func ended(status string) bool {
	return status == JobCompleted || status == JobCanceled || status == JobDeletionInProgress
}

// AssociateTargets adds targets to a continuous job, as AWS's reference
// states: the job must be CONTINUOUS and IN_PROGRESS (InvalidRequestException
// otherwise) and have at most 100 targets in all (LimitExceededException).
// Things the new targets bring get executions, through the job engine's
// rollout when it rolls the job out. A target the job has already is left
// as it is; comment, when given, becomes the job's comment.
func (s *Service) AssociateTargets(id string, targets []string, comment, namespaceID string) (Job, error) {
	errs := ota.ValidateTextAPI("comment", comment)
	cfg := ota.JobConfig{NamespaceID: namespaceID}
	errs = append(errs, ota.ValidateJobConfigAPI(&cfg, s.now())...)
	errs = append(errs, ota.ValidateTargetsAPI("targets", targets)...)
	if len(errs) > 0 {
		return Job{}, invalidFields(errs)
	}
	if err := targetKinds(targets); err != nil {
		return Job{}, err
	}
	var out Job
	var evs []Event
	err := s.st.Update(func(tx *store.Tx) error {
		evs = nil
		j, err := s.loadJob(tx, id)
		if err != nil {
			return err
		}
		if !j.Continuous() {
			return invalid("job %s is a SNAPSHOT job: targets can be added only to a CONTINUOUS job", id)
		}
		if j.Status != JobInProgress {
			return invalid("job %s is %s: targets can be added only to an IN_PROGRESS job", id, j.Status)
		}
		var added []string
		for _, t := range dedup(targets) {
			if !contains(j.Targets, t) {
				added = append(added, t)
			}
		}
		if n := len(j.Targets) + len(added); n > maxJobTargets {
			return limitExceeded("a job has at most %d targets; job %s would have %d", maxJobTargets, id, n)
		}
		things, err := s.expandTargets(tx, added)
		if err != nil {
			return err
		}
		if err := s.linkGroups(tx, j, added); err != nil {
			return err
		}
		j.Targets = append(j.Targets, added...)
		if comment != "" {
			j.Comment = comment
		}
		j.LastUpdatedAt = s.now()
		if evs, err = s.rollOut(tx, j, things, false); err != nil {
			return err
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

// DeleteJob deletes a job with its executions; a job still SCHEDULED or
// IN_PROGRESS needs force.
func (s *Service) DeleteJob(id string, force bool) error {
	var things []string
	err := s.st.Update(func(tx *store.Tx) error {
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
		if err := deleteAttempts(tx, id); err != nil {
			return err
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
		return err
	}
	s.emit(Event{Kind: JobDeleted, JobID: id, Things: things})
	return nil
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

// scheduledRollouts lists the next seven maintenance window starts of a
// scheduled or in-progress job, as DescribeJob's scheduledJobRollouts does.
func (s *Service) scheduledRollouts(j *Job) []time.Time {
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
	if len(starts) > 7 {
		starts = starts[:7]
	}
	return starts
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

// targetKinds refuses a target that is not a thing or thing group ARN: the
// service could not resolve it (the API reference constrains only its length).
func targetKinds(targets []string) error {
	for i, t := range targets {
		if kind, _ := targetOf(t); kind == "" {
			return invalid("targets[%d]: %q is not a thing or thing group ARN", i, t)
		}
	}
	return nil
}

// invalidFields is an InvalidRequestException naming every broken rule.
func invalidFields(errs ota.Errors) error {
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Error()
	}
	return invalid("%s", strings.Join(msgs, "; "))
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}

// dedup drops repeated strings, keeping the first of each in order.
func dedup(xs []string) []string {
	var out []string
	for _, x := range xs {
		if !contains(out, x) {
			out = append(out, x)
		}
	}
	return out
}
