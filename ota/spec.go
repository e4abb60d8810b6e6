// Package ota is otactl's domain: one model of an OTA update (the union of what
// AWS IoT CreateOTAUpdate accepts and what CreateJob adds), its validation, the
// afr_ota job document a device parses, and the plan of calls that creates it.
// It has no AWS SDK imports; the cloud is reached through the Cloud interface.
package ota

// Spec is an OTA update. Field names are AWS's own (CreateOTAUpdate for the
// files and signing, CreateJob for the job configuration) so that a spec file
// reads like the API reference.
type Spec struct {
	OTAUpdateID          string            `json:"otaUpdateId" yaml:"otaUpdateId"`
	Description          string            `json:"description,omitempty" yaml:"description,omitempty"`
	Targets              []string          `json:"targets" yaml:"targets"`
	Protocols            []string          `json:"protocols,omitempty" yaml:"protocols,omitempty"`
	TargetSelection      string            `json:"targetSelection,omitempty" yaml:"targetSelection,omitempty"`
	RoleArn              string            `json:"roleArn" yaml:"roleArn"`
	Files                []File            `json:"files" yaml:"files"`
	AdditionalParameters map[string]string `json:"additionalParameters,omitempty" yaml:"additionalParameters,omitempty"`
	Tags                 []Tag             `json:"tags,omitempty" yaml:"tags,omitempty"`

	JobConfig `yaml:",inline"`
}

// JobConfig holds what CreateJob accepts beyond targets and document; most of
// it is the advanced configuration CreateOTAUpdate cannot pass.
type JobConfig struct {
	TimeoutConfig              *TimeoutConfig      `json:"timeoutConfig,omitempty" yaml:"timeoutConfig,omitempty"`
	JobExecutionsRetryConfig   *RetryConfig        `json:"jobExecutionsRetryConfig,omitempty" yaml:"jobExecutionsRetryConfig,omitempty"`
	SchedulingConfig           *SchedulingConfig   `json:"schedulingConfig,omitempty" yaml:"schedulingConfig,omitempty"`
	JobExecutionsRolloutConfig *RolloutConfig      `json:"jobExecutionsRolloutConfig,omitempty" yaml:"jobExecutionsRolloutConfig,omitempty"`
	AbortConfig                *AbortConfig        `json:"abortConfig,omitempty" yaml:"abortConfig,omitempty"`
	PresignedURLConfig         *PresignedURLConfig `json:"presignedUrlConfig,omitempty" yaml:"presignedUrlConfig,omitempty"`
	DestinationPackageVersions []string            `json:"destinationPackageVersions,omitempty" yaml:"destinationPackageVersions,omitempty"`
	NamespaceID                string              `json:"namespaceId,omitempty" yaml:"namespaceId,omitempty"`
	JobTemplateArn             string              `json:"jobTemplateArn,omitempty" yaml:"jobTemplateArn,omitempty"`
}

// Tag is an AWS resource tag in the IoT API's shape.
type Tag struct {
	Key   string `json:"Key" yaml:"Key"`
	Value string `json:"Value" yaml:"Value"`
}

// File is one file of the update (OTAUpdateFile).
type File struct {
	FileName     string            `json:"fileName,omitempty" yaml:"fileName,omitempty"`
	FileType     *int              `json:"fileType,omitempty" yaml:"fileType,omitempty"`
	FileVersion  string            `json:"fileVersion,omitempty" yaml:"fileVersion,omitempty"`
	FileLocation FileLocation      `json:"fileLocation" yaml:"fileLocation"`
	CodeSigning  CodeSigning       `json:"codeSigning" yaml:"codeSigning"`
	Attributes   map[string]string `json:"attributes,omitempty" yaml:"attributes,omitempty"`
}

// FileLocation is exactly one of an S3 object or a file of an existing stream.
type FileLocation struct {
	S3Location *S3Location `json:"s3Location,omitempty" yaml:"s3Location,omitempty"`
	Stream     *StreamFile `json:"stream,omitempty" yaml:"stream,omitempty"`
}

