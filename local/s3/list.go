package s3

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/otactl/otactl/local/store"
)

// listParams are what ListObjects (V1, V2) and ListObjectVersions share.
type listParams struct {
	prefix, delimiter string
	maxKeys           int
	urlEncode         bool
}

func parseListParams(q url.Values) (listParams, error) {
	p := listParams{prefix: q.Get("prefix"), delimiter: q.Get("delimiter"), maxKeys: 1000}
	if v := q.Get("max-keys"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return p, errorf(http.StatusBadRequest, "InvalidArgument", "Provided max-keys not an integer or within integer range")
		}
		p.maxKeys = min(n, 1000)
	}
	switch e := q.Get("encoding-type"); e {
	case "":
	case "url":
		p.urlEncode = true
	default:
		return p, errorf(http.StatusBadRequest, "InvalidArgument", "Invalid Encoding Method specified in Request")
	}
	return p, nil
}

// enc applies encoding-type=url to a key or prefix in a response.
func (p listParams) enc(s string) string {
	if p.urlEncode {
		return url.QueryEscape(s)
	}
	return s
}

// commonPrefix returns the common prefix key rolls up into, or "".
func (p listParams) rollup(key string) string {
	if p.delimiter == "" {
		return ""
	}
	rest := key[len(p.prefix):]
	if i := strings.Index(rest, p.delimiter); i >= 0 {
		return p.prefix + rest[:i+len(p.delimiter)]
	}
	return ""
}

// listEntry is one row of a listing: an object (version) or a common prefix.
type listEntry struct {
	obj    objectRecord
	latest bool
	prefix string // set for a common prefix
}

// walk calls fn for each version under p.prefix in S3 order (keys
// ascending, versions newest first), with latest set for a key's first.
func (s *Service) walk(bucket, prefix string, fn func(o objectRecord, latest bool) error) error {
	return s.st.View(func(tx *store.Tx) error {
		if !tx.Has(bucketsTable, bucket) {
			return errNoSuchBucket(bucket)
		}
		last, first := "", true
		return tx.List(objectsTable, bucket+"\x00"+prefix, func(_ string, raw []byte) error {
			var o objectRecord
			if err := json.Unmarshal(raw, &o); err != nil {
				return err
			}
			latest := first || o.Key != last
			first, last = false, o.Key
			return fn(o, latest)
		})
	})
}

// listObjects lists the current objects after marker, rolling keys up into
// common prefixes; it returns at most max entries and whether more exist.
func (s *Service) listObjects(bucket string, p listParams, marker string) ([]listEntry, bool, error) {
	var out []listEntry
	truncated := false
	lastPrefix := ""
	err := s.walk(bucket, p.prefix, func(o objectRecord, latest bool) error {
		if !latest || o.DeleteMarker || o.Key <= marker {
			return nil
		}
		// A marker that is a common prefix skips everything under it.
		if p.delimiter != "" && strings.HasSuffix(marker, p.delimiter) && strings.HasPrefix(o.Key, marker) {
			return nil
		}
		cp := p.rollup(o.Key)
		if cp != "" && cp == lastPrefix {
			return nil
		}
		if len(out) >= p.maxKeys {
			truncated = true
			return store.ErrStop
		}
		if cp != "" {
			lastPrefix = cp
			out = append(out, listEntry{prefix: cp})
			return nil
		}
		out = append(out, listEntry{obj: o, latest: true})
		return nil
	})
	return out, truncated, err
}

func (e listEntry) name() string {
	if e.prefix != "" {
		return e.prefix
	}
	return e.obj.Key
}

func contents(p listParams, entries []listEntry) ([]contentXML, []commonPrefix) {
	cs, ps := []contentXML{}, []commonPrefix{}
	for _, e := range entries {
		if e.prefix != "" {
			ps = append(ps, commonPrefix{Prefix: p.enc(e.prefix)})
			continue
		}
		cs = append(cs, contentXML{
			Key: p.enc(e.obj.Key), LastModified: s3Time(e.obj.LastModified),
			ETag: e.obj.etag(), Size: e.obj.Size, StorageClass: "STANDARD",
		})
	}
	return cs, ps
}

