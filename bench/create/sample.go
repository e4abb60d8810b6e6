package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	iottypes "github.com/aws/aws-sdk-go-v2/service/iot/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/signer"
	signertypes "github.com/aws/aws-sdk-go-v2/service/signer/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"
	"github.com/google/uuid"
)

// samplePoll is the sample script's wait after every DescribeSigningJob,
// the last one included (time.sleep(0.1) at the end of its loop).
const samplePoll = 100 * time.Millisecond

// Job is what both sides create: the sample's fixed job configuration.
type Job struct {
	Bucket, Key, Profile, Role, Group string
}

// runSample makes the calls AWS's sample create_ota_update.py makes, in
// its order, with its polling, written in Go with the AWS SDK (so the
// comparison is the calls, not Python's start-up):
//
//	sts GetCallerIdentity
//	s3 GetObject (the binary, for its latest version id)
//	signer StartSigningJob (destination <bucket>/SignedImage/)
//	signer DescribeSigningJob, sleeping 100 ms after each, until not InProgress
//	s3 CopyObject (the binary over the signed object)
//	s3 GetObject (the signed key, for the raw copy's version id)
//	iot CreateStream (AFR_OTA-<uuid>, that version)
//	s3 ListObjectVersions + GetObject of the oldest (the signed JSON)
//	iot CreateJob (document with the signature; SNAPSHOT, 10-minute
//	  timeout, 3 TIMED_OUT retries, scheduled +1h..+2h, CANCEL)
//
// Its configuration is loaded and its clients made inside the timed part,
// from the environment otactl create gets too, as the script's boto3
// clients are.
func runSample(ctx context.Context, j Job, jobID string) error {
	// Quiet: the SDK's default logger notes each GetObject it cannot
	// checksum, which the script does not print.
	cfg, err := config.LoadDefaultConfig(ctx, config.WithLogger(logging.Nop{}))
	if err != nil {
		return err
	}
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	sc, ic, stc := signer.NewFromConfig(cfg), iot.NewFromConfig(cfg), sts.NewFromConfig(cfg)

	who, err := stc.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return fmt.Errorf("GetCallerIdentity: %w", err)
	}
	account, region := aws.ToString(who.Account), cfg.Region

	// get_s3_object_version: GetObject, body left unread as boto3 leaves it.
	latest := func(bucket, key string) (string, error) {
		out, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
		if err != nil {
			return "", fmt.Errorf("GetObject %s: %w", key, err)
		}
		out.Body.Close()
		return aws.ToString(out.VersionId), nil
	}

	version, err := latest(j.Bucket, j.Key)
	if err != nil {
		return err
	}
	start, err := sc.StartSigningJob(ctx, &signer.StartSigningJobInput{
		ProfileName: &j.Profile,
		Source:      &signertypes.Source{S3: &signertypes.S3Source{BucketName: &j.Bucket, Key: &j.Key, Version: &version}},
		Destination: &signertypes.Destination{S3: &signertypes.S3Destination{BucketName: &j.Bucket, Prefix: aws.String("SignedImage/")}},
	})
	if err != nil {
		return fmt.Errorf("StartSigningJob: %w", err)
	}
	var job *signer.DescribeSigningJobOutput
	for done := false; !done; {
		if job, err = sc.DescribeSigningJob(ctx, &signer.DescribeSigningJobInput{JobId: start.JobId}); err != nil {
			return fmt.Errorf("DescribeSigningJob: %w", err)
		}
		done = job.Status != signertypes.SigningStatusInProgress
		time.Sleep(samplePoll)
	}
	if job.Status != signertypes.SigningStatusSucceeded || job.SignedObject == nil {
		return fmt.Errorf("signing job %s: %s", job.Status, aws.ToString(job.StatusReason))
	}
	sBucket, sKey := aws.ToString(job.SignedObject.S3.BucketName), aws.ToString(job.SignedObject.S3.Key)

	// create_stream
	if _, err := s3c.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &sBucket, Key: &sKey,
		CopySource: aws.String(j.Bucket + "/" + j.Key)}); err != nil {
		return fmt.Errorf("CopyObject: %w", err)
	}
	rawVersion, err := latest(sBucket, sKey)
	if err != nil {
		return err
	}
	stream, err := ic.CreateStream(ctx, &iot.CreateStreamInput{
		StreamId:    aws.String("AFR_OTA-" + uuid.NewString()),
		Description: aws.String("Stream for deconstructed OTAUpdate " + jobID),
		Files: []iottypes.StreamFile{{FileId: aws.Int32(0),
			S3Location: &iottypes.S3Location{Bucket: &sBucket, Key: &sKey, Version: &rawVersion}}},
		RoleArn: aws.String("arn:aws:iam::" + account + ":role/" + j.Role),
	})
	if err != nil {
		return fmt.Errorf("CreateStream: %w", err)
	}

	// create_job: the signature from the oldest version (the signed JSON).
	vs, err := s3c.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: &sBucket, Prefix: &sKey})
	if err != nil {
		return fmt.Errorf("ListObjectVersions: %w", err)
	}
	if len(vs.Versions) == 0 {
		return fmt.Errorf("ListObjectVersions: no versions of %s", sKey)
	}
	obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: &sBucket, Key: &sKey, VersionId: vs.Versions[len(vs.Versions)-1].VersionId})
	if err != nil {
		return fmt.Errorf("GetObject signed: %w", err)
	}
	raw, err := io.ReadAll(obj.Body)
	obj.Body.Close()
	if err != nil {
		return err
	}
	var signed struct {
		RawPayloadSize     int64  `json:"rawPayloadSize"`
		Signature          string `json:"signature"`
		SignatureAlgorithm string `json:"signatureAlgorithm"`
	}
	if err := json.Unmarshal(raw, &signed); err != nil {
		return fmt.Errorf("signed object: %w", err)
	}
	file := map[string]any{"filepath": nil, "filesize": signed.RawPayloadSize, "fileid": 0,
		"certfile": job.SigningParameters["certname"], "update_data_url": nil, "auth_scheme": nil,
		"sig-" + strings.ToLower(strings.ReplaceAll(signed.SignatureAlgorithm, "with", "-")): signed.Signature}
	doc, err := json.Marshal(map[string]any{"afr_ota": map[string]any{
		"protocols": []string{"MQTT"}, "streamname": aws.ToString(stream.StreamId), "files": []any{file}}})
	if err != nil {
		return err
	}
	now := time.Now().UTC()
	if _, err := ic.CreateJob(ctx, &iot.CreateJobInput{
		JobId:           aws.String("AFR_OTA-" + jobID),
		Targets:         []string{"arn:aws:iot:" + region + ":" + account + ":thinggroup/" + j.Group},
		Document:        aws.String(string(doc)),
		Description:     aws.String("AWS job for deconstructed OTAUpdateJobId = " + jobID),
		TargetSelection: iottypes.TargetSelectionSnapshot,
		TimeoutConfig:   &iottypes.TimeoutConfig{InProgressTimeoutInMinutes: aws.Int64(10)},
		JobExecutionsRetryConfig: &iottypes.JobExecutionsRetryConfig{CriteriaList: []iottypes.RetryCriteria{
			{FailureType: iottypes.RetryableFailureTypeTimedOut, NumberOfRetries: aws.Int32(3)}}},
		SchedulingConfig: &iottypes.SchedulingConfig{EndBehavior: iottypes.JobEndBehaviorCancel,
			StartTime: aws.String(now.Add(time.Hour).Format("2006-01-02T15:04")),
			EndTime:   aws.String(now.Add(2 * time.Hour).Format("2006-01-02T15:04"))},
	}); err != nil {
		return fmt.Errorf("CreateJob: %w", err)
	}
	return nil
}
