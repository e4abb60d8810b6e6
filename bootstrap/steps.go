package bootstrap

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// makeBucket creates the bucket and tags it at once (a bucket whose tag
// failed is deleted again, so no untagged bucket of ours is left), then
// sets versioning, default encryption and the public access block. A
// reused bucket gets the settings again, so a stopped run completes.
func (r *run) makeBucket(ctx context.Context) error {
	c := &r.cfg
	step := "bucket " + c.Bucket
	if !r.bucketHas {
		if err := r.cl.CreateBucket(ctx, c.Bucket); err != nil {
			if errors.Is(err, ErrNotYours) {
				return stop(step, "bucket names are global and another account has this one: pass --bucket with another name", err)
			}
			return stop(step, "", err)
		}
		if err := r.markBucket(ctx); err != nil {
			if derr := r.cl.DeleteBucket(ctx, c.Bucket); derr != nil {
				err = fmt.Errorf("%w (and deleting the untagged bucket: %v)", err, derr)
			}
			return stop(step, "", err)
		}
	}
	if err := r.cl.EnableVersioning(ctx, c.Bucket); err != nil {
		return stop(step, "OTA needs a versioned bucket (Signer signs an exact object version); run bootstrap again once PutBucketVersioning works", err)
	}
	set := []string{"versioning on"}
	var notes []string
	if r.bucketMark {
		notes = append(notes, "owner recorded in s3://"+c.Bucket+"/"+c.markerKey()+": this endpoint does not implement bucket tagging")
	}
	enc, err := r.defaultEncryption(ctx)
	switch {
	case errors.Is(err, ErrNotImplemented):
		notes = append(notes, "default encryption not set: this endpoint does not implement it")
	case err != nil:
		return stop(step, "run bootstrap again to finish the bucket's settings", fmt.Errorf("default encryption: %w", err))
	default:
		set = append(set, enc)
	}
	err = r.cl.BlockPublicAccess(ctx, c.Bucket)
	switch {
	case errors.Is(err, ErrNotImplemented):
		notes = append(notes, "public access block not set: this endpoint does not implement it")
	case err != nil:
		return stop(step, "run bootstrap again to finish the bucket's settings", fmt.Errorf("public access block: %w", err))
	default:
		set = append(set, "public access blocked")
	}
	note := strings.Join(set, ", ")
	for _, n := range notes {
		note += "; " + n
	}
	r.rep.add(state(r.bucketHas), "bucket", c.Bucket, note)
	return nil
}

// defaultEncryption gives the bucket SSE-S3 (AES256) unless it has a
// default encryption already, and says which it has. A KMS key there is
// the owner's choice (key policy, audit, cross-account access): AES256 over
// it would quietly undo that, so it is kept and named. An AES256 rule is
// left as it is too, since PutBucketEncryption replaces the whole rule
// (its blocked encryption types with it) and every S3 bucket since 2023
// has SSE-S3 anyway; the put is for endpoints whose buckets have none.
func (r *run) defaultEncryption(ctx context.Context) (string, error) {
	bucket := r.cfg.Bucket
	e, err := r.cl.DefaultEncryption(ctx, bucket)
	if err != nil {
		return "", err
	}
	key := ""
	if e.KMSKey != "" {
		key = " key " + e.KMSKey
	}
	switch e.Algorithm {
	case "":
		if err := r.cl.EnableDefaultEncryption(ctx, bucket); err != nil {
			return "", err
		}
		return "SSE-S3", nil
	case "AES256":
		return "SSE-S3", nil
	case "aws:kms":
		return "SSE-KMS" + key + " kept as found", nil
	case "aws:kms:dsse":
		return "DSSE-KMS" + key + " kept as found", nil
	}
	return "default encryption " + e.Algorithm + " kept as found", nil
}

