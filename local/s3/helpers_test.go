package s3_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdks3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/otactl/otactl/local/s3"
	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/local/wire"
)

var ctx = context.Background()

var testEnv = wire.Env{Region: "us-east-1", AccountID: "123456789012"}

type fixture struct {
	svc    *s3.Service
	st     *store.Store
	url    string
	client *sdks3.Client
	cfg    aws.Config
	// requests records the headers of every request, for tests that check
	// what the SDK sent.
	mu       sync.Mutex
	requests []http.Header
}

// newFixture serves a fresh S3 over loopback HTTP and returns a path-style
// SDK client for it.
func newFixture(t testing.TB) *fixture {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{st: st, svc: s3.New(st, testEnv)}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.requests = append(f.requests, r.Header.Clone())
		f.mu.Unlock()
		f.svc.ServeHTTP(w, r)
	}))
	t.Cleanup(func() { srv.Close(); st.Close() })
	f.url = srv.URL
	f.svc.SetPresignCredentials("AKIDLOCAL", "secret", srv.URL)
	f.cfg = aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDLOCAL", "secret", ""),
		BaseEndpoint:     aws.String(srv.URL),
		RetryMaxAttempts: 1,
	}
	f.client = sdks3.NewFromConfig(f.cfg, func(o *sdks3.Options) { o.UsePathStyle = true })
	return f
}

func (f *fixture) lastRequest() http.Header {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.requests[len(f.requests)-1]
}

func (f *fixture) bucket(t testing.TB, name string, versioning string) {
	t.Helper()
	if _, err := f.client.CreateBucket(ctx, &sdks3.CreateBucketInput{Bucket: aws.String(name)}); err != nil {
		t.Fatal(err)
	}
	if versioning != "" {
		_, err := f.client.PutBucketVersioning(ctx, &sdks3.PutBucketVersioningInput{
			Bucket:                  aws.String(name),
			VersioningConfiguration: &types.VersioningConfiguration{Status: types.BucketVersioningStatus(versioning)},
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

func (f *fixture) put(t testing.TB, bucket, key, body string) *sdks3.PutObjectOutput {
	t.Helper()
	out, err := f.client.PutObject(ctx, &sdks3.PutObjectInput{
		Bucket: aws.String(bucket), Key: aws.String(key), Body: strings.NewReader(body),
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (f *fixture) get(t testing.TB, bucket, key, version string) string {
	t.Helper()
	in := &sdks3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)}
	if version != "" {
		in.VersionId = aws.String(version)
	}
	out, err := f.client.GetObject(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// wantCode asserts err is an API error with code (and HTTP status when status > 0).
func wantCode(t testing.TB, err error, code string, status int) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("want %s error, got %v", code, err)
	}
	if ae.ErrorCode() != code {
		t.Fatalf("want code %s, got %s (%v)", code, ae.ErrorCode(), err)
	}
	if status > 0 {
		var re interface{ HTTPStatusCode() int }
		if errors.As(err, &re) && re.HTTPStatusCode() != status {
			t.Fatalf("want status %d, got %d (%v)", status, re.HTTPStatusCode(), err)
		}
	}
}

// rawRequest sends a hand-made request and returns status and body.
func rawRequest(t testing.TB, method, url string, body []byte, hdr map[string]string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}
