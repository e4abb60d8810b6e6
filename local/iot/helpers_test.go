package iot_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
	"github.com/aws/smithy-go"

	"github.com/otactl/otactl/local/iot"
	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/local/wire"
)

var (
	env = wire.Env{Region: "us-east-1", AccountID: "123456789012"}
	ctx = context.Background()
)

const roleArn = "arn:aws:iam::123456789012:role/ota-role"

// objects is a stand-in for the local S3 (the full-server test uses the real one).
type objects map[string][]byte

func (o objects) ObjectSize(bucket, key, version string) (int64, error) {
	b, ok := o[bucket+"/"+key]
	if !ok || (version != "" && version != "v1") {
		return 0, errors.New("NoSuchKey")
	}
	return int64(len(b)), nil
}

func (o objects) ReadObject(bucket, key string, limit int64) ([]byte, error) {
	b, ok := o[bucket+"/"+key]
	if !ok {
		return nil, errors.New("NoSuchKey")
	}
	if int64(len(b)) > limit {
		b = b[:limit]
	}
	return b, nil
}

type fixture struct {
	svc    *iot.Service
	client *sdkiot.Client
	url    string
	objs   objects
}

func start(t testing.TB) *fixture {
	t.Helper()
	current = t
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	objs := objects{"fw/image.bin": []byte("firmware"), "docs/job.json": []byte(`{"op":"from-s3"}`)}
	svc := iot.New(st, env, objs)
	srv := httptest.NewServer(svc)
	t.Cleanup(srv.Close)
	return &fixture{svc: svc, client: newClient(srv.URL), url: srv.URL, objs: objs}
}

func newClient(url string) *sdkiot.Client {
	return sdkiot.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIDLOCAL", "secret", ""),
	}, func(o *sdkiot.Options) { o.BaseEndpoint = aws.String(url) })
}

// wantCode fails unless err is an AWS API error with code.
func wantCode(t testing.TB, err error, code string) smithy.APIError {
	t.Helper()
	var we *wire.Error
	if errors.As(err, &we) { // from a Go method rather than the wire
		if we.Code != code {
			t.Fatalf("want %s, got %v", code, err)
		}
		return &smithy.GenericAPIError{Code: we.Code, Message: we.Message}
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s, got %v", code, err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("want %s, got %s: %s", code, ae.ErrorCode(), ae.ErrorMessage())
	}
	return ae
}

// current is the running test, for must (tests here do not run in parallel).
var current testing.TB

// must returns v, failing the current test when err is set.
func must[T any](v T, err error) T {
	current.Helper()
	if err != nil {
		current.Fatal(err)
	}
	return v
}

func thingArn(name string) string { return env.ARN("iot", "thing/"+name) }
func groupArn(name string) string { return env.ARN("iot", "thinggroup/"+name) }

// group creates a group of n things named <prefix>-NNNN.
func (f *fixture) group(t testing.TB, name string, n int) []string {
	t.Helper()
	must(f.client.CreateThingGroup(ctx, &sdkiot.CreateThingGroupInput{ThingGroupName: aws.String(name)}))
	var things []string
	for i := 0; i < n; i++ {
		thing := fmt.Sprintf("%s-%04d", name, i)
		must(f.client.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String(thing)}))
		must(f.client.AddThingToThingGroup(ctx, &sdkiot.AddThingToThingGroupInput{ThingGroupName: aws.String(name), ThingName: aws.String(thing)}))
		things = append(things, thing)
	}
	return things
}

// job creates a snapshot job with a small document on targets.
func (f *fixture) job(t testing.TB, id string, targets ...string) *sdkiot.CreateJobOutput {
	t.Helper()
	return must(f.client.CreateJob(ctx, &sdkiot.CreateJobInput{JobId: aws.String(id), Targets: targets,
		Document: aws.String(`{"op":"update"}`)}))
}

// raw sends a request with a JSON body straight to the server, bypassing
// the SDK's serializer, and returns the status and the error code.
func (f *fixture) raw(t testing.TB, method, path, body string) (int, string, string) {
	t.Helper()
	req, _ := http.NewRequest(method, f.url+path, bytes.NewBufferString(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), string(b)
}

var _ = types.JobStatusInProgress

func asErr[T error](err error, target *T) bool { return errors.As(err, target) }

// isSDKValidation reports whether the SDK refused the input client-side.
func isSDKValidation(err error) bool {
	var iv smithy.InvalidParamsError
	return errors.As(err, &iv)
}

func iotUpdate(status string) iot.ExecutionUpdate { return iot.ExecutionUpdate{Status: status} }

func seconds(n int) time.Duration { return time.Duration(n) * time.Second }
