package iot

import (
	"net/http"

	"github.com/otactl/otactl/internal/lazyre"
	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/ota"
)

// The wire of the IoT control plane's jobs (the rules are in jobs.go):
// parsing, the Go method, and the response shape.

var reasonCodePattern = lazyre.New(`^[\p{Lu}\p{N}_]{1,128}$`)

// jobOutput is the answer of CreateJob, UpdateJob's callers,
// AssociateTargetsWithJob and CancelJob.
type jobOutput struct {
	JobArn      string `json:"jobArn"`
	JobID       string `json:"jobId"`
	Description string `json:"description,omitempty"`
}

func outputOf(j Job) jobOutput {
	return jobOutput{JobArn: j.JobArn, JobID: j.JobID, Description: j.Description}
}

// createJob is CreateJob (PUT /jobs/{jobId}).
func (s *Service) createJob(r *http.Request) (any, error) {
	var req ota.JobRequest
	if err := decode(r, &req); err != nil {
		return nil, err
	}
	req.JobID = r.PathValue("jobId") // the path names the job
	j, err := s.CreateJob(req)
	if err != nil {
		return nil, err
	}
	return outputOf(j), nil
}

// updateJob is UpdateJob (PATCH /jobs/{jobId}?namespaceId=).
func (s *Service) updateJob(r *http.Request) (any, error) {
	var u JobUpdate
	if err := decode(r, &u); err != nil {
		return nil, err
	}
	u.NamespaceID = r.URL.Query().Get("namespaceId")
	if _, err := s.UpdateJob(r.PathValue("jobId"), u); err != nil {
		return nil, err
	}
	return nil, nil // UpdateJob answers 200 with no body
}

