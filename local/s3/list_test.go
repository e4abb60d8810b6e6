package s3_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdks3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
)

func TestListObjectsV2(t *testing.T) {
	f := newFixture(t)
	f.bucket(t, "bkt", "Enabled")
	for _, k := range []string{"a/1", "a/2", "a/deep/3", "b/1", "c", "d"} {
		f.put(t, "bkt", k, k)
	}
	f.client.DeleteObject(ctx, &sdks3.DeleteObjectInput{Bucket: aws.String("bkt"), Key: aws.String("d")})

	all, err := f.client.ListObjectsV2(ctx, &sdks3.ListObjectsV2Input{Bucket: aws.String("bkt")})
	if err != nil {
		t.Fatal(err)
	}
	if got := keys(all.Contents); got != "a/1,a/2,a/deep/3,b/1,c" || *all.KeyCount != 5 || *all.IsTruncated {
		t.Fatalf("all = %s (%d)", got, *all.KeyCount)
	}
	if *all.Contents[4].Size != 1 || all.Contents[4].ETag == nil || all.Contents[4].LastModified == nil {
		t.Fatalf("content fields: %+v", all.Contents[4])
	}

	pre, _ := f.client.ListObjectsV2(ctx, &sdks3.ListObjectsV2Input{Bucket: aws.String("bkt"), Prefix: aws.String("a/")})
	if got := keys(pre.Contents); got != "a/1,a/2,a/deep/3" {
		t.Fatalf("prefix a/ = %s", got)
	}

	del, _ := f.client.ListObjectsV2(ctx, &sdks3.ListObjectsV2Input{Bucket: aws.String("bkt"), Delimiter: aws.String("/")})
	var cps []string
	for _, p := range del.CommonPrefixes {
		cps = append(cps, *p.Prefix)
	}
	if keys(del.Contents) != "c" || strings.Join(cps, ",") != "a/,b/" {
		t.Fatalf("delimiter: contents %s prefixes %v", keys(del.Contents), cps)
	}
	sub, _ := f.client.ListObjectsV2(ctx, &sdks3.ListObjectsV2Input{Bucket: aws.String("bkt"), Prefix: aws.String("a/"), Delimiter: aws.String("/")})
	if keys(sub.Contents) != "a/1,a/2" || len(sub.CommonPrefixes) != 1 || *sub.CommonPrefixes[0].Prefix != "a/deep/" {
		t.Fatalf("a/ with delimiter: %s %v", keys(sub.Contents), sub.CommonPrefixes)
	}

	// Pages of two through the SDK's paginator: every key exactly once.
	var got []string
	p := sdks3.NewListObjectsV2Paginator(f.client, &sdks3.ListObjectsV2Input{Bucket: aws.String("bkt"), MaxKeys: aws.Int32(2)})
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, o := range page.Contents {
			got = append(got, *o.Key)
		}
	}
	if strings.Join(got, ",") != "a/1,a/2,a/deep/3,b/1,c" || pages != 3 {
		t.Fatalf("paginated = %v in %d pages", got, pages)
	}
	// Paging with a delimiter does not repeat a common prefix.
	var items []string
	p = sdks3.NewListObjectsV2Paginator(f.client, &sdks3.ListObjectsV2Input{Bucket: aws.String("bkt"), MaxKeys: aws.Int32(1), Delimiter: aws.String("/")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range page.CommonPrefixes {
			items = append(items, *c.Prefix)
		}
		items = append(items, strings.Split(keys(page.Contents), ",")...)
	}
	if strings.Join(strings.Fields(strings.Join(items, " ")), ",") != "a/,b/,c" {
		t.Fatalf("paginated with delimiter = %q", items)
	}

	sa, _ := f.client.ListObjectsV2(ctx, &sdks3.ListObjectsV2Input{Bucket: aws.String("bkt"), StartAfter: aws.String("a/deep/3")})
	if keys(sa.Contents) != "b/1,c" {
		t.Fatalf("start-after = %s", keys(sa.Contents))
	}
	_, err = f.client.ListObjectsV2(ctx, &sdks3.ListObjectsV2Input{Bucket: aws.String("bkt"), ContinuationToken: aws.String("!!!")})
	wantCode(t, err, "InvalidArgument", 400)
	_, err = f.client.ListObjectsV2(ctx, &sdks3.ListObjectsV2Input{Bucket: aws.String("nope")})
	wantCode(t, err, "NoSuchBucket", 404)

	// ListObjects (V1) with markers, as older clients use.
	v1, err := f.client.ListObjects(ctx, &sdks3.ListObjectsInput{Bucket: aws.String("bkt"), MaxKeys: aws.Int32(2), Marker: aws.String("a/1")})
	if err != nil || keys(v1.Contents) != "a/2,a/deep/3" || !*v1.IsTruncated {
		t.Fatalf("ListObjects = %s, %v", keys(v1.Contents), err)
	}
}

