package local_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	sdks3 "github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/otactl/otactl/local"
	"github.com/otactl/otactl/local/localtest"
)

// Regression tests for issue 9: S3 served anonymous requests in the default
// mode, served a presigned URL whose query was mangled as an anonymous
// request, and (under --strict-auth) stored an aws-chunked upload whose
// chunk signatures were bogus. Everything here goes over the wire.

// blobCount counts the stored bodies under dataDir and fails if a staged
// one was left behind: a refused upload must leave no file at all.
func blobCount(t *testing.T, dataDir string) int {
	t.Helper()
	if tmp, _ := os.ReadDir(filepath.Join(dataDir, "blobs", "tmp")); len(tmp) != 0 {
		t.Fatalf("staged bodies left behind: %d", len(tmp))
	}
	ents, err := os.ReadDir(filepath.Join(dataDir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range ents {
		if !e.IsDir() {
			n++
		}
	}
	return n
}

func send(t *testing.T, method, u string, body []byte, hdr map[string]string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, u, bytes.NewReader(body))
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func wantS3Error(t *testing.T, what string, status int, body string, wantStatus int, code string) {
	t.Helper()
	if status != wantStatus || !strings.Contains(body, "<Error><Code>"+code+"</Code>") {
		t.Fatalf("%s: %d %s, want %d %s", what, status, body, wantStatus, code)
	}
}

// TestAnonymousS3Refused: with no signature, every S3 request is 403
// AccessDenied in S3's XML, in the default mode as under strict auth, and
// nothing is read, written or deleted.
func TestAnonymousS3Refused(t *testing.T) {
	for _, strict := range []bool{false, true} {
		dir := t.TempDir()
		env := localtest.StartWith(t, local.Config{StrictAuth: strict, DataDir: dir})
		c := env.S3()
		if _, err := c.CreateBucket(ctx, &sdks3.CreateBucketInput{Bucket: aws.String("private")}); err != nil {
			t.Fatal(err)
		}
		if _, err := c.PutObject(ctx, &sdks3.PutObjectInput{Bucket: aws.String("private"), Key: aws.String("fw.bin"),
			Body: strings.NewReader("secret firmware")}); err != nil {
			t.Fatal(err)
		}
		blobs := blobCount(t, dir)
		for _, rq := range []struct {
			method, path string
			body         []byte
			hdr          map[string]string
		}{
			{"GET", "/private/fw.bin", nil, nil},
			{"GET", "/private/fw.bin?versionId=null", nil, nil},
			{"GET", "/private?list-type=2", nil, nil},
			{"GET", "/", nil, nil},
			{"PUT", "/private/new.bin", []byte("planted"), nil},
			{"PUT", "/private/new.bin", bytes.Repeat([]byte("p"), 1<<20), map[string]string{"Expect": "100-continue"}},
			{"PUT", "/private/fw.bin", []byte("overwritten"), nil},
			{"PUT", "/newbucket", nil, nil},
			{"DELETE", "/private/fw.bin", nil, nil},
			{"POST", "/private?delete", []byte(`<Delete><Object><Key>fw.bin</Key></Object></Delete>`), nil},
		} {
			status, body := send(t, rq.method, env.URL+rq.path, rq.body, rq.hdr)
			wantS3Error(t, rq.method+" "+rq.path, status, body, 403, "AccessDenied")
			if strings.Contains(body, "secret firmware") {
				t.Fatalf("%s %s leaked the object", rq.method, rq.path)
			}
		}
		// HEAD has no body, but the status is the same.
		if resp, err := http.Head(env.URL + "/private/fw.bin"); err != nil || resp.StatusCode != 403 {
			t.Fatalf("anonymous HEAD: %v %v", resp, err)
		}
		if _, err := env.Server.S3().HeadObject("private", "new.bin", ""); err == nil {
			t.Fatal("an anonymous PUT stored an object")
		}
		if vs, err := env.Server.S3().ListVersions("private", ""); err != nil || len(vs) != 1 {
			t.Fatalf("versions after anonymous writes: %v %v", vs, err)
		}
		if _, err := c.HeadBucket(ctx, &sdks3.HeadBucketInput{Bucket: aws.String("newbucket")}); err == nil {
			t.Fatal("an anonymous PUT created a bucket")
		}
		if got := blobCount(t, dir); got != blobs {
			t.Fatalf("strict=%v: %d bodies stored, want %d", strict, got, blobs)
		}
	}
}

// mangle rewrites the raw query of a presigned URL parameter by parameter,
// keeping the client's encoding of the others.
func mangle(u string, f func(ps []string) []string) string {
	base, raw, _ := strings.Cut(u, "?")
	return base + "?" + strings.Join(f(strings.Split(raw, "&")), "&")
}

func without(name string) func([]string) []string {
	return func(ps []string) []string {
		var out []string
		for _, p := range ps {
			if !strings.HasPrefix(p, name+"=") {
				out = append(out, p)
			}
		}
		return out
	}
}

func replaced(name, value string) func([]string) []string {
	return func(ps []string) []string {
		out := append([]string(nil), ps...)
		for i, p := range out {
			if strings.HasPrefix(p, name+"=") {
				out[i] = name + "=" + value
			}
		}
		return out
	}
}

func param(u, name string) string {
	_, raw, _ := strings.Cut(u, "?")
	q, _ := url.ParseQuery(raw)
	return q.Get(name)
}

// TestMangledPresignedURLs: a URL from the SDK's own presigner works, and
// each way of breaking its query is refused with the error S3 gives, never
// served as an anonymous request, in both modes.
func TestMangledPresignedURLs(t *testing.T) {
	for _, strict := range []bool{false, true} {
		dir := t.TempDir()
		env := localtest.StartWith(t, local.Config{StrictAuth: strict, DataDir: dir})
		c := env.S3()
		c.CreateBucket(ctx, &sdks3.CreateBucketInput{Bucket: aws.String("links")})
		if _, err := c.PutObject(ctx, &sdks3.PutObjectInput{Bucket: aws.String("links"), Key: aws.String("fw.bin"),
			Body: strings.NewReader("firmware bytes")}); err != nil {
			t.Fatal(err)
		}
		pc := sdks3.NewPresignClient(c)
		get, err := pc.PresignGetObject(ctx, &sdks3.GetObjectInput{Bucket: aws.String("links"), Key: aws.String("fw.bin")},
			sdks3.WithPresignExpires(10*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		u := get.URL
		if status, body := httpGet(t, u); status != 200 || body != "firmware bytes" {
			t.Fatalf("SDK presigned GET: %d %q", status, body)
		}
		date := param(u, "X-Amz-Date")
		nextDay, _ := time.Parse("20060102T150405Z", date)
		sig := param(u, "X-Amz-Signature")
		flipped := sig[:len(sig)-1] + string("01"[map[bool]int{true: 1}[sig[len(sig)-1] == '0']])
		cred := param(u, "X-Amz-Credential")
		cases := []struct {
			name   string
			url    string
			status int
			code   string
		}{
			{"no algorithm", mangle(u, without("X-Amz-Algorithm")), 400, "AuthorizationQueryParametersError"},
			{"no credential", mangle(u, without("X-Amz-Credential")), 400, "AuthorizationQueryParametersError"},
			{"no signature", mangle(u, without("X-Amz-Signature")), 400, "AuthorizationQueryParametersError"},
			{"no date", mangle(u, without("X-Amz-Date")), 400, "AuthorizationQueryParametersError"},
			{"no signed headers", mangle(u, without("X-Amz-SignedHeaders")), 400, "AuthorizationQueryParametersError"},
			{"no expires", mangle(u, without("X-Amz-Expires")), 400, "AuthorizationQueryParametersError"},
			{"empty signature", mangle(u, replaced("X-Amz-Signature", "")), 400, "AuthorizationQueryParametersError"},
			{"two signatures", u + "&X-Amz-Signature=" + sig, 400, "AuthorizationQueryParametersError"},
			{"two credentials", u + "&X-Amz-Credential=" + url.QueryEscape(cred), 400, "AuthorizationQueryParametersError"},
			{"two dates", u + "&X-Amz-Date=" + date, 400, "AuthorizationQueryParametersError"},
			{"bad date", mangle(u, replaced("X-Amz-Date", "2026-01-01T00:00:00Z")), 400, "AuthorizationQueryParametersError"},
			{"date of another day", mangle(u, replaced("X-Amz-Date", nextDay.Add(24*time.Hour).Format("20060102T150405Z"))), 400, "AuthorizationQueryParametersError"},
			{"expires not a number", mangle(u, replaced("X-Amz-Expires", "soon")), 400, "AuthorizationQueryParametersError"},
			{"negative expires", mangle(u, replaced("X-Amz-Expires", "-60")), 400, "AuthorizationQueryParametersError"},
			{"expires over a week", mangle(u, replaced("X-Amz-Expires", "604801")), 400, "AuthorizationQueryParametersError"},
			{"other algorithm", mangle(u, replaced("X-Amz-Algorithm", "AWS4-HMAC-SHA1")), 400, "AuthorizationQueryParametersError"},
			{"truncated credential", mangle(u, replaced("X-Amz-Credential", url.QueryEscape(strings.Join(strings.Split(cred, "/")[:3], "/")))), 400, "AuthorizationQueryParametersError"},
			{"credential without key", mangle(u, replaced("X-Amz-Credential", url.QueryEscape("/"+strings.SplitN(cred, "/", 2)[1]))), 400, "AuthorizationQueryParametersError"},
			{"undecodable credential", mangle(u, replaced("X-Amz-Credential", "%zz")), 400, "AuthorizationQueryParametersError"},
			{"wrong signature", mangle(u, replaced("X-Amz-Signature", flipped)), 403, "SignatureDoesNotMatch"},
			{"lifetime shortened", mangle(u, replaced("X-Amz-Expires", "1")), 403, "SignatureDoesNotMatch"},
			{"another key", strings.Replace(u, "fw.bin", "fw.bin2", 1), 403, "SignatureDoesNotMatch"},
			{"extra parameter", u + "&versionId=null", 403, "SignatureDoesNotMatch"},
			{"SigV2 parameters too", u + "&Signature=abc", 400, "InvalidArgument"},
			{"incomplete SigV2", env.URL + "/links/fw.bin?AWSAccessKeyId=" + local.DefaultAccessKeyID, 403, "AccessDenied"},
			{"SigV2 without expiry", env.URL + "/links/fw.bin?AWSAccessKeyId=" + local.DefaultAccessKeyID + "&Signature=abc", 403, "AccessDenied"},
		}
		for _, tc := range cases {
			status, body := httpGet(t, tc.url)
			if strings.Contains(body, "firmware bytes") {
				t.Fatalf("strict=%v %s: served the object: %s", strict, tc.name, tc.url)
			}
			wantS3Error(t, tc.name, status, body, tc.status, tc.code)
		}
		// Header and query signatures together: refused, not one of them picked.
		status, body := send(t, "GET", u, nil, map[string]string{"Authorization": "AWS4-HMAC-SHA256 Credential=" + cred +
			", SignedHeaders=host, Signature=" + sig})
		wantS3Error(t, "header and query", status, body, 400, "InvalidArgument")

		// An expired link is AccessDenied "Request has expired".
		old, err := pc.PresignGetObject(ctx, &sdks3.GetObjectInput{Bucket: aws.String("links"), Key: aws.String("fw.bin")},
			sdks3.WithPresignExpires(time.Minute), func(o *sdks3.PresignOptions) { o.Presigner = backdated{v4.NewSigner(), time.Hour} })
		if err != nil {
			t.Fatal(err)
		}
		status, body = httpGet(t, old.URL)
		wantS3Error(t, "expired", status, body, 403, "AccessDenied")
		if !strings.Contains(body, "Request has expired") {
			t.Fatalf("expired: %s", body)
		}

		// A presigned PUT from the SDK stores; mangled, it stores nothing.
		blobs := blobCount(t, dir)
		put, err := pc.PresignPutObject(ctx, &sdks3.PutObjectInput{Bucket: aws.String("links"), Key: aws.String("up.bin")})
		if err != nil {
			t.Fatal(err)
		}
		for _, bad := range []string{mangle(put.URL, without("X-Amz-Signature")), mangle(put.URL, replaced("X-Amz-Expires", "x")),
			strings.Replace(put.URL, "up.bin", "other.bin", 1)} {
			if status, body := send(t, "PUT", bad, []byte("planted"), nil); status/100 != 4 {
				t.Fatalf("mangled presigned PUT: %d %s", status, body)
			}
		}
		if got := blobCount(t, dir); got != blobs {
			t.Fatalf("mangled presigned PUTs stored %d bodies", got-blobs)
		}
		if status, body := send(t, "PUT", put.URL, []byte("uploaded"), nil); status != 200 {
			t.Fatalf("SDK presigned PUT: %d %s", status, body)
		}
		if vs, _ := env.Server.S3().ListVersions("links", ""); len(vs) != 2 {
			t.Fatalf("versions: %+v", vs)
		}
	}
}

// TestPresignedVersions checks that mangling cannot move a link to another
// version of the object.
func TestPresignedVersions(t *testing.T) {
	env := localtest.Start(t)
	c := env.S3()
	c.CreateBucket(ctx, &sdks3.CreateBucketInput{Bucket: aws.String("vers")})
	c.PutBucketVersioning(ctx, &sdks3.PutBucketVersioningInput{Bucket: aws.String("vers"),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: "Enabled"}})
	v1, _ := c.PutObject(ctx, &sdks3.PutObjectInput{Bucket: aws.String("vers"), Key: aws.String("k"), Body: strings.NewReader("one")})
	c.PutObject(ctx, &sdks3.PutObjectInput{Bucket: aws.String("vers"), Key: aws.String("k"), Body: strings.NewReader("two")})
	u, err := env.Server.S3().PresignGet("vers", "k", *v1.VersionId, time.Minute, "")
	if err != nil {
		t.Fatal(err)
	}
	if status, body := httpGet(t, u); status != 200 || body != "one" {
		t.Fatalf("presigned version: %d %q", status, body)
	}
	status, body := httpGet(t, mangle(u, without("versionId")))
	wantS3Error(t, "version dropped", status, body, 403, "SignatureDoesNotMatch")
	var ae interface{ ErrorCode() string }
	if _, err := sdks3.NewFromConfig(aws.Config{Region: "us-east-1", BaseEndpoint: aws.String(env.URL), Credentials: aws.AnonymousCredentials{}},
		func(o *sdks3.Options) { o.UsePathStyle = true }).GetObject(ctx, &sdks3.GetObjectInput{Bucket: aws.String("vers"), Key: aws.String("k")}); !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
		t.Fatalf("anonymous SDK GetObject: %v", err)
	}
}
