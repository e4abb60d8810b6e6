package awscloud_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	iottypes "github.com/aws/aws-sdk-go-v2/service/iot/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/signer"
	"github.com/otactl/otactl/ota"
)

// configured is the fixture's spec with every member UpdateJob can change.
func (f *fixture) configured(id string) *ota.Spec {
	s := f.spec(id)
	s.Description = "first"
	s.Protocols = []string{"MQTT", "HTTP"}
	s.PresignedURLConfig = &ota.PresignedURLConfig{ExpiresInSec: 600}
	s.JobExecutionsRolloutConfig = &ota.RolloutConfig{MaximumPerMinute: 50}
	s.AbortConfig = &ota.AbortConfig{CriteriaList: []ota.AbortCriteria{{FailureType: "FAILED", Action: "CANCEL", ThresholdPercentage: 50, MinNumberOfExecutedThings: 10}}}
	s.TimeoutConfig = &ota.TimeoutConfig{InProgressTimeoutInMinutes: 30}
	s.JobExecutionsRetryConfig = &ota.RetryConfig{CriteriaList: []ota.RetryCriteria{{FailureType: "FAILED", NumberOfRetries: 2}}}
	s.Tags = []ota.Tag{{Key: "team", Value: "fw"}}
	return s
}

func (f *fixture) describeJob(id string) *iottypes.Job {
	out, err := f.iot.DescribeJob(ctx, &iot.DescribeJobInput{JobId: aws.String(id)})
	must(f.t, err)
	return out.Job
}

// TestApplyInPlace: each member UpdateJob can change is changed on the
// running job, reported by path, and DescribeJob shows it; the same spec
// again is unchanged.
func TestApplyInPlace(t *testing.T) {
	f := newFixture(t, 10_000)
	s := f.configured("inplace")
	first, err := f.pipeline().Run(ctx, s)
	must(t, err)
	cases := []struct {
		path   string
		change func(*ota.Spec)
		check  func(*iottypes.Job) bool
	}{
		{"description", func(s *ota.Spec) { s.Description = "second" },
			func(j *iottypes.Job) bool { return aws.ToString(j.Description) == "second" }},
		{"presignedUrlConfig.expiresInSec", func(s *ota.Spec) { s.PresignedURLConfig.ExpiresInSec = 1200 },
			func(j *iottypes.Job) bool { return aws.ToInt64(j.PresignedUrlConfig.ExpiresInSec) == 1200 }},
		{"jobExecutionsRolloutConfig.maximumPerMinute", func(s *ota.Spec) { s.JobExecutionsRolloutConfig.MaximumPerMinute = 5 },
			func(j *iottypes.Job) bool { return aws.ToInt32(j.JobExecutionsRolloutConfig.MaximumPerMinute) == 5 }},
		{"abortConfig.criteriaList[0].thresholdPercentage", func(s *ota.Spec) { s.AbortConfig.CriteriaList[0].ThresholdPercentage = 20 },
			func(j *iottypes.Job) bool {
				return aws.ToFloat64(j.AbortConfig.CriteriaList[0].ThresholdPercentage) == 20
			}},
		{"timeoutConfig.inProgressTimeoutInMinutes", func(s *ota.Spec) { s.TimeoutConfig.InProgressTimeoutInMinutes = 90 },
			func(j *iottypes.Job) bool { return aws.ToInt64(j.TimeoutConfig.InProgressTimeoutInMinutes) == 90 }},
		{"jobExecutionsRetryConfig.criteriaList[0].numberOfRetries", func(s *ota.Spec) { s.JobExecutionsRetryConfig.CriteriaList[0].NumberOfRetries = 5 },
			func(j *iottypes.Job) bool {
				return aws.ToInt32(j.JobExecutionsRetryConfig.CriteriaList[0].NumberOfRetries) == 5
			}},
		{"tags.team", func(s *ota.Spec) { s.Tags[0].Value = "platform" }, nil},
	}
	for _, c := range cases {
		c.change(s)
		res, err := f.pipeline().Run(ctx, s)
		if err != nil {
			t.Fatalf("%s: %v", c.path, err)
		}
		if !res.Updated || res.Unchanged || len(res.Changes) != 1 || res.Changes[0].Path != c.path || !res.Changes[0].InPlace {
			t.Fatalf("%s: result %+v", c.path, res)
		}
		if res.JobID != first.JobID {
			t.Fatalf("%s: in place must keep job %s, got %s", c.path, first.JobID, res.JobID)
		}
		if c.check != nil && !c.check(f.describeJob(first.JobID)) {
			t.Fatalf("%s: DescribeJob does not show the change", c.path)
		}
	}
	tags, err := f.iot.ListTagsForResource(ctx, &iot.ListTagsForResourceInput{ResourceArn: aws.String(first.JobArn)})
	must(t, err)
	if !hasTag(tags.Tags, "team", "platform") || !hasTag(tags.Tags, ota.TagUpdateID, "inplace") {
		t.Fatalf("tags after TagResource: %+v", tags.Tags)
	}
	res, err := f.pipeline().Run(ctx, s)
	must(t, err)
	if !res.Unchanged || res.Updated || len(res.Changes) != 0 {
		t.Fatalf("the applied spec again must be unchanged: %+v", res)
	}
	if _, jobs := f.counts(); jobs != 1 {
		t.Fatalf("%d jobs: applying in place must create none", jobs)
	}
}

