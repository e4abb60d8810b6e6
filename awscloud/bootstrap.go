package awscloud

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	acmtypes "github.com/aws/aws-sdk-go-v2/service/acm/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	iottypes "github.com/aws/aws-sdk-go-v2/service/iot/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/signer"
	signertypes "github.com/aws/aws-sdk-go-v2/service/signer/types"
	"github.com/aws/smithy-go"

	"github.com/otactl/otactl/bootstrap"
	"github.com/otactl/otactl/device"
)

// Bootstrapper is bootstrap.Cloud over the AWS SDK: the Cloud's clients
// plus IAM and ACM. IAM calls are in iam.go.
type Bootstrapper struct {
	*Cloud
	iam *iam.Client
	acm *acm.Client
}

var _ bootstrap.Cloud = (*Bootstrapper)(nil)

// Bootstrap returns the bootstrap.Cloud of the same configuration.
func (c *Cloud) Bootstrap() *Bootstrapper {
	return &Bootstrapper{Cloud: c, iam: iam.NewFromConfig(c.cfg), acm: acm.NewFromConfig(c.cfg)}
}

// bwrap maps AWS error codes onto bootstrap's sentinel errors, keeping
// the code and message.
func bwrap(err error) error {
	if err == nil {
		return nil
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code := ae.ErrorCode()
		msg := fmt.Sprintf("%s: %s", code, ae.ErrorMessage())
		switch code {
		case "NoSuchBucket", "NoSuchKey", "NotFound", "NoSuchEntity", "ResourceNotFoundException":
			return fmt.Errorf("%w: %s", bootstrap.ErrNotFound, msg)
		case "BucketAlreadyExists":
			return fmt.Errorf("%w: %s", bootstrap.ErrNotYours, msg)
		case "NotImplemented":
			return fmt.Errorf("%w: %s", bootstrap.ErrNotImplemented, msg)
		case "AccessDenied", "AccessDeniedException", "UnauthorizedOperation":
			return fmt.Errorf("%w: %s", bootstrap.ErrAccessDenied, msg)
		}
		return errors.New(msg)
	}
	var re interface{ HTTPStatusCode() int }
	var de *smithy.DeserializationError
	if errors.As(err, &re) && errors.As(err, &de) && (re.HTTPStatusCode() >= 500 || re.HTTPStatusCode() == http.StatusNotFound) {
		// A 404 or server error without an AWS error body: an
		// implementation of the API that lacks the operation (moto answers
		// an unknown route with an HTML 404, NotImplementedError with an
		// HTML 500); AWS's errors always carry a code.
		return fmt.Errorf("%w: HTTP %d without an AWS error body: %v", bootstrap.ErrNotImplemented, re.HTTPStatusCode(), err)
	}
	if errors.As(err, &re) {
		switch re.HTTPStatusCode() {
		case http.StatusNotFound:
			return fmt.Errorf("%w: %v", bootstrap.ErrNotFound, err)
		case http.StatusNotImplemented:
			return fmt.Errorf("%w: %v", bootstrap.ErrNotImplemented, err)
		case http.StatusForbidden:
			return fmt.Errorf("%w: %v", bootstrap.ErrAccessDenied, err)
		}
	}
	return err
}

func code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// BucketTags answers ErrNotYours for a bucket another account has (S3
// answers HeadBucket with 403 there).
func (b *Bootstrapper) BucketTags(ctx context.Context, bucket string) (map[string]string, error) {
	if _, err := b.s3.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: &bucket}); err != nil {
		err = bwrap(err)
		if errors.Is(err, bootstrap.ErrAccessDenied) {
			return nil, fmt.Errorf("%w: %v", bootstrap.ErrNotYours, err)
		}
		return nil, err
	}
	out, err := b.s3.GetBucketTagging(ctx, &s3.GetBucketTaggingInput{Bucket: &bucket})
	if code(err) == "NoSuchTagSet" {
		return map[string]string{}, nil
	}
	if err != nil {
		return nil, bwrap(err)
	}
	tags := map[string]string{}
	for _, t := range out.TagSet {
		tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
	}
	return tags, nil
}

