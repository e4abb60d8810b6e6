package s3_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdks3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestBuckets(t *testing.T) {
	f := newFixture(t)
	for _, b := range []string{"zeta", "alpha"} {
		if _, err := f.client.CreateBucket(ctx, &sdks3.CreateBucketInput{Bucket: aws.String(b)}); err != nil {
			t.Fatal(err)
		}
	}
	_, err := f.client.CreateBucket(ctx, &sdks3.CreateBucketInput{Bucket: aws.String("alpha")})
	wantCode(t, err, "BucketAlreadyOwnedByYou", 409)
	_, err = f.client.CreateBucket(ctx, &sdks3.CreateBucketInput{Bucket: aws.String("Bad_Name")})
	wantCode(t, err, "InvalidBucketName", 400)

	// A location constraint in the body is accepted.
	_, err = f.client.CreateBucket(ctx, &sdks3.CreateBucketInput{Bucket: aws.String("west"),
		CreateBucketConfiguration: &types.CreateBucketConfiguration{LocationConstraint: "us-west-2"}})
	if err != nil {
		t.Fatal(err)
	}

	out, err := f.client.ListBuckets(ctx, &sdks3.ListBucketsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range out.Buckets {
		names = append(names, *b.Name)
		if b.CreationDate == nil || b.CreationDate.IsZero() {
			t.Errorf("bucket %s has no creation date", *b.Name)
		}
	}
	if strings.Join(names, ",") != "alpha,west,zeta" {
		t.Fatalf("ListBuckets = %v", names)
	}

	if _, err := f.client.HeadBucket(ctx, &sdks3.HeadBucketInput{Bucket: aws.String("alpha")}); err != nil {
		t.Fatal(err)
	}
	_, err = f.client.HeadBucket(ctx, &sdks3.HeadBucketInput{Bucket: aws.String("missing")})
	wantCode(t, err, "NotFound", 404) // HEAD has no body: the SDK names the status

	loc, err := f.client.GetBucketLocation(ctx, &sdks3.GetBucketLocationInput{Bucket: aws.String("alpha")})
	if err != nil || loc.LocationConstraint != "" {
		t.Fatalf("GetBucketLocation = %+v, %v", loc, err)
	}
}

func TestBucketVersioning(t *testing.T) {
	f := newFixture(t)
	f.bucket(t, "vers", "")
	get := func() types.BucketVersioningStatus {
		t.Helper()
		out, err := f.client.GetBucketVersioning(ctx, &sdks3.GetBucketVersioningInput{Bucket: aws.String("vers")})
		if err != nil {
			t.Fatal(err)
		}
		return out.Status
	}
	if s := get(); s != "" {
		t.Fatalf("new bucket versioning = %q", s)
	}
	for _, want := range []types.BucketVersioningStatus{"Enabled", "Suspended", "Enabled"} {
		_, err := f.client.PutBucketVersioning(ctx, &sdks3.PutBucketVersioningInput{Bucket: aws.String("vers"),
			VersioningConfiguration: &types.VersioningConfiguration{Status: want}})
		if err != nil {
			t.Fatal(err)
		}
		if s := get(); s != want {
			t.Fatalf("versioning = %q, want %q", s, want)
		}
	}
	if v, err := f.svc.Versioning("vers"); err != nil || v != "Enabled" {
		t.Fatalf("Versioning() = %q, %v", v, err)
	}

	_, err := f.client.PutBucketVersioning(ctx, &sdks3.PutBucketVersioningInput{Bucket: aws.String("missing"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: "Enabled"}})
	wantCode(t, err, "NoSuchBucket", 404)
	_, err = f.client.GetBucketVersioning(ctx, &sdks3.GetBucketVersioningInput{Bucket: aws.String("missing")})
	wantCode(t, err, "NoSuchBucket", 404)

	// Malformed XML and a status S3 does not know are MalformedXML, in S3's error shape.
	for _, body := range []string{
		`<VersioningConfiguration><Status>Enabled</Status>`,
		`not xml at all`,
		`<VersioningConfiguration><Status>Sometimes</Status></VersioningConfiguration>`,
	} {
		status, resp, _ := rawRequest(t, http.MethodPut, f.url+"/vers?versioning", []byte(body), nil)
		if status != 400 || !strings.Contains(resp, "<Code>MalformedXML</Code>") || !strings.Contains(resp, "<RequestId>") {
			t.Fatalf("PutBucketVersioning(%q) = %d %s", body, status, resp)
		}
	}
	if s := get(); s != "Enabled" {
		t.Fatalf("versioning after bad requests = %q", s)
	}
}

func TestDeleteBucket(t *testing.T) {
	f := newFixture(t)
	f.bucket(t, "full", "Enabled")
	f.put(t, "full", "k", "x")
	_, err := f.client.DeleteBucket(ctx, &sdks3.DeleteBucketInput{Bucket: aws.String("full")})
	wantCode(t, err, "BucketNotEmpty", 409)

	// A delete marker still keeps the bucket non-empty; removing every
	// version empties it.
	f.client.DeleteObject(ctx, &sdks3.DeleteObjectInput{Bucket: aws.String("full"), Key: aws.String("k")})
	_, err = f.client.DeleteBucket(ctx, &sdks3.DeleteBucketInput{Bucket: aws.String("full")})
	wantCode(t, err, "BucketNotEmpty", 409)
	vs, err := f.client.ListObjectVersions(ctx, &sdks3.ListObjectVersionsInput{Bucket: aws.String("full")})
	if err != nil {
		t.Fatal(err)
	}
	var ids []types.ObjectIdentifier
	for _, v := range vs.Versions {
		ids = append(ids, types.ObjectIdentifier{Key: v.Key, VersionId: v.VersionId})
	}
	for _, m := range vs.DeleteMarkers {
		ids = append(ids, types.ObjectIdentifier{Key: m.Key, VersionId: m.VersionId})
	}
	del, err := f.client.DeleteObjects(ctx, &sdks3.DeleteObjectsInput{Bucket: aws.String("full"),
		Delete: &types.Delete{Objects: ids}})
	if err != nil || len(del.Deleted) != 2 || len(del.Errors) != 0 {
		t.Fatalf("DeleteObjects = %+v, %v", del, err)
	}
	if _, err := f.client.DeleteBucket(ctx, &sdks3.DeleteBucketInput{Bucket: aws.String("full")}); err != nil {
		t.Fatal(err)
	}
	_, err = f.client.DeleteBucket(ctx, &sdks3.DeleteBucketInput{Bucket: aws.String("full")})
	wantCode(t, err, "NoSuchBucket", 404)
}

func TestUnsupportedSubresource(t *testing.T) {
	f := newFixture(t)
	f.bucket(t, "bkt", "")
	status, body, _ := rawRequest(t, http.MethodGet, f.url+"/bkt?acl", nil, nil)
	if status != 501 || !strings.Contains(body, "<Code>NotImplemented</Code>") {
		t.Fatalf("GET ?acl = %d %s", status, body)
	}
	status, body, _ = rawRequest(t, http.MethodPost, f.url+"/", nil, nil)
	if status != 405 || !strings.Contains(body, "<Code>MethodNotAllowed</Code>") {
		t.Fatalf("POST / = %d %s", status, body)
	}
}
