package awscloud_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	iottypes "github.com/aws/aws-sdk-go-v2/service/iot/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/signer"
	signertypes "github.com/aws/aws-sdk-go-v2/service/signer/types"
	"github.com/otactl/otactl/ota"
)

var update = flag.Bool("update", false, "rewrite testdata golden documents")

var uuidRe = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// normalized replaces what differs between runs (signatures, ids) with markers.
func normalized(res *ota.Result) string {
	doc := res.Document
	for i, f := range res.Files {
		if f.Signature != "" {
			doc = strings.ReplaceAll(doc, f.Signature, fmt.Sprintf("<signature %d>", i))
		}
	}
	return uuidRe.ReplaceAllString(doc, "<uuid>")
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".json")
	if *update {
		os.WriteFile(path, []byte(got+"\n"), 0o644)
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (go test ./awscloud -update writes it)", err)
	}
	if strings.TrimSpace(string(want)) != got {
		t.Fatalf("job document differs from %s:\n got %s\nwant %s", path, got, want)
	}
}

// storedDocument is what GetJobDocument returns for the job.
func (f *fixture) storedDocument(jobID string) string {
	out, err := f.iot.GetJobDocument(ctx, &iot.GetJobDocumentInput{JobId: aws.String(jobID)})
	must(f.t, err)
	return aws.ToString(out.Document)
}

func (f *fixture) stream(id string) *iottypes.StreamInfo {
	out, err := f.iot.DescribeStream(ctx, &iot.DescribeStreamInput{StreamId: aws.String(id)})
	must(f.t, err)
	return out.StreamInfo
}

func TestCreateMQTTWithProfile(t *testing.T) {
	f := newFixture(t, 100_000)
	res, err := f.pipeline().Run(ctx, f.spec("mqtt-profile"))
	must(t, err)
	f.verifySigned(res.Files[0], f.firmware)
	st := f.stream(res.StreamID)
	if len(st.Files) != 1 || aws.ToString(st.Files[0].S3Location.Version) != res.Files[0].Raw.Version {
		t.Fatalf("stream must point at the raw binary's exact version: %+v", st.Files)
	}
	if f.storedDocument(res.JobID) != res.Document {
		t.Fatal("stored document differs from the one built")
	}
	golden(t, "mqtt-profile", normalized(res))
	job, err := f.iot.DescribeJob(ctx, &iot.DescribeJobInput{JobId: aws.String(res.JobID)})
	must(t, err)
	if n := aws.ToInt32(job.Job.JobProcessDetails.NumberOfQueuedThings); n != 3 {
		t.Fatalf("3 things in the group should be queued, got %d", n)
	}
	tags, err := f.iot.ListTagsForResource(ctx, &iot.ListTagsForResourceInput{ResourceArn: job.Job.JobArn})
	must(t, err)
	if !hasTag(tags.Tags, ota.TagUpdateID, "mqtt-profile") || !hasTag(tags.Tags, ota.TagStreamID, res.StreamID) {
		t.Fatalf("job tags: %+v", tags.Tags)
	}
}

func hasTag(tags []iottypes.Tag, k, v string) bool {
	for _, t := range tags {
		if aws.ToString(t.Key) == k && aws.ToString(t.Value) == v {
			return true
		}
	}
	return false
}

func TestCreateHTTPAndBoth(t *testing.T) {
	f := newFixture(t, 50_000)
	for _, protocols := range [][]string{{"HTTP"}, {"MQTT", "HTTP"}} {
		name := strings.ToLower(strings.Join(protocols, "-"))
		s := f.spec(name)
		s.Protocols = protocols
		s.PresignedURLConfig = &ota.PresignedURLConfig{ExpiresInSec: 600}
		res, err := f.pipeline().Run(ctx, s)
		must(t, err)
		f.verifySigned(res.Files[0], f.firmware)
		golden(t, name, normalized(res))
		job, err := f.iot.DescribeJob(ctx, &iot.DescribeJobInput{JobId: aws.String(res.JobID)})
		must(t, err)
		pc := job.Job.PresignedUrlConfig
		if pc == nil || aws.ToInt64(pc.ExpiresInSec) != 600 || !strings.HasSuffix(aws.ToString(pc.RoleArn), ":role/ota-role") {
			t.Fatalf("%s: presignedUrlConfig %+v", name, pc)
		}
		if (res.StreamID != "") != s.HasProtocol("MQTT") {
			t.Fatalf("%s: stream %q", name, res.StreamID)
		}
	}
}

