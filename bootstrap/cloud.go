package bootstrap

import (
	"context"
	"errors"

	"github.com/otactl/otactl/ota"
)

// Cloud is what bootstrap needs from AWS (or otactl local, or any other
// implementation of AWS's APIs). awscloud.Bootstrapper implements it with
// the AWS SDK for Go v2. Tags are plain maps: every service's own shape is
// the implementation's business. A missing resource wraps ErrNotFound.
type Cloud interface {
	Region() string
	AccountID(ctx context.Context) (string, error)

	// S3. BucketTags answers ErrNotYours when the name belongs to another
	// account, ErrNotImplemented when the endpoint cannot tag buckets.
	BucketTags(ctx context.Context, bucket string) (map[string]string, error)
	CreateBucket(ctx context.Context, bucket string) error
	TagBucket(ctx context.Context, bucket string, tags map[string]string) error
	EnableVersioning(ctx context.Context, bucket string) error
	// DefaultEncryption is the bucket's default encryption; Algorithm ""
	// when it has none (S3 before 2023, some other implementations).
	DefaultEncryption(ctx context.Context, bucket string) (Encryption, error)
	EnableDefaultEncryption(ctx context.Context, bucket string) error // SSE-S3 (AES256)
	BlockPublicAccess(ctx context.Context, bucket string) error       // all four settings on
	PutObject(ctx context.Context, bucket, key string, body []byte) error
	ObjectExists(ctx context.Context, bucket, key string) (bool, error)
	DeleteBucket(ctx context.Context, bucket string) error // every version and delete marker, then the bucket

	// IAM. Errors for a caller without IAM permissions wrap ErrAccessDenied.
	Role(ctx context.Context, name string) (Role, error)
	CreateRole(ctx context.Context, name, trustPolicy string, tags map[string]string) (arn string, err error)
	AttachRolePolicy(ctx context.Context, role, policyArn string) error
	PutRolePolicy(ctx context.Context, role, name, doc string) error
	DeleteRole(ctx context.Context, name string) error // detaches and deletes its policies first

	// ACM.
	FindCertificate(ctx context.Context, tagKey, tagValue string) (arn string, err error) // "" when none
	ImportCertificate(ctx context.Context, certPEM, keyPEM []byte, tags map[string]string) (arn string, err error)
	DeleteCertificate(ctx context.Context, arn string) error

	// Signer.
	SigningPlatform(ctx context.Context, id string) (Platform, error)
	SigningProfile(ctx context.Context, name string) (Profile, error)
	PutSigningProfile(ctx context.Context, p Profile, tags map[string]string) error
	CancelSigningProfile(ctx context.Context, name string) error

	// IoT registry.
	DataEndpoint(ctx context.Context) (string, error) // DescribeEndpoint iot:Data-ATS
	ThingGroupTags(ctx context.Context, name string) (map[string]string, error)
	CreateThingGroup(ctx context.Context, name string, tags map[string]string) error
	DeleteThingGroup(ctx context.Context, name string) error
	PolicyTags(ctx context.Context, name string) (map[string]string, error)
	// CreateDevicePolicy creates the least-privilege OTA device policy
	// (connect as the thing; its Jobs and stream topics; nothing else).
	CreateDevicePolicy(ctx context.Context, name string, tags map[string]string) error
	DeletePolicy(ctx context.Context, name string) error
	ThingAttributes(ctx context.Context, name string) (map[string]string, error)
	CreateThing(ctx context.Context, name string, attrs map[string]string) error
	ThingsWithAttribute(ctx context.Context, name, value string) ([]string, error)
	// RegisterDevice gives the thing a key made locally and a certificate
	// (CreateCertificateFromCsr), written as dir/<thing>.crt and .key
	// unless they exist, with policy attached and the thing in group ("" for
	// none).
	RegisterDevice(ctx context.Context, thing, group, policy, dir string) error
	// DeleteThing detaches every principal from the thing, deactivates and
	// deletes the certificates whose ids are in own (detaching their
	// policies), leaves other certificates alone and deletes the thing.
	DeleteThing(ctx context.Context, thing string, own []string) error

	// What an update in progress uses (ota.Cloud's own methods).
	ListJobs(ctx context.Context) ([]ota.JobSummary, error)
	DescribeJob(ctx context.Context, jobID string) (ota.Job, error)
	GetJobDocument(ctx context.Context, jobID string) (string, error)
	DescribeStream(ctx context.Context, id string) (ota.Stream, error)
}

// Encryption is a bucket's default encryption rule.
type Encryption struct {
	Algorithm string // AES256, aws:kms, aws:kms:dsse; "" for none
	KMSKey    string // aws:kms*: the key's id, ARN or alias; "" for the account's aws/s3 key
}

// Role is an IAM role.
type Role struct {
	Arn  string
	Tags map[string]string
}

// Platform is a Signer platform: the key algorithms it signs with.
type Platform struct {
	ID         string
	Algorithms []string // ECDSA, RSA
}

// Profile is a Signer profile as bootstrap makes it.
type Profile struct {
	Name, PlatformID, CertificateArn, CertName string
	Status                                     string // Active, Canceled, Revoked
	Tags                                       map[string]string
}

// Errors the Cloud implementations wrap.
var (
	ErrNotFound       = ota.ErrNotFound
	ErrNotYours       = errors.New("owned by another account")
	ErrAccessDenied   = errors.New("access denied")
	ErrNotImplemented = errors.New("not implemented by this endpoint")
)