// TestImmutableRefused: a change UpdateJob cannot make is refused naming
// the field, and nothing is changed (not even the in-place part of the spec).
func TestImmutableRefused(t *testing.T) {
	f := newFixture(t, 10_000)
	f.put("fw-2.bin", []byte("another firmware"))
	must(t, errOf(f.iot.CreateThingGroup(ctx, &iot.CreateThingGroupInput{ThingGroupName: aws.String("others")})))
	_, err := signer.NewFromConfig(f.env.Config).PutSigningProfile(ctx, &signer.PutSigningProfileInput{ProfileName: aws.String("other_signer"),
		PlatformId: aws.String("AmazonFreeRTOS-Default"), SigningParameters: map[string]string{"certname": "code_sign.crt"}})
	must(t, err)
	base := func() *ota.Spec { return f.configured("immutable") }
	first, err := f.pipeline().Run(ctx, base())
	must(t, err)
	cases := []struct {
		path   string
		change func(*ota.Spec)
	}{
		{"files[0].fileLocation.s3Location.key", func(s *ota.Spec) { s.Files[0].FileLocation.S3Location.Key = "fw-2.bin" }},
		{"files[0].codeSigning.startSigningJobParameter.signingProfileName", func(s *ota.Spec) {
			s.Files[0].CodeSigning.StartSigningJobParameter.SigningProfileName = "other_signer"
		}},
		{"files[0].fileName", func(s *ota.Spec) { s.Files[0].FileName = "/fw2.bin" }},
		{"protocols", func(s *ota.Spec) { s.Protocols = []string{"HTTP"} }},
		{"targets", func(s *ota.Spec) { s.Targets = []string{"others"} }},
		{"schedulingConfig.endTime", func(s *ota.Spec) {
			s.SchedulingConfig = &ota.SchedulingConfig{EndTime: time.Now().UTC().Add(48 * time.Hour).Format("2006-01-02T15:04")}
		}},
		{"destinationPackageVersions", func(s *ota.Spec) { s.DestinationPackageVersions = []string{"sensor-fw@2.0.0"} }},
		{"abortConfig.criteriaList[0].action", func(s *ota.Spec) { s.AbortConfig = nil }}, // UpdateJob cannot remove a member
	}
	for _, c := range cases {
		s := base()
		s.Description = "changed too" // in place, but refused with the rest
		c.change(s)
		p := f.pipeline()
		p.CreatePackageVersions = true
		_, err := p.Run(ctx, s)
		var ce *ota.ChangeError
		if !errors.As(err, &ce) {
			t.Fatalf("%s: want a ChangeError, got %v", c.path, err)
		}
		if !strings.Contains(err.Error(), c.path+":") || !strings.Contains(err.Error(), "--replace") {
			t.Fatalf("%s: the error must name the field and --replace:\n%v", c.path, err)
		}
		if j := f.describeJob(first.JobID); aws.ToString(j.Description) != "first" || j.Status != iottypes.JobStatusInProgress {
			t.Fatalf("%s: a refused apply changed the job: %q %s", c.path, aws.ToString(j.Description), j.Status)
		}
	}
	if _, jobs := f.counts(); jobs != 1 {
		t.Fatalf("%d jobs after refusals, want 1", jobs)
	}
}

func errOf[T any](_ T, err error) error { return err }

// TestReplace: --replace cancels the running job and creates the next one
// with the new file; describe keeps the history, list shows the update
// once, delete removes both jobs and their streams.
func TestReplace(t *testing.T) {
	f := newFixture(t, 10_000)
	s := f.spec("replace")
	first, err := f.pipeline().Run(ctx, s)
	must(t, err)
	fw2 := []byte("the fixed firmware, version two")
	f.put("fw.bin", fw2) // a new latest version: a change of files[0]
	p := f.pipeline()
	p.Replace = true
	res, err := p.Run(ctx, s)
	must(t, err)
	if res.JobID != "AFR_OTA-replace-r2" || res.Replaced != first.JobID || res.StreamID == first.StreamID {
		t.Fatalf("replace result: job %s replaced %s stream %s", res.JobID, res.Replaced, res.StreamID)
	}
	if !hasChange(res.Changes, "files[0].fileLocation.s3Location.version") {
		t.Fatalf("changes: %+v", res.Changes)
	}
	f.verifySigned(res.Files[0], fw2)
	if st := f.describeJob(first.JobID).Status; st != iottypes.JobStatusCanceled {
		t.Fatalf("old job %s", st)
	}
	if st := f.describeJob(res.JobID).Status; st != iottypes.JobStatusInProgress {
		t.Fatalf("new job %s", st)
	}
	again, err := f.pipeline().Run(ctx, s)
	must(t, err)
	if !again.Unchanged || again.JobID != res.JobID {
		t.Fatalf("the replacement is the update now: %+v", again)
	}
	m := &ota.Manager{Cloud: f.cloud}
	d, err := m.Describe(ctx, "replace", false)
	must(t, err)
	if d.Job.JobID != res.JobID || len(d.Replaced) != 1 || d.Replaced[0].JobID != first.JobID || d.Replaced[0].Status != "CANCELED" {
		t.Fatalf("describe: job %s replaced %+v", d.Job.JobID, d.Replaced)
	}
	ups, err := m.List(ctx)
	must(t, err)
	if len(ups) != 1 || ups[0].JobID != res.JobID {
		t.Fatalf("list: %+v", ups)
	}
	del, err := m.Delete(ctx, "replace", ota.DeleteOptions{Force: true, PurgeSignedObjects: true})
	must(t, err)
	if del.Job != res.JobID || len(del.Replaced) != 1 || len(del.OtherStreams) != 1 {
		t.Fatalf("delete: %+v", del)
	}
	if streams, jobs := f.counts(); streams != 0 || jobs != 0 {
		t.Fatalf("delete left %d streams, %d jobs", streams, jobs)
	}
}