// CreateBucket creates the bucket in the client's region.
func (b *Bootstrapper) CreateBucket(ctx context.Context, bucket string) error {
	in := &s3.CreateBucketInput{Bucket: &bucket}
	if r := b.cfg.Region; r != "" && r != "us-east-1" {
		in.CreateBucketConfiguration = &s3types.CreateBucketConfiguration{LocationConstraint: s3types.BucketLocationConstraint(r)}
	}
	_, err := b.s3.CreateBucket(ctx, in)
	if code(err) == "BucketAlreadyOwnedByYou" {
		return nil
	}
	return bwrap(err)
}

func (b *Bootstrapper) TagBucket(ctx context.Context, bucket string, tags map[string]string) error {
	var set []s3types.Tag
	for k, v := range tags {
		set = append(set, s3types.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	_, err := b.s3.PutBucketTagging(ctx, &s3.PutBucketTaggingInput{Bucket: &bucket, Tagging: &s3types.Tagging{TagSet: set}})
	return bwrap(err)
}

func (b *Bootstrapper) EnableVersioning(ctx context.Context, bucket string) error {
	_, err := b.s3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: &bucket,
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}})
	return bwrap(err)
}

// DefaultEncryption reads GetBucketEncryption's first rule: S3 answers
// ServerSideEncryptionConfigurationNotFoundError for a bucket without one
// (only before 2023 on AWS; moto still does).
func (b *Bootstrapper) DefaultEncryption(ctx context.Context, bucket string) (bootstrap.Encryption, error) {
	out, err := b.s3.GetBucketEncryption(ctx, &s3.GetBucketEncryptionInput{Bucket: &bucket})
	if code(err) == "ServerSideEncryptionConfigurationNotFoundError" {
		return bootstrap.Encryption{}, nil
	}
	if err != nil {
		return bootstrap.Encryption{}, bwrap(err)
	}
	if c := out.ServerSideEncryptionConfiguration; c != nil {
		for _, rule := range c.Rules {
			if d := rule.ApplyServerSideEncryptionByDefault; d != nil {
				return bootstrap.Encryption{Algorithm: string(d.SSEAlgorithm), KMSKey: aws.ToString(d.KMSMasterKeyID)}, nil
			}
		}
	}
	return bootstrap.Encryption{}, nil
}

func (b *Bootstrapper) EnableDefaultEncryption(ctx context.Context, bucket string) error {
	_, err := b.s3.PutBucketEncryption(ctx, &s3.PutBucketEncryptionInput{Bucket: &bucket,
		ServerSideEncryptionConfiguration: &s3types.ServerSideEncryptionConfiguration{Rules: []s3types.ServerSideEncryptionRule{{
			ApplyServerSideEncryptionByDefault: &s3types.ServerSideEncryptionByDefault{SSEAlgorithm: s3types.ServerSideEncryptionAes256},
		}}}})
	return bwrap(err)
}

func (b *Bootstrapper) BlockPublicAccess(ctx context.Context, bucket string) error {
	t := aws.Bool(true)
	_, err := b.s3.PutPublicAccessBlock(ctx, &s3.PutPublicAccessBlockInput{Bucket: &bucket,
		PublicAccessBlockConfiguration: &s3types.PublicAccessBlockConfiguration{BlockPublicAcls: t, IgnorePublicAcls: t, BlockPublicPolicy: t, RestrictPublicBuckets: t}})
	return bwrap(err)
}

func (b *Bootstrapper) PutObject(ctx context.Context, bucket, key string, body []byte) error {
	_, err := b.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: bytes.NewReader(body)})
	return bwrap(err)
}

