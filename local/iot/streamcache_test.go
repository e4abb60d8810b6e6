package iot_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
)

// Stream lookups are cached; every UpdateStream, DeleteStream and
// CreateStream is seen by the next lookup.
func TestStreamLookupSeesEveryChange(t *testing.T) {
	f := start(t)
	files := []types.StreamFile{{FileId: aws.Int32(0), S3Location: &types.S3Location{Bucket: aws.String("fw"), Key: aws.String("image.bin")}}}
	create := func() {
		must(f.client.CreateStream(ctx, &sdkiot.CreateStreamInput{StreamId: aws.String("s"), Files: files, RoleArn: aws.String("arn:aws:iam::123456789012:role/ota")}))
	}
	create()
	for i := 0; i < 2; i++ { // the second read is the cached one
		si, err := f.svc.Stream("s")
		if err != nil || si.StreamVersion != 1 || len(si.Files) != 1 {
			t.Fatalf("Stream: %+v %v", si, err)
		}
		si.Files[0].FileID = 9 // a caller's change does not reach the cache
	}
	must(f.client.UpdateStream(ctx, &sdkiot.UpdateStreamInput{StreamId: aws.String("s"), Description: aws.String("v2")}))
	if si, err := f.svc.Stream("s"); err != nil || si.StreamVersion != 2 || si.Description != "v2" || si.Files[0].FileID != 0 {
		t.Fatalf("after UpdateStream: %+v %v", si, err)
	}
	must(f.client.DeleteStream(ctx, &sdkiot.DeleteStreamInput{StreamId: aws.String("s")}))
	if _, err := f.svc.Stream("s"); err == nil {
		t.Fatal("a deleted stream is still found")
	}
	create()
	if si, err := f.svc.Stream("s"); err != nil || si.StreamVersion != 1 || si.Description != "" {
		t.Fatalf("after CreateStream again: %+v %v", si, err)
	}
}
