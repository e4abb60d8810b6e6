package iot

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/otactl/otactl/internal/lazyre"
	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/ota"
)

// Job templates (CreateJobTemplate, DescribeJobTemplate, ListJobTemplates,
// DeleteJobTemplate) and CreateJob from a template. The wire is in
// jobtemplates_http.go. AWS managed templates (arn:aws:iot:REGION::jobtemplate/...)
// are not served: a job from one is refused with ResourceNotFoundException.

const tJobTemplates = "iot.jobtemplates" // template id → JobTemplate

// JobTemplate is a job template as stored: the configuration a job created
// from it starts with.
type JobTemplate struct {
	JobTemplateID              string                  `json:"jobTemplateId"`
	JobTemplateArn             string                  `json:"jobTemplateArn"`
	Description                string                  `json:"description"`
	Document                   string                  `json:"document,omitempty"`
	DocumentSource             string                  `json:"documentSource,omitempty"`
	PresignedURLConfig         *ota.PresignedURLConfig `json:"presignedUrlConfig,omitempty"`
	JobExecutionsRolloutConfig *ota.RolloutConfig      `json:"jobExecutionsRolloutConfig,omitempty"`
	AbortConfig                *ota.AbortConfig        `json:"abortConfig,omitempty"`
	TimeoutConfig              *ota.TimeoutConfig      `json:"timeoutConfig,omitempty"`
	JobExecutionsRetryConfig   *ota.RetryConfig        `json:"jobExecutionsRetryConfig,omitempty"`
	MaintenanceWindows         []ota.MaintenanceWindow `json:"maintenanceWindows,omitempty"`
	DestinationPackageVersions []string                `json:"destinationPackageVersions,omitempty"`
	CreatedAt                  time.Time               `json:"createdAt"`
}

// JobTemplateRequest is CreateJobTemplate's body: the template's members,
// the job it may be based on (jobArn) and its tags.
type JobTemplateRequest struct {
	JobArn                     string                  `json:"jobArn"`
	Document                   string                  `json:"document"`
	DocumentSource             string                  `json:"documentSource"`
	Description                string                  `json:"description"` // required
	PresignedURLConfig         *ota.PresignedURLConfig `json:"presignedUrlConfig"`
	JobExecutionsRolloutConfig *ota.RolloutConfig      `json:"jobExecutionsRolloutConfig"`
	AbortConfig                *ota.AbortConfig        `json:"abortConfig"`
	TimeoutConfig              *ota.TimeoutConfig      `json:"timeoutConfig"`
	JobExecutionsRetryConfig   *ota.RetryConfig        `json:"jobExecutionsRetryConfig"`
	MaintenanceWindows         []ota.MaintenanceWindow `json:"maintenanceWindows"`
	DestinationPackageVersions []string                `json:"destinationPackageVersions"`
	Tags                       []ota.Tag               `json:"tags"`
}

// ref: JobTemplateId: 1-64 characters of [a-zA-Z0-9_-].
var templateIDPattern = lazyre.New(`^[a-zA-Z0-9_-]{1,64}$`)

func (s *Service) jobTemplateArn(id string) string { return s.env.ARN("iot", "jobtemplate/"+id) }

// validateTemplate applies the rules CreateJobTemplate's reference states.
func validateTemplate(id string, in *JobTemplateRequest) ota.Errors {
	var errs ota.Errors
	add := func(path, rule string) { errs = append(errs, ota.FieldError{Path: path, Rule: rule}) }
	if !templateIDPattern.MatchString(id) {
		add("jobTemplateId", "must be 1-64 characters of [a-zA-Z0-9_-]")
	}
	if in.Description == "" { // ref: description is required
		add("description", "is required")
	}
	errs = append(errs, ota.ValidateTextAPI("description", in.Description)...)
	// ref: document "Required if you don't specify a value for documentSource";
	// jobArn names the job the template is based on.
	if in.Document == "" && in.DocumentSource == "" && in.JobArn == "" {
		add("document", "one of jobArn, document or documentSource is required")
	}
	if len(in.Document) > maxDocumentBytes {
		add("document", "a job document is at most 32768 bytes")
	} else if in.Document != "" && !json.Valid([]byte(in.Document)) {
		add("document", "must be a JSON document")
	}
	if len(in.DocumentSource) > 1350 {
		add("documentSource", "must be at most 1350 characters")
	}
	cfg := ota.JobConfig{PresignedURLConfig: in.PresignedURLConfig, JobExecutionsRolloutConfig: in.JobExecutionsRolloutConfig,
		AbortConfig: in.AbortConfig, TimeoutConfig: in.TimeoutConfig, JobExecutionsRetryConfig: in.JobExecutionsRetryConfig,
		DestinationPackageVersions: in.DestinationPackageVersions}
	errs = append(errs, ota.ValidateJobConfigAPI(&cfg, time.Time{})...)
	errs = append(errs, ota.ValidateWindowsAPI("maintenanceWindows", in.MaintenanceWindows)...)
	return append(errs, ota.ValidateTagsAPI("tags", in.Tags)...)
}