func (b *Bootstrapper) ObjectExists(ctx context.Context, bucket, key string) (bool, error) {
	_, err := b.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &key})
	if err = bwrap(err); errors.Is(err, bootstrap.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// DeleteBucket deletes every object version and delete marker, then the
// bucket.
func (b *Bootstrapper) DeleteBucket(ctx context.Context, bucket string) error {
	p := s3.NewListObjectVersionsPaginator(b.s3, &s3.ListObjectVersionsInput{Bucket: &bucket})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return bwrap(err)
		}
		var ids []s3types.ObjectIdentifier
		for _, v := range out.Versions {
			ids = append(ids, s3types.ObjectIdentifier{Key: v.Key, VersionId: v.VersionId})
		}
		for _, m := range out.DeleteMarkers {
			ids = append(ids, s3types.ObjectIdentifier{Key: m.Key, VersionId: m.VersionId})
		}
		for _, id := range ids {
			if _, err := b.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: id.Key, VersionId: id.VersionId}); err != nil {
				return bwrap(err)
			}
		}
	}
	_, err := b.s3.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &bucket})
	return bwrap(err)
}

// FindCertificate lists every key type (ListCertificates lists only RSA
// certificates unless asked) and returns the one tagged tagKey=tagValue.
func (b *Bootstrapper) FindCertificate(ctx context.Context, tagKey, tagValue string) (string, error) {
	p := acm.NewListCertificatesPaginator(b.acm, &acm.ListCertificatesInput{Includes: &acmtypes.Filters{
		KeyTypes: []acmtypes.KeyAlgorithm{acmtypes.KeyAlgorithmEcPrime256v1, acmtypes.KeyAlgorithmRsa2048, acmtypes.KeyAlgorithmRsa3072, acmtypes.KeyAlgorithmRsa4096, acmtypes.KeyAlgorithmEcSecp384r1}}})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return "", bwrap(err)
		}
		for _, s := range out.CertificateSummaryList {
			tags, err := b.acm.ListTagsForCertificate(ctx, &acm.ListTagsForCertificateInput{CertificateArn: s.CertificateArn})
			if err != nil {
				return "", bwrap(err)
			}
			for _, t := range tags.Tags {
				if aws.ToString(t.Key) == tagKey && aws.ToString(t.Value) == tagValue {
					return aws.ToString(s.CertificateArn), nil
				}
			}
		}
	}
	return "", nil
}

func (b *Bootstrapper) ImportCertificate(ctx context.Context, certPEM, keyPEM []byte, tags map[string]string) (string, error) {
	var ts []acmtypes.Tag
	for k, v := range tags {
		ts = append(ts, acmtypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	out, err := b.acm.ImportCertificate(ctx, &acm.ImportCertificateInput{Certificate: certPEM, PrivateKey: keyPEM, Tags: ts})
	if err != nil {
		return "", bwrap(err)
	}
	return aws.ToString(out.CertificateArn), nil
}

func (b *Bootstrapper) DeleteCertificate(ctx context.Context, arn string) error {
	_, err := b.acm.DeleteCertificate(ctx, &acm.DeleteCertificateInput{CertificateArn: &arn})
	return bwrap(err)
}

// SigningPlatform finds the platform in ListSigningPlatforms (moto serves
// the list but not GetSigningPlatform).
func (b *Bootstrapper) SigningPlatform(ctx context.Context, id string) (bootstrap.Platform, error) {
	p := signer.NewListSigningPlatformsPaginator(b.signer, &signer.ListSigningPlatformsInput{})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return bootstrap.Platform{}, bwrap(err)
		}
		for _, pl := range out.Platforms {
			if aws.ToString(pl.PlatformId) != id {
				continue
			}
			res := bootstrap.Platform{ID: id}
			if sc := pl.SigningConfiguration; sc != nil && sc.EncryptionAlgorithmOptions != nil {
				for _, a := range sc.EncryptionAlgorithmOptions.AllowedValues {
					res.Algorithms = append(res.Algorithms, string(a))
				}
			}
			return res, nil
		}
	}
	return bootstrap.Platform{}, fmt.Errorf("%w: no signing platform %s", bootstrap.ErrNotFound, id)
}