func TestCreateCustomSigning(t *testing.T) {
	f := newFixture(t, 4096)
	s := f.spec("custom")
	s.Files[0].CodeSigning = ota.CodeSigning{CustomCodeSigning: &ota.CustomCodeSigning{
		Signature:          &ota.CustomSignature{InlineDocument: base64.StdEncoding.EncodeToString([]byte("a signature made elsewhere"))},
		CertificateChain:   &ota.CertificateChain{CertificateName: "/certs/ota.crt"},
		HashAlgorithm:      "SHA256",
		SignatureAlgorithm: "ECDSA",
	}}
	res, err := f.pipeline().Run(ctx, s)
	must(t, err)
	st := f.stream(res.StreamID)
	if aws.ToString(st.Files[0].S3Location.Version) != f.version || aws.ToString(st.Files[0].S3Location.Key) != "fw.bin" {
		t.Fatalf("custom signing streams the file itself: %+v", st.Files[0].S3Location)
	}
	golden(t, "custom", normalized(res))
}

func TestCreateWithFinishedSigningJob(t *testing.T) {
	f := newFixture(t, 30_000)
	sc := signer.NewFromConfig(f.env.Config)
	out, err := sc.StartSigningJob(ctx, &signer.StartSigningJobInput{ProfileName: aws.String(profile), ClientRequestToken: aws.String("pre-1"),
		Source:      &signertypes.Source{S3: &signertypes.S3Source{BucketName: aws.String(bucket), Key: aws.String("fw.bin"), Version: aws.String(f.version)}},
		Destination: &signertypes.Destination{S3: &signertypes.S3Destination{BucketName: aws.String(bucket), Prefix: aws.String("pre/")}}})
	must(t, err)
	waitSigned(t, sc, aws.ToString(out.JobId))
	s := f.spec("presigned")
	s.Files[0].CodeSigning = ota.CodeSigning{AWSSignerJobID: aws.ToString(out.JobId)}
	s.Files[0].FileLocation.S3Location.Version = f.version
	res, err := f.pipeline().Run(ctx, s)
	must(t, err)
	if res.Files[0].Raw.Version != f.version || res.Files[0].SigKey != "sig-sha256-ecdsa" || res.Files[0].CertFile != "code_sign.crt" {
		t.Fatalf("pre-signed file: %+v", res.Files[0])
	}
	golden(t, "presigned", normalized(res))
}

