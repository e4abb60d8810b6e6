package ota

import (
	"os"
	"strings"
)

// OTAUpdateRequest is the input of CreateOTAUpdate as
// `aws iot create-ota-update --cli-input-json` takes it, plus the CreateJob-only
// fields otactl accepts beside it. Its awsJob* fields map to CreateJob's.
type OTAUpdateRequest struct {
	OTAUpdateID                   string              `json:"otaUpdateId" yaml:"otaUpdateId"`
	Description                   string              `json:"description,omitempty" yaml:"description,omitempty"`
	Targets                       []string            `json:"targets" yaml:"targets"`
	Protocols                     []string            `json:"protocols,omitempty" yaml:"protocols,omitempty"`
	TargetSelection               string              `json:"targetSelection,omitempty" yaml:"targetSelection,omitempty"`
	AWSJobExecutionsRolloutConfig *RolloutConfig      `json:"awsJobExecutionsRolloutConfig,omitempty" yaml:"awsJobExecutionsRolloutConfig,omitempty"`
	AWSJobPresignedURLConfig      *AWSJobPresignedURL `json:"awsJobPresignedUrlConfig,omitempty" yaml:"awsJobPresignedUrlConfig,omitempty"`
	AWSJobAbortConfig             *AWSJobAbortConfig  `json:"awsJobAbortConfig,omitempty" yaml:"awsJobAbortConfig,omitempty"`
	AWSJobTimeoutConfig           *TimeoutConfig      `json:"awsJobTimeoutConfig,omitempty" yaml:"awsJobTimeoutConfig,omitempty"`
	Files                         []File              `json:"files" yaml:"files"`
	RoleArn                       string              `json:"roleArn" yaml:"roleArn"`
	AdditionalParameters          map[string]string   `json:"additionalParameters,omitempty" yaml:"additionalParameters,omitempty"`
	Tags                          []Tag               `json:"tags,omitempty" yaml:"tags,omitempty"`
	CreateJobOnly                 `yaml:",inline"`
}

// CreateJobOnly is what CreateJob accepts and CreateOTAUpdate does not.
type CreateJobOnly struct {
	JobExecutionsRetryConfig   *RetryConfig      `json:"jobExecutionsRetryConfig,omitempty" yaml:"jobExecutionsRetryConfig,omitempty"`
	SchedulingConfig           *SchedulingConfig `json:"schedulingConfig,omitempty" yaml:"schedulingConfig,omitempty"`
	DestinationPackageVersions []string          `json:"destinationPackageVersions,omitempty" yaml:"destinationPackageVersions,omitempty"`
	NamespaceID                string            `json:"namespaceId,omitempty" yaml:"namespaceId,omitempty"`
	JobTemplateArn             string            `json:"jobTemplateArn,omitempty" yaml:"jobTemplateArn,omitempty"`
}

// AWSJobPresignedURL is CreateOTAUpdate's awsJobPresignedUrlConfig (the role is the update's).
type AWSJobPresignedURL struct {
	ExpiresInSec int64 `json:"expiresInSec,omitempty" yaml:"expiresInSec,omitempty"`
}

// AWSJobAbortConfig is CreateOTAUpdate's name for abortConfig.
type AWSJobAbortConfig struct {
	AbortCriteriaList []AbortCriteria `json:"abortCriteriaList" yaml:"abortCriteriaList"`
}

// LoadRequestFile reads a CreateOTAUpdate request JSON (or YAML) file.
func LoadRequestFile(path string) (*Spec, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseRequest(path, raw)
}

// ParseRequest decodes a CreateOTAUpdate request and maps it to a Spec.
func ParseRequest(name string, raw []byte) (*Spec, error) {
	var r OTAUpdateRequest
	if err := decodeStrict(name, raw, &r); err != nil {
		return nil, err
	}
	return r.Spec(), nil
}

// Spec maps the request to otactl's model: awsJobX becomes CreateJob's X.
func (r *OTAUpdateRequest) Spec() *Spec {
	s := &Spec{
		OTAUpdateID:          r.OTAUpdateID,
		Description:          r.Description,
		Targets:              r.Targets,
		Protocols:            r.Protocols,
		TargetSelection:      r.TargetSelection,
		RoleArn:              r.RoleArn,
		Files:                r.Files,
		AdditionalParameters: r.AdditionalParameters,
		Tags:                 r.Tags,
	}
	s.JobExecutionsRolloutConfig = r.AWSJobExecutionsRolloutConfig
	s.TimeoutConfig = r.AWSJobTimeoutConfig
	if r.AWSJobAbortConfig != nil {
		s.AbortConfig = &AbortConfig{CriteriaList: r.AWSJobAbortConfig.AbortCriteriaList}
	}
	if r.AWSJobPresignedURLConfig != nil {
		s.PresignedURLConfig = &PresignedURLConfig{ExpiresInSec: r.AWSJobPresignedURLConfig.ExpiresInSec}
	}
	s.JobExecutionsRetryConfig = r.JobExecutionsRetryConfig
	s.SchedulingConfig = r.SchedulingConfig
	s.DestinationPackageVersions = r.DestinationPackageVersions
	s.NamespaceID = r.NamespaceID
	s.JobTemplateArn = r.JobTemplateArn
	return s
}

// RequestPath turns a spec field path into the CreateOTAUpdate request's
// own path for it (abortConfig.criteriaList[0] → awsJobAbortConfig.abortCriteriaList[0]),
// so that errors about a request name the fields the user wrote.
func RequestPath(specPath string) string {
	for _, m := range []struct{ spec, req string }{
		{"abortConfig.criteriaList", "awsJobAbortConfig.abortCriteriaList"},
		{"abortConfig", "awsJobAbortConfig"},
		{"timeoutConfig", "awsJobTimeoutConfig"},
		{"jobExecutionsRolloutConfig", "awsJobExecutionsRolloutConfig"},
		{"presignedUrlConfig", "awsJobPresignedUrlConfig"},
	} {
		if rest, ok := strings.CutPrefix(specPath, m.spec); ok && (rest == "" || rest[0] == '.' || rest[0] == '[') {
			return m.req + rest
		}
	}
	return specPath
}
