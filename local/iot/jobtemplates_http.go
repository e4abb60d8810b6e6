package iot

import (
	"net/http"

	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/ota"
)

// The wire of job templates (the rules are in jobtemplates.go).

// createJobTemplate is CreateJobTemplate (PUT /job-templates/{jobTemplateId}).
func (s *Service) createJobTemplate(r *http.Request) (any, error) {
	var in JobTemplateRequest
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	t, err := s.CreateJobTemplate(r.PathValue("jobTemplateId"), in)
	if err != nil {
		return nil, err
	}
	return map[string]string{"jobTemplateArn": t.JobTemplateArn, "jobTemplateId": t.JobTemplateID}, nil
}

// jobTemplateView is DescribeJobTemplate's answer.
type jobTemplateView struct {
	JobTemplateArn             string                  `json:"jobTemplateArn"`
	JobTemplateID              string                  `json:"jobTemplateId"`
	Description                string                  `json:"description,omitempty"`
	DocumentSource             string                  `json:"documentSource,omitempty"`
	Document                   string                  `json:"document,omitempty"`
	CreatedAt                  *float64                `json:"createdAt,omitempty"`
	PresignedURLConfig         *ota.PresignedURLConfig `json:"presignedUrlConfig,omitempty"`
	JobExecutionsRolloutConfig *ota.RolloutConfig      `json:"jobExecutionsRolloutConfig,omitempty"`
	AbortConfig                *ota.AbortConfig        `json:"abortConfig,omitempty"`
	TimeoutConfig              *ota.TimeoutConfig      `json:"timeoutConfig,omitempty"`
	JobExecutionsRetryConfig   *ota.RetryConfig        `json:"jobExecutionsRetryConfig,omitempty"`
	MaintenanceWindows         []ota.MaintenanceWindow `json:"maintenanceWindows,omitempty"`
	DestinationPackageVersions []string                `json:"destinationPackageVersions,omitempty"`
}

// describeJobTemplate is DescribeJobTemplate (GET /job-templates/{jobTemplateId}).
func (s *Service) describeJobTemplate(r *http.Request) (any, error) {
	t, err := s.JobTemplate(r.PathValue("jobTemplateId"))
	if err != nil {
		return nil, err
	}
	return jobTemplateView{JobTemplateArn: t.JobTemplateArn, JobTemplateID: t.JobTemplateID, Description: t.Description,
		DocumentSource: t.DocumentSource, Document: t.Document, CreatedAt: at(t.CreatedAt),
		PresignedURLConfig: t.PresignedURLConfig, JobExecutionsRolloutConfig: t.JobExecutionsRolloutConfig,
		AbortConfig: t.AbortConfig, TimeoutConfig: t.TimeoutConfig, JobExecutionsRetryConfig: t.JobExecutionsRetryConfig,
		MaintenanceWindows: t.MaintenanceWindows, DestinationPackageVersions: t.DestinationPackageVersions}, nil
}

type jobTemplateSummary struct {
	JobTemplateArn string   `json:"jobTemplateArn"`
	JobTemplateID  string   `json:"jobTemplateId"`
	Description    string   `json:"description,omitempty"`
	CreatedAt      *float64 `json:"createdAt,omitempty"`
}

// listJobTemplates is ListJobTemplates (GET /job-templates), in id order.
func (s *Service) listJobTemplates(r *http.Request) (any, error) {
	p, err := parsePage(r)
	if err != nil {
		return nil, err
	}
	summary := records(func(t *JobTemplate) (jobTemplateSummary, bool) {
		return jobTemplateSummary{JobTemplateArn: t.JobTemplateArn, JobTemplateID: t.JobTemplateID,
			Description: t.Description, CreatedAt: at(t.CreatedAt)}, true
	})
	return listView(s.st, "jobTemplates", func(tx *store.Tx) ([]jobTemplateSummary, string, error) {
		return pageOf(tx, tJobTemplates, "", p, summary)
	})
}

// deleteJobTemplate is DeleteJobTemplate (DELETE /job-templates/{jobTemplateId}).
func (s *Service) deleteJobTemplate(r *http.Request) (any, error) {
	if err := s.DeleteJobTemplate(r.PathValue("jobTemplateId")); err != nil {
		return nil, err
	}
	return nil, nil
}