// S3Location names an object; an empty Version means the latest at plan time.
type S3Location struct {
	Bucket  string `json:"bucket" yaml:"bucket"`
	Key     string `json:"key" yaml:"key"`
	Version string `json:"version,omitempty" yaml:"version,omitempty"`
}

// StreamFile is a file of an MQTT stream that already exists.
type StreamFile struct {
	StreamID string `json:"streamId" yaml:"streamId"`
	FileID   *int   `json:"fileId,omitempty" yaml:"fileId,omitempty"`
}

// CodeSigning is exactly one of its three members.
type CodeSigning struct {
	AWSSignerJobID           string                    `json:"awsSignerJobId,omitempty" yaml:"awsSignerJobId,omitempty"`
	StartSigningJobParameter *StartSigningJobParameter `json:"startSigningJobParameter,omitempty" yaml:"startSigningJobParameter,omitempty"`
	CustomCodeSigning        *CustomCodeSigning        `json:"customCodeSigning,omitempty" yaml:"customCodeSigning,omitempty"`
}

// StartSigningJobParameter signs the file with an AWS Signer profile.
type StartSigningJobParameter struct {
	SigningProfileName      string                   `json:"signingProfileName" yaml:"signingProfileName"`
	SigningProfileParameter *SigningProfileParameter `json:"signingProfileParameter,omitempty" yaml:"signingProfileParameter,omitempty"`
	Destination             *Destination             `json:"destination,omitempty" yaml:"destination,omitempty"`
}

// SigningProfileParameter is what CreateOTAUpdate uses to create the profile
// when it does not exist: the ACM certificate, the Signer platform (default
// AmazonFreeRTOS-Default) and the certificate's path on the device (certname).
type SigningProfileParameter struct {
	CertificateArn          string `json:"certificateArn,omitempty" yaml:"certificateArn,omitempty"`
	Platform                string `json:"platform,omitempty" yaml:"platform,omitempty"`
	CertificatePathOnDevice string `json:"certificatePathOnDevice,omitempty" yaml:"certificatePathOnDevice,omitempty"`
}

// Destination is where Signer writes the signed object.
type Destination struct {
	S3Destination *S3Destination `json:"s3Destination,omitempty" yaml:"s3Destination,omitempty"`
}

// S3Destination is a bucket and key prefix.
type S3Destination struct {
	Bucket string `json:"bucket" yaml:"bucket"`
	Prefix string `json:"prefix,omitempty" yaml:"prefix,omitempty"`
}

// CustomCodeSigning carries a signature made outside AWS.
type CustomCodeSigning struct {
	Signature          *CustomSignature  `json:"signature,omitempty" yaml:"signature,omitempty"`
	CertificateChain   *CertificateChain `json:"certificateChain,omitempty" yaml:"certificateChain,omitempty"`
	HashAlgorithm      string            `json:"hashAlgorithm,omitempty" yaml:"hashAlgorithm,omitempty"`
	SignatureAlgorithm string            `json:"signatureAlgorithm,omitempty" yaml:"signatureAlgorithm,omitempty"`
}

// CustomSignature is the base64 of the DER signature.
type CustomSignature struct {
	InlineDocument string `json:"inlineDocument" yaml:"inlineDocument"`
}

// CertificateChain names the certificate on the device (certfile).
type CertificateChain struct {
	CertificateName string `json:"certificateName,omitempty" yaml:"certificateName,omitempty"`
	InlineDocument  string `json:"inlineDocument,omitempty" yaml:"inlineDocument,omitempty"`
}

// TimeoutConfig is CreateJob's timeoutConfig.
type TimeoutConfig struct {
	InProgressTimeoutInMinutes int64 `json:"inProgressTimeoutInMinutes" yaml:"inProgressTimeoutInMinutes"`
}

// RetryConfig is CreateJob's jobExecutionsRetryConfig.
type RetryConfig struct {
	CriteriaList []RetryCriteria `json:"criteriaList" yaml:"criteriaList"`
}

// RetryCriteria retries executions that ended with FailureType.
type RetryCriteria struct {
	FailureType     string `json:"failureType" yaml:"failureType"`
	NumberOfRetries int    `json:"numberOfRetries" yaml:"numberOfRetries"`
}