// SigningProfile finds the profile in ListSigningProfiles, canceled ones
// included: the list carries the status, parameters and tags. Where the
// list is not served (moto), GetSigningProfile; moto answers it for a
// missing profile with a 500 without an AWS error, taken as not found.
func (b *Bootstrapper) SigningProfile(ctx context.Context, name string) (bootstrap.Profile, error) {
	p := signer.NewListSigningProfilesPaginator(b.signer, &signer.ListSigningProfilesInput{IncludeCanceled: true})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err = bwrap(err); errors.Is(err, bootstrap.ErrNotImplemented) {
			return b.getSigningProfile(ctx, name)
		}
		if err != nil {
			return bootstrap.Profile{}, err
		}
		for _, sp := range out.Profiles {
			if aws.ToString(sp.ProfileName) != name {
				continue
			}
			res := bootstrap.Profile{Name: name, PlatformID: aws.ToString(sp.PlatformId), Status: string(sp.Status),
				CertName: sp.SigningParameters["certname"], Tags: sp.Tags}
			if sp.SigningMaterial != nil {
				res.CertificateArn = aws.ToString(sp.SigningMaterial.CertificateArn)
			}
			return res, nil
		}
	}
	return bootstrap.Profile{}, fmt.Errorf("%w: no signing profile %s", bootstrap.ErrNotFound, name)
}

func (b *Bootstrapper) getSigningProfile(ctx context.Context, name string) (bootstrap.Profile, error) {
	out, err := b.signer.GetSigningProfile(ctx, &signer.GetSigningProfileInput{ProfileName: &name})
	if err = bwrap(err); errors.Is(err, bootstrap.ErrNotImplemented) {
		return bootstrap.Profile{}, fmt.Errorf("%w: GetSigningProfile %s: %v", bootstrap.ErrNotFound, name, err)
	}
	if err != nil {
		return bootstrap.Profile{}, err
	}
	res := bootstrap.Profile{Name: name, PlatformID: aws.ToString(out.PlatformId), Status: string(out.Status),
		CertName: out.SigningParameters["certname"], Tags: out.Tags}
	if out.SigningMaterial != nil {
		res.CertificateArn = aws.ToString(out.SigningMaterial.CertificateArn)
	}
	return res, nil
}

func (b *Bootstrapper) PutSigningProfile(ctx context.Context, p bootstrap.Profile, tags map[string]string) error {
	_, err := b.signer.PutSigningProfile(ctx, &signer.PutSigningProfileInput{ProfileName: &p.Name, PlatformId: &p.PlatformID,
		SigningMaterial:   &signertypes.SigningMaterial{CertificateArn: &p.CertificateArn},
		SigningParameters: map[string]string{"certname": p.CertName}, Tags: tags})
	return bwrap(err)
}

func (b *Bootstrapper) CancelSigningProfile(ctx context.Context, name string) error {
	_, err := b.signer.CancelSigningProfile(ctx, &signer.CancelSigningProfileInput{ProfileName: &name})
	return bwrap(err)
}

// DataEndpoint is DescribeEndpoint iot:Data-ATS as the service answers
// (AWS: a host name; otactl local: host:port).
func (b *Bootstrapper) DataEndpoint(ctx context.Context) (string, error) {
	out, err := b.iot.DescribeEndpoint(ctx, &iot.DescribeEndpointInput{EndpointType: aws.String("iot:Data-ATS")})
	if err != nil {
		return "", bwrap(err)
	}
	return aws.ToString(out.EndpointAddress), nil
}