// waitSigned waits for the job to leave InProgress (it signs in a goroutine
// of its own). The deadline only ends a hang: 200 polls were once the
// bound, which a loaded machine under -race can outlast.
func waitSigned(t *testing.T, sc *signer.Client, id string) {
	deadline := time.Now().Add(time.Minute)
	for {
		d, err := sc.DescribeSigningJob(ctx, &signer.DescribeSigningJobInput{JobId: aws.String(id)})
		must(t, err)
		switch {
		case d.Status == signertypes.SigningStatusSucceeded:
			return
		case d.Status != signertypes.SigningStatusInProgress:
			t.Fatalf("signing job %s: %s (%s)", id, d.Status, aws.ToString(d.StatusReason))
		case time.Now().After(deadline):
			t.Fatalf("signing job %s still InProgress", id)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCreateWithExistingStream(t *testing.T) {
	f := newFixture(t, 8192)
	_, err := f.iot.CreateStream(ctx, &iot.CreateStreamInput{StreamId: aws.String("fleet-stream"), RoleArn: aws.String("arn:aws:iam::000000000000:role/r"),
		Files: []iottypes.StreamFile{{FileId: aws.Int32(5), S3Location: &iottypes.S3Location{Bucket: aws.String(bucket), Key: aws.String("fw.bin"), Version: aws.String(f.version)}}}})
	must(t, err)
	s := f.spec("existing-stream")
	s.Files[0].FileLocation = ota.FileLocation{Stream: &ota.StreamFile{StreamID: "fleet-stream", FileID: aws.Int(5)}}
	s.Files[0].CodeSigning = ota.CodeSigning{CustomCodeSigning: &ota.CustomCodeSigning{
		Signature: &ota.CustomSignature{InlineDocument: "c2ln"}, CertificateChain: &ota.CertificateChain{CertificateName: "c.crt"},
		HashAlgorithm: "SHA256", SignatureAlgorithm: "ECDSA"}}
	res, err := f.pipeline().Run(ctx, s)
	must(t, err)
	if res.StreamID != "fleet-stream" || res.Files[0].Size != 8192 || res.Files[0].FileID != 5 {
		t.Fatalf("existing stream: %+v", res)
	}
	golden(t, "existing-stream", normalized(res))
	// Deleting the update never deletes a stream the user gave.
	m := &ota.Manager{Cloud: f.cloud}
	del, err := m.Delete(ctx, "existing-stream", ota.DeleteOptions{Force: true})
	must(t, err)
	if del.Stream != "" {
		t.Fatalf("delete removed the user's stream %s", del.Stream)
	}
	f.stream("fleet-stream")
	// A fileId the stream lacks is refused, and nothing is created.
	s = f.spec("existing-stream-bad")
	s.Files[0].FileLocation = ota.FileLocation{Stream: &ota.StreamFile{StreamID: "fleet-stream", FileID: aws.Int(6)}}
	s.Files[0].CodeSigning = ota.CodeSigning{CustomCodeSigning: res2custom()}
	if _, err := f.pipeline().Run(ctx, s); err == nil || !strings.Contains(err.Error(), "no fileId 6") {
		t.Fatalf("want a missing fileId error, got %v", err)
	}
}

func res2custom() *ota.CustomCodeSigning {
	return &ota.CustomCodeSigning{Signature: &ota.CustomSignature{InlineDocument: "c2ln"}, CertificateChain: &ota.CertificateChain{CertificateName: "c.crt"},
		HashAlgorithm: "SHA256", SignatureAlgorithm: "ECDSA"}
}

func TestCreateThreeFiles(t *testing.T) {
	f := newFixture(t, 20_000)
	bodies := [][]byte{f.firmware, bytes.Repeat([]byte("cfg"), 1000), bytes.Repeat([]byte("ui"), 3000)}
	f.put("cfg.bin", bodies[1])
	f.put("ui.bin", bodies[2])
	s := f.spec("three-files")
	for i, key := range []string{"cfg.bin", "ui.bin"} {
		file := s.Files[0]
		file.FileName = "/" + key
		file.FileType = aws.Int(i + 1)
		file.FileLocation = ota.FileLocation{S3Location: &ota.S3Location{Bucket: bucket, Key: key}}
		s.Files = append(s.Files, file)
	}
	res, err := f.pipeline().Run(ctx, s)
	must(t, err)
	st := f.stream(res.StreamID)
	if len(st.Files) != 3 {
		t.Fatalf("stream files: %d", len(st.Files))
	}
	for i, fr := range res.Files {
		if fr.FileID != i || aws.ToInt32(st.Files[i].FileId) != int32(i) {
			t.Fatalf("file %d has fileId %d", i, fr.FileID)
		}
		f.verifySigned(fr, bodies[i])
	}
	golden(t, "three-files", normalized(res))
}

// TestCreateEveryAdvancedOption: what CreateOTAUpdate cannot pass arrives in CreateJob.
func TestCreateEveryAdvancedOption(t *testing.T) {
	f := newFixture(t, 10_000)
	start := time.Now().UTC().Add(2 * time.Hour).Truncate(time.Minute)
	s := f.spec("advanced")
	s.Description = "every option"
	s.TargetSelection = "CONTINUOUS"
	s.Tags = []ota.Tag{{Key: "team", Value: "sensors"}}
	s.TimeoutConfig = &ota.TimeoutConfig{InProgressTimeoutInMinutes: 45}
	s.JobExecutionsRetryConfig = &ota.RetryConfig{CriteriaList: []ota.RetryCriteria{{FailureType: "FAILED", NumberOfRetries: 3}, {FailureType: "TIMED_OUT", NumberOfRetries: 1}}}
	s.SchedulingConfig = &ota.SchedulingConfig{StartTime: start.Format("2006-01-02T15:04"), EndTime: start.Add(48 * time.Hour).Format("2006-01-02T15:04"),
		EndBehavior: "STOP_ROLLOUT", MaintenanceWindows: []ota.MaintenanceWindow{{StartTime: "cron(0 2 ? * SAT *)", DurationInMinutes: 120}}}
	s.JobExecutionsRolloutConfig = &ota.RolloutConfig{MaximumPerMinute: 100, ExponentialRate: &ota.ExponentialRate{BaseRatePerMinute: 5, IncrementFactor: 2,
		RateIncreaseCriteria: ota.RateIncreaseCriteria{NumberOfSucceededThings: 10}}}
	s.AbortConfig = &ota.AbortConfig{CriteriaList: []ota.AbortCriteria{{FailureType: "FAILED", Action: "CANCEL", ThresholdPercentage: 20, MinNumberOfExecutedThings: 5}}}
	s.DestinationPackageVersions = []string{"sensor-fw@1.0.0"}
	s.NamespaceID = ""
	p := f.pipeline()
	if _, err := p.Run(ctx, s); err == nil || !strings.Contains(err.Error(), "--create-package-version") {
		t.Fatalf("a missing package version must be refused with the hint, got %v", err)
	}
	p.CreatePackageVersions = true
	res, err := p.Run(ctx, s)
	must(t, err)
	out, err := f.iot.DescribeJob(ctx, &iot.DescribeJobInput{JobId: aws.String(res.JobID)})
	must(t, err)
	j := out.Job
	checks := map[string]bool{
		"status SCHEDULED":   j.Status == iottypes.JobStatusScheduled,
		"description":        aws.ToString(j.Description) == "every option",
		"targetSelection":    j.TargetSelection == iottypes.TargetSelectionContinuous,
		"timeout":            j.TimeoutConfig != nil && aws.ToInt64(j.TimeoutConfig.InProgressTimeoutInMinutes) == 45,
		"retry":              j.JobExecutionsRetryConfig != nil && len(j.JobExecutionsRetryConfig.CriteriaList) == 2,
		"schedule":           j.SchedulingConfig != nil && aws.ToString(j.SchedulingConfig.StartTime) == s.SchedulingConfig.StartTime && j.SchedulingConfig.EndBehavior == "STOP_ROLLOUT" && len(j.SchedulingConfig.MaintenanceWindows) == 1,
		"rollout":            j.JobExecutionsRolloutConfig != nil && aws.ToInt32(j.JobExecutionsRolloutConfig.MaximumPerMinute) == 100 && aws.ToFloat64(j.JobExecutionsRolloutConfig.ExponentialRate.IncrementFactor) == 2,
		"abort":              j.AbortConfig != nil && aws.ToFloat64(j.AbortConfig.CriteriaList[0].ThresholdPercentage) == 20,
		"package versions":   len(j.DestinationPackageVersions) == 1 && strings.HasSuffix(j.DestinationPackageVersions[0], ":package/sensor-fw/version/1.0.0"),
		"document unchanged": f.storedDocument(res.JobID) == res.Document,
	}
	for name, ok := range checks {
		if !ok {
			t.Errorf("%s not stored: %+v", name, j)
		}
	}
}

// faulty fails one Cloud operation, to prove that a failure at each step
// leaves nothing behind.
type faulty struct {
	ota.Cloud
	fail string
}

var errInjected = errors.New("injected fault")

func (c *faulty) StartSigningJob(ctx2 context.Context, in ota.SigningJobInput) (string, error) {
	if c.fail == "sign" {
		return "", errInjected
	}
	return c.Cloud.StartSigningJob(ctx2, in)
}

func (c *faulty) CopyObject(ctx2 context.Context, src ota.S3Location, b, k string) (string, error) {
	if c.fail == "copy" {
		return "", errInjected
	}
	return c.Cloud.CopyObject(ctx2, src, b, k)
}

func (c *faulty) CreateStream(ctx2 context.Context, s ota.Stream, role string, tags []ota.Tag) error {
	if c.fail == "stream" {
		return errInjected
	}
	return c.Cloud.CreateStream(ctx2, s, role, tags)
}

func (c *faulty) CreateJob(ctx2 context.Context, r ota.JobRequest) (string, error) {
	if c.fail == "job" {
		return "", errInjected
	}
	return c.Cloud.CreateJob(ctx2, r)
}

func TestFailureAtEachStepCleansUpAndRerunSucceeds(t *testing.T) {
	for _, step := range []string{"sign", "copy", "stream", "job"} {
		t.Run(step, func(t *testing.T) {
			f := newFixture(t, 5000)
			p := &ota.Pipeline{Cloud: &faulty{Cloud: f.cloud, fail: step}}
			_, err := p.Run(ctx, f.spec("fault"))
			var se *ota.StepError
			if !errors.As(err, &se) || !errors.Is(err, errInjected) {
				t.Fatalf("want a StepError wrapping the fault, got %v", err)
			}
			if step == "job" && (len(se.CleanedUp) != 1 || !strings.HasPrefix(se.CleanedUp[0], "stream ")) {
				t.Fatalf("a failed CreateJob must remove the stream this run created: %v", se)
			}
			if streams, jobs := f.counts(); streams != 0 || jobs != 0 {
				t.Fatalf("after a %s failure: %d streams, %d jobs left", step, streams, jobs)
			}
			res, err := f.pipeline().Run(ctx, f.spec("fault"))
			must(t, err)
			f.verifySigned(res.Files[0], f.firmware)
			// A second identical run creates nothing new.
			again, err := f.pipeline().Run(ctx, f.spec("fault"))
			must(t, err)
			if !again.Unchanged || again.JobArn != res.JobArn {
				t.Fatalf("second run: %+v", again)
			}
			if streams, jobs := f.counts(); streams != 1 || jobs != 1 {
				t.Fatalf("after the re-runs: %d streams, %d jobs; want 1 and 1", streams, jobs)
			}
			vs := f.versions(res.Files[0].Raw.Key)
			if vs != 2 {
				t.Fatalf("signed object key has %d versions; the re-runs must not copy again", vs)
			}
		})
	}
}

func (f *fixture) versions(key string) int {
	out, err := f.s3.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: aws.String(bucket), Prefix: aws.String(key)})
	must(f.t, err)
	return len(out.Versions)
}

func TestCreateSigningFailureNamesTheReason(t *testing.T) {
	f := newFixture(t, 1000)
	s := f.spec("unversioned")
	_, err := f.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("plain-bucket")})
	must(t, err)
	f.putIn("plain-bucket", "fw.bin", f.firmware)
	s.Files[0].FileLocation.S3Location.Bucket = "plain-bucket"
	_, err = f.pipeline().Run(ctx, s)
	if err == nil || !strings.Contains(err.Error(), "not versioned") {
		t.Fatalf("an unversioned bucket must be refused before signing: %v", err)
	}
}