// markBucket tags the bucket, or records the owner in a marker object
// where the endpoint cannot tag buckets.
func (r *run) markBucket(ctx context.Context) error {
	c := &r.cfg
	if !r.bucketMark {
		err := r.cl.TagBucket(ctx, c.Bucket, c.tags())
		if !errors.Is(err, ErrNotImplemented) {
			return err
		}
		r.bucketMark = true
	}
	return r.cl.PutObject(ctx, c.Bucket, c.markerKey(), []byte(c.Name+"\n"))
}

// The OTA update service role, as the FreeRTOS user guide builds it: trust
// for iot.amazonaws.com (limited to this account against the confused
// deputy), AmazonFreeRTOSOTAUpdate, S3 access to this bucket's objects, and
// iam:GetRole/iam:PassRole on the role itself.
func (r *run) trustPolicy() string {
	return mustJSON(policyDoc{Version: "2012-10-17", Statement: []statement{{
		Effect: "Allow", Principal: map[string]string{"Service": "iot.amazonaws.com"}, Action: "sts:AssumeRole",
		Condition: map[string]map[string]string{"StringEquals": {"aws:SourceAccount": r.account}},
	}}})
}

func (r *run) inlinePolicies(roleArn string) map[string]string {
	return map[string]string{
		"otactl-ota-s3": mustJSON(policyDoc{Version: "2012-10-17", Statement: []statement{{
			Effect: "Allow", Action: []string{"s3:GetObjectVersion", "s3:GetObject", "s3:PutObject"},
			Resource: "arn:" + partition(roleArn) + ":s3:::" + r.cfg.Bucket + "/*"}}}),
		"otactl-ota-passrole": mustJSON(policyDoc{Version: "2012-10-17", Statement: []statement{{
			Effect: "Allow", Action: []string{"iam:GetRole", "iam:PassRole"}, Resource: roleArn}}}),
	}
}

type policyDoc struct {
	Version   string      `json:"Version"`
	Statement []statement `json:"Statement"`
}

