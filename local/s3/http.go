package s3

import (
	"bytes"
	"encoding/xml"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Query parameters naming sub-resources this service does not implement;
// a request carrying one gets NotImplemented rather than being mistaken for
// the plain operation on the bucket or object.
var unsupported = []string{
	"acl", "policy", "cors", "lifecycle", "website", "logging", "notification",
	"replication", "object-lock",
	"retention", "legal-hold", "torrent", "restore", "select", "accelerate", "analytics",
	"inventory", "metrics", "ownershipControls", "requestPayment",
	"intelligent-tiering", "attributes",
}

// ServeHTTP serves S3's REST-XML API.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	expectContinue(w, r)
	w.Header().Set("x-amz-request-id", requestID())
	w.Header().Set("Server", "otactl-local")
	bucket, key := s.target(r)
	q := r.URL.Query()
	for _, p := range unsupported {
		if q.Has(p) {
			writeError(w, r, notImplemented("?"+p))
			return
		}
	}
	var err error
	switch {
	case bucket == "":
		if r.Method != http.MethodGet {
			err = errMethod()
			break
		}
		err = s.listBuckets(w)
	case key == "":
		err = s.serveBucket(w, r, bucket, q)
	default:
		err = s.serveObject(w, r, bucket, key, q)
	}
	if err != nil {
		writeError(w, r, err)
	}
}

// expectContinue answers "Expect: 100-continue" with 100 Continue when the
// request has no body. net/http sends the interim answer only when a
// handler reads a body, so a zero-length PutObject got its final answer
// alone, as a refusal of the expectation would. S3 sends 100 Continue, and
// botocore (1.43) depends on it: after a final answer to an expectation it
// keeps that answer's status line on the connection and reuses it for the
// next Expect request there, whose real status line it then parses as a
// header, finding no Content-Length and waiting for the body to end until
// its read timeout. That was the stall of PutObject 6 bytes, 0 bytes, 6
// bytes on one connection.
func expectContinue(w http.ResponseWriter, r *http.Request) {
	if r.ContentLength == 0 && r.ProtoAtLeast(1, 1) && strings.EqualFold(r.Header.Get("Expect"), "100-continue") {
		w.WriteHeader(http.StatusContinue)
	}
}

func errMethod() *Error {
	return errorf(http.StatusMethodNotAllowed, "MethodNotAllowed", "The specified method is not allowed against this resource.")
}

// target returns the bucket and key a request addresses: virtual-host style
// (bucket.localhost:port, bucket.s3.region.amazonaws.com) or path style.
func (s *Service) target(r *http.Request) (bucket, key string) {
	if b := s.hostBucket(r.Host); b != "" {
		return b, strings.TrimPrefix(r.URL.Path, "/")
	}
	p := strings.TrimPrefix(r.URL.Path, "/")
	bucket, key, _ = strings.Cut(p, "/")
	return bucket, key
}

// BucketFromHost is the bucket a virtual-host-style Host header names ("" for path style).
func (s *Service) BucketFromHost(host string) string { return s.hostBucket(host) }

func (s *Service) hostBucket(hostport string) string {
	b := s.hostName(hostport)
	if !validBucketName(b) {
		return "" // s3.localhost and the like: path style
	}
	return b
}

func (s *Service) hostName(hostport string) string {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.ToLower(host)
	if net.ParseIP(host) != nil {
		return ""
	}
	s.mu.RLock()
	suffixes := s.hostSuffixes
	s.mu.RUnlock()
	for _, suf := range suffixes {
		if b, ok := strings.CutSuffix(host, "."+suf); ok {
			return b
		}
	}
	// bucket.s3.amazonaws.com, bucket.s3.us-east-1.amazonaws.com,
	// bucket.s3-us-west-2.amazonaws.com
	for _, sep := range []string{".s3.", ".s3-"} {
		if i := strings.Index(host, sep); i > 0 {
			return host[:i]
		}
	}
	return ""
}

// AddHostSuffix makes bucket.<suffix> a virtual-host name for bucket
// ("localhost" always is one).
func (s *Service) AddHostSuffix(suffix string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hostSuffixes = append(s.hostSuffixes, strings.ToLower(suffix))
}