// stuckSigner reports every signing job as still in progress.
type stuckSigner struct{ ota.Cloud }

func (c stuckSigner) DescribeSigningJob(ctx2 context.Context, id string) (ota.SigningJob, error) {
	j, err := c.Cloud.DescribeSigningJob(ctx2, id)
	j.Status = "InProgress"
	return j, err
}

func TestSigningWaitStopsOnInterruptAndTimeout(t *testing.T) {
	f := newFixture(t, 2000)
	ctx2, cancel := context.WithCancel(ctx)
	p := &ota.Pipeline{Cloud: stuckSigner{f.cloud}, PollInterval: 5 * time.Millisecond, Progress: func(ev string) {
		if strings.Contains(ev, "InProgress") {
			cancel() // Ctrl-C while waiting for signing
		}
	}}
	_, err := p.Run(ctx2, f.spec("interrupted"))
	if err == nil || !strings.Contains(err.Error(), "interrupted while waiting for signing") || !errors.Is(err, context.Canceled) {
		t.Fatalf("want an interrupted signing wait, got %v", err)
	}
	p = &ota.Pipeline{Cloud: stuckSigner{f.cloud}, PollInterval: 5 * time.Millisecond, SigningTimeout: 50 * time.Millisecond}
	if _, err := p.Run(ctx, f.spec("slow")); err == nil || !strings.Contains(err.Error(), "--signing-timeout") {
		t.Fatalf("want a signing timeout, got %v", err)
	}
	if streams, jobs := f.counts(); streams != 0 || jobs != 0 {
		t.Fatalf("an interrupted create left %d streams, %d jobs", streams, jobs)
	}
}

