// Package iot is the AWS IoT control plane of otactl local: things, static
// thing groups, MQTT streams, jobs and their executions, the Software Package
// Catalog and tags, on AWS's REST-JSON wire (the real paths of the IoT API).
//
// Besides the HTTP handler it exports Go methods that the device side (the
// MQTT Jobs API and stream server) and the job engine use to read streams and
// drive executions through the same records and transition rules.
package iot

import (
	"net/http"
	"sync"
	"time"

	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/local/wire"
)

// Objects is what the IoT service needs from the local S3: whether an object
// (version) exists, and its body for a job's documentSource.
type Objects interface {
	// ObjectSize returns the size of bucket/key at version ("" = latest), or an
	// error when there is no such object or version.
	ObjectSize(bucket, key, version string) (int64, error)
	// ReadObject returns the latest body of bucket/key, at most limit bytes.
	ReadObject(bucket, key string, limit int64) ([]byte, error)
}

// Service serves the IoT control plane. Create it with New.
type Service struct {
	st      *store.Store
	env     wire.Env
	objects Objects // nil: S3 locations are not checked
	mux     *http.ServeMux

	// Now is the clock; the job engine may replace it with a simulated one
	// before the service is used.
	Now func() time.Time

	// RetryPolicy, when set, is asked inside the transaction that moves an
	// execution to FAILED or TIMED_OUT whether to queue a new attempt (the
	// job engine sets it from jobExecutionsRetryConfig). nil: no retries.
	RetryPolicy func(j *Job, e *Execution) bool

	// DeferRollout, when set and true for a job starting (at CreateJob or
	// StartJob), creates none of its executions: the job engine queues them
	// in waves with QueueExecutions (rollout rates, maintenance windows).
	DeferRollout func(j *Job) bool

	// RetryPolicy and DeferRollout run inside a store transaction: they must
	// decide from their arguments and never call back into the Service.

	streams streamCache
	issuer  issuerSlot // signs device certificates (SetCertificateIssuer)
	docs    docCache   // parsed policy documents (principal.go)

	mu        sync.RWMutex
	endpoints map[string]string
	listeners []func(Event)
}

// DefaultEndpoint is what DescribeEndpoint answers until SetEndpoint is
// called (the MQTT broker sets its own address).
const DefaultEndpoint = "127.0.0.1"

// New builds the service over st. objects may be nil.
func New(st *store.Store, env wire.Env, objects Objects) *Service {
	s := &Service{st: st, env: env, objects: objects, Now: time.Now, endpoints: map[string]string{}}
	s.mux = http.NewServeMux()
	s.routes()
	return s
}

// HandleFunc adds an operation of the IoT API served by another package
// (certificates and principals, for instance) under the same service name.
// pattern is a net/http pattern such as "POST /keys-and-certificate".
func (s *Service) HandleFunc(pattern string, h http.HandlerFunc) { s.mux.HandleFunc(pattern, h) }

func (s *Service) now() time.Time { return s.Now().UTC() }

// endpointTypes are the values DescribeEndpoint accepts.
var endpointTypes = map[string]bool{
	"iot:Data": true, "iot:Data-ATS": true, "iot:CredentialProvider": true, "iot:Jobs": true,
}

// SetEndpoint sets the address DescribeEndpoint returns for endpointType; an
// empty endpointType sets the address for every type not set on its own,
// except iot:CredentialProvider: otactl local serves no credentials
// provider, so that type answers only once set by name.
func (s *Service) SetEndpoint(endpointType, address string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.endpoints[endpointType] = address
}

// credentialProvider is the endpoint type not answered by default.
const credentialProvider = "iot:CredentialProvider"

func (s *Service) endpoint(endpointType string) (string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if a, ok := s.endpoints[endpointType]; ok {
		return a, true
	}
	if endpointType == credentialProvider {
		return "", false
	}
	if a, ok := s.endpoints[""]; ok {
		return a, true
	}
	return DefaultEndpoint, true
}

// describeEndpoint answers {"endpointAddress": ...} as AWS does, with what
// a device can dial: for iot:Data and iot:Data-ATS the MQTT listener, for
// iot:Jobs where iot-jobs-data is served (the server's public endpoint).
// AWS answers a host name (devices add 8883 or 443); otactl local's
// listeners are rarely on those ports, so the answers carry the port (the
// server leaves it out of an https endpoint on 443). iot:CredentialProvider is refused with
// InvalidRequestException (one of DescribeEndpoint's documented errors)
// naming what is missing, rather than an address whose every request would
// fail with a less clear error.
func (s *Service) describeEndpoint(r *http.Request) (any, error) {
	t := r.URL.Query().Get("endpointType")
	if t == "" {
		t = "iot:Data" // AWS's default
	}
	if !endpointTypes[t] {
		return nil, invalid("endpointType must be one of iot:Data, iot:Data-ATS, iot:CredentialProvider, iot:Jobs, got %q", t)
	}
	a, ok := s.endpoint(t)
	if !ok {
		return nil, invalid("endpointType %s: otactl local does not serve the AWS IoT credentials provider "+
			"(exchanging a device certificate for temporary AWS credentials through a role alias); "+
			"devices here use their certificate on MQTT (iot:Data-ATS) and SigV4 keys on HTTPS (iot:Jobs)", t)
	}
	return map[string]string{"endpointAddress": a}, nil
}

// Event tells listeners what changed, after the change is committed.
type Event struct {
	Kind EventKind
	// JobID is the job the event is about.
	JobID string
	// Things are the things whose executions were created (ExecutionsCreated)
	// or deleted with their job (JobDeleted).
	Things []string
	// Execution is the execution after the change (ExecutionChanged).
	Execution *Execution
	// PreviousStatus is the execution's status before the change.
	PreviousStatus string
	// Policy, Principals and Groups say what a PoliciesChanged event is
	// about when known: the policy changed, attached or detached, the
	// certificate ARNs and the thing group names it concerns. Things then
	// lists the things whose connections may be affected.
	Policy     string
	Principals []string
	Groups     []string
}

// EventKind names a kind of Event.
type EventKind string

// Event kinds.
const (
	ExecutionsCreated EventKind = "ExecutionsCreated"
	ExecutionChanged  EventKind = "ExecutionChanged"
	JobChanged        EventKind = "JobChanged"
	JobDeleted        EventKind = "JobDeleted"
	// PoliciesChanged: something that decides what a connection may do
	// changed (a policy's default version, a policy deleted, an attachment,
	// a certificate's status, a thing-principal link). The broker re-resolves
	// the connections concerned (all of them when the event names none).
	PoliciesChanged EventKind = "PoliciesChanged"
)

// Subscribe registers fn to be called (synchronously, in commit order of the
// caller) after each committed change. Listeners must not block for long.
func (s *Service) Subscribe(fn func(Event)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.listeners = append(s.listeners, fn)
}

func (s *Service) emit(evs ...Event) {
	s.mu.RLock()
	ls := s.listeners
	s.mu.RUnlock()
	for _, e := range evs {
		for _, l := range ls {
			l(e)
		}
	}
}
