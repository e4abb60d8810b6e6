// Package signer is AWS Signer for otactl local: signing platforms, signing
// profiles (with imported ACM material or a generated key and code-signing
// certificate) and signing jobs that read a versioned S3 object, sign the
// digest of the whole file and write the signed object in the JSON format
// CreateOTAUpdate reads. It speaks Signer's REST-JSON protocol on its real
// paths.
package signer

import (
	"crypto"
	"crypto/x509"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/local/wire"
)

// Objects is what signing needs from S3. Versioning returns "Enabled",
// "Suspended" or "" (never enabled); Open returns a version's body and size.
type Objects interface {
	Versioning(bucket string) (string, error)
	Open(bucket, key, versionID string) (io.ReadCloser, int64, error)
	Put(bucket, key string, body io.Reader, contentType string) error
}

// Certificates is what signing needs from ACM: the key pair behind a
// certificate ARN, and a place to keep generated material.
type Certificates interface {
	KeyPair(arn string) (*x509.Certificate, crypto.Signer, error)
	Import(certPEM, keyPEM, chainPEM []byte) (string, error)
}

// Store tables.
const (
	profilesTable = "signer-profiles"     // profile name → profile
	jobsTable     = "signer-jobs"         // job id → job
	tokensTable   = "signer-job-tokens"   // clientRequestToken → job id
	materialTable = "signer-profile-keys" // profile name → ARN of generated material
)

// Service is the Signer of one environment. It is an http.Handler.
type Service struct {
	st    *store.Store
	env   wire.Env
	objs  Objects
	certs Certificates
	now   func() time.Time
	mux   *http.ServeMux

	mu      sync.Mutex // serialises profile writes
	wg      sync.WaitGroup
	closed  bool
	closeMu sync.Mutex

	// beforeSign, when set (by tests), runs in a job's goroutine before it
	// signs, so a test can observe the job InProgress.
	beforeSign func(jobID string)
}

// New returns the Signer service. Jobs that were InProgress when the
// process stopped are resumed: signing is idempotent (the same source
// version, the same key, the destination key rewritten), so a resumed job
// ends as it would have.
func New(st *store.Store, env wire.Env, objs Objects, certs Certificates) *Service {
	return newService(st, env, objs, certs, nil)
}

func newService(st *store.Store, env wire.Env, objs Objects, certs Certificates, beforeSign func(string)) *Service {
	s := &Service{st: st, env: env, objs: objs, certs: certs, now: time.Now, beforeSign: beforeSign}
	s.routes()
	s.resume()
	return s
}

// Close waits for running signing jobs to finish and starts no new ones.
func (s *Service) Close() error {
	s.closeMu.Lock()
	s.closed = true
	s.closeMu.Unlock()
	s.wg.Wait()
	return nil
}

// goRun starts a job's goroutine unless the service is closed.
func (s *Service) goRun(jobID string) {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closed {
		return
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		s.run(jobID)
	}()
}

func (s *Service) routes() {
	m := http.NewServeMux()
	m.HandleFunc("GET /signing-platforms", s.listPlatforms)
	m.HandleFunc("GET /signing-platforms/{platformId}", s.getPlatform)
	m.HandleFunc("PUT /signing-profiles/{profileName}", s.putProfile)
	m.HandleFunc("GET /signing-profiles/{profileName}", s.getProfile)
	m.HandleFunc("DELETE /signing-profiles/{profileName}", s.cancelProfile)
	m.HandleFunc("GET /signing-profiles", s.listProfiles)
	m.HandleFunc("POST /signing-jobs", s.startJob)
	m.HandleFunc("GET /signing-jobs/{jobId}", s.describeJob)
	m.HandleFunc("GET /signing-jobs", s.listJobs)
	m.HandleFunc("GET /tags/{resourceArn...}", s.listTags)
	m.HandleFunc("POST /tags/{resourceArn...}", s.tagResource)
	m.HandleFunc("DELETE /tags/{resourceArn...}", s.untagResource)
	s.mux = m
}

// ServeHTTP routes a Signer request; what no route matches gets an AWS
// error, not the mux's plain-text 404/405.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if _, pattern := s.mux.Handler(r); pattern == "" {
		wire.WriteError(w, wire.Errorf(http.StatusNotFound, "UnknownOperationException",
			"%s %s is not an operation otactl local's Signer supports", r.Method, r.URL.Path))
		return
	}
	s.mux.ServeHTTP(w, r)
}

// decode reads a JSON body; anything that does not fit the operation's
// shape is a ValidationException, Signer's name for bad input.
func decode(r *http.Request, v any) error {
	err := wire.DecodeJSON(r, v)
	var e *wire.Error
	if errors.As(err, &e) {
		return &wire.Error{Status: http.StatusBadRequest, Code: "ValidationException", Message: e.Message}
	}
	return err
}

func validation(format string, args ...any) *wire.Error {
	return wire.Errorf(http.StatusBadRequest, "ValidationException", format, args...)
}

// wireBadRequest is Signer's BadRequestException (tagging a canceled profile, for one).
func wireBadRequest(format string, args ...any) *wire.Error {
	return wire.Errorf(http.StatusBadRequest, "BadRequestException", format, args...)
}

func notFound(format string, args ...any) *wire.Error {
	return wire.Errorf(http.StatusNotFound, "ResourceNotFoundException", format, args...)
}

func reply(w http.ResponseWriter, v any, err error) {
	if err != nil {
		wire.WriteError(w, err)
		return
	}
	wire.WriteJSON(w, http.StatusOK, v)
}

// epoch is a timestamp on the wire: Signer sends seconds since the epoch.
type epoch time.Time

func (t epoch) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(time.Time(t).UnixMilli())/1000, 'f', -1, 64), nil
}

func ts(t time.Time) *epoch {
	if t.IsZero() {
		return nil
	}
	e := epoch(t)
	return &e
}

// maxResults reads a maxResults query parameter bounded by [1, limit].
func maxResults(r *http.Request, limit int) (int, error) {
	v := r.URL.Query().Get("maxResults")
	if v == "" {
		return limit, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > limit {
		return 0, validation("maxResults must be an integer between 1 and %d", limit)
	}
	return n, nil
}

// boolParam reads a boolean query parameter.
func boolParam(r *http.Request, name string) (bool, error) {
	switch v := strings.ToLower(r.URL.Query().Get(name)); v {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	default:
		return false, validation("%s must be true or false, not %q", name, v)
	}
}
