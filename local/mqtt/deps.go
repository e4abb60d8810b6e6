package mqtt

import (
	"errors"
	"io"
	"time"

	"github.com/otactl/otactl/local/policy"
)

// Deps is what the broker needs from the rest of otactl local. Any of them
// may be nil: the topics that need a missing one answer InternalError.
type Deps struct {
	Jobs       Jobs
	Streams    Streams
	Objects    Objects
	Presigner  Presigner
	Identities Identities
	// Principals resolves who a connection is and which policies apply. A
	// TLS listener needs it; without it the plain listener applies the
	// built-in development policy (Config.PlainPolicy must then be empty).
	Principals Principals
	// Retained keeps retained messages across restarts; nil: in memory only.
	Retained Retained
	// Shadows serves the Device Shadow topics (shadow_hook.go); nil: they
	// are plain topics.
	Shadows Shadows
	// AutoRegister registers device certificates a registered CA signed at
	// their first handshake (JITR/JITP, autoreg.go); nil: unknown
	// certificates are refused only.
	AutoRegister AutoRegistrar
	// Provisioning serves the device provisioning MQTT API (fleet
	// provisioning by claim, fleetprov.go); nil: its requests are refused.
	Provisioning Provisioning
	CA           *CA
}

// Execution is a job execution as the device side sees it.
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
}

// Update is a device's UpdateJobExecution request.
type Update struct {
	Status          string
	StatusDetails   map[string]string // nil: unchanged
	ExpectedVersion *int64
	ExecutionNumber *int64
	StepTimeout     *int64 // minutes
}

// Jobs is the job-execution store the Jobs topics drive. Implementations
// return a *JobError for the failures the Jobs API names; any other error is
// an InternalError.
type Jobs interface {
	// PendingExecutions returns the thing's IN_PROGRESS and QUEUED executions
	// in the order they were queued.
	PendingExecutions(thing string) ([]Execution, error)
	// Execution returns one execution (ResourceNotFound when there is none).
	Execution(thing, jobID string) (Execution, error)
	// UpdateExecution applies a device's update with the control plane's
	// transition and version rules.
	UpdateExecution(thing, jobID string, u Update) (Execution, error)
	// StartNextExecution moves the next pending execution to IN_PROGRESS (an
	// IN_PROGRESS one is returned as is, with details applied) and returns it;
	// nil when nothing is pending.
	StartNextExecution(thing string, details map[string]string, stepTimeout *int64) (*Execution, error)
	// Document returns the job's document (JSON text, documentParameters
	// applied) and its presignedUrlConfig.expiresInSec (0: none configured;
	// presigned URLs then last an hour).
	Document(jobID string) (doc string, presignExpires time.Duration, err error)
}

// JobError is a failure the Jobs MQTT API reports on a rejected topic.
type JobError struct {
	Code    string // InvalidRequest, ResourceNotFound, VersionMismatch, ...
	Message string
	// State is the execution's current state, sent as executionState (with
	// VersionMismatch and InvalidStateTransition).
	State *Execution
}

func (e *JobError) Error() string { return e.Code + ": " + e.Message }

// Jobs API error codes (the rejected payload's "code").
const (
	CodeInvalidTopic           = "InvalidTopic"
	CodeInvalidJSON            = "InvalidJson"
	CodeInvalidRequest         = "InvalidRequest"
	CodeInvalidStateTransition = "InvalidStateTransition"
	CodeResourceNotFound       = "ResourceNotFound"
	CodeVersionMismatch        = "VersionMismatch"
	CodeInternalError          = "InternalError"
	CodeRequestThrottled       = "RequestThrottled"
	CodeTerminalStateReached   = "TerminalStateReached"
)

// StreamFile is one file of a stream: the S3 object version it serves.
type StreamFile struct {
	FileID  int
	Bucket  string
	Key     string
	Version string
}

// Stream is an IoT stream.
type Stream struct {
	ID          string
	Version     int64
	Description string
	Files       []StreamFile
}

// ErrNotFound is what Streams and Objects return for something missing.
var ErrNotFound = errors.New("not found")

// Streams looks streams up by id.
type Streams interface {
	Stream(id string) (Stream, error)
}

// Object is an open object version: blocks are read with ReadAt.
type Object interface {
	io.ReaderAt
	io.Closer
	Size() int64
}

// Objects opens S3 object versions ("" = latest).
type Objects interface {
	Open(bucket, key, version string) (Object, error)
}

// Presigner makes an expiring presigned GET URL for an object version.
type Presigner interface {
	PresignGet(bucket, key, version string, expires time.Duration) (string, error)
}

// Identities answers for the TLS listener which certificates may connect.
type Identities interface {
	// CertificateActive reports whether the certificate (id = lowercase hex
	// SHA-256 of its DER) is registered and ACTIVE.
	CertificateActive(certificateID string) bool
	// CertificateAttached reports whether it is attached to the thing.
	CertificateAttached(certificateID, thingName string) bool
}

// Principals tells the broker who a connection is and which IoT policies
// apply to it; every broker decision then asks local/policy.
type Principals interface {
	// ForCertificate resolves a mutual-TLS connection: the certificate's
	// status, the policies attached to it, and, when a thing named clientID
	// is attached to the certificate, that thing (IsAttached true) and the
	// policies of its thing groups and their parents.
	ForCertificate(certificateID, clientID string) (Principal, error)
	// ForPlain resolves a plain-listener connection with the named policy
	// (its default version) and the thing named clientID if one exists
	// (IsAttached false: nothing proves the client is that thing).
	ForPlain(policyName, clientID string) (Principal, error)
}

// Principal is a connection's resolved identity.
type Principal struct {
	CertificateStatus string        // ACTIVE, INACTIVE, REVOKED...; "" on the plain listener
	Thing             *policy.Thing // nil: no thing named like the client id
	Policies          []policy.Policy
}

// RetainedMessage is a retained message as it is stored.
type RetainedMessage struct {
	Topic   string
	Payload []byte
	QoS     byte
	// Created is when the broker accepted it (unix seconds).
	Created int64
}

// Retained is where retained messages survive a restart: the broker loads
// them at start, and saves or deletes one as each retained PUBLISH (or
// Will) is accepted. Errors are logged; the broker keeps serving.
type Retained interface {
	RetainedMessages() ([]RetainedMessage, error)
	SaveRetained(m RetainedMessage) error
	DeleteRetained(topic string) error
}

// Shadows is the Device Shadow service as the broker's shadow hook calls it.
type Shadows interface {
	// ServeShadow handles a message published on topic. ok is false when
	// topic is not a shadow request topic ($aws/things/<thing>/shadow/
	// [name/<name>/](get|update|delete)); the message then goes on as any
	// other. Otherwise msgs are what to send: the accepted or rejected
	// answer, then an accepted update's delta and documents.
	ServeShadow(topic string, payload []byte) (msgs []ShadowMessage, ok bool)
}

// ShadowMessage is a message the shadow service sends about a request.
type ShadowMessage struct {
	Topic   string
	Payload []byte
	// Answer marks the accepted or rejected answer, which the requester
	// gets even without a subscription (as the Jobs answers).
	Answer bool
}
