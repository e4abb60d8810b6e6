package iot_test

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
)

func streamFile(id int32, key string) types.StreamFile {
	return types.StreamFile{FileId: aws.Int32(id), S3Location: &types.S3Location{Bucket: aws.String("fw"), Key: aws.String(key), Version: aws.String("v1")}}
}

func TestStreams(t *testing.T) {
	f := start(t)
	c := f.client
	out := must(c.CreateStream(ctx, &sdkiot.CreateStreamInput{StreamId: aws.String("AFR_OTA-1"), Description: aws.String("fw 1.2"),
		Files: []types.StreamFile{streamFile(0, "image.bin")}, RoleArn: aws.String(roleArn),
		Tags: []types.Tag{{Key: aws.String("app"), Value: aws.String("ota")}}}))
	arn := env.ARN("iot", "stream/AFR_OTA-1")
	if *out.StreamArn != arn || out.StreamVersion == nil || *out.StreamVersion != 1 || *out.Description != "fw 1.2" {
		t.Fatalf("CreateStream: %+v", out)
	}
	_, err := c.CreateStream(ctx, &sdkiot.CreateStreamInput{StreamId: aws.String("AFR_OTA-1"),
		Files: []types.StreamFile{streamFile(0, "image.bin")}, RoleArn: aws.String(roleArn)})
	var exists *types.ResourceAlreadyExistsException
	if wantCode(t, err, "ResourceAlreadyExistsException"); !asErr(err, &exists) || *exists.ResourceId != "AFR_OTA-1" || *exists.ResourceArn != arn {
		t.Fatalf("duplicate stream: %v", err)
	}

	d := must(c.DescribeStream(ctx, &sdkiot.DescribeStreamInput{StreamId: aws.String("AFR_OTA-1")})).StreamInfo
	if *d.StreamVersion != 1 || d.CreatedAt == nil || d.LastUpdatedAt == nil || *d.RoleArn != roleArn || len(d.Files) != 1 ||
		*d.Files[0].FileId != 0 || *d.Files[0].S3Location.Key != "image.bin" || *d.Files[0].S3Location.Version != "v1" {
		t.Fatalf("DescribeStream: %+v", d)
	}
	// The Go accessor the MQTT stream server uses.
	si, err := f.svc.Stream("AFR_OTA-1")
	if file, ok := si.File(0); err != nil || !ok || file.S3Location.Bucket != "fw" {
		t.Fatalf("Stream(): %+v %v", si, err)
	}
	if _, err := f.svc.Stream("nope"); err == nil {
		t.Fatal("Stream of a missing id")
	}

	u := must(c.UpdateStream(ctx, &sdkiot.UpdateStreamInput{StreamId: aws.String("AFR_OTA-1"), Description: aws.String("fw 1.3"),
		Files: []types.StreamFile{streamFile(0, "image.bin"), streamFile(1, "image.bin")}}))
	if *u.StreamVersion != 2 || *u.Description != "fw 1.3" {
		t.Fatalf("UpdateStream: %+v", u)
	}
	d = must(c.DescribeStream(ctx, &sdkiot.DescribeStreamInput{StreamId: aws.String("AFR_OTA-1")})).StreamInfo
	if *d.StreamVersion != 2 || len(d.Files) != 2 || !d.LastUpdatedAt.After(*d.CreatedAt) && !d.LastUpdatedAt.Equal(*d.CreatedAt) {
		t.Fatalf("after update: %+v", d)
	}

	for i := 2; i <= 6; i++ {
		must(c.CreateStream(ctx, &sdkiot.CreateStreamInput{StreamId: aws.String(fmt.Sprintf("s-%d", i)),
			Files: []types.StreamFile{streamFile(0, "image.bin")}, RoleArn: aws.String(roleArn)}))
	}
	var ids []string
	p := sdkiot.NewListStreamsPaginator(c, &sdkiot.ListStreamsInput{MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		for _, s := range must(p.NextPage(ctx)).Streams {
			ids = append(ids, *s.StreamId)
		}
	}
	if len(ids) != 6 {
		t.Fatalf("ListStreams: %v", ids)
	}
	tags := must(c.ListTagsForResource(ctx, &sdkiot.ListTagsForResourceInput{ResourceArn: aws.String(arn)})).Tags
	if len(tags) != 1 || *tags[0].Value != "ota" {
		t.Fatalf("stream tags: %+v", tags)
	}

	must(c.DeleteStream(ctx, &sdkiot.DeleteStreamInput{StreamId: aws.String("AFR_OTA-1")}))
	_, err = c.DescribeStream(ctx, &sdkiot.DescribeStreamInput{StreamId: aws.String("AFR_OTA-1")})
	wantCode(t, err, "ResourceNotFoundException")
	_, err = c.DeleteStream(ctx, &sdkiot.DeleteStreamInput{StreamId: aws.String("AFR_OTA-1")})
	wantCode(t, err, "ResourceNotFoundException")
	_, err = c.UpdateStream(ctx, &sdkiot.UpdateStreamInput{StreamId: aws.String("AFR_OTA-1"), Description: aws.String("x")})
	wantCode(t, err, "ResourceNotFoundException")
}

func TestStreamValidation(t *testing.T) {
	f := start(t)
	many := make([]types.StreamFile, 51)
	for i := range many {
		many[i] = streamFile(int32(i), "image.bin")
	}
	for name, in := range map[string]*sdkiot.CreateStreamInput{
		"no files":       {Files: nil},
		"51 files":       {Files: many},
		"fileId 256":     {Files: []types.StreamFile{streamFile(256, "image.bin")}},
		"fileId -1":      {Files: []types.StreamFile{streamFile(-1, "image.bin")}},
		"duplicate ids":  {Files: []types.StreamFile{streamFile(3, "image.bin"), streamFile(3, "image.bin")}},
		"missing object": {Files: []types.StreamFile{streamFile(0, "nothing.bin")}},
		"no role":        {Files: []types.StreamFile{streamFile(0, "image.bin")}, RoleArn: aws.String("")},
		"no s3Location":  {Files: []types.StreamFile{{FileId: aws.Int32(0)}}},
	} {
		in.StreamId = aws.String("s1")
		if in.RoleArn == nil {
			in.RoleArn = aws.String(roleArn)
		}
		_, err := f.client.CreateStream(ctx, in)
		if err == nil {
			t.Errorf("%s: accepted", name)
			continue
		}
		// The SDK itself refuses some inputs before sending (required members).
		if !asErr(err, new(*types.InvalidRequestException)) && !isSDKValidation(err) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if status, code, _ := f.raw(t, "POST", "/streams/s1", `{"roleArn":"`+roleArn+`","files":[{"s3Location":{"bucket":"fw","key":"image.bin"}}]}`); status != 400 || code != "InvalidRequestException" {
		t.Fatalf("fileId missing: %d %s", status, code)
	}
	if status, code, _ := f.raw(t, "POST", "/streams/bad%20id", `{"roleArn":"`+roleArn+`","files":[{"fileId":0,"s3Location":{"bucket":"fw","key":"image.bin"}}]}`); status != 400 || code != "InvalidRequestException" {
		t.Fatalf("bad stream id: %d %s", status, code)
	}
}