func (b *Bootstrapper) iotTags(ctx context.Context, arn string) (map[string]string, error) {
	tags := map[string]string{}
	p := iot.NewListTagsForResourcePaginator(b.iot, &iot.ListTagsForResourceInput{ResourceArn: &arn})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, bwrap(err)
		}
		for _, t := range out.Tags {
			tags[aws.ToString(t.Key)] = aws.ToString(t.Value)
		}
	}
	return tags, nil
}

func iotTagList(tags map[string]string) []iottypes.Tag {
	var ts []iottypes.Tag
	for k, v := range tags {
		ts = append(ts, iottypes.Tag{Key: aws.String(k), Value: aws.String(v)})
	}
	return ts
}

// ThingGroupTags reads the group's tags; where the endpoint cannot list
// IoT tags, the group's attributes, which CreateThingGroup sets to the
// same marks.
func (b *Bootstrapper) ThingGroupTags(ctx context.Context, name string) (map[string]string, error) {
	out, err := b.iot.DescribeThingGroup(ctx, &iot.DescribeThingGroupInput{ThingGroupName: &name})
	if err != nil {
		return nil, bwrap(err)
	}
	tags, err := b.iotTags(ctx, aws.ToString(out.ThingGroupArn))
	if errors.Is(err, bootstrap.ErrNotImplemented) {
		tags, err = map[string]string{}, nil
		if p := out.ThingGroupProperties; p != nil && p.AttributePayload != nil {
			tags = p.AttributePayload.Attributes
		}
	}
	return tags, err
}

// CreateThingGroup tags the group and gives it the same attributes (which
// every implementation returns with DescribeThingGroup).
func (b *Bootstrapper) CreateThingGroup(ctx context.Context, name string, tags map[string]string) error {
	_, err := b.iot.CreateThingGroup(ctx, &iot.CreateThingGroupInput{ThingGroupName: &name, Tags: iotTagList(tags),
		ThingGroupProperties: &iottypes.ThingGroupProperties{AttributePayload: &iottypes.AttributePayload{Attributes: tags}}})
	return bwrap(err)
}

func (b *Bootstrapper) DeleteThingGroup(ctx context.Context, name string) error {
	_, err := b.iot.DeleteThingGroup(ctx, &iot.DeleteThingGroupInput{ThingGroupName: &name})
	return bwrap(err)
}

func (b *Bootstrapper) PolicyTags(ctx context.Context, name string) (map[string]string, error) {
	out, err := b.iot.GetPolicy(ctx, &iot.GetPolicyInput{PolicyName: &name})
	if err != nil {
		return nil, bwrap(err)
	}
	return b.iotTags(ctx, aws.ToString(out.PolicyArn))
}

// CreateDevicePolicy creates device.ThingPolicy for this account and region.
func (b *Bootstrapper) CreateDevicePolicy(ctx context.Context, name string, tags map[string]string) error {
	account, err := b.AccountID(ctx)
	if err != nil {
		return err
	}
	doc := device.ThingPolicy("arn:aws:iot:" + b.cfg.Region + ":" + account)
	_, err = b.iot.CreatePolicy(ctx, &iot.CreatePolicyInput{PolicyName: &name, PolicyDocument: &doc, Tags: iotTagList(tags)})
	return bwrap(err)
}

func (b *Bootstrapper) DeletePolicy(ctx context.Context, name string) error {
	_, err := b.iot.DeletePolicy(ctx, &iot.DeletePolicyInput{PolicyName: &name})
	return bwrap(err)
}

func (b *Bootstrapper) ThingAttributes(ctx context.Context, name string) (map[string]string, error) {
	out, err := b.iot.DescribeThing(ctx, &iot.DescribeThingInput{ThingName: &name})
	if err != nil {
		return nil, bwrap(err)
	}
	if out.Attributes == nil {
		return map[string]string{}, nil
	}
	return out.Attributes, nil
}