// TestCreateMakesProfileFromParameter: as CreateOTAUpdate does, a missing
// profile is created from signingProfileParameter.
func TestCreateMakesProfileFromParameter(t *testing.T) {
	f := newFixture(t, 3000)
	s := f.spec("new-profile")
	s.Files[0].CodeSigning.StartSigningJobParameter = &ota.StartSigningJobParameter{SigningProfileName: "made_by_otactl",
		SigningProfileParameter: &ota.SigningProfileParameter{CertificateArn: f.certArn, CertificatePathOnDevice: "/certs/ota.crt"}}
	res, err := f.pipeline().Run(ctx, s)
	must(t, err)
	fr := res.Files[0]
	if fr.CertFile != "/certs/ota.crt" {
		t.Fatalf("certfile %q, want the certificatePathOnDevice", fr.CertFile)
	}
	fr.CertFile = "code_sign.crt" // verifySigned checks the fixture profile's certname
	f.verifySigned(fr, f.firmware)
	prof, err := signer.NewFromConfig(f.env.Config).GetSigningProfile(ctx, &signer.GetSigningProfileInput{ProfileName: aws.String("made_by_otactl")})
	must(t, err)
	if aws.ToString(prof.PlatformId) != "AmazonFreeRTOS-Default" || prof.Tags[ota.TagUpdateID] != "new-profile" {
		t.Fatalf("created profile: platform %s tags %v", aws.ToString(prof.PlatformId), prof.Tags)
	}
}
