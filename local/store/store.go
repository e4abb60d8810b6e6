// Package store is the one place otactl local keeps state: records (JSON
// values in bbolt tables) and blobs (object bodies as files). A blob is written
// and synced, file and directory entry, before any record names it, and a
// blob no record names is removed at start (s3's sweep), so a crash at any
// moment leaves no half-written object visible.
package store

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Store holds the state of one otactl local environment under a directory.
type Store struct {
	db  *bolt.DB
	dir string
}

// Open opens (or creates) the store in dir: dir/state.db and dir/blobs/.
// The staging directory earlier versions wrote bodies to first
// (dir/blobs/tmp) is removed with whatever a crash left in it.
func Open(dir string) (*Store, error) {
	blobs := filepath.Join(dir, "blobs")
	if err := os.MkdirAll(blobs, 0o755); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	os.RemoveAll(filepath.Join(blobs, "tmp"))
	db, err := bolt.Open(filepath.Join(dir, "state.db"), 0o600, &bolt.Options{Timeout: 5 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", dir, err)
	}
	return &Store{db: db, dir: dir}, nil
}

// Close releases the database.
func (s *Store) Close() error { return s.db.Close() }

// Dir is the directory the store lives in.
func (s *Store) Dir() string { return s.dir }

// Tx is a read or read-write transaction over the tables.
type Tx struct{ tx *bolt.Tx }

// Update runs fn in one atomic, durable read-write transaction.
func (s *Store) Update(fn func(*Tx) error) error {
	return s.db.Update(func(tx *bolt.Tx) error { return fn(&Tx{tx}) })
}

// Batch runs fn like Update, durably, but concurrent callers may share one
// transaction and one fsync (bbolt's DB.Batch): many devices' progress
// reports cost one disk sync. fn may run more than once (the batch is
// retried without a caller whose fn failed), so it must only assign to
// state outside the transaction, never accumulate. An error from fn fails
// its own call only.
func (s *Store) Batch(fn func(*Tx) error) error {
	if s.db.NoSync {
		// Nothing to share without an fsync, and Batch's gathering delay
		// (10 ms) would only slow a lone writer such as a rehearsal.
		return s.Update(fn)
	}
	return s.db.Batch(func(tx *bolt.Tx) error { return fn(&Tx{tx}) })
}

// View runs fn in a consistent read-only transaction.
func (s *Store) View(fn func(*Tx) error) error {
	return s.db.View(func(tx *bolt.Tx) error { return fn(&Tx{tx}) })
}

// Put stores v (as JSON) under table/key in its own transaction.
func (s *Store) Put(table, key string, v any) error {
	return s.Update(func(tx *Tx) error { return tx.Put(table, key, v) })
}

// Get loads table/key into v; found is false when there is no such record.
func (s *Store) Get(table, key string, v any) (found bool, err error) {
	err = s.View(func(tx *Tx) error {
		found, err = tx.Get(table, key, v)
		return err
	})
	return found, err
}

// Delete removes table/key; removing a missing record is not an error.
func (s *Store) Delete(table, key string) error {
	return s.Update(func(tx *Tx) error { return tx.Delete(table, key) })
}

// List calls fn for each record of table whose key starts with prefix, in key order.
func (s *Store) List(table, prefix string, fn func(key string, raw []byte) error) error {
	return s.View(func(tx *Tx) error { return tx.List(table, prefix, fn) })
}

// Put stores v (as JSON) under table/key.
func (t *Tx) Put(table, key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("store: encode %s/%s: %w", table, key, err)
	}
	b, err := t.tx.CreateBucketIfNotExists([]byte(table))
	if err != nil {
		return err
	}
	return b.Put([]byte(key), raw)
}

// Get loads table/key into v.
func (t *Tx) Get(table, key string, v any) (bool, error) {
	b := t.tx.Bucket([]byte(table))
	if b == nil {
		return false, nil
	}
	raw := b.Get([]byte(key))
	if raw == nil {
		return false, nil
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return true, fmt.Errorf("store: decode %s/%s: %w", table, key, err)
	}
	return true, nil
}

// Has reports whether table/key exists.
func (t *Tx) Has(table, key string) bool {
	b := t.tx.Bucket([]byte(table))
	return b != nil && b.Get([]byte(key)) != nil
}

// NextSeq returns the next value of table's own counter (1, 2, ...).
func (t *Tx) NextSeq(table string) (uint64, error) {
	b, err := t.tx.CreateBucketIfNotExists([]byte(table))
	if err != nil {
		return 0, err
	}
	return b.NextSequence()
}

// Delete removes table/key.
func (t *Tx) Delete(table, key string) error {
	b := t.tx.Bucket([]byte(table))
	if b == nil {
		return nil
	}
	return b.Delete([]byte(key))
}

// List calls fn for each record of table whose key starts with prefix, in key
// order. raw is only valid during the call.
func (t *Tx) List(table, prefix string, fn func(key string, raw []byte) error) error {
	b := t.tx.Bucket([]byte(table))
	if b == nil {
		return nil
	}
	c := b.Cursor()
	p := []byte(prefix)
	for k, v := c.Seek(p); k != nil && strings.HasPrefix(string(k), prefix); k, v = c.Next() {
		if err := fn(string(k), v); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
	}
	return nil
}

// ErrStop, returned by a List callback, ends the iteration without error.
var ErrStop = errors.New("stop iteration")

// Blob is an immutable object body on disk.
type Blob struct {
	ID     string `json:"id"`
	Size   int64  `json:"size"`
	MD5    string `json:"md5"`    // hex
	SHA256 string `json:"sha256"` // hex
}

// WriteBlob copies r into a new blob: streamed to a temporary file (memory
// does not grow with size), synced, then renamed into place. If wantMD5 is
// not nil and differs from the body's MD5, nothing is kept and ErrBadDigest
// is returned. It computes the SHA-256 too; WriteBlobWith can leave it out.
func (s *Store) WriteBlob(r io.Reader, wantMD5 []byte) (Blob, error) {
	return s.WriteBlobWith(r, BlobOptions{WantMD5: wantMD5, SHA256: true})
}

// ErrBadDigest means a body did not match the MD5 its sender declared.
var ErrBadDigest = errors.New("store: body does not match its Content-MD5")

// OpenBlob opens a blob for reading (it supports Seek and ReadAt).
func (s *Store) OpenBlob(id string) (*os.File, error) { return os.Open(s.blobPath(id)) }

// RemoveBlob deletes a blob's file; a missing file is not an error.
func (s *Store) RemoveBlob(id string) error {
	err := os.Remove(s.blobPath(id))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	return err
}

func (s *Store) blobPath(id string) string { return filepath.Join(s.dir, "blobs", id) }

func hexOf(h hash.Hash) string { return hex.EncodeToString(h.Sum(nil)) }

func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// syncDir makes the directory entries of new files durable.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// SetNoSync turns off fsync on commit: for throwaway stores (a rehearsal
// in a temporary directory) where speed matters and durability does not.
func (s *Store) SetNoSync(v bool) { s.db.NoSync = v }

// BlobIDs lists the ids of every blob on disk, those of writes in progress
// too, for a sweep at start of blobs no record names.
func (s *Store) BlobIDs() ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(s.dir, "blobs"))
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, e := range entries {
		if !e.IsDir() {
			ids = append(ids, e.Name())
		}
	}
	return ids, nil
}
