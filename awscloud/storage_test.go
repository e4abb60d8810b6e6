package awscloud_test

import (
	"io"
	"testing"
)

// TestGetObjectStart: a ranged read of an object's first bytes against
// otactl local; past the window of a longer object the read fails (not
// io.EOF), and a window as long as the object reads it whole.
func TestGetObjectStart(t *testing.T) {
	f := newFixture(t, 16)
	body := []byte("0123456789abcdefghij")
	v := f.put("start.bin", body)
	for _, c := range []struct {
		n      int64
		want   string
		cutOff bool
	}{
		{8, "01234567", true},
		{19, "0123456789abcdefghi", true},
		{20, string(body), false},
		{100, string(body), false},
	} {
		r, read, err := f.cloud.GetObjectStart(ctx, bucket, "start.bin", v, c.n)
		if err != nil {
			t.Fatalf("n=%d: %v", c.n, err)
		}
		if read != v {
			t.Errorf("n=%d: read version %q, want %q", c.n, read, v)
		}
		got, err := io.ReadAll(r)
		r.Close()
		if string(got) != c.want {
			t.Errorf("n=%d: read %q, want %q", c.n, got, c.want)
		}
		if cut := err != nil; cut != c.cutOff {
			t.Errorf("n=%d: error after the bytes %v, want one: %v", c.n, err, c.cutOff)
		}
	}
	// Without a version the latest is read, and named.
	v2 := f.put("start.bin", []byte("second"))
	r, read, err := f.cloud.GetObjectStart(ctx, bucket, "start.bin", "", 100)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(r)
	r.Close()
	if read != v2 || v2 == v || string(got) != "second" {
		t.Errorf("latest: read %q of version %q, want \"second\" of %q", got, read, v2)
	}
}