func (b *Bootstrapper) CreateThing(ctx context.Context, name string, attrs map[string]string) error {
	_, err := b.iot.CreateThing(ctx, &iot.CreateThingInput{ThingName: &name, AttributePayload: &iottypes.AttributePayload{Attributes: attrs}})
	return bwrap(err)
}

func (b *Bootstrapper) ThingsWithAttribute(ctx context.Context, name, value string) ([]string, error) {
	var things []string
	p := iot.NewListThingsPaginator(b.iot, &iot.ListThingsInput{AttributeName: &name, AttributeValue: &value})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return nil, bwrap(err)
		}
		for _, t := range out.Things {
			// Filter again: an implementation that ignores the filter
			// must not make bootstrap delete someone else's thing.
			if t.Attributes[name] == value {
				things = append(things, aws.ToString(t.ThingName))
			}
		}
	}
	return things, nil
}

// RegisterDevice is device.Register for one thing with its own folder.
// device.Register's CreateThing (no attributes) is answered
// ResourceAlreadyExists by AWS and otactl local, which keep the thing; moto
// replaces the thing and drops its attributes, so they are put back.
func (b *Bootstrapper) RegisterDevice(ctx context.Context, thing, group, policy, dir string) error {
	attrs, err := b.ThingAttributes(ctx, thing)
	if err != nil {
		return err
	}
	if err := device.Register(ctx, b.iot, []string{thing}, device.Registration{Group: group, CertDir: dir, Policy: policy}); err != nil {
		return err
	}
	after, err := b.ThingAttributes(ctx, thing)
	if err != nil || len(after) >= len(attrs) {
		return err
	}
	_, err = b.iot.UpdateThing(ctx, &iot.UpdateThingInput{ThingName: &thing, AttributePayload: &iottypes.AttributePayload{Attributes: attrs, Merge: true}})
	return bwrap(err)
}

// DeleteThing detaches the thing's principals, deletes the certificates
// listed in own (policies detached, INACTIVE first, as IoT requires) and
// deletes the thing.
func (b *Bootstrapper) DeleteThing(ctx context.Context, thing string, own []string) error {
	p := iot.NewListThingPrincipalsPaginator(b.iot, &iot.ListThingPrincipalsInput{ThingName: &thing})
	var principals []string
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return bwrap(err)
		}
		principals = append(principals, out.Principals...)
	}
	for _, pr := range principals {
		if _, err := b.iot.DetachThingPrincipal(ctx, &iot.DetachThingPrincipalInput{ThingName: &thing, Principal: aws.String(pr)}); err != nil {
			return bwrap(err)
		}
		id := pr[strings.LastIndex(pr, "/")+1:]
		if !strings.Contains(pr, ":cert/") || !contains(own, id) {
			continue
		}
		if err := b.deleteCertificate(ctx, pr, id); err != nil {
			return err
		}
	}
	_, err := b.iot.DeleteThing(ctx, &iot.DeleteThingInput{ThingName: &thing})
	return bwrap(err)
}

func (b *Bootstrapper) deleteCertificate(ctx context.Context, arn, id string) error {
	p := iot.NewListAttachedPoliciesPaginator(b.iot, &iot.ListAttachedPoliciesInput{Target: &arn})
	for p.HasMorePages() {
		out, err := p.NextPage(ctx)
		if err != nil {
			return bwrap(err)
		}
		for _, pol := range out.Policies {
			if _, err := b.iot.DetachPolicy(ctx, &iot.DetachPolicyInput{PolicyName: pol.PolicyName, Target: &arn}); err != nil {
				return bwrap(err)
			}
		}
	}
	if _, err := b.iot.UpdateCertificate(ctx, &iot.UpdateCertificateInput{CertificateId: &id, NewStatus: iottypes.CertificateStatusInactive}); err != nil {
		return bwrap(err)
	}
	_, err := b.iot.DeleteCertificate(ctx, &iot.DeleteCertificateInput{CertificateId: &id})
	return bwrap(err)
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
