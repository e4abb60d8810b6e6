package awscloud

import (
	"context"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/signer"
	"github.com/aws/aws-sdk-go-v2/service/signer/types"
	"github.com/otactl/otactl/ota"
)

// GetSigningProfile reads a profile's platform, status and certname.
func (c *Cloud) GetSigningProfile(ctx context.Context, name string) (ota.SigningProfile, error) {
	out, err := c.signer.GetSigningProfile(ctx, &signer.GetSigningProfileInput{ProfileName: &name})
	if err != nil {
		return ota.SigningProfile{}, wrap(err)
	}
	return ota.SigningProfile{Name: aws.ToString(out.ProfileName), PlatformID: aws.ToString(out.PlatformId),
		CertName: out.SigningParameters["certname"], Status: string(out.Status)}, nil
}

// DefaultPlatform is the Signer platform of FreeRTOS OTA updates.
const DefaultPlatform = "AmazonFreeRTOS-Default"

// PutSigningProfile creates a signing profile from CreateOTAUpdate's
// signingProfileParameter.
func (c *Cloud) PutSigningProfile(ctx context.Context, name string, p ota.SigningProfileParameter, tags []ota.Tag) error {
	platform := p.Platform
	if platform == "" {
		platform = DefaultPlatform
	}
	in := &signer.PutSigningProfileInput{ProfileName: &name, PlatformId: &platform, Tags: map[string]string{}}
	if p.CertificateArn != "" {
		in.SigningMaterial = &types.SigningMaterial{CertificateArn: &p.CertificateArn}
	}
	if p.CertificatePathOnDevice != "" {
		in.SigningParameters = map[string]string{"certname": p.CertificatePathOnDevice}
	}
	for _, t := range tags {
		in.Tags[t.Key] = t.Value
	}
	_, err := c.signer.PutSigningProfile(ctx, in)
	return wrap(err)
}

// StartSigningJob signs an exact object version.
func (c *Cloud) StartSigningJob(ctx context.Context, in ota.SigningJobInput) (string, error) {
	out, err := c.signer.StartSigningJob(ctx, &signer.StartSigningJobInput{
		ProfileName:        &in.ProfileName,
		ClientRequestToken: &in.ClientToken,
		Source:             &types.Source{S3: &types.S3Source{BucketName: &in.Source.Bucket, Key: &in.Source.Key, Version: &in.Source.Version}},
		Destination:        &types.Destination{S3: &types.S3Destination{BucketName: &in.Destination.Bucket, Prefix: str(in.Destination.Prefix)}},
	})
	if err != nil {
		return "", wrap(err)
	}
	return aws.ToString(out.JobId), nil
}

// DescribeSigningJob reads a signing job's state and signed object.
func (c *Cloud) DescribeSigningJob(ctx context.Context, id string) (ota.SigningJob, error) {
	out, err := c.signer.DescribeSigningJob(ctx, &signer.DescribeSigningJobInput{JobId: &id})
	if err != nil {
		return ota.SigningJob{}, wrap(err)
	}
	j := ota.SigningJob{ID: id, Status: string(out.Status), StatusReason: aws.ToString(out.StatusReason), ProfileName: aws.ToString(out.ProfileName)}
	if out.Source != nil && out.Source.S3 != nil {
		s := out.Source.S3
		j.Source = ota.S3Location{Bucket: aws.ToString(s.BucketName), Key: aws.ToString(s.Key), Version: aws.ToString(s.Version)}
	}
	if out.SignedObject != nil && out.SignedObject.S3 != nil {
		j.SignedObject = ota.S3Location{Bucket: aws.ToString(out.SignedObject.S3.BucketName), Key: aws.ToString(out.SignedObject.S3.Key)}
	}
	return j, nil
}
