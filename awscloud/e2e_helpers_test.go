package awscloud_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/signer"
	"github.com/otactl/otactl/awscloud"
	"github.com/otactl/otactl/local/localtest"
	"github.com/otactl/otactl/ota"
)

// fixture is an otactl local with what an OTA update needs: a versioned
// bucket holding a firmware image, a signing profile, a group of things.
type fixture struct {
	t        testing.TB
	env      *localtest.Env
	cloud    *awscloud.Cloud
	s3       *s3.Client
	iot      *iot.Client
	firmware []byte
	version  string // of fw.bin
	cert     *x509.Certificate
	certArn  string // the profile's ACM certificate
}

const (
	bucket  = "fw-bucket"
	profile = "fw_signer"
	group   = "sensors"
)

var ctx = context.Background()

func newFixture(t testing.TB, size int) *fixture {
	t.Helper()
	env := localtest.Start(t)
	f := &fixture{t: t, env: env, cloud: awscloud.FromConfig(env.Config), s3: env.S3(), iot: iot.NewFromConfig(env.Config)}
	_, err := f.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)})
	must(t, err)
	_, err = f.s3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{Bucket: aws.String(bucket),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}})
	must(t, err)
	f.firmware = make([]byte, size)
	rand.Read(f.firmware)
	f.version = f.put("fw.bin", f.firmware)

	sc := signer.NewFromConfig(env.Config)
	_, err = sc.PutSigningProfile(ctx, &signer.PutSigningProfileInput{ProfileName: aws.String(profile),
		PlatformId: aws.String("AmazonFreeRTOS-Default"), SigningParameters: map[string]string{"certname": "code_sign.crt"}})
	must(t, err)
	prof, err := sc.GetSigningProfile(ctx, &signer.GetSigningProfileInput{ProfileName: aws.String(profile)})
	must(t, err)
	cert, err := acm.NewFromConfig(env.Config).GetCertificate(ctx, &acm.GetCertificateInput{CertificateArn: prof.SigningMaterial.CertificateArn})
	must(t, err)
	f.certArn = aws.ToString(prof.SigningMaterial.CertificateArn)
	block, _ := pem.Decode([]byte(aws.ToString(cert.Certificate)))
	if f.cert, err = x509.ParseCertificate(block.Bytes); err != nil {
		t.Fatal(err)
	}

	_, err = f.iot.CreateThingGroup(ctx, &iot.CreateThingGroupInput{ThingGroupName: aws.String(group)})
	must(t, err)
	for _, th := range []string{"dev-1", "dev-2", "dev-3"} {
		_, err := f.iot.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String(th)})
		must(t, err)
		_, err = f.iot.AddThingToThingGroup(ctx, &iot.AddThingToThingGroupInput{ThingName: aws.String(th), ThingGroupName: aws.String(group)})
		must(t, err)
	}
	return f
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (f *fixture) put(key string, body []byte) string { return f.putIn(bucket, key, body) }

func (f *fixture) putIn(b, key string, body []byte) string {
	out, err := f.s3.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(b), Key: aws.String(key), Body: bytes.NewReader(body)})
	must(f.t, err)
	return aws.ToString(out.VersionId)
}

func (f *fixture) get(b, key, version string) []byte {
	out, err := f.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(b), Key: aws.String(key), VersionId: aws.String(version)})
	must(f.t, err)
	defer out.Body.Close()
	raw, err := io.ReadAll(out.Body)
	must(f.t, err)
	return raw
}

// spec is the update the tests vary: one file signed with the profile, MQTT.
func (f *fixture) spec(id string) *ota.Spec {
	return &ota.Spec{
		OTAUpdateID: id,
		Targets:     []string{group},
		RoleArn:     "ota-role",
		Files: []ota.File{{
			FileName:     "/fw.bin",
			FileLocation: ota.FileLocation{S3Location: &ota.S3Location{Bucket: bucket, Key: "fw.bin"}},
			CodeSigning:  ota.CodeSigning{StartSigningJobParameter: &ota.StartSigningJobParameter{SigningProfileName: profile}},
		}},
	}
}

func (f *fixture) pipeline() *ota.Pipeline { return &ota.Pipeline{Cloud: f.cloud} }

// verifySigned checks what a device would see for one file of a created
// update: the raw binary at the stream's version, the signed JSON as the
// older version of the same key, and a signature that verifies.
func (f *fixture) verifySigned(fr ota.FileResult, firmware []byte) {
	t := f.t
	t.Helper()
	if got := f.get(fr.Raw.Bucket, fr.Raw.Key, fr.Raw.Version); !bytes.Equal(got, firmware) {
		t.Fatalf("the version devices download is not the raw binary (%d bytes)", len(got))
	}
	vs, err := f.s3.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(fr.Raw.Bucket), Prefix: aws.String(fr.Raw.Key)})
	must(t, err)
	if len(vs.Versions) != 2 || aws.ToString(vs.Versions[0].VersionId) != fr.Raw.Version || !aws.ToBool(vs.Versions[0].IsLatest) {
		t.Fatalf("signed object key should have 2 versions, newest the raw binary: %+v", vs.Versions)
	}
	older := aws.ToString(vs.Versions[1].VersionId)
	if older != fr.SignedObject.Version {
		t.Fatalf("older version %s is not the signed object %s", older, fr.SignedObject.Version)
	}
	var so struct {
		RawPayloadSize     int64  `json:"rawPayloadSize"`
		Signature          string `json:"signature"`
		SignatureAlgorithm string `json:"signatureAlgorithm"`
		Payload            string `json:"payload"`
	}
	must(t, json.Unmarshal(f.get(fr.Raw.Bucket, fr.Raw.Key, older), &so))
	payload, _ := base64.StdEncoding.DecodeString(so.Payload)
	sig, _ := base64.StdEncoding.DecodeString(so.Signature)
	if so.RawPayloadSize != int64(len(firmware)) || !bytes.Equal(payload, firmware) || so.SignatureAlgorithm != "SHA256withECDSA" {
		t.Fatalf("signed object: size %d alg %s", so.RawPayloadSize, so.SignatureAlgorithm)
	}
	digest := sha256.Sum256(firmware)
	if !ecdsa.VerifyASN1(f.cert.PublicKey.(*ecdsa.PublicKey), digest[:], sig) {
		t.Fatal("the signature does not verify against the profile's certificate")
	}
	if fr.Signature != so.Signature || fr.SigKey != "sig-sha256-ecdsa" || fr.CertFile != "code_sign.crt" {
		t.Fatalf("file result: %+v", fr)
	}
}

// counts returns how many streams and jobs exist.
func (f *fixture) counts() (streams, jobs int) {
	s, err := f.iot.ListStreams(ctx, &iot.ListStreamsInput{})
	must(f.t, err)
	j, err := f.iot.ListJobs(ctx, &iot.ListJobsInput{})
	must(f.t, err)
	return len(s.Streams), len(j.Jobs)
}
