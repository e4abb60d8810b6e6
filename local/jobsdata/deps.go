package jobsdata

import "time"

// Deps is what the data plane needs from the rest of otactl local. A nil
// Jobs answers ServiceUnavailableException; a nil Presigner answers
// InternalFailureException for documents that carry a presigned-URL
// placeholder.
type Deps struct {
	Jobs      Jobs
	Presigner Presigner
}

// Execution is a job execution as a device sees it.
type Execution struct {
	JobID           string
	ThingName       string
	Status          string
	StatusDetails   map[string]string
	QueuedAt        time.Time
	StartedAt       time.Time // zero until the execution started
	LastUpdatedAt   time.Time
	VersionNumber   int64
	ExecutionNumber int64
	// TimeoutAt is when the execution times out (the earlier of the job's
	// in-progress timeout and the device's step timer); zero: none.
	TimeoutAt time.Time
}

// Update is a device's UpdateJobExecution request, checked for shape.
type Update struct {
	Status          string            // IN_PROGRESS, SUCCEEDED, FAILED or REJECTED
	StatusDetails   map[string]string // nil: unchanged
	ExpectedVersion int64             // 0: unchecked; else must equal versionNumber
	ExecutionNumber int64             // 0: unchecked; else must be the execution's number
	StepTimeout     int64             // minutes; 0: unchanged, -1: clear the step timer
}

// Jobs is the store of job executions the data plane drives: the same
// records and transition rules as the MQTT Jobs API. Failures are
// *wire.Error values with AWS's codes (ResourceNotFoundException,
// InvalidRequestException, InvalidStateTransitionException,
// VersionConflictException, ThrottlingException); anything else is an
// internal failure.
type Jobs interface {
	// PendingExecutions returns the thing's IN_PROGRESS executions, then its
	// QUEUED ones, each oldest first.
	PendingExecutions(thing string) ([]Execution, error)
	// Execution returns one execution (ResourceNotFoundException when the
	// thing has none of that job).
	Execution(thing, jobID string) (Execution, error)
	// ExecutionNumbered returns attempt number of the job on thing: the
	// latest, or an earlier one a retry replaced (ResourceNotFoundException
	// when there is none).
	ExecutionNumbered(thing, jobID string, number int64) (Execution, error)
	// StartNextExecution moves the next pending execution to IN_PROGRESS
	// (one already IN_PROGRESS stays so) with details (nil: unchanged) and
	// the step timer (minutes, 0: unchanged) applied; nil when nothing is
	// pending.
	StartNextExecution(thing string, details map[string]string, stepTimeout int64) (*Execution, error)
	// UpdateExecution applies a device's update.
	UpdateExecution(thing, jobID string, u Update) (Execution, error)
	// Document returns the job's document as devices receive it
	// (documentParameters applied, presigned-URL placeholders not yet) and
	// its presignedUrlConfig.expiresInSec (0: none configured).
	Document(jobID string) (doc string, presignExpires time.Duration, err error)
}

// Presigner makes an expiring presigned GET URL for an S3 object version
// ("" = latest).
type Presigner interface {
	PresignGet(bucket, key, version string, expires time.Duration) (string, error)
}