// CreateJobTemplate creates template id. With jobArn, the job's document
// and configuration fill what the request leaves out. An existing id is a
// ConflictException.
func (s *Service) CreateJobTemplate(id string, in JobTemplateRequest) (JobTemplate, error) {
	if errs := validateTemplate(id, &in); len(errs) > 0 {
		return JobTemplate{}, invalidFields(errs)
	}
	t := JobTemplate{JobTemplateID: id, JobTemplateArn: s.jobTemplateArn(id), CreatedAt: s.now(),
		Description: in.Description, Document: in.Document, DocumentSource: in.DocumentSource,
		PresignedURLConfig: in.PresignedURLConfig, JobExecutionsRolloutConfig: in.JobExecutionsRolloutConfig,
		AbortConfig: in.AbortConfig, TimeoutConfig: in.TimeoutConfig, JobExecutionsRetryConfig: in.JobExecutionsRetryConfig,
		MaintenanceWindows: in.MaintenanceWindows, DestinationPackageVersions: in.DestinationPackageVersions}
	err := s.st.Update(func(tx *store.Tx) error {
		if tx.Has(tJobTemplates, id) {
			return conflictID(id, "Job template %s already exists.", id)
		}
		if in.JobArn != "" {
			jobID := strings.TrimPrefix(in.JobArn, s.jobArn(""))
			if jobID == in.JobArn {
				return invalid("jobArn %q is not a job ARN of this account and region", in.JobArn)
			}
			j, err := s.loadJob(tx, jobID)
			if err != nil {
				return err
			}
			basedOn(&t, j)
		}
		if err := putTags(tx, t.JobTemplateArn, in.Tags); err != nil {
			return err
		}
		return tx.Put(tJobTemplates, id, &t)
	})
	return t, err
}

// basedOn fills what t leaves out from job j.
func basedOn(t *JobTemplate, j *Job) {
	if t.Document == "" && t.DocumentSource == "" {
		t.Document, t.DocumentSource = j.Document, j.DocumentSource
	}
	if t.PresignedURLConfig == nil {
		t.PresignedURLConfig = j.PresignedURLConfig
	}
	if t.JobExecutionsRolloutConfig == nil {
		t.JobExecutionsRolloutConfig = j.JobExecutionsRolloutConfig
	}
	if t.AbortConfig == nil {
		t.AbortConfig = j.AbortConfig
	}
	if t.TimeoutConfig == nil {
		t.TimeoutConfig = j.TimeoutConfig
	}
	if t.JobExecutionsRetryConfig == nil {
		t.JobExecutionsRetryConfig = j.JobExecutionsRetryConfig
	}
	if t.MaintenanceWindows == nil && j.SchedulingConfig != nil {
		t.MaintenanceWindows = j.SchedulingConfig.MaintenanceWindows
	}
	if t.DestinationPackageVersions == nil {
		t.DestinationPackageVersions = j.DestinationPackageVersions
	}
}

// JobTemplate returns template id.
func (s *Service) JobTemplate(id string) (JobTemplate, error) {
	var t JobTemplate
	err := s.st.View(func(tx *store.Tx) error {
		ok, err := tx.Get(tJobTemplates, id, &t)
		if err == nil && !ok {
			err = notFound("Job template %s cannot be found.", id)
		}
		return err
	})
	return t, err
}

// DeleteJobTemplate deletes template id; jobs created from it keep what
// they took from it.
func (s *Service) DeleteJobTemplate(id string) error {
	return s.st.Update(func(tx *store.Tx) error {
		if !tx.Has(tJobTemplates, id) {
			return notFound("Job template %s cannot be found.", id)
		}
		tx.Delete(tTags, s.jobTemplateArn(id))
		return tx.Delete(tJobTemplates, id)
	})
}

// applyTemplate fills what a CreateJob request leaves out from its job
// template, as AWS documents: the request's own members win. The template's
// maintenanceWindows become schedulingConfig's when the request has none.
func (s *Service) applyTemplate(req *ota.JobRequest) error {
	id := strings.TrimPrefix(req.JobTemplateArn, s.jobTemplateArn(""))
	if id == req.JobTemplateArn {
		return notFound("job template %s cannot be found: otactl local serves the job templates of account %s in %s (no AWS managed templates)",
			req.JobTemplateArn, s.env.AccountID, s.env.Region)
	}
	t, err := s.JobTemplate(id)
	if err != nil {
		return err
	}
	if req.Document == "" && req.DocumentSource == "" {
		req.Document, req.DocumentSource = t.Document, t.DocumentSource
	}
	if req.PresignedURLConfig == nil {
		req.PresignedURLConfig = t.PresignedURLConfig
	}
	if req.JobExecutionsRolloutConfig == nil {
		req.JobExecutionsRolloutConfig = t.JobExecutionsRolloutConfig
	}
	if req.AbortConfig == nil {
		req.AbortConfig = t.AbortConfig
	}
	if req.TimeoutConfig == nil {
		req.TimeoutConfig = t.TimeoutConfig
	}
	if req.JobExecutionsRetryConfig == nil {
		req.JobExecutionsRetryConfig = t.JobExecutionsRetryConfig
	}
	if len(req.DestinationPackageVersions) == 0 {
		req.DestinationPackageVersions = t.DestinationPackageVersions
	}
	if len(t.MaintenanceWindows) > 0 {
		sc := ota.SchedulingConfig{}
		if req.SchedulingConfig != nil {
			sc = *req.SchedulingConfig
		}
		if len(sc.MaintenanceWindows) == 0 {
			sc.MaintenanceWindows = t.MaintenanceWindows
			req.SchedulingConfig = &sc
		}
	}
	return nil
}
