package jobdoc

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseS3URL(t *testing.T) {
	cases := []struct{ url, bucket, key, version string }{
		{"https://s3.amazonaws.com/fw/a/b.bin", "fw", "a/b.bin", ""},
		{"https://s3.us-west-2.amazonaws.com/fw/b.bin?versionId=v1", "fw", "b.bin", "v1"},
		{"https://s3-eu-west-1.amazonaws.com/fw/b.bin", "fw", "b.bin", ""},
		{"https://fw.s3.amazonaws.com/dir/b.bin", "fw", "dir/b.bin", ""},
		{"https://fw.s3.eu-west-1.amazonaws.com/b.bin", "fw", "b.bin", ""},
		{"https://fw.s3-eu-west-1.amazonaws.com/b.bin", "fw", "b.bin", ""},
		{"https://FW.S3.amazonaws.com/b.bin", "fw", "b.bin", ""},
		{"http://127.0.0.1:4566/fw/b.bin", "fw", "b.bin", ""},
		{"https://localhost/fw/dir/b.bin?versionId=3", "fw", "dir/b.bin", "3"},
	}
	for _, c := range cases {
		b, k, v, err := ParseS3URL(c.url)
		if err != nil || b != c.bucket || k != c.key || v != c.version {
			t.Errorf("ParseS3URL(%s) = %q %q %q %v, want %q %q %q", c.url, b, k, v, err, c.bucket, c.key, c.version)
		}
	}
	for _, bad := range []string{"https://s3.amazonaws.com/fw", "https://s3.amazonaws.com/", "https://fw.s3.amazonaws.com/", "://x"} {
		if _, _, _, err := ParseS3URL(bad); err == nil {
			t.Errorf("ParseS3URL(%s) accepted", bad)
		}
	}
}

// presigner records the expiries it was asked for and fails on the bucket
// "broken".
type presigner struct{ expires []time.Duration }

func (p *presigner) presign(bucket, key, version string, expires time.Duration) (string, error) {
	p.expires = append(p.expires, expires)
	if bucket == "broken" {
		return "", errors.New("no such bucket")
	}
	return "https://local/" + bucket + "/" + key + "?v=" + version + "&X-Amz-Signature=s", nil
}

func TestExpand(t *testing.T) {
	cases := []struct {
		name, doc string
		expires   time.Duration
		want      string
		wantTTL   []time.Duration
		fails     string // what the error must say
	}{
		{"no placeholder: the document as stored", `{"a":"x&y<z>"}`, 0, `{"a":"x&y<z>"}`, nil, ""},
		{"both placeholder forms, default expiry",
			`{"u":"${aws:iot:s3-presigned-url:https://s3.amazonaws.com/fw/a.bin}","v":"${aws:iot:s3-presigned-url-v2:https://fw.s3.amazonaws.com/b.bin?versionId=7}"}`, 0,
			`{"u":"https://local/fw/a.bin?v=&X-Amz-Signature=s","v":"https://local/fw/b.bin?v=7&X-Amz-Signature=s"}`, []time.Duration{time.Hour, time.Hour}, ""},
		{"inside a longer string", `{"note":"get ${aws:iot:s3-presigned-url:https://s3.amazonaws.com/b3/k3} please"}`, 0,
			`{"note":"get https://local/b3/k3?v=&X-Amz-Signature=s please"}`, []time.Duration{time.Hour}, ""},
		{"presignedUrlConfig expiry", `"${aws:iot:s3-presigned-url:https://s3.amazonaws.com/fw/a.bin}"`, 90 * time.Second,
			`"https://local/fw/a.bin?v=&X-Amz-Signature=s"`, []time.Duration{90 * time.Second}, ""},
		{"presigning fails", `"${aws:iot:s3-presigned-url:https://s3.amazonaws.com/broken/a.bin}"`, 0, "", []time.Duration{time.Hour}, "no such bucket"},
		{"a URL without a key", `"${aws:iot:s3-presigned-url:https://s3.amazonaws.com/fw}"`, 0, "", nil, "names no bucket and key"},
		{"not a placeholder (unknown kind)", `"${aws:iot:s3-presigned-url-v9:https://s3.amazonaws.com/fw/a}"`, 0,
			`"${aws:iot:s3-presigned-url-v9:https://s3.amazonaws.com/fw/a}"`, nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := &presigner{}
			got, err := Expand(c.doc, c.expires, p.presign)
			if (err != nil) != (c.fails != "") || got != c.want {
				t.Fatalf("Expand = %q %v, want %q (fails: %q)", got, err, c.want, c.fails)
			}
			if err != nil && !strings.Contains(err.Error(), c.fails) {
				t.Fatalf("error %v does not say %q", err, c.fails)
			}
			if len(p.expires) != len(c.wantTTL) {
				t.Fatalf("presigned with %v, want %v", p.expires, c.wantTTL)
			}
			for i := range p.expires {
				if p.expires[i] != c.wantTTL[i] {
					t.Fatalf("presigned with %v, want %v", p.expires, c.wantTTL)
				}
			}
		})
	}
	// No presigner: a document without placeholders still passes.
	if got, err := Expand(`{"a":1}`, 0, nil); err != nil || got != `{"a":1}` {
		t.Fatalf("without a presigner: %q %v", got, err)
	}
	if _, err := Expand(`"${aws:iot:s3-presigned-url:https://s3.amazonaws.com/fw/a.bin}"`, 0, nil); err == nil || !strings.Contains(err.Error(), "no S3 presigner") {
		t.Fatalf("placeholder without a presigner: %v", err)
	}
}
