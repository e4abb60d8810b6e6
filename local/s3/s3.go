// Package s3 is the S3 of otactl local: versioned buckets and objects over
// S3's REST-XML wire (path-style and virtual-host style), and a Go API the
// other local services (signer, IoT streams, MQTT file streams, HTTP OTA
// downloads) use to read and write exact object versions.
//
// Records live in the store: one per bucket, one per object version keyed
// bucket\x00key\x00<inverted sequence> so that a key's versions sort newest
// first and keys sort in S3's lexicographic order. Bodies are store blobs,
// written and synced before the record naming them is committed.
package s3

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/local/wire"
)

// Store tables.
const (
	bucketsTable = "s3-buckets" // bucket name → bucketRecord
	objectsTable = "s3-objects" // bucket\x00key\x00seq → objectRecord
)

// Versioning states as S3 names them; "" is a bucket never versioned.
const (
	VersioningEnabled   = "Enabled"
	VersioningSuspended = "Suspended"
)

// NullVersion is the version id of objects written while versioning is off.
const NullVersion = "null"

// Service is the S3 of one environment. It is an http.Handler.
type Service struct {
	st  *store.Store
	env wire.Env
	now func() time.Time

	mu             sync.RWMutex
	presignKey     string
	presignSecret  string
	defaultBaseURL string
	hostSuffixes   []string
}

// New returns the S3 service keeping its state in st.
// Blobs of bodies whose write a crash interrupted are removed, so create
// one Service per store, before anything writes to it.
func New(st *store.Store, env wire.Env) *Service {
	s := &Service{st: st, env: env, now: time.Now, hostSuffixes: []string{"localhost"}}
	s.sweepOrphans()
	return s
}

// SetPresignCredentials sets the key pair PresignGet signs with and, when
// baseURL is not empty, the URL the server is reachable at (used by
// PresignGet when it is given no base URL).
func (s *Service) SetPresignCredentials(accessKey, secret, baseURL string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.presignKey, s.presignSecret = accessKey, secret
	if baseURL != "" {
		s.defaultBaseURL = baseURL
	}
}

