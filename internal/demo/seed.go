// Package demo prepares an otactl local environment the way a user would,
// through the AWS SDK: a versioned bucket holding a firmware image, a
// signing profile whose key otactl local generates, and a group of things.
// otactl demo and the command tests use it.
package demo

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/signer"
)

// Seed says what to prepare.
type Seed struct {
	Bucket, Key    string
	FirmwareSize   int
	Profile        string // signing profile (AmazonFreeRTOS-Default, generated key)
	CertName       string // its certname: the job document's certfile
	Group          string
	Things         []string
	ThingsInGroups bool // add every thing to Group
}

// Seeded is what was prepared.
type Seeded struct {
	Firmware        []byte
	FirmwareVersion string
	SigningCertPEM  []byte // the code-signing certificate devices trust
}

// Prepare creates what s describes; what exists already is reused.
func Prepare(ctx context.Context, cfg aws.Config, s Seed) (*Seeded, error) {
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &s.Bucket}); err != nil && !exists(err) {
		return nil, fmt.Errorf("create bucket %s: %w", s.Bucket, err)
	}
	if _, err := s3c.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: &s.Bucket,
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		return nil, fmt.Errorf("enable versioning on %s: %w", s.Bucket, err)
	}
	out := &Seeded{Firmware: make([]byte, s.FirmwareSize)}
	rand.Read(out.Firmware)
	put, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: &s.Bucket, Key: &s.Key, Body: bytes.NewReader(out.Firmware)})
	if err != nil {
		return nil, fmt.Errorf("upload firmware: %w", err)
	}
	out.FirmwareVersion = aws.ToString(put.VersionId)

	sc := signer.NewFromConfig(cfg)
	if _, err := sc.PutSigningProfile(ctx, &signer.PutSigningProfileInput{ProfileName: &s.Profile,
		PlatformId: aws.String("AmazonFreeRTOS-Default"), SigningParameters: map[string]string{"certname": s.CertName}}); err != nil && !exists(err) {
		return nil, fmt.Errorf("create signing profile %s: %w", s.Profile, err)
	}
	prof, err := sc.GetSigningProfile(ctx, &signer.GetSigningProfileInput{ProfileName: &s.Profile})
	if err != nil {
		return nil, fmt.Errorf("read signing profile: %w", err)
	}
	if prof.SigningMaterial == nil {
		return nil, errors.New("signing profile has no signing material")
	}
	cert, err := acm.NewFromConfig(cfg).GetCertificate(ctx, &acm.GetCertificateInput{CertificateArn: prof.SigningMaterial.CertificateArn})
	if err != nil {
		return nil, fmt.Errorf("read the code-signing certificate: %w", err)
	}
	out.SigningCertPEM = []byte(aws.ToString(cert.Certificate))

	ic := iot.NewFromConfig(cfg)
	if s.Group != "" {
		if _, err := ic.CreateThingGroup(ctx, &iot.CreateThingGroupInput{ThingGroupName: &s.Group}); err != nil && !exists(err) {
			return nil, fmt.Errorf("create thing group %s: %w", s.Group, err)
		}
	}
	for _, th := range s.Things {
		if _, err := ic.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String(th)}); err != nil && !exists(err) {
			return nil, fmt.Errorf("create thing %s: %w", th, err)
		}
		if s.ThingsInGroups {
			if _, err := ic.AddThingToThingGroup(ctx, &iot.AddThingToThingGroupInput{ThingName: aws.String(th), ThingGroupName: &s.Group}); err != nil {
				return nil, fmt.Errorf("add %s to %s: %w", th, s.Group, err)
			}
		}
	}
	return out, nil
}

// exists recognises "already exists" answers, which a re-run may meet.
func exists(err error) bool {
	var ae interface{ ErrorCode() string }
	if !errors.As(err, &ae) {
		return false
	}
	switch ae.ErrorCode() {
	case "BucketAlreadyOwnedByYou", "ResourceAlreadyExistsException", "ConflictException":
		return true
	}
	return false
}
