// Package jobsdata is otactl local's AWS IoT Jobs data plane over HTTPS
// (API "IoT Jobs Data Plane", 2017-09-29; SigV4 signing name
// "iot-jobs-data"; REST-JSON): the device side of Jobs for devices and
// backends that speak HTTP instead of MQTT.
//
// Operations: GetPendingJobExecutions (GET /things/{thingName}/jobs),
// StartNextPendingJobExecution (PUT /things/{thingName}/jobs/$next),
// DescribeJobExecution (GET /things/{thingName}/jobs/{jobId}, $next
// included) and UpdateJobExecution (POST /things/{thingName}/jobs/{jobId}).
// They drive the same execution records, with the same transition rules, as
// the MQTT Jobs topics: the store behind Deps.Jobs is local/iot's, so an
// update over HTTPS is seen over MQTT (notify, notify-next) and by the
// control plane.
//
// Wire facts: times are whole seconds since the epoch; jobDocument is a
// string holding the document's own characters (no \u0026 for &: wire's
// encoder does not escape HTML), with presigned-URL placeholders resolved.
// Errors are AWS's REST-JSON shape; InvalidStateTransitionException and an
// expectedVersion mismatch carry the execution's executionState.
//
// Choices where the model is silent, each as the MQTT Jobs API does it: a
// stale expectedVersion (the API's "VersionMismatch", for which the model
// declares no exception) is 409 VersionConflictException, IoT's name for
// the same check in CancelJobExecution; describing a terminal execution is
// TerminalStateException (MQTT's TerminalStateReached); a device may set
// only IN_PROGRESS, SUCCEEDED, FAILED or REJECTED (InvalidRequestException
// otherwise).
//
// Differences from AWS: StartCommandExecution (AWS IoT commands, a newer
// feature of the same API) is not served (UnknownOperationException).
// Requests are authenticated by SigV4 like every other service of otactl
// local, not by a device certificate, so CertificateValidationException
// never occurs and any caller may act for any thing. No request rate is
// enforced (ThrottlingException only when the store reports a limit). A
// thing that does not exist has nothing pending rather than being
// ResourceNotFoundException.
package jobsdata

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/otactl/otactl/local/wire"
)

// Service serves the data plane. It keeps no state of its own.
type Service struct {
	env  wire.Env // the account and region (the API itself names no ARNs)
	deps Deps
	mux  *http.ServeMux
	now  func() time.Time
}

// New builds the data plane over deps.
func New(env wire.Env, deps Deps) *Service {
	s := &Service{env: env, deps: deps, mux: http.NewServeMux(), now: time.Now}
	s.routes()
	return s
}

// routes registers every operation at its method and path.
func (s *Service) routes() {
	m := map[string]op{
		"GET /things/{thingName}/jobs":          s.getPendingJobExecutions,
		"PUT /things/{thingName}/jobs/$next":    s.startNextPendingJobExecution,
		"GET /things/{thingName}/jobs/{jobId}":  s.describeJobExecution,
		"POST /things/{thingName}/jobs/{jobId}": s.updateJobExecution,
	}
	for pattern, h := range m {
		s.mux.Handle(pattern, s.serve(h))
	}
}

// ServeHTTP routes a request to its operation; anything else gets AWS's
// error shape rather than the mux's plain-text 404/405.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := s.mux.Handler(r); pattern == "" {
		wire.WriteError(w, wire.Errorf(http.StatusNotFound, "UnknownOperationException",
			"no IoT Jobs data plane operation for %s %s", r.Method, r.URL.Path))
		return
	}
	s.mux.ServeHTTP(w, r)
}

// op is an operation: it returns the response body or an error.
type op func(r *http.Request) (any, error)

func (s *Service) serve(f op) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.deps.Jobs == nil {
			writeError(w, unavailable("job executions are not available in this environment"))
			return
		}
		out, err := f(r)
		if err != nil {
			writeError(w, err)
			return
		}
		wire.WriteJSON(w, http.StatusOK, out)
	}
}

// The data plane's error codes (the API model's exceptions), with their
// HTTP status. Each failure of the service is one of these.

func invalid(format string, args ...any) *wire.Error { return wire.InvalidRequest(format, args...) }

func notFound(format string, args ...any) *wire.Error { return wire.NotFound(format, args...) }

func terminalState(format string, args ...any) *wire.Error {
	return wire.Errorf(http.StatusGone, "TerminalStateException", format, args...)
}

func unavailable(format string, args ...any) *wire.Error {
	return wire.Errorf(http.StatusServiceUnavailable, "ServiceUnavailableException", format, args...)
}

func throttled(msg string) *wire.Error {
	return wire.Errorf(http.StatusTooManyRequests, "ThrottlingException", "%s", msg)
}

// versionMismatch is the Jobs API's VersionMismatch. The data plane's model
// declares no exception for it; the IoT API's name for the same check
// (CancelJobExecution's expectedVersion) is VersionConflictException, 409.
func versionMismatch(format string, args ...any) *wire.Error {
	return wire.Errorf(http.StatusConflict, "VersionConflictException", format, args...)
}

// stateError is a refused change that AWS answers with the execution's
// current state (executionState in the error body).
type stateError struct {
	err   *wire.Error
	state *Execution
}

func (e *stateError) Error() string { return e.err.Error() }
func (e *stateError) Unwrap() error { return e.err }

// apiError maps a store failure to the data plane's codes: the store's own
// AWS codes pass through, its limits become ThrottlingException, anything
// else is an internal failure.
func apiError(err error) error {
	var se *stateError
	if errors.As(err, &se) {
		return se
	}
	var we *wire.Error
	if !errors.As(err, &we) {
		return wire.Internal(err)
	}
	switch we.Code {
	case "ResourceNotFoundException", "InvalidRequestException", "InvalidStateTransitionException",
		"VersionConflictException", "TerminalStateException", "ServiceUnavailableException", "ThrottlingException":
		return we
	case "LimitExceededException":
		return throttled(we.Message)
	}
	return wire.Internal(fmt.Errorf("%s: %s", we.Code, we.Message))
}

// writeError writes err in AWS's REST-JSON error shape, with
// executionState when the refusal carries one.
func writeError(w http.ResponseWriter, err error) {
	err = apiError(err)
	var se *stateError
	if !errors.As(err, &se) || se.state == nil {
		wire.WriteError(w, err)
		return
	}
	w.Header().Set("X-Amzn-ErrorType", se.err.Code)
	wire.WriteJSON(w, se.err.Status, struct {
		Type           string              `json:"__type"`
		Message        string              `json:"message"`
		ExecutionState *executionStateJSON `json:"executionState"`
	}{se.err.Code, se.err.Message, stateOf(*se.state)})
}
