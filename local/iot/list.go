package iot

import (
	"encoding/json"

	"github.com/otactl/otactl/local/store"
)

// List operations: parsePage reads the page request, listView answers from
// one read transaction, pageOf (with records for JSON records) walks one
// page of a table.

// listView runs list in a read transaction and answers with its items under
// name (never null: [] when empty) and nextToken when there is a next page.
func listView[T any](st *store.Store, name string, list func(tx *store.Tx) ([]T, string, error)) (any, error) {
	var items []T
	var token string
	err := st.View(func(tx *store.Tx) (err error) {
		items, token, err = list(tx)
		return err
	})
	if err != nil {
		return nil, err
	}
	if items == nil {
		items = []T{}
	}
	out := map[string]any{name: items}
	if token != "" {
		out["nextToken"] = token
	}
	return out, nil
}

// pageOf lists one page of the records under prefix in table: item turns a
// record (its key and raw JSON) into the page's item, or skips it (false).
// It returns the items and the token of the next page ("" at the end).
func pageOf[T any](tx *store.Tx, table, prefix string, p page, item func(key string, raw []byte) (T, bool, error)) ([]T, string, error) {
	var items []T
	token, err := listPage(tx, table, prefix, p, func(k string, raw []byte) (bool, error) {
		v, ok, err := item(k, raw)
		if ok && err == nil {
			items = append(items, v)
		}
		return ok, err
	})
	return items, token, err
}

// records is pageOf's item for a table of JSON records of type R.
func records[R, T any](item func(rec *R) (T, bool)) func(string, []byte) (T, bool, error) {
	return func(_ string, raw []byte) (T, bool, error) {
		var rec R
		if err := json.Unmarshal(raw, &rec); err != nil {
			var zero T
			return zero, false, err
		}
		v, ok := item(&rec)
		return v, ok, nil
	}
}

// pageOfSorted is pageOf for keys already gathered and sorted.
func pageOfSorted(keys []string, p page) ([]string, string) {
	var items []string
	for _, k := range keys {
		if p.after != "" && k <= p.after {
			continue
		}
		if len(items) == p.max {
			return items, nextToken(items[len(items)-1])
		}
		items = append(items, k)
	}
	return items, ""
}

// keyRest is pageOf's item for tables of bare keys: the rest of the key
// after prefix.
func keyRest(prefix string) func(string, []byte) (string, bool, error) {
	return func(k string, _ []byte) (string, bool, error) { return k[len(prefix):], true, nil }
}