// SchedulingConfig is CreateJob's schedulingConfig; times are "YYYY-MM-DDTHH:MM" UTC.
type SchedulingConfig struct {
	StartTime          string              `json:"startTime,omitempty" yaml:"startTime,omitempty"`
	EndTime            string              `json:"endTime,omitempty" yaml:"endTime,omitempty"`
	EndBehavior        string              `json:"endBehavior,omitempty" yaml:"endBehavior,omitempty"`
	MaintenanceWindows []MaintenanceWindow `json:"maintenanceWindows,omitempty" yaml:"maintenanceWindows,omitempty"`
}

// MaintenanceWindow opens at each match of an AWS cron expression for a duration.
type MaintenanceWindow struct {
	StartTime         string `json:"startTime" yaml:"startTime"`
	DurationInMinutes int    `json:"durationInMinutes" yaml:"durationInMinutes"`
}

// RolloutConfig is CreateJob's jobExecutionsRolloutConfig.
type RolloutConfig struct {
	MaximumPerMinute int              `json:"maximumPerMinute,omitempty" yaml:"maximumPerMinute,omitempty"`
	ExponentialRate  *ExponentialRate `json:"exponentialRate,omitempty" yaml:"exponentialRate,omitempty"`
}

// ExponentialRate raises the rollout rate by a factor after each criterion is met.
type ExponentialRate struct {
	BaseRatePerMinute    int                  `json:"baseRatePerMinute" yaml:"baseRatePerMinute"`
	IncrementFactor      float64              `json:"incrementFactor" yaml:"incrementFactor"`
	RateIncreaseCriteria RateIncreaseCriteria `json:"rateIncreaseCriteria" yaml:"rateIncreaseCriteria"`
}

// RateIncreaseCriteria is exactly one of its two counts.
type RateIncreaseCriteria struct {
	NumberOfNotifiedThings  int `json:"numberOfNotifiedThings,omitempty" yaml:"numberOfNotifiedThings,omitempty"`
	NumberOfSucceededThings int `json:"numberOfSucceededThings,omitempty" yaml:"numberOfSucceededThings,omitempty"`
}

// AbortConfig is CreateJob's abortConfig.
type AbortConfig struct {
	CriteriaList []AbortCriteria `json:"criteriaList" yaml:"criteriaList"`
}

// AbortCriteria cancels the job when ThresholdPercentage of executed things
// ended with FailureType, once MinNumberOfExecutedThings have executed.
type AbortCriteria struct {
	FailureType               string  `json:"failureType" yaml:"failureType"`
	Action                    string  `json:"action" yaml:"action"`
	ThresholdPercentage       float64 `json:"thresholdPercentage" yaml:"thresholdPercentage"`
	MinNumberOfExecutedThings int     `json:"minNumberOfExecutedThings" yaml:"minNumberOfExecutedThings"`
}

// PresignedURLConfig is CreateJob's presignedUrlConfig; an empty RoleArn means the spec's role.
type PresignedURLConfig struct {
	RoleArn      string `json:"roleArn,omitempty" yaml:"roleArn,omitempty"`
	ExpiresInSec int64  `json:"expiresInSec,omitempty" yaml:"expiresInSec,omitempty"`
}

// Protocol names.
const (
	ProtocolMQTT = "MQTT"
	ProtocolHTTP = "HTTP"
)

// JobIDPrefix is what CreateOTAUpdate puts before the update id in the job id
// and before the uuid in the stream id.
const JobIDPrefix = "AFR_OTA-"

// JobID is the id of the job that delivers the update.
func (s *Spec) JobID() string { return JobIDPrefix + s.OTAUpdateID }

// EffectiveProtocols returns the protocols, MQTT when none are given (AWS's default).
func (s *Spec) EffectiveProtocols() []string {
	if len(s.Protocols) == 0 {
		return []string{ProtocolMQTT}
	}
	return s.Protocols
}

// HasProtocol reports whether the update is delivered over p.
func (s *Spec) HasProtocol(p string) bool {
	for _, q := range s.EffectiveProtocols() {
		if q == p {
			return true
		}
	}
	return false
}
