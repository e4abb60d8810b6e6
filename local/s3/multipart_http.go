package s3

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// The wire of ListParts and ListMultipartUploads (the other multipart
// operations are in multipart.go).

// listParts is ListParts (GET ?uploadId): max-parts (default and most
// 1000) and part-number-marker page the parts.
func (s *Service) listParts(w http.ResponseWriter, bucket, key, id string, q url.Values) error {
	maxParts, err := queryInt(q, "max-parts", 1000)
	if err != nil {
		return err
	}
	marker, err := queryInt(q, "part-number-marker", 0)
	if err != nil {
		return err
	}
	_, ps, err := s.ListParts(bucket, key, id)
	if err != nil {
		return err
	}
	res := listPartsResult{Xmlns: xmlns, Bucket: bucket, Key: key, UploadID: id, PartNumberMarker: marker,
		MaxParts: maxParts, Initiator: s.owner(), Owner: s.owner(), StorageClass: "STANDARD", Parts: []partXML{}}
	for _, p := range ps {
		if p.Number <= marker {
			continue
		}
		if len(res.Parts) == maxParts {
			res.IsTruncated = true
			break
		}
		res.Parts = append(res.Parts, partXML{PartNumber: p.Number, LastModified: s3Time(p.Modified), ETag: `"` + p.MD5 + `"`, Size: p.Size})
	}
	if n := len(res.Parts); n > 0 {
		res.NextPartNumberMarker = res.Parts[n-1].PartNumber
	}
	writeXML(w, http.StatusOK, res)
	return nil
}

// listMultipartUploads is ListMultipartUploads (GET ?uploads): uploads in
// progress by key and initiation, paged by key-marker/upload-id-marker,
// rolled up by delimiter, at most max-uploads (default and most 1000).
func (s *Service) listMultipartUploads(w http.ResponseWriter, bucket string, q url.Values) error {
	p, err := parseListParams(q)
	if err != nil {
		return err
	}
	if p.maxKeys, err = queryInt(q, "max-uploads", 1000); err != nil {
		return err
	}
	keyMarker, idMarker := q.Get("key-marker"), q.Get("upload-id-marker")
	ups, err := s.ListUploads(bucket, p.prefix)
	if err != nil {
		return err
	}
	res := listUploadsResult{Xmlns: xmlns, Bucket: bucket, KeyMarker: p.enc(keyMarker), UploadIDMarker: idMarker,
		Prefix: p.enc(p.prefix), Delimiter: p.enc(p.delimiter), MaxUploads: p.maxKeys, Uploads: []uploadXML{}}
	if p.urlEncode {
		res.EncodingType = "url"
	}
	skipping := idMarker != "" // within keyMarker's uploads, up to idMarker
	lastPrefix, count := "", 0
	var lastKey, lastID string
	for _, u := range ups {
		if u.Key < keyMarker || u.Key == keyMarker && (idMarker == "" || skipping) {
			if u.ID == idMarker {
				skipping = false
			}
			continue
		}
		cp := p.rollup(u.Key)
		if cp != "" && cp == lastPrefix {
			continue
		}
		if count == p.maxKeys {
			res.IsTruncated = true
			res.NextKeyMarker, res.NextUploadIDMarker = p.enc(lastKey), lastID
			break
		}
		count++
		if cp != "" {
			lastPrefix, lastKey, lastID = cp, cp, ""
			res.CommonPrefixes = append(res.CommonPrefixes, commonPrefix{Prefix: p.enc(cp)})
			continue
		}
		lastKey, lastID = u.Key, u.ID
		res.Uploads = append(res.Uploads, uploadXML{Key: p.enc(u.Key), UploadID: u.ID, Initiator: s.owner(), Owner: s.owner(),
			StorageClass: "STANDARD", Initiated: s3Time(u.Initiated)})
	}
	writeXML(w, http.StatusOK, res)
	return nil
}

// queryInt reads a non-negative integer parameter capped at def (its
// default when absent), as S3's max-* parameters.
func queryInt(q url.Values, name string, def int) (int, error) {
	v := q.Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < 0 {
		return 0, errorf(http.StatusBadRequest, "InvalidArgument", "Provided %s not an integer or within integer range", name)
	}
	if def > 0 && n > def {
		n = def
	}
	return n, nil
}
