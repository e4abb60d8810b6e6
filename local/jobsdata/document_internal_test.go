package jobsdata

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/otactl/otactl/local/wire"
)

func TestParseS3URL(t *testing.T) {
	cases := []struct{ url, bucket, key, version string }{
		{"https://s3.amazonaws.com/fw/a/b.bin", "fw", "a/b.bin", ""},
		{"https://s3.us-west-2.amazonaws.com/fw/b.bin?versionId=v1", "fw", "b.bin", "v1"},
		{"https://fw.s3.amazonaws.com/dir/b.bin", "fw", "dir/b.bin", ""},
		{"https://fw.s3.eu-west-1.amazonaws.com/b.bin", "fw", "b.bin", ""},
		{"https://fw.s3-eu-west-1.amazonaws.com/b.bin", "fw", "b.bin", ""},
		{"http://127.0.0.1:4566/fw/b.bin", "fw", "b.bin", ""},
	}
	for _, c := range cases {
		b, k, v, err := parseS3URL(c.url)
		if err != nil || b != c.bucket || k != c.key || v != c.version {
			t.Errorf("parseS3URL(%s) = %q %q %q %v, want %q %q %q", c.url, b, k, v, err, c.bucket, c.key, c.version)
		}
	}
	for _, bad := range []string{"https://s3.amazonaws.com/fw", "https://s3.amazonaws.com/", "://x"} {
		if _, _, _, err := parseS3URL(bad); err == nil {
			t.Errorf("parseS3URL(%s) accepted", bad)
		}
	}
}

// docJobs serves one document; the other methods are not used here.
type docJobs struct {
	Jobs
	doc     string
	expires time.Duration
}

func (d docJobs) Document(string) (string, time.Duration, error) { return d.doc, d.expires, nil }

type presigner struct{ expires []time.Duration }

func (p *presigner) PresignGet(bucket, key, version string, expires time.Duration) (string, error) {
	p.expires = append(p.expires, expires)
	if bucket == "broken" {
		return "", errors.New("no such bucket")
	}
	return "https://local/" + bucket + "/" + key + "?v=" + version + "&X-Amz-Signature=s", nil
}

func TestDeviceDocument(t *testing.T) {
	cases := []struct {
		name, doc string
		expires   time.Duration
		want      string
		wantTTL   []time.Duration
		fails     bool
	}{
		{"no placeholder: the document as stored", `{"a":"x&y"}`, 0, `{"a":"x&y"}`, nil, false},
		{"both placeholder forms, default expiry", `{"u":"${aws:iot:s3-presigned-url:https://s3.amazonaws.com/fw/a.bin}","v":"${aws:iot:s3-presigned-url-v2:https://fw.s3.amazonaws.com/b.bin?versionId=7}"}`, 0,
			`{"u":"https://local/fw/a.bin?v=&X-Amz-Signature=s","v":"https://local/fw/b.bin?v=7&X-Amz-Signature=s"}`, []time.Duration{time.Hour, time.Hour}, false},
		{"presignedUrlConfig expiry", `"${aws:iot:s3-presigned-url:https://s3.amazonaws.com/fw/a.bin}"`, 90 * time.Second,
			`"https://local/fw/a.bin?v=&X-Amz-Signature=s"`, []time.Duration{90 * time.Second}, false},
		{"presigning fails", `"${aws:iot:s3-presigned-url:https://s3.amazonaws.com/broken/a.bin}"`, 0, "", []time.Duration{time.Hour}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := &presigner{}
			s := New(wire.Env{}, Deps{Jobs: docJobs{doc: c.doc, expires: c.expires}, Presigner: p})
			got, err := s.deviceDocument("j")
			if (err != nil) != c.fails || got != c.want {
				t.Fatalf("deviceDocument = %q %v, want %q (fails %v)", got, err, c.want, c.fails)
			}
			if len(p.expires) != len(c.wantTTL) || (len(p.expires) > 0 && p.expires[0] != c.wantTTL[0]) {
				t.Fatalf("presigned with %v, want %v", p.expires, c.wantTTL)
			}
			if c.fails && !strings.Contains(err.Error(), "no such bucket") {
				t.Fatalf("error %v does not say why", err)
			}
		})
	}
}