func keys(cs []types.Object) string {
	var ks []string
	for _, c := range cs {
		ks = append(ks, *c.Key)
	}
	return strings.Join(ks, ",")
}

func TestListObjectVersionsPaging(t *testing.T) {
	f := newFixture(t)
	f.bucket(t, "bkt", "Enabled")
	var want []string
	for _, k := range []string{"a", "b"} {
		var vs []string
		for i := 0; i < 3; i++ {
			vs = append(vs, k+"@"+*f.put(t, "bkt", k, k).VersionId)
		}
		for i := len(vs) - 1; i >= 0; i-- { // newest first
			want = append(want, vs[i])
		}
	}
	var got []string
	in := &sdks3.ListObjectVersionsInput{Bucket: aws.String("bkt"), MaxKeys: aws.Int32(2)}
	for {
		out, err := f.client.ListObjectVersions(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range out.Versions {
			got = append(got, *v.Key+"@"+*v.VersionId)
		}
		if !*out.IsTruncated {
			break
		}
		in.KeyMarker, in.VersionIdMarker = out.NextKeyMarker, out.NextVersionIdMarker
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("paged versions\n got %v\nwant %v", got, want)
	}
	_, err := f.client.ListObjectVersions(ctx, &sdks3.ListObjectVersionsInput{Bucket: aws.String("bkt"), VersionIdMarker: aws.String("x")})
	wantCode(t, err, "InvalidArgument", 400)
}

// TestVirtualHostStyle drives the SDK without path style: it addresses
// bucket.localhost:port, which the dialer sends to the test server.
func TestVirtualHostStyle(t *testing.T) {
	f := newFixture(t)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(f.url, "http://"))
	cfg := f.cfg
	cfg.BaseEndpoint = aws.String("http://localhost:" + port)
	var hosts []string
	cfg.HTTPClient = &http.Client{Transport: &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			hosts = append(hosts, addr)
			return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:"+port)
		},
	}}
	c := sdks3.NewFromConfig(cfg)
	if _, err := c.CreateBucket(ctx, &sdks3.CreateBucketInput{Bucket: aws.String("vhost")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutObject(ctx, &sdks3.PutObjectInput{Bucket: aws.String("vhost"), Key: aws.String("dir/k"), Body: strings.NewReader("v")}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hosts[0], "vhost.localhost:") {
		t.Fatalf("SDK dialed %v, not virtual-host style", hosts)
	}
	// The path-style client sees what the virtual-host client wrote.
	if f.get(t, "vhost", "dir/k", "") != "v" {
		t.Fatal("virtual-host object not found path-style")
	}
	out, err := c.ListObjectsV2(ctx, &sdks3.ListObjectsV2Input{Bucket: aws.String("vhost")})
	if err != nil || keys(out.Contents) != "dir/k" {
		t.Fatalf("virtual-host listing %v %v", out, err)
	}
	// A host that cannot be a bucket (s3.localhost) is path style.
	status, body, _ := rawRequestHost(t, f.url+"/vhost/dir/k", "s3.localhost:"+port)
	if status != 200 || body != "v" {
		t.Fatalf("path style on s3.localhost: %d %q", status, body)
	}
}

func TestListObjectVersionsDelimiter(t *testing.T) {
	f := newFixture(t)
	f.bucket(t, "bkt", "Enabled")
	for _, k := range []string{"fw/a", "fw/b", "root", "root"} {
		f.put(t, "bkt", k, k)
	}
	out, err := f.client.ListObjectVersions(ctx, &sdks3.ListObjectVersionsInput{Bucket: aws.String("bkt"), Delimiter: aws.String("/")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.CommonPrefixes) != 1 || *out.CommonPrefixes[0].Prefix != "fw/" || len(out.Versions) != 2 ||
		*out.Versions[0].Key != "root" || !*out.Versions[0].IsLatest || *out.Versions[1].IsLatest {
		t.Fatalf("versions with delimiter: %+v %+v", out.CommonPrefixes, out.Versions)
	}
}

func rawRequestHost(t *testing.T, url, host string) (int, string, http.Header) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Host = host
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}
