package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/otactl/otactl/ota"
)

// otactl's JSON output follows one contract on every command (see
// `otactl help output`): AWS's camelCase member names, no Go field names,
// absent fields left out (no null, no "", no 0001-01-01 time), members in a fixed
// order. normalizeJSON enforces it on whatever a command prints, so that an
// SDK struct passed through (DescribeJob's job) reads as the AWS CLI prints it.

// opaqueKeys hold user data (thing names, package names, statuses as keys):
// their members are printed as they are.
var opaqueKeys = map[string]bool{
	"statusDetails": true, "detailsMap": true, "packages": true, "executionCounts": true,
	"documentParameters": true, "additionalParameters": true, "jobProcessDetailsByStatus": true,
	"counts": true, "attributes": true,
}

// verbatimKeys hold an AWS call's input with the API's own member names,
// which are PascalCase for S3 (Bucket, Key, VersionId): left as they are.
var verbatimKeys = map[string]bool{"input": true}

// keepCase are AWS members that are capitalised in the API itself: Tag's
// Key and Value (an S3 input's Key is the SDK's name for key).
var keepCase = map[string]bool{"Key": true, "Value": true}

// isTag: an object of Key and Value only is an AWS Tag.
func isTag(o jsonObject) bool {
	for _, m := range o {
		if !keepCase[m.key] {
			return false
		}
	}
	return len(o) > 0
}

// jsonMember is one member of an object, in order.
type jsonMember struct {
	key string
	val any
}

type jsonObject []jsonMember

// decodeOrdered reads JSON keeping the order of members.
func decodeOrdered(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			obj := jsonObject{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				v, err := decodeOrdered(dec)
				if err != nil {
					return nil, err
				}
				obj = append(obj, jsonMember{kt.(string), v})
			}
			_, err := dec.Token()
			return obj, err
		case '[':
			arr := []any{}
			for dec.More() {
				v, err := decodeOrdered(dec)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			_, err := dec.Token()
			return arr, err
		}
	}
	return tok, nil
}

// absent is a value that stands for "not there": null, or Go's zero time.
func absent(v any) bool {
	switch t := v.(type) {
	case nil:
		return true
	case string:
		return t == "0001-01-01T00:00:00Z"
	}
	return false
}

// camel turns a Go field name (JobArn, NumberOfQueuedThings) into AWS's
// member name (jobArn, numberOfQueuedThings); names that are not Go
// field names (QUEUED, thing names) stay as they are.
func camel(k string) string {
	r, n := utf8.DecodeRuneInString(k)
	if !unicode.IsUpper(r) || strings.IndexFunc(k, unicode.IsLower) < 0 || strings.ContainsAny(k, "-_.:/ ") {
		return k
	}
	return string(unicode.ToLower(r)) + k[n:]
}

func normalize(v any, opaque bool) any {
	switch t := v.(type) {
	case jsonObject:
		out := jsonObject{}
		tag := isTag(t)
		for _, m := range t {
			// An empty string is an absent member too (the SDK's unset
			// enums), except as the value of a user-data map.
			if absent(m.val) || !opaque && m.val == "" {
				continue
			}
			k := m.key
			if !opaque && !tag {
				k = camel(k)
			}
			if verbatimKeys[k] {
				out = append(out, jsonMember{k, m.val})
				continue
			}
			out = append(out, jsonMember{k, normalize(m.val, opaqueKeys[k])})
		}
		return out
	case []any:
		for i := range t {
			t[i] = normalize(t[i], false)
		}
		return t
	}
	return v
}

func encodeOrdered(b *bytes.Buffer, v any, indent string) {
	switch t := v.(type) {
	case jsonObject:
		if len(t) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteString("{\n")
		for i, m := range t {
			b.WriteString(indent + "  ")
			writeString(b, m.key)
			b.WriteString(": ")
			encodeOrdered(b, m.val, indent+"  ")
			if i < len(t)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(indent + "}")
	case []any:
		if len(t) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteString("[\n")
		for i, el := range t {
			b.WriteString(indent + "  ")
			encodeOrdered(b, el, indent+"  ")
			if i < len(t)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(indent + "]")
	case string:
		writeString(b, t)
	case json.Number:
		b.WriteString(t.String())
	case bool:
		fmt.Fprint(b, t)
	case nil:
		b.WriteString("null")
	}
}

func writeString(b *bytes.Buffer, s string) {
	var sb bytes.Buffer
	enc := json.NewEncoder(&sb)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	b.Write(bytes.TrimRight(sb.Bytes(), "\n"))
}

// printJSON writes v as otactl's JSON (see normalize), indented.
func printJSON(w io.Writer, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	tree, err := decodeOrdered(dec)
	if err != nil {
		return err
	}
	var b bytes.Buffer
	encodeOrdered(&b, normalize(tree, false), "")
	b.WriteByte('\n')
	_, err = w.Write(b.Bytes())
	return err
}

// deletedJSON is delete's JSON: like every management command's, an object
// that starts with the update id and names jobs and streams by AWS's members.
type deletedJSON struct {
	UpdateID        string   `json:"otaUpdateId"`
	JobID           string   `json:"jobId"`
	StreamID        string   `json:"streamId,omitempty"`
	ReplacedJobs    []string `json:"replacedJobIds"`
	ReplacedStreams []string `json:"replacedStreamIds"`
	ObjectVersions  []string `json:"deletedObjectVersions"`
}

func deletedView(id string, d *ota.Deleted) deletedJSON {
	nonNil := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	return deletedJSON{UpdateID: updateArg(id), JobID: d.Job, StreamID: d.Stream, ReplacedJobs: nonNil(d.Replaced),
		ReplacedStreams: nonNil(d.OtherStreams), ObjectVersions: nonNil(d.ObjectVersion)}
}

// updateArg is the update id in what a user may paste for it: the id, the
// job id (AFR_OTA-<id>) or the job's ARN from the console.
func updateArg(v string) string {
	if strings.HasPrefix(v, "arn:") {
		if i := strings.LastIndex(v, ":job/"); i >= 0 {
			v = v[i+len(":job/"):]
		}
	}
	return strings.TrimPrefix(v, ota.JobIDPrefix)
}

// flatten lists a JSON value's scalars one a line as path: value, in the
// document's order (destination.s3.bucketName: fleet-firmware).
func flatten(raw []byte) []string {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := decodeOrdered(dec)
	if err != nil {
		return []string{string(raw)}
	}
	var out []string
	var walk func(v any, path string)
	walk = func(v any, path string) {
		switch t := v.(type) {
		case jsonObject:
			for _, m := range t {
				walk(m.val, join(path, m.key))
			}
		case []any:
			for i, el := range t {
				walk(el, fmt.Sprintf("%s[%d]", path, i))
			}
		case nil:
		default:
			out = append(out, fmt.Sprintf("%s: %v", path, t))
		}
	}
	walk(v, "")
	return out
}