// associateTargetsWithJob is AssociateTargetsWithJob (POST
// /jobs/{jobId}/targets?namespaceId=).
func (s *Service) associateTargetsWithJob(r *http.Request) (any, error) {
	var in struct {
		Targets []string `json:"targets"` // required, 1 or more ARNs of at most 2048 characters
		Comment string   `json:"comment"` // at most 2028 characters of [^\p{C}]
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	j, err := s.AssociateTargets(r.PathValue("jobId"), in.Targets, in.Comment, r.URL.Query().Get("namespaceId"))
	if err != nil {
		return nil, err
	}
	return outputOf(j), nil
}

// jobView is a Job in DescribeJob's shape.
type jobView struct {
	JobArn                     string                  `json:"jobArn"`
	JobID                      string                  `json:"jobId"`
	TargetSelection            string                  `json:"targetSelection"`
	Status                     string                  `json:"status"`
	ForceCanceled              bool                    `json:"forceCanceled"`
	ReasonCode                 string                  `json:"reasonCode,omitempty"`
	Comment                    string                  `json:"comment,omitempty"`
	Targets                    []string                `json:"targets"`
	Description                string                  `json:"description,omitempty"`
	PresignedURLConfig         *ota.PresignedURLConfig `json:"presignedUrlConfig,omitempty"`
	JobExecutionsRolloutConfig *ota.RolloutConfig      `json:"jobExecutionsRolloutConfig,omitempty"`
	AbortConfig                *ota.AbortConfig        `json:"abortConfig,omitempty"`
	CreatedAt                  *float64                `json:"createdAt,omitempty"`
	LastUpdatedAt              *float64                `json:"lastUpdatedAt,omitempty"`
	CompletedAt                *float64                `json:"completedAt,omitempty"`
	JobProcessDetails          processView             `json:"jobProcessDetails"`
	TimeoutConfig              *ota.TimeoutConfig      `json:"timeoutConfig,omitempty"`
	NamespaceID                string                  `json:"namespaceId,omitempty"`
	JobTemplateArn             string                  `json:"jobTemplateArn,omitempty"`
	JobExecutionsRetryConfig   *ota.RetryConfig        `json:"jobExecutionsRetryConfig,omitempty"`
	DocumentParameters         map[string]string       `json:"documentParameters,omitempty"`
	IsConcurrent               bool                    `json:"isConcurrent"`
	SchedulingConfig           *ota.SchedulingConfig   `json:"schedulingConfig,omitempty"`
	ScheduledJobRollouts       []rolloutView           `json:"scheduledJobRollouts,omitempty"`
	DestinationPackageVersions []string                `json:"destinationPackageVersions,omitempty"`
}

// processView is jobProcessDetails: the counts, and the targets while the
// job is still processing them.
type processView struct {
	ProcessingTargets []string `json:"processingTargets,omitempty"`
	ProcessDetails
}

type rolloutView struct {
	StartTime string `json:"startTime"`
}

func (s *Service) jobViewOf(j *Job) jobView {
	v := jobView{
		JobArn: j.JobArn, JobID: j.JobID, TargetSelection: j.TargetSelection, Status: j.Status,
		ForceCanceled: j.ForceCanceled, ReasonCode: j.ReasonCode, Comment: j.Comment, Targets: j.Targets,
		Description: j.Description, PresignedURLConfig: j.PresignedURLConfig,
		JobExecutionsRolloutConfig: j.JobExecutionsRolloutConfig, AbortConfig: j.AbortConfig,
		CreatedAt: at(j.CreatedAt), LastUpdatedAt: at(j.LastUpdatedAt), CompletedAt: at(j.CompletedAt),
		JobProcessDetails: processView{ProcessDetails: j.Counts}, TimeoutConfig: j.TimeoutConfig,
		NamespaceID: j.NamespaceID, JobTemplateArn: j.JobTemplateArn, JobExecutionsRetryConfig: j.JobExecutionsRetryConfig,
		DocumentParameters: j.DocumentParameters, SchedulingConfig: j.SchedulingConfig,
		DestinationPackageVersions: j.DestinationPackageVersions,
	}
	if j.Status == JobInProgress {
		v.JobProcessDetails.ProcessingTargets = j.Targets
	}
	for _, t := range s.scheduledRollouts(j) {
		v.ScheduledJobRollouts = append(v.ScheduledJobRollouts, rolloutView{t.UTC().Format(scheduleLayout)})
	}
	return v
}

// describeJob is DescribeJob (GET /jobs/{jobId}?beforeSubstitution=).
// DescribeJob carries no document; beforeSubstitution=true shows the
// documentSource as given, and otherwise with the job's documentParameters
// substituted, as GetJobDocument does for the document.
func (s *Service) describeJob(r *http.Request) (any, error) {
	before, err := boolQuery(r, "beforeSubstitution")
	if err != nil {
		return nil, err
	}
	j, err := s.Job(r.PathValue("jobId"))
	if err != nil {
		return nil, err
	}
	out := struct {
		DocumentSource string  `json:"documentSource,omitempty"`
		Job            jobView `json:"job"`
	}{Job: s.jobViewOf(&j), DocumentSource: j.DocumentSource}
	if !before {
		out.DocumentSource = substitute(j.DocumentSource, j.DocumentParameters)
	}
	return out, nil
}

// getJobDocument is GetJobDocument (GET /jobs/{jobId}/job-document
// ?beforeSubstitution=): the document with documentParameters substituted,
// or as it was given.
func (s *Service) getJobDocument(r *http.Request) (any, error) {
	before, err := boolQuery(r, "beforeSubstitution")
	if err != nil {
		return nil, err
	}
	j, err := s.Job(r.PathValue("jobId"))
	if err != nil {
		return nil, err
	}
	doc := j.Document
	if !before {
		doc = substitute(doc, j.DocumentParameters)
	}
	return map[string]string{"document": doc}, nil
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

// listJobs is ListJobs (GET /jobs).
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

// cancelJob is CancelJob (PUT /jobs/{jobId}/cancel?force=).
func (s *Service) cancelJob(r *http.Request) (any, error) {
	var in struct {
		ReasonCode string `json:"reasonCode"` // 1-128 of [\p{Upper}\p{Digit}_]
		Comment    string `json:"comment"`    // at most 2028 characters of [^\p{C}]
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
	if errs := ota.ValidateTextAPI("comment", in.Comment); len(errs) > 0 {
		return nil, invalidFields(errs)
	}
	j, err := s.CancelJob(r.PathValue("jobId"), force, in.ReasonCode, in.Comment)
	if err != nil {
		return nil, err
	}
	return outputOf(j), nil
}

// deleteJob is DeleteJob (DELETE /jobs/{jobId}?force=).
func (s *Service) deleteJob(r *http.Request) (any, error) {
	force, err := boolQuery(r, "force")
	if err != nil {
		return nil, err
	}
	if err := s.DeleteJob(r.PathValue("jobId"), force); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}
