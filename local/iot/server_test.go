package iot_test

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
	sdks3 "github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/otactl/otactl/local"
	"github.com/otactl/otactl/local/localtest"
)

// TestFullServer drives the IoT API through the whole otactl local server
// (SigV4 routing by service name) with the real local S3 behind streams and
// documentSource.
func TestFullServer(t *testing.T) {
	current = t
	e := localtest.StartWith(t, local.Config{StrictAuth: true}) // signatures checked
	s3c := e.S3()
	c := sdkiot.NewFromConfig(e.Config)
	must(s3c.CreateBucket(ctx, &sdks3.CreateBucketInput{Bucket: aws.String("firmware")}))
	must(s3c.PutBucketVersioning(ctx, &sdks3.PutBucketVersioningInput{Bucket: aws.String("firmware"),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}))
	put := must(s3c.PutObject(ctx, &sdks3.PutObjectInput{Bucket: aws.String("firmware"), Key: aws.String("image.bin"), Body: strings.NewReader("firmware v2")}))
	must(s3c.PutObject(ctx, &sdks3.PutObjectInput{Bucket: aws.String("firmware"), Key: aws.String("jobs/doc.json"), Body: strings.NewReader(`{"op":"from-local-s3"}`)}))

	file := func(key, version string) []types.StreamFile {
		return []types.StreamFile{{FileId: aws.Int32(0), S3Location: &types.S3Location{Bucket: aws.String("firmware"), Key: aws.String(key), Version: aws.String(version)}}}
	}
	must(c.CreateStream(ctx, &sdkiot.CreateStreamInput{StreamId: aws.String("AFR_OTA-srv"), RoleArn: aws.String(roleArn), Files: file("image.bin", *put.VersionId)}))
	_, err := c.CreateStream(ctx, &sdkiot.CreateStreamInput{StreamId: aws.String("bad-version"), RoleArn: aws.String(roleArn), Files: file("image.bin", "no-such-version")})
	wantCode(t, err, "InvalidRequestException")
	_, err = c.CreateStream(ctx, &sdkiot.CreateStreamInput{StreamId: aws.String("bad-key"), RoleArn: aws.String(roleArn), Files: file("nothing.bin", "")})
	wantCode(t, err, "InvalidRequestException")

	g := must(c.CreateThingGroup(ctx, &sdkiot.CreateThingGroupInput{ThingGroupName: aws.String("fleet")}))
	must(c.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String("dev-1")}))
	must(c.AddThingToThingGroup(ctx, &sdkiot.AddThingToThingGroupInput{ThingGroupName: aws.String("fleet"), ThingName: aws.String("dev-1")}))
	must(c.CreateJob(ctx, &sdkiot.CreateJobInput{JobId: aws.String("srv-job"), Targets: []string{*g.ThingGroupArn},
		DocumentSource: aws.String("https://s3.amazonaws.com/firmware/jobs/doc.json")}))
	if d := must(c.GetJobDocument(ctx, &sdkiot.GetJobDocumentInput{JobId: aws.String("srv-job")})); *d.Document != `{"op":"from-local-s3"}` {
		t.Fatalf("document from the local S3: %s", *d.Document)
	}
	j := must(c.DescribeJob(ctx, &sdkiot.DescribeJobInput{JobId: aws.String("srv-job")})).Job
	if *j.JobProcessDetails.NumberOfQueuedThings != 1 || !strings.HasSuffix(*j.JobArn, ":job/srv-job") {
		t.Fatalf("DescribeJob: %+v", j)
	}
	l := must(c.ListStreams(ctx, &sdkiot.ListStreamsInput{}))
	if len(l.Streams) != 1 || *l.Streams[0].StreamId != "AFR_OTA-srv" {
		t.Fatalf("ListStreams: %+v", l.Streams)
	}
	_, err = c.DescribeJob(ctx, &sdkiot.DescribeJobInput{JobId: aws.String("none")})
	wantCode(t, err, "ResourceNotFoundException")

	// The same call with a wrong secret never reaches the IoT service.
	creds := must(e.Config.Credentials.Retrieve(ctx))
	bad := sdkiot.NewFromConfig(localtest.Config(e.URL, e.Config.Region, creds.AccessKeyID, "wrong-secret"))
	if _, err := bad.ListJobs(ctx, &sdkiot.ListJobsInput{}); err == nil {
		t.Fatal("a bad signature was accepted")
	}
}
