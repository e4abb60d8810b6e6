package store

import (
	"bytes"
	"crypto/md5"
	"io"
	"os"
	"testing"
)

type rec struct {
	Name string
	N    int
}

func TestRecordsRoundTripAndPersist(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	for i, k := range []string{"job/a", "job/b", "thing/x"} {
		if err := s.Put("t", k, rec{k, i}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Delete("t", "job/b"); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got []string
	err = s.List("t", "job/", func(k string, raw []byte) error { got = append(got, k); return nil })
	if err != nil || len(got) != 1 || got[0] != "job/a" {
		t.Fatalf("List = %v, %v; want [job/a]", got, err)
	}
	var r rec
	if ok, err := s.Get("t", "thing/x", &r); !ok || err != nil || r.N != 2 {
		t.Fatalf("Get = %v %v %+v", ok, err, r)
	}
	if ok, _ := s.Get("t", "job/b", &r); ok {
		t.Fatal("deleted record still there")
	}
	if ok, _ := s.Get("missing-table", "k", &r); ok {
		t.Fatal("record in a missing table")
	}
}

func TestBlobWriteCheckAndRemove(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	body := bytes.Repeat([]byte("firmware"), 1000)
	sum := md5.Sum(body)
	b, err := s.WriteBlob(bytes.NewReader(body), sum[:])
	if err != nil {
		t.Fatal(err)
	}
	if b.Size != int64(len(body)) {
		t.Fatalf("size %d", b.Size)
	}
	f, err := s.OpenBlob(b.ID)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(f)
	f.Close()
	if !bytes.Equal(got, body) {
		t.Fatal("blob body differs")
	}
	if _, err := s.WriteBlob(bytes.NewReader(body), []byte("0123456789abcdef")); err != ErrBadDigest {
		t.Fatalf("bad digest: %v", err)
	}
	if err := s.RemoveBlob(b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OpenBlob(b.ID); !os.IsNotExist(err) {
		t.Fatalf("removed blob opens: %v", err)
	}
	// Neither the rejected body nor the removed one leaves a file behind.
	if left, _ := s.BlobIDs(); len(left) != 0 {
		t.Fatalf("files left: %v", left)
	}
}
