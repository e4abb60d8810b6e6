// Package console serves otactl local's web console: HTML pages rendered on
// the server (html/template) from the same Go methods the AWS APIs use —
// things and groups, jobs with their configuration, progress, rollout
// timeline and executions, MQTT streams, S3 object versions (signed and
// raw) and Signer jobs — plus a server-sent event stream that makes every
// page update itself while a fleet runs, and the static assets (a little
// JavaScript, CSS and the vendored uPlot charting library), all embedded in
// the binary so that it works offline.
//
// It reads only, except "cancel job" and "cancel execution", which call
// local/iot's CancelJob and CancelExecution (the code the API runs) and are
// refused unless the request comes from the console's own origin and
// carries the session's CSRF token (csrf.go).
package console

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/otactl/otactl/local/iot"
	"github.com/otactl/otactl/local/jobs"
)

// Prefix is the path the console is served under.
const Prefix = "/console/"

//go:embed assets templates
var files embed.FS

// Jobs is what the console reads and cancels in local/iot.
type Jobs interface {
	Jobs(status string) ([]iot.Job, error)
	Job(id string) (iot.Job, error)
	Executions(jobID, status string) ([]iot.Execution, error)
	Execution(thing, jobID string) (iot.Execution, error)
	// EarlierAttempts are the attempts of jobID on thing that retries
	// replaced, oldest first.
	EarlierAttempts(thing, jobID string) ([]iot.Execution, error)
	Streams() ([]iot.StreamInfo, error)
	ThingSummaries() ([]iot.ThingSummary, error)
	GroupSummaries() ([]iot.GroupSummary, error)
	CancelJob(id string, force bool, reasonCode, comment string) (iot.Job, error)
	CancelExecution(thing, jobID string, force bool, expectedVersion int64, details map[string]string) (iot.Execution, error)
}

// ObjectVersion is one version of an S3 object. Signed is set when its
// body is a Signer signed-object document (JSON with rawPayloadSize and
// signature), as opposed to the raw firmware CreateOTAUpdate copies over it.
type ObjectVersion struct {
	Bucket, Key, VersionID, ETag string
	Size                         int64
	LastModified                 time.Time
	IsLatest, IsDeleteMarker     bool
	Signed                       bool
}

// Objects lists the S3 buckets and their object versions.
type Objects interface {
	Buckets() ([]string, error)
	// Versions returns the bucket's versions, keys in order and each key's
	// versions newest first.
	Versions(bucket string) ([]ObjectVersion, error)
}

// SigningJob is a Signer signing job.
type SigningJob struct {
	JobID, ProfileName, Status, StatusReason string
	Source, Signed                           string // bucket/key(@version)
	CreatedAt, CompletedAt                   time.Time
}

// Signer lists the signing jobs.
type Signer interface {
	SigningJobs() ([]SigningJob, error)
}

// Deps are the services the console reads. Objects and Signer may be nil.
type Deps struct {
	Jobs    Jobs
	Objects Objects
	Signer  Signer
	// Now is the clock the live chart samples are stamped with (default
	// time.Now).
	Now func() time.Time
}

// Console is the web console. Create it with New; feed it local/iot's
// events (Observe) and the job engine's timeline (Timeline).
type Console struct {
	deps  Deps
	pages *pages
	live  *live
	csrf  *csrf
	mux   *http.ServeMux

	closeOnce sync.Once
}

// New builds the console and starts its event coalescer (stopped by Close).
func New(d Deps) *Console {
	if d.Now == nil {
		d.Now = time.Now
	}
	c := &Console{deps: d, csrf: newCSRF()}
	c.live = newLive(d.Jobs, d.Now)
	c.pages = newPages(c)
	c.routes()
	return c
}

func (c *Console) routes() {
	m := http.NewServeMux()
	assets, _ := fs.Sub(files, "assets")
	m.Handle("GET "+Prefix+"assets/", http.StripPrefix(Prefix+"assets/", cacheable(http.FileServerFS(assets))))
	m.HandleFunc("GET "+Prefix+"{$}", c.pages.overview)
	m.HandleFunc("GET "+Prefix+"jobs/{id}", c.pages.job)
	m.HandleFunc("GET "+Prefix+"jobs/{id}/things/{thing}", c.pages.execution)
	m.HandleFunc("GET "+Prefix+"jobs/{id}/series", c.pages.series)
	m.HandleFunc("GET "+Prefix+"streams", c.pages.streams)
	m.HandleFunc("GET "+Prefix+"objects", c.pages.objects)
	m.HandleFunc("GET "+Prefix+"signing", c.pages.signing)
	m.HandleFunc("GET "+Prefix+"events", c.live.serveEvents)
	m.Handle("POST "+Prefix+"jobs/{id}/cancel", c.csrf.protect(http.HandlerFunc(c.pages.cancelJob)))
	m.Handle("POST "+Prefix+"jobs/{id}/things/{thing}/cancel", c.csrf.protect(http.HandlerFunc(c.pages.cancelExecution)))
	c.mux = m
}

// cacheable lets browsers keep the embedded assets for a while: they change
// only with the binary.
func cacheable(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=300")
		h.ServeHTTP(w, r)
	})
}

// ServeHTTP serves the paths under Prefix.
func (c *Console) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	// Nothing on these pages is meant to be framed or sniffed, and every
	// script and style comes from the console itself.
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; frame-ancestors 'none'; form-action 'self'")
	h.Set("Referrer-Policy", "same-origin")
	c.mux.ServeHTTP(w, r)
}

// Handles reports whether path is the console's.
func Handles(path string) bool {
	return path == strings.TrimSuffix(Prefix, "/") || strings.HasPrefix(path, Prefix)
}

// Observe takes one event of local/iot (its Subscribe): it marks the job
// changed; the coalescer then samples it and tells the open pages.
func (c *Console) Observe(ev iot.Event) { c.live.observe(ev) }

// Timeline takes one event of the job engine's timeline (waves, retries,
// timeouts, aborts, completion), kept in memory for the job page.
func (c *Console) Timeline(ev jobs.Event) { c.live.timeline(ev) }

// Shutdown ends the open event streams, so that an HTTP server's Shutdown
// does not wait for them.
func (c *Console) Shutdown() { c.live.shutdown() }

// Close stops the coalescer and ends the event streams.
func (c *Console) Close() error {
	c.closeOnce.Do(c.live.close)
	return nil
}