func (s *Service) listObjectsV2(w http.ResponseWriter, bucket string, q url.Values) error {
	p, err := parseListParams(q)
	if err != nil {
		return err
	}
	marker := q.Get("start-after")
	token := q.Get("continuation-token")
	if q.Has("continuation-token") {
		raw, derr := base64.RawURLEncoding.DecodeString(token)
		if derr != nil || token == "" {
			return errorf(http.StatusBadRequest, "InvalidArgument", "The continuation token provided is incorrect")
		}
		marker = string(raw)
	}
	entries, truncated, err := s.listObjects(bucket, p, marker)
	if err != nil {
		return err
	}
	res := listV2Result{
		Xmlns: xmlns, Name: bucket, Prefix: p.enc(p.prefix), Delimiter: p.enc(p.delimiter),
		MaxKeys: p.maxKeys, KeyCount: len(entries), IsTruncated: truncated,
		ContinuationToken: token, StartAfter: p.enc(q.Get("start-after")),
	}
	if p.urlEncode {
		res.EncodingType = "url"
	}
	if truncated {
		res.NextContinuationToken = base64.RawURLEncoding.EncodeToString([]byte(entries[len(entries)-1].name()))
	}
	res.Contents, res.CommonPrefixes = contents(p, entries)
	writeXML(w, http.StatusOK, res)
	return nil
}

func (s *Service) listObjectsV1(w http.ResponseWriter, bucket string, q url.Values) error {
	p, err := parseListParams(q)
	if err != nil {
		return err
	}
	marker := q.Get("marker")
	entries, truncated, err := s.listObjects(bucket, p, marker)
	if err != nil {
		return err
	}
	res := listV1Result{
		Xmlns: xmlns, Name: bucket, Prefix: p.enc(p.prefix), Marker: p.enc(marker),
		Delimiter: p.enc(p.delimiter), MaxKeys: p.maxKeys, IsTruncated: truncated,
	}
	if p.urlEncode {
		res.EncodingType = "url"
	}
	if truncated {
		res.NextMarker = p.enc(entries[len(entries)-1].name())
	}
	res.Contents, res.CommonPrefixes = contents(p, entries)
	writeXML(w, http.StatusOK, res)
	return nil
}

func (s *Service) listObjectVersions(w http.ResponseWriter, bucket string, q url.Values) error {
	p, err := parseListParams(q)
	if err != nil {
		return err
	}
	keyMarker, versionMarker := q.Get("key-marker"), q.Get("version-id-marker")
	if versionMarker != "" && keyMarker == "" {
		return errorf(http.StatusBadRequest, "InvalidArgument", "A version-id marker cannot be specified without a key marker.")
	}
	var entries []listEntry
	truncated := false
	lastPrefix := ""
	skipping := true // inside keyMarker's versions, until versionMarker
	err = s.walk(bucket, p.prefix, func(o objectRecord, latest bool) error {
		switch {
		case o.Key < keyMarker:
			return nil
		case o.Key == keyMarker && (versionMarker == "" || skipping):
			// Every version up to and including the marker was listed.
			if o.VersionID == versionMarker {
				skipping = false
			}
			return nil
		}
		if p.delimiter != "" && strings.HasSuffix(keyMarker, p.delimiter) && strings.HasPrefix(o.Key, keyMarker) {
			return nil
		}
		cp := p.rollup(o.Key)
		if cp != "" && cp == lastPrefix {
			return nil
		}
		if len(entries) >= p.maxKeys {
			truncated = true
			return store.ErrStop
		}
		if cp != "" {
			lastPrefix = cp
			entries = append(entries, listEntry{prefix: cp})
			return nil
		}
		entries = append(entries, listEntry{obj: o, latest: latest})
		return nil
	})
	if err != nil {
		return err
	}
	res := listVersionsResult{
		Xmlns: xmlns, Name: bucket, Prefix: p.enc(p.prefix), KeyMarker: p.enc(keyMarker),
		VersionIDMarker: versionMarker, Delimiter: p.enc(p.delimiter), MaxKeys: p.maxKeys,
		IsTruncated: truncated, Entries: []versionXML{}, CommonPrefixes: []commonPrefix{},
	}
	if p.urlEncode {
		res.EncodingType = "url"
	}
	if truncated {
		last := entries[len(entries)-1]
		res.NextKeyMarker = p.enc(last.name())
		if last.prefix == "" {
			res.NextVersionIDMarker = last.obj.VersionID
		}
	}
	for _, e := range entries {
		if e.prefix != "" {
			res.CommonPrefixes = append(res.CommonPrefixes, commonPrefix{Prefix: p.enc(e.prefix)})
			continue
		}
		v := versionXML{
			Key: p.enc(e.obj.Key), VersionID: e.obj.VersionID, IsLatest: e.latest,
			LastModified: s3Time(e.obj.LastModified), Owner: s.owner(),
		}
		if e.obj.DeleteMarker {
			v.XMLName.Local = "DeleteMarker"
		} else {
			size := e.obj.Size
			v.XMLName.Local = "Version"
			v.ETag, v.Size, v.StorageClass = e.obj.etag(), &size, "STANDARD"
		}
		res.Entries = append(res.Entries, v)
	}
	writeXML(w, http.StatusOK, res)
	return nil
}
