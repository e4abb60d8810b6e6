package awscloud_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/smithy-go/middleware"

	"github.com/otactl/otactl/awscloud"
	"github.com/otactl/otactl/ota"
)

// TestCreateReadsOnce: a create run makes each read once; what its
// preflight check read (the job id is free, the source object, the
// signing profile) is not asked again before signing. The calls are
// counted on the SDK's stack, against otactl local.
func TestCreateReadsOnce(t *testing.T) {
	f := newFixture(t, 4096)
	var mu sync.Mutex
	var calls []string
	cfg := f.env.Config.Copy()
	cfg.APIOptions = append(cfg.APIOptions, func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("countCalls",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				mu.Lock()
				calls = append(calls, awsmiddleware.GetOperationName(ctx))
				mu.Unlock()
				return next.HandleInitialize(ctx, in)
			}), middleware.After)
	})
	p := &ota.Pipeline{Cloud: awscloud.FromConfig(cfg)}
	if _, err := p.Run(ctx, f.spec("reads-once")); err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, c := range calls {
		count[c]++
	}
	for _, op := range []string{"GetCallerIdentity", "DescribeJob", "GetBucketVersioning", "HeadObject", "GetSigningProfile",
		"DescribeThingGroup", "StartSigningJob", "ListObjectVersions", "GetObject", "CopyObject", "CreateStream", "CreateJob"} {
		if count[op] != 1 {
			t.Errorf("%s called %d times, want once; calls: %s", op, count[op], strings.Join(calls, " "))
		}
	}
	if count["DescribeStream"] != 0 {
		t.Errorf("DescribeStream called %d times, want none (asked only when CreateStream conflicts); calls: %s", count["DescribeStream"], strings.Join(calls, " "))
	}
	if count["DescribeSigningJob"] < 1 {
		t.Errorf("no DescribeSigningJob; calls: %s", strings.Join(calls, " "))
	}
	// The order that matters: every check before the first call that changes anything.
	first := slices.Index(calls, "StartSigningJob")
	for _, op := range []string{"DescribeJob", "GetBucketVersioning", "HeadObject", "GetSigningProfile"} {
		if i := slices.Index(calls, op); i < 0 || i > first {
			t.Errorf("%s at %d, after StartSigningJob at %d; calls: %s", op, i, first, strings.Join(calls, " "))
		}
	}
}

// TestCreateStreamLeftOver: a stream an earlier run left behind (its job
// deleted, its stream not) is reused when it holds the same files, and
// refused, naming it, when it holds others. The pipeline asks
// DescribeStream only after CreateStream's conflict.
func TestCreateStreamLeftOver(t *testing.T) {
	f := newFixture(t, 4096)
	first, err := f.pipeline().Run(ctx, f.spec("left-over"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.iot.DeleteJob(ctx, &iot.DeleteJobInput{JobId: aws.String(first.JobID), Force: true}); err != nil {
		t.Fatal(err)
	}
	var events []string
	p := f.pipeline()
	p.Progress = func(ev string) { events = append(events, ev) }
	again, err := p.Run(ctx, f.spec("left-over"))
	if err != nil {
		t.Fatalf("second run with the stream left over: %v", err)
	}
	if !slices.Contains(events, "reusing stream "+first.StreamID) {
		t.Errorf("second run's events %q: no reusing stream %s", events, first.StreamID)
	}
	if again.StreamID != first.StreamID {
		t.Errorf("second run's stream %s, want the left-over %s reused", again.StreamID, first.StreamID)
	}

	// A stream of the update's id that holds another object: refused.
	account, err := f.cloud.AccountID(ctx)
	must(t, err)
	id := ota.StreamIDFor(account, f.cloud.Region(), "other-files")
	other := f.put("other.bin", []byte("not the firmware"))
	must(t, f.cloud.CreateStream(ctx, ota.Stream{ID: id, Files: []ota.StreamFileLocation{{FileID: 0,
		S3: ota.S3Location{Bucket: bucket, Key: "other.bin", Version: other}}}}, "arn:aws:iam::"+account+":role/ota-role", nil))
	_, err = f.pipeline().Run(ctx, f.spec("other-files"))
	if !errors.Is(err, ota.ErrAlreadyExists) || !strings.Contains(err.Error(), "stream "+id+" exists with other files") {
		t.Fatalf("run over a stream with other files: %v; want ErrAlreadyExists naming stream %s", err, id)
	}
	if _, err := f.cloud.DescribeStream(ctx, id); err != nil {
		t.Errorf("the other stream is gone after the refused run: %v", err)
	}
}