type statement struct {
	Effect    string                       `json:"Effect"`
	Principal map[string]string            `json:"Principal,omitempty"`
	Action    any                          `json:"Action"`
	Resource  any                          `json:"Resource,omitempty"`
	Condition map[string]map[string]string `json:"Condition,omitempty"`
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

// makeRole creates the role (tagged in the same call) and gives it its
// policies; a reused role gets them again (both calls are idempotent), so
// a run stopped between the two completes it.
func (r *run) makeRole(ctx context.Context) error {
	c := &r.cfg
	step := "IAM role " + c.Role
	arn := ""
	if r.role != nil {
		arn = r.role.Arn
	} else {
		var err error
		if arn, err = r.cl.CreateRole(ctx, c.Role, r.trustPolicy(), c.tags()); err != nil {
			return stop(step, "", err)
		}
	}
	inline := r.inlinePolicies(arn)
	names := []string{"otactl-ota-s3", "otactl-ota-passrole"}
	note := "trust iot.amazonaws.com; AmazonFreeRTOSOTAUpdate; S3 on this bucket; iam:PassRole on itself"
	managed := managedArn(arn)
	err := r.cl.AttachRolePolicy(ctx, c.Role, managed)
	switch {
	case errors.Is(err, ErrNotFound):
		// An implementation without AWS's managed policies (moto): the
		// same permissions, inline.
		names = append(names, otaUpdateInline)
		inline[otaUpdateInline] = otaUpdatePermissions(partition(arn))
		note = "trust iot.amazonaws.com; " + managed + " does not exist here: its permissions inline as " + otaUpdateInline + "; S3 on this bucket; iam:PassRole on itself"
	case err != nil:
		return stop(step, "run bootstrap again to finish the role", fmt.Errorf("AttachRolePolicy %s: %w", managed, err))
	}
	for _, name := range names {
		if err := r.cl.PutRolePolicy(ctx, c.Role, name, inline[name]); err != nil {
			return stop(step, "run bootstrap again to finish the role", fmt.Errorf("PutRolePolicy %s: %w", name, err))
		}
	}
	r.rep.RoleArn = arn
	r.rep.add(state(r.role != nil), "IAM role", arn, note)
	return nil
}

const otaUpdateInline = "otactl-ota-update"

// partition is the ARN's partition (aws, aws-cn, aws-us-gov).
func partition(arn string) string {
	if p := strings.SplitN(arn, ":", 3); len(p) == 3 && p[1] != "" {
		return p[1]
	}
	return "aws"
}

// managedArn is AmazonFreeRTOSOTAUpdate in the role's partition.
func managedArn(roleArn string) string {
	return strings.Replace(ManagedPolicyArn, "arn:aws:", "arn:"+partition(roleArn)+":", 1)
}

// otaUpdatePermissions are the permissions AWS's managed policy
// AmazonFreeRTOSOTAUpdate grants (its version 3, per AWS's managed policy
// reference), for where the managed policy does not exist.
func otaUpdatePermissions(part string) string {
	iotArn := "arn:" + part + ":iot:*:*:"
	return mustJSON(policyDoc{Version: "2012-10-17", Statement: []statement{
		{Effect: "Allow", Action: []string{"s3:GetObjectVersion", "s3:PutObject", "s3:GetObject"}, Resource: "arn:" + part + ":s3:::afr-ota*"},
		{Effect: "Allow", Action: []string{"signer:StartSigningJob", "signer:DescribeSigningJob", "signer:GetSigningProfile", "signer:PutSigningProfile"}, Resource: "*"},
		{Effect: "Allow", Action: []string{"s3:ListBucketVersions", "s3:ListBucket", "s3:ListAllMyBuckets", "s3:GetBucketLocation"}, Resource: "*"},
		{Effect: "Allow", Action: []string{"iot:DeleteJob", "iot:DescribeJob"}, Resource: iotArn + "job/AFR_OTA*"},
		{Effect: "Allow", Action: []string{"iot:DeleteStream"}, Resource: iotArn + "stream/AFR_OTA*"},
		{Effect: "Allow", Action: []string{"iot:CreateStream", "iot:CreateJob"}, Resource: "*"},
	}})
}

// makeSigning makes the key pair (unless the user's or an earlier run's is
// there) and imports it into ACM, tagged.
func (r *run) makeSigning(ctx context.Context) error {
	c := &r.cfg
	if r.sig == nil {
		sig, err := c.makeSigning()
		if err != nil {
			return stop("code-signing key", "", err)
		}
		r.sig = sig
		r.rep.add(Created, "code-signing key", c.signingKey(), "ECDSA P-256, mode 0600; certificate "+c.signingCert())
	} else if c.CertFile != "" {
		r.rep.add(LeftAlone, "code-signing key", c.KeyFile, "yours (--cert/--key): imported, never changed or deleted")
	} else {
		r.rep.add(Reused, "code-signing key", c.signingKey(), "")
	}
	if r.certArn == "" {
		arn, err := r.cl.ImportCertificate(ctx, r.sig.certPEM, r.sig.keyPEM, c.tags())
		if err != nil {
			return stop("ACM certificate", "", err)
		}
		r.certArn = arn
		r.rep.add(Created, "ACM certificate", arn, "")
		return nil
	}
	r.rep.add(Reused, "ACM certificate", r.certArn, "")
	return nil
}

func (r *run) makeProfile(ctx context.Context) error {
	c := &r.cfg
	r.rep.Profile = c.Profile
	if r.profile != nil {
		r.rep.add(Reused, "signing profile", c.Profile, c.Platform+", certname "+c.CertName)
		return nil
	}
	p := Profile{Name: c.Profile, PlatformID: c.Platform, CertificateArn: r.certArn, CertName: c.CertName}
	if err := r.cl.PutSigningProfile(ctx, p, c.tags()); err != nil {
		return stop("signing profile "+c.Profile, "", err)
	}
	r.rep.add(Created, "signing profile", c.Profile, c.Platform+", certname "+c.CertName)
	return nil
}