func hasChange(cs []ota.Change, path string) bool {
	for _, c := range cs {
		if c.Path == path {
			return true
		}
	}
	return false
}

// TestCheckBeforeSigning: a missing group, a missing profile, an
// unversioned bucket and a missing object are all reported by one run, and
// nothing is signed or created.
func TestCheckBeforeSigning(t *testing.T) {
	f := newFixture(t, 10_000)
	_, err := f.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String("plain-bucket")})
	must(t, err)
	f.putIn("plain-bucket", "fw.bin", []byte("firmware in a bucket without versions"))
	s := f.spec("check")
	s.Targets = []string{"no-such-group"}
	s.Files[0].FileLocation.S3Location.Bucket = "plain-bucket"
	s.Files = append(s.Files, ota.File{FileName: "/fw2.bin",
		FileLocation: ota.FileLocation{S3Location: &ota.S3Location{Bucket: bucket, Key: "missing.bin"}},
		CodeSigning:  ota.CodeSigning{StartSigningJobParameter: &ota.StartSigningJobParameter{SigningProfileName: "no_such_profile"}}})
	_, err = f.pipeline().Run(ctx, s)
	var ce *ota.CheckError
	if !errors.As(err, &ce) || !ce.Invalid() {
		t.Fatalf("want an invalid CheckError, got %v", err)
	}
	for _, want := range []ota.FieldError{
		{Path: "targets[0]", Rule: "no thing group or thing named no-such-group exists"},
		{Path: "files[0].fileLocation.s3Location.bucket", Rule: "bucket plain-bucket is not versioned (versioning never enabled): enable versioning so the update can name an exact version"},
		{Path: "files[1].fileLocation.s3Location.key", Rule: "object s3://fw-bucket/missing.bin does not exist"},
		{Path: "files[1].codeSigning.startSigningJobParameter.signingProfileName", Rule: "signing profile no_such_profile does not exist (give signingProfileParameter to have it created)"},
	} {
		found := false
		for _, p := range ce.Problems {
			found = found || p == want
		}
		if !found {
			t.Errorf("missing problem %v in:\n%v", want, err)
		}
	}
	if len(ce.Problems) != 4 {
		t.Errorf("%d problems, want 4:\n%v", len(ce.Problems), err)
	}
	jobs, err := signer.NewFromConfig(f.env.Config).ListSigningJobs(ctx, &signer.ListSigningJobsInput{})
	must(t, err)
	if len(jobs.Jobs) != 0 {
		t.Fatalf("%d signing jobs: nothing may be signed before the checks pass", len(jobs.Jobs))
	}
	if streams, n := f.counts(); streams != 0 || n != 0 {
		t.Fatalf("%d streams, %d jobs created", streams, n)
	}

	// A profile signingProfileParameter creates is no problem; an id taken by a job otactl did not make is.
	_, err = f.iot.CreateJob(ctx, &iot.CreateJobInput{JobId: aws.String("AFR_OTA-taken"), Targets: []string{f.groupArn()}, Document: aws.String(`{}`)})
	must(t, err)
	s = f.spec("taken")
	s.Files[0].CodeSigning.StartSigningJobParameter = &ota.StartSigningJobParameter{SigningProfileName: "made_on_demand",
		SigningProfileParameter: &ota.SigningProfileParameter{CertificateArn: f.certArn, CertificatePathOnDevice: "code_sign.crt"}}
	_, err = f.pipeline().Run(ctx, s)
	if !errors.As(err, &ce) || len(ce.Problems) != 1 || ce.Problems[0].Path != "otaUpdateId" {
		t.Fatalf("a job id taken by another job: %v", err)
	}
}

func (f *fixture) groupArn() string {
	out, err := f.iot.DescribeThingGroup(ctx, &iot.DescribeThingGroupInput{ThingGroupName: aws.String(group)})
	must(f.t, err)
	return aws.ToString(out.ThingGroupArn)
}
