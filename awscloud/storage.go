package awscloud

import (
	"context"
	"errors"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/otactl/otactl/ota"
)

// HeadObject returns the size and version of an object version (the latest when version is "").
func (c *Cloud) HeadObject(ctx context.Context, bucket, key, version string) (ota.ObjectInfo, error) {
	out, err := c.s3.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &bucket, Key: &key, VersionId: str(version)})
	if err != nil {
		return ota.ObjectInfo{}, wrap(err)
	}
	return ota.ObjectInfo{Bucket: bucket, Key: key, VersionID: aws.ToString(out.VersionId), ETag: aws.ToString(out.ETag),
		Size: aws.ToInt64(out.ContentLength), LastModified: aws.ToTime(out.LastModified)}, nil
}

// GetObject opens an object version for reading.
func (c *Cloud) GetObject(ctx context.Context, bucket, key, version string) (io.ReadCloser, error) {
	out, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key, VersionId: str(version)})
	if err != nil {
		return nil, wrap(err)
	}
	return out.Body, nil
}

// GetObjectStart reads the first n bytes of an object version (a ranged
// GetObject): ota reads a signed object's signature from its start. When
// the object is longer, the read after the n bytes fails instead of
// ending, so that nothing cut short (a number) reads as complete.
func (c *Cloud) GetObjectStart(ctx context.Context, bucket, key, version string, n int64) (io.ReadCloser, string, error) {
	out, err := c.s3.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key, VersionId: str(version),
		Range: aws.String("bytes=0-" + strconv.FormatInt(n-1, 10))})
	if err != nil {
		return nil, "", wrap(err)
	}
	read := aws.ToString(out.VersionId)
	// Content-Range: bytes 0-<n-1>/<size>; no range (a 200) is the whole object.
	cr := aws.ToString(out.ContentRange)
	if i := strings.LastIndexByte(cr, '/'); i >= 0 {
		if size, err := strconv.ParseInt(cr[i+1:], 10, 64); err != nil || size > n {
			return cutShort{out.Body}, read, nil
		}
	}
	return out.Body, read, nil
}

// errCutShort is what a read past GetObjectStart's window returns.
var errCutShort = errors.New("object continues past the bytes read")

type cutShort struct{ io.ReadCloser }

func (c cutShort) Read(p []byte) (int, error) {
	n, err := c.ReadCloser.Read(p)
	if err == io.EOF {
		err = errCutShort
	}
	return n, err
}

// ListObjectVersions lists the versions of exactly key, newest first, without delete markers.
func (c *Cloud) ListObjectVersions(ctx context.Context, bucket, key string) ([]ota.ObjectInfo, error) {
	var out []ota.ObjectInfo
	p := s3.NewListObjectVersionsPaginator(c.s3, &s3.ListObjectVersionsInput{Bucket: &bucket, Prefix: &key})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, wrap(err)
		}
		for _, v := range page.Versions {
			if aws.ToString(v.Key) != key {
				continue
			}
			out = append(out, ota.ObjectInfo{Bucket: bucket, Key: key, VersionID: aws.ToString(v.VersionId), ETag: aws.ToString(v.ETag),
				Size: aws.ToInt64(v.Size), LastModified: aws.ToTime(v.LastModified)})
		}
	}
	return out, nil
}

// CopyObject copies an exact version over dstBucket/dstKey and returns the new version id.
func (c *Cloud) CopyObject(ctx context.Context, src ota.S3Location, dstBucket, dstKey string) (string, error) {
	source := src.Bucket + "/" + url.PathEscape(src.Key)
	if src.Version != "" {
		source += "?versionId=" + url.QueryEscape(src.Version)
	}
	out, err := c.s3.CopyObject(ctx, &s3.CopyObjectInput{Bucket: &dstBucket, Key: &dstKey, CopySource: &source})
	if err != nil {
		return "", wrap(err)
	}
	return aws.ToString(out.VersionId), nil
}

// DeleteObjectVersion removes one version for good.
func (c *Cloud) DeleteObjectVersion(ctx context.Context, bucket, key, version string) error {
	_, err := c.s3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &bucket, Key: &key, VersionId: str(version)})
	return wrap(err)
}

// BucketVersioning reads a bucket's versioning status: Enabled, Suspended,
// or "" for a bucket that never had versioning; a missing bucket is ErrNotFound.
func (c *Cloud) BucketVersioning(ctx context.Context, bucket string) (string, error) {
	out, err := c.s3.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: &bucket})
	if err != nil {
		return "", wrap(err)
	}
	return string(out.Status), nil
}
