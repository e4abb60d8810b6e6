package local

import (
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/otactl/otactl/local/console"
	"github.com/otactl/otactl/local/iot"
	"github.com/otactl/otactl/local/jobs"
	"github.com/otactl/otactl/local/s3"
	"github.com/otactl/otactl/local/signer"
)

// The web console (local/console) is served on the server's own port under
// console.Prefix (/console/), beside the AWS APIs: one address to open, on
// both listeners, and nothing to configure. Only requests that carry no
// AWS signature go to it; those would be refused as unsigned anyway (S3
// buckets are private), so no bucket or API request changes route.
//
// With StrictAuth the API needs a key pair, and the console, which has no
// login of its own, is then served to loopback clients only.

// consoleState is the console of a Server (nil until registerConsole).
type consoleState struct {
	c *console.Console
}

// registerConsole builds the console over the services and subscribes it
// to local/iot's events; the job engine's timeline reaches it through
// consoleTimeline.
func (s *Server) registerConsole(things *iot.Service) {
	d := console.Deps{Jobs: things, Objects: consoleObjects{s.s3}}
	if sg, ok := s.Service("signer").(*signer.Service); ok {
		d.Signer = consoleSigner{sg}
	}
	c := console.New(d)
	things.Subscribe(c.Observe)
	s.console.c = c
	s.OnClose(c)
}

// consoleTimeline hands an event of the job engine's timeline to the console.
func (s *Server) consoleTimeline(ev jobs.Event) {
	if c := s.console.c; c != nil {
		c.Timeline(ev)
	}
}

// consoleShutdown ends the console's event streams when the HTTP server
// shuts down (they would hold its Shutdown until the timeout).
func (s *Server) consoleShutdown() {
	if c := s.console.c; c != nil {
		c.Shutdown()
	}
}

// serveConsole serves r if it is the console's: an unsigned request under
// the console's prefix. It reports whether it did.
func (s *Server) serveConsole(w http.ResponseWriter, r *http.Request) bool {
	c := s.console.c
	if c == nil || !console.Handles(r.URL.Path) || signed(r) {
		return false
	}
	if s.cfg.StrictAuth && !loopbackClient(r) {
		http.Error(w, "the otactl console is served to loopback clients only when authentication is strict", http.StatusForbidden)
		return true
	}
	if r.URL.Path == strings.TrimSuffix(console.Prefix, "/") {
		http.Redirect(w, r, console.Prefix, http.StatusFound)
		return true
	}
	c.ServeHTTP(w, r)
	return true
}

// signed reports whether r carries an AWS signature (SigV4 or SigV2, in a
// header or presigned).
func signed(r *http.Request) bool {
	if r.Header.Get("Authorization") != "" {
		return true
	}
	q := r.URL.Query()
	return q.Has("X-Amz-Signature") || q.Has("X-Amz-Credential") || q.Has("Signature") || q.Has("AWSAccessKeyId")
}

func loopbackClient(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// consoleObjects adapts local/s3 to console.Objects.
type consoleObjects struct{ s *s3.Service }

func (o consoleObjects) Buckets() ([]string, error) { return o.s.BucketNames() }

// signedPrefix starts every Signer signed-object document.
const signedPrefix = `{"rawPayloadSize":`

func (o consoleObjects) Versions(bucket string) ([]console.ObjectVersion, error) {
	vs, err := o.s.ListVersions(bucket, "")
	if err != nil {
		return nil, err
	}
	out := make([]console.ObjectVersion, len(vs))
	for i, v := range vs {
		out[i] = console.ObjectVersion{Bucket: v.Bucket, Key: v.Key, VersionID: v.VersionID, ETag: v.ETag,
			Size: v.Size, LastModified: v.LastModified, IsLatest: v.IsLatest, IsDeleteMarker: v.IsDeleteMarker}
		if !v.IsDeleteMarker && v.Size > int64(len(signedPrefix)) && i < 2000 {
			out[i].Signed = o.startsWith(v, signedPrefix)
		}
	}
	return out, nil
}

// startsWith reads the first bytes of one version.
func (o consoleObjects) startsWith(v s3.ObjectInfo, prefix string) bool {
	obj, err := o.s.OpenObject(v.Bucket, v.Key, v.VersionID)
	if err != nil {
		return false
	}
	defer obj.Close()
	b := make([]byte, len(prefix))
	if _, err := io.ReadFull(obj, b); err != nil {
		return false
	}
	return string(b) == prefix
}

// consoleSigner adapts local/signer to console.Signer.
type consoleSigner struct{ s *signer.Service }

func (a consoleSigner) SigningJobs() ([]console.SigningJob, error) {
	js, err := a.s.SigningJobs()
	if err != nil {
		return nil, err
	}
	out := make([]console.SigningJob, len(js))
	for i, j := range js {
		out[i] = console.SigningJob{JobID: j.JobID, ProfileName: j.ProfileName, Status: j.Status, StatusReason: j.StatusReason,
			Source: j.SourceBucket + "/" + j.SourceKey, CreatedAt: j.CreatedAt, CompletedAt: j.CompletedAt}
		if j.SourceVersion != "" {
			out[i].Source += "@" + j.SourceVersion
		}
		if j.SignedKey != "" {
			out[i].Signed = j.SignedBucket + "/" + j.SignedKey
		}
	}
	return out, nil
}
