package ota

import (
	"context"
	"errors"
	"io"
	"time"
)

// Cloud is what the pipeline needs from AWS (or from otactl local, which
// speaks the same wire). awscloud implements it with the AWS SDK for Go v2.
// Errors for missing resources wrap ErrNotFound; a create of something that
// exists wraps ErrAlreadyExists.
type Cloud interface {
	Region() string
	AccountID(ctx context.Context) (string, error)

	HeadObject(ctx context.Context, bucket, key, version string) (ObjectInfo, error)
	GetObject(ctx context.Context, bucket, key, version string) (io.ReadCloser, error)
	ListObjectVersions(ctx context.Context, bucket, key string) ([]ObjectInfo, error) // exactly key, newest first
	CopyObject(ctx context.Context, src S3Location, dstBucket, dstKey string) (versionID string, err error)
	DeleteObjectVersion(ctx context.Context, bucket, key, version string) error

	GetSigningProfile(ctx context.Context, name string) (SigningProfile, error)
	PutSigningProfile(ctx context.Context, name string, p SigningProfileParameter, tags []Tag) error
	StartSigningJob(ctx context.Context, in SigningJobInput) (jobID string, err error)
	DescribeSigningJob(ctx context.Context, jobID string) (SigningJob, error)

	BucketVersioning(ctx context.Context, bucket string) (string, error) // Enabled, Suspended or "" (never enabled)

	ThingGroupExists(ctx context.Context, name string) (bool, error)
	ThingExists(ctx context.Context, name string) (bool, error)
	DescribeStream(ctx context.Context, id string) (Stream, error)
	CreateStream(ctx context.Context, s Stream, roleArn string, tags []Tag) error
	DeleteStream(ctx context.Context, id string) error
	GetPackageVersion(ctx context.Context, pkg, version string) error
	CreatePackageVersion(ctx context.Context, pkg, version string, tags []Tag) error

	CreateJob(ctx context.Context, r JobRequest) (jobArn string, err error)
	DescribeJob(ctx context.Context, jobID string) (Job, error)
	GetJobDocument(ctx context.Context, jobID string) (string, error)
	ListJobs(ctx context.Context) ([]JobSummary, error)
	ListTags(ctx context.Context, arn string) ([]Tag, error)
	TagResource(ctx context.Context, arn string, tags []Tag) error
	UntagResource(ctx context.Context, arn string, keys []string) error
	UpdateJob(ctx context.Context, jobID string, u JobUpdate) error
	AssociateTargetsWithJob(ctx context.Context, jobID string, targets []string, comment string) error
	CancelJob(ctx context.Context, jobID string, force bool) error
	DeleteJob(ctx context.Context, jobID string, force bool) error
	ListJobExecutions(ctx context.Context, jobID string) ([]Execution, error)
}

// ObjectStartReader is a Cloud that can read the first n bytes of an
// object version (S3's ranged GetObject) and says which version it read
// ("" names the latest); when the object is longer, the read after them
// fails rather than ending (io.EOF would let a number cut short read as
// whole). The pipeline reads a signed object's signature from its first
// bytes with it (signatureWindow).
type ObjectStartReader interface {
	GetObjectStart(ctx context.Context, bucket, key, version string, n int64) (body io.ReadCloser, versionID string, err error)
}

// Sentinel errors the Cloud implementations wrap.
var (
	ErrNotFound      = errors.New("not found")
	ErrAlreadyExists = errors.New("already exists")
)

// ObjectInfo is one S3 object version.
type ObjectInfo struct {
	Bucket, Key, VersionID, ETag string
	Size                         int64
	LastModified                 time.Time
}

// SigningProfile is what the pipeline reads from a Signer profile.
type SigningProfile struct {
	Name       string
	PlatformID string
	CertName   string // signingParameters.certname: the document's certfile
	Status     string
}

// SigningJobInput starts a Signer job on an exact object version.
type SigningJobInput struct {
	Source      S3Location
	Destination S3Destination
	ProfileName string
	ClientToken string
}

// SigningJob is a Signer job's state.
type SigningJob struct {
	ID           string
	Status       string // InProgress, Succeeded, Failed
	StatusReason string
	ProfileName  string
	Source       S3Location
	SignedObject S3Location // bucket and key of the signed object
}

// Stream is an MQTT file stream.
type Stream struct {
	ID          string               `json:"streamId"`
	Description string               `json:"description,omitempty"`
	Version     int                  `json:"streamVersion"`
	Files       []StreamFileLocation `json:"files"`
	RoleArn     string               `json:"roleArn,omitempty"` // read by DescribeStream; CreateStream takes the role apart
}

// StreamFileLocation is one file of a stream.
type StreamFileLocation struct {
	FileID int        `json:"fileId"`
	S3     S3Location `json:"s3Location"`
}

// Job is what otactl reads back of a job.
type Job struct {
	JobID, JobArn, Status, Description, TargetSelection string
	Targets                                             []string
	CreatedAt, LastUpdatedAt, CompletedAt               time.Time
	Counts                                              map[string]int // execution counts by status
	SchedulingConfig                                    *SchedulingConfig
	DestinationPackageVersions                          []string
	// What UpdateJob can change, as DescribeJob reads it back.
	PresignedURLConfig         *PresignedURLConfig
	JobExecutionsRolloutConfig *RolloutConfig
	AbortConfig                *AbortConfig
	TimeoutConfig              *TimeoutConfig
	JobExecutionsRetryConfig   *RetryConfig
	Raw                        any // the service's full response, for JSON output
}

// JobUpdate is UpdateJob's input: nil members stay as they are (UpdateJob
// cannot remove a configuration, only replace it).
type JobUpdate struct {
	Description                *string             `json:"description,omitempty"`
	PresignedURLConfig         *PresignedURLConfig `json:"presignedUrlConfig,omitempty"`
	JobExecutionsRolloutConfig *RolloutConfig      `json:"jobExecutionsRolloutConfig,omitempty"`
	AbortConfig                *AbortConfig        `json:"abortConfig,omitempty"`
	TimeoutConfig              *TimeoutConfig      `json:"timeoutConfig,omitempty"`
	JobExecutionsRetryConfig   *RetryConfig        `json:"jobExecutionsRetryConfig,omitempty"`
}

// JobSummary is one entry of ListJobs.
type JobSummary struct {
	JobID, JobArn, Status, TargetSelection string
	CreatedAt                              time.Time
}

// Execution is one device's execution of a job.
type Execution struct {
	ThingArn        string            `json:"thingArn"`
	Status          string            `json:"status"`
	ExecutionNumber int64             `json:"executionNumber"`
	QueuedAt        time.Time         `json:"queuedAt"`
	StartedAt       time.Time         `json:"startedAt"` // zero (not started) is left out of otactl's JSON
	LastUpdt        time.Time         `json:"lastUpdatedAt"`
	RetryAttempt    int               `json:"retryAttempt"`
	StatusDetails   map[string]string `json:"statusDetails,omitempty"`
	Packages        map[string]string `json:"packages,omitempty"` // package → version the thing reports running
}

// PackageReporter is a Cloud that can read the package versions a thing
// reports (its $package shadow).
type PackageReporter interface {
	ThingPackages(ctx context.Context, thing string) (map[string]string, error)
}