// Error is an S3 error: Code is S3's code (NoSuchKey...), Status the HTTP status.
type Error struct {
	Code     string
	Message  string
	Status   int
	Resource string
	// The elements S3 adds to some errors' bodies: BucketName (NoSuchBucket,
	// BucketNotEmpty), Key (NoSuchKey), UploadId (NoSuchUpload),
	// ActualObjectSize and RangeRequested (InvalidRange).
	BucketName, Key, UploadID, RangeRequested string
	ActualObjectSize                          *int64
	// Header is set on the response (x-amz-delete-marker for a deleted key).
	Header map[string]string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func errorf(status int, code, format string, args ...any) *Error {
	return &Error{Code: code, Status: status, Message: fmt.Sprintf(format, args...)}
}

func errNoSuchBucket(b string) *Error {
	e := errorf(http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist")
	e.Resource, e.BucketName = b, b
	return e
}

func errNoSuchKey(key string) *Error {
	e := errorf(http.StatusNotFound, "NoSuchKey", "The specified key does not exist.")
	e.Resource, e.Key = key, key
	return e
}

func errNoSuchVersion(v string) *Error {
	e := errorf(http.StatusNotFound, "NoSuchVersion", "The specified version does not exist.")
	e.Resource = v
	return e
}

// ObjectInfo describes one object version (or delete marker).
type ObjectInfo struct {
	Bucket         string
	Key            string
	VersionID      string // "null" for objects written while versioning was off
	ETag           string // quoted hex MD5, as S3 returns it
	Size           int64
	LastModified   time.Time
	ContentType    string
	IsDeleteMarker bool
	IsLatest       bool
	Metadata       map[string]string // x-amz-meta-* without the prefix, in lower case
	// ServerSideEncryption is AES256 (S3's default for every object), aws:kms
	// or aws:kms:dsse; SSEKMSKeyID the KMS key a request named.
	ServerSideEncryption, SSEKMSKeyID string
	// PartSizes are the part sizes of an object a multipart upload made
	// (nil for one PutObject or CopyObject wrote).
	PartSizes []int64
	TagCount  int // object tags (x-amz-tagging-count)
}

type bucketRecord struct {
	Name       string    `json:"name"`
	Created    time.Time `json:"created"`
	Versioning string    `json:"versioning,omitempty"`
	Tags       []Tag     `json:"tags,omitempty"`
	// Encryption is the default encryption PutBucketEncryption set (nil:
	// SSE-S3); PublicAccessBlock the Block Public Access settings (nil:
	// none, after DeletePublicAccessBlock or on a bucket made before they
	// were kept).
	Encryption        *BucketEncryption  `json:"encryption,omitempty"`
	PublicAccessBlock *PublicAccessBlock `json:"publicAccessBlock,omitempty"`
}

type objectRecord struct {
	Key          string            `json:"key"`
	VersionID    string            `json:"versionId"`
	Seq          uint64            `json:"seq"`
	Blob         string            `json:"blob,omitempty"`
	Size         int64             `json:"size"`
	MD5          string            `json:"md5,omitempty"`
	SHA256       string            `json:"sha256,omitempty"` // hex, when a write computed it (x-amz-content-sha256 checked)
	ETag         string            `json:"etag,omitempty"`   // set when not the MD5 (multipart)
	LastModified time.Time         `json:"lastModified"`
	ContentType  string            `json:"contentType,omitempty"`
	DeleteMarker bool              `json:"deleteMarker,omitempty"`
	Metadata     map[string]string `json:"metadata,omitempty"`
	SSE          string            `json:"sse,omitempty"` // "" = AES256, S3's default
	SSEKMSKeyID  string            `json:"sseKmsKeyId,omitempty"`
	PartSizes    []int64           `json:"partSizes,omitempty"` // multipart objects
	Tags         []Tag             `json:"tags,omitempty"`
}

func (o *objectRecord) info(bucket string, latest bool) ObjectInfo {
	oi := ObjectInfo{
		Bucket: bucket, Key: o.Key, VersionID: o.VersionID, Size: o.Size,
		LastModified: o.LastModified, ContentType: o.ContentType,
		IsDeleteMarker: o.DeleteMarker, IsLatest: latest, Metadata: o.Metadata,
		PartSizes: o.PartSizes, SSEKMSKeyID: o.SSEKMSKeyID, TagCount: len(o.Tags),
	}
	if !o.DeleteMarker {
		oi.ETag = o.etag()
		oi.ServerSideEncryption = sseOrDefault(o.SSE)
	}
	return oi
}

// etag is the quoted ETag S3 reports: the body's MD5, or for a multipart
// object the MD5 of its parts' MD5s and the part count.
func (o *objectRecord) etag() string {
	if o.ETag != "" {
		return `"` + o.ETag + `"`
	}
	return `"` + o.MD5 + `"`
}

// objectPrefix is the record-key prefix of every version of bucket/key.
func objectPrefix(bucket, key string) string { return bucket + "\x00" + key + "\x00" }

// objectKey orders versions newest first: the sequence is inverted.
func objectKey(bucket, key string, seq uint64) string {
	return fmt.Sprintf("%s%016x", objectPrefix(bucket, key), ^seq)
}

func newVersionID() string {
	var b [24]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// validVersionID reports whether v could be a version id this service made.
func validVersionID(v string) bool {
	if v == NullVersion {
		return true
	}
	if len(v) != 32 {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(v)
	return err == nil
}

// validBucketName applies S3's naming rules for general purpose buckets:
// 3–63 characters of lowercase letters, digits, dots and hyphens, starting
// and ending with a letter or digit; no two adjacent periods; not formatted
// as an IP address (192.168.5.4); none of the prefixes xn--, sthree- and
// amzn-s3-demo-, nor the suffixes -s3alias, --ol-s3, .mrap and --x-s3,
// which S3 reserves.
func validBucketName(b string) bool {
	if len(b) < 3 || len(b) > 63 || strings.Contains(b, "..") || net.ParseIP(b) != nil {
		return false
	}
	for _, p := range []string{"xn--", "sthree-", "amzn-s3-demo-"} {
		if strings.HasPrefix(b, p) {
			return false
		}
	}
	for _, suf := range []string{"-s3alias", "--ol-s3", ".mrap", "--x-s3"} {
		if strings.HasSuffix(b, suf) {
			return false
		}
	}
	for i := 0; i < len(b); i++ {
		c := b[i]
		alnum := c >= 'a' && c <= 'z' || c >= '0' && c <= '9'
		if !alnum && c != '.' && c != '-' {
			return false
		}
		if (i == 0 || i == len(b)-1) && !alnum {
			return false
		}
	}
	return true
}