func (s *Service) serveBucket(w http.ResponseWriter, r *http.Request, bucket string, q url.Values) error {
	switch {
	case q.Has("tagging"):
		return s.serveBucketTagging(w, r, bucket)
	case q.Has("encryption"):
		return s.serveBucketEncryption(w, r, bucket)
	case q.Has("publicAccessBlock"):
		return s.servePublicAccessBlock(w, r, bucket)
	}
	switch r.Method {
	case http.MethodPut:
		if q.Has("versioning") {
			return s.putBucketVersioning(w, r, bucket)
		}
		return s.createBucket(w, r, bucket)
	case http.MethodHead:
		if _, err := s.bucket(bucket); err != nil {
			return err
		}
		w.Header().Set("x-amz-bucket-region", s.env.Region)
		w.WriteHeader(http.StatusOK)
		return nil
	case http.MethodGet:
		switch {
		case q.Has("uploads"):
			return s.listMultipartUploads(w, bucket, q)
		case q.Has("versioning"):
			return s.getBucketVersioning(w, bucket)
		case q.Has("location"):
			return s.getBucketLocation(w, bucket)
		case q.Has("versions"):
			return s.listObjectVersions(w, bucket, q)
		case q.Get("list-type") == "2":
			return s.listObjectsV2(w, bucket, q)
		default:
			return s.listObjectsV1(w, bucket, q)
		}
	case http.MethodDelete:
		if err := s.DeleteBucket(bucket); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	case http.MethodPost:
		if q.Has("delete") {
			return s.deleteObjects(w, r, bucket)
		}
	}
	return errMethod()
}

func (s *Service) serveObject(w http.ResponseWriter, r *http.Request, bucket, key string, q url.Values) error {
	if q.Has("tagging") {
		return s.serveObjectTagging(w, r, bucket, key, q)
	}
	if q.Has("uploads") || q.Has("uploadId") || q.Has("partNumber") && r.Method != http.MethodGet && r.Method != http.MethodHead {
		return s.serveMultipart(w, r, bucket, key, q)
	}
	switch r.Method {
	case http.MethodPut:
		if r.Header.Get("x-amz-copy-source") != "" {
			return s.copyObject(w, r, bucket, key)
		}
		return s.putObjectHTTP(w, r, bucket, key)
	case http.MethodGet, http.MethodHead:
		if q.Has("versionId") && q.Get("versionId") == "" {
			return errorf(http.StatusBadRequest, "InvalidArgument", "Version id cannot be the empty string")
		}
		return s.getObject(w, r, bucket, key, q.Get("versionId"))
	case http.MethodDelete:
		return s.deleteObject(w, bucket, key, q)
	}
	return errMethod()
}

func (s *Service) listBuckets(w http.ResponseWriter) error {
	bs, err := s.buckets()
	if err != nil {
		return err
	}
	res := listBucketsResult{Xmlns: xmlns, Owner: s.owner(), Buckets: []bucketXML{}}
	for _, b := range bs {
		res.Buckets = append(res.Buckets, bucketXML{Name: b.Name, CreationDate: s3Time(b.Created)})
	}
	writeXML(w, http.StatusOK, res)
	return nil
}

func (s *Service) owner() owner {
	return owner{ID: s.env.AccountID, DisplayName: "otactl-local"}
}

func (s *Service) createBucket(w http.ResponseWriter, r *http.Request, bucket string) error {
	raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return errMalformedXML()
	}
	if len(bytes.TrimSpace(raw)) > 0 { // the configuration is optional
		var cfg createBucketConfiguration
		if xml.Unmarshal(raw, &cfg) != nil {
			return errMalformedXML()
		}
	}
	if err := s.CreateBucket(bucket); err != nil {
		return err
	}
	w.Header().Set("Location", "/"+bucket)
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Service) putBucketVersioning(w http.ResponseWriter, r *http.Request, bucket string) error {
	var cfg versioningConfiguration
	if err := decodeXML(r, &cfg); err != nil {
		return err
	}
	if _, err := s.bucket(bucket); err != nil {
		return err
	}
	if err := s.SetVersioning(bucket, cfg.Status); err != nil {
		return err
	}
	w.WriteHeader(http.StatusOK)
	return nil
}

func (s *Service) getBucketVersioning(w http.ResponseWriter, bucket string) error {
	v, err := s.Versioning(bucket)
	if err != nil {
		return err
	}
	writeXML(w, http.StatusOK, versioningConfiguration{Xmlns: xmlns, Status: v})
	return nil
}

func (s *Service) getBucketLocation(w http.ResponseWriter, bucket string) error {
	if _, err := s.bucket(bucket); err != nil {
		return err
	}
	loc := s.env.Region
	if loc == "us-east-1" {
		loc = "" // S3 reports us-east-1 as an empty constraint
	}
	writeXML(w, http.StatusOK, locationConstraint{Xmlns: xmlns, Value: loc})
	return nil
}
