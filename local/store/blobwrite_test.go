package store

import (
	"bytes"
	"crypto/md5"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
)

// TestWriteBlobWithSizes writes bodies around every chunk boundary (the
// small first read, the large ones, the writeback interval) through
// readers that return short reads, and checks size, content and digests;
// the SHA-256 is computed only when asked for.
func TestWriteBlobWithSizes(t *testing.T) {
	s, err := Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{0, 1, firstChunk - 1, firstChunk, firstChunk + 1, firstChunk + chunkSize,
		firstChunk + 5*chunkSize + 7, writebackEvery + 3*chunkSize + 1} {
		body := make([]byte, size)
		for i := range body {
			body[i] = byte(rng.Uint32())
		}
		m, h := md5.Sum(body), sha256.Sum256(body)
		for _, withSHA := range []bool{false, true} {
			b, err := s.WriteBlobWith(&shortReader{r: bytes.NewReader(body), rng: rng}, BlobOptions{WantMD5: m[:], SHA256: withSHA})
			if err != nil {
				t.Fatalf("size %d: %v", size, err)
			}
			if b.Size != int64(size) || b.MD5 != hex.EncodeToString(m[:]) {
				t.Fatalf("size %d: blob %+v", size, b)
			}
			if want := hex.EncodeToString(h[:]); withSHA && b.SHA256 != want || !withSHA && b.SHA256 != "" {
				t.Fatalf("size %d, SHA-256 asked %v: got %q", size, withSHA, b.SHA256)
			}
			f, err := s.OpenBlob(b.ID)
			if err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(f)
			f.Close()
			if err != nil || !bytes.Equal(got, body) {
				t.Fatalf("size %d: blob content differs (%d bytes read, %v)", size, len(got), err)
			}
			s.RemoveBlob(b.ID)
		}
	}
}

// TestWriteBlobWithReadError: a body that fails part way leaves no file,
// and the error is the reader's.
func TestWriteBlobWithReadError(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	boom := errors.New("connection reset")
	r := io.MultiReader(io.LimitReader(zeros{}, 3*chunkSize+5), errReader{boom})
	if _, err := s.WriteBlobWith(r, BlobOptions{}); !errors.Is(err, boom) {
		t.Fatalf("WriteBlobWith = %v, want %v", err, boom)
	}
	for _, sub := range []string{"blobs", "blobs/tmp"} {
		ents, _ := os.ReadDir(filepath.Join(dir, sub))
		for _, e := range ents {
			if !e.IsDir() {
				t.Errorf("%s left behind in %s", e.Name(), sub)
			}
		}
	}
}

type shortReader struct {
	r   io.Reader
	rng *rand.Rand
}

func (s *shortReader) Read(p []byte) (int, error) {
	if len(p) > 1 {
		p = p[:1+s.rng.IntN(len(p))]
	}
	return s.r.Read(p)
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
