package store

import (
	"errors"
	"fmt"
	"sync"
	"testing"
)

// Concurrent Batch callers share commits; each returns only once its
// writes are committed, and a failing one fails alone.
func TestBatchCommitsEachCallerAndIsolatesFailures(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	bad := errors.New("refused")
	const n = 40
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = s.Batch(func(tx *Tx) error {
				if err := tx.Put("t", fmt.Sprintf("k%02d", i), rec{N: i}); err != nil {
					return err
				}
				if i%10 == 3 {
					return bad
				}
				return nil
			})
			if errs[i] == nil {
				// Committed: visible to a new transaction at once.
				if found, err := s.Get("t", fmt.Sprintf("k%02d", i), &rec{}); !found || err != nil {
					errs[i] = fmt.Errorf("k%02d not visible after Batch: %v", i, err)
				}
			}
		}(i)
	}
	wg.Wait()
	s.Close()

	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i := 0; i < n; i++ {
		found, _ := s.Get("t", fmt.Sprintf("k%02d", i), &rec{})
		if i%10 == 3 {
			if !errors.Is(errs[i], bad) || found {
				t.Errorf("caller %d: err %v, record kept %v; want its error and no record", i, errs[i], found)
			}
			continue
		}
		if errs[i] != nil || !found {
			t.Errorf("caller %d: err %v, record kept %v", i, errs[i], found)
		}
	}
}
