// Package device is otactl's simulated device side: an OTA agent that
// behaves like the FreeRTOS OTA library (IoT Jobs over MQTT, the afr_ota job
// document, MQTT file streams in CBOR or a pre-signed HTTP URL, code-signing
// verification, self-test and status reports), fault injection, and a fleet
// runner that drives many agents at once and measures them.
package device

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
)

// JobDocument is the part of an afr_ota job document an agent reads.
type JobDocument struct {
	Protocols  []string
	StreamName string
	// File is files[0]: like FreeRTOS, the agent reads only the first file.
	File FileDoc
	// Files is how many files the document lists.
	Files int
}

// FileDoc is one entry of afr_ota.files.
type FileDoc struct {
	FilePath      string
	FileSize      int64
	FileID        int
	CertFile      string
	UpdateDataURL string
	AuthScheme    string
	FileType      *int
	SigKey        string // sig-sha256-ecdsa, sig-sha256-rsa or sig-sha1-rsa
	Signature     []byte // DER (ECDSA) or PKCS#1 v1.5 (RSA)
}

// HasProtocol reports whether the document allows p (MQTT, HTTP).
func (d *JobDocument) HasProtocol(p string) bool {
	for _, q := range d.Protocols {
		if strings.EqualFold(q, p) {
			return true
		}
	}
	return false
}

// ParseError is a job document the agent refuses; it reports the job
// FAILED with Reason.
type ParseError struct{ Msg string }

func (e *ParseError) Error() string { return "job document: " + e.Msg }

// ErrNotOTA marks a job document without afr_ota: not an OTA job.
var ErrNotOTA = &ParseError{Msg: "no afr_ota member: not an OTA job"}

// sigKeys are the signature members the agent understands, in its order of preference.
var sigKeys = []string{"sig-sha256-ecdsa", "sig-sha256-rsa", "sig-sha1-rsa"}

// ParseJobDocument reads an afr_ota job document (the jobDocument object of a
// job execution) the way the FreeRTOS OTA agent's parser does: protocols and
// files are required, files[0] needs filesize > 0, fileid, certfile and a
// signature; unknown members are ignored.
func ParseJobDocument(raw []byte) (*JobDocument, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil {
		return nil, &ParseError{Msg: "not a JSON object: " + err.Error()}
	}
	ota, ok := top["afr_ota"]
	if !ok {
		return nil, ErrNotOTA
	}
	var body struct {
		Protocols  json.RawMessage   `json:"protocols"`
		StreamName *string           `json:"streamname"`
		Files      []json.RawMessage `json:"files"`
	}
	if err := json.Unmarshal(ota, &body); err != nil {
		return nil, &ParseError{Msg: "afr_ota: " + err.Error()}
	}
	doc := &JobDocument{}
	if len(body.Protocols) == 0 || string(body.Protocols) == "null" {
		return nil, &ParseError{Msg: "afr_ota.protocols is missing"}
	}
	if err := json.Unmarshal(body.Protocols, &doc.Protocols); err != nil || len(doc.Protocols) == 0 {
		return nil, &ParseError{Msg: "afr_ota.protocols must be a non-empty list of strings"}
	}
	if body.StreamName != nil {
		doc.StreamName = *body.StreamName
	}
	if len(body.Files) == 0 {
		return nil, &ParseError{Msg: "afr_ota.files is missing or empty"}
	}
	doc.Files = len(body.Files)
	f, err := parseFile(body.Files[0])
	if err != nil {
		return nil, err
	}
	doc.File = *f
	return doc, nil
}

func parseFile(raw json.RawMessage) (*FileDoc, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, &ParseError{Msg: "files[0] is not an object"}
	}
	f := &FileDoc{}
	str := func(key string, dst *string) error {
		v, ok := m[key]
		if !ok || string(v) == "null" {
			return nil
		}
		if err := json.Unmarshal(v, dst); err != nil {
			return &ParseError{Msg: fmt.Sprintf("files[0].%s must be a string", key)}
		}
		return nil
	}
	for key, dst := range map[string]*string{"filepath": &f.FilePath, "certfile": &f.CertFile,
		"update_data_url": &f.UpdateDataURL, "auth_scheme": &f.AuthScheme} {
		if err := str(key, dst); err != nil {
			return nil, err
		}
	}
	size, ok := m["filesize"]
	if !ok || string(size) == "null" {
		return nil, &ParseError{Msg: "files[0].filesize is missing"}
	}
	if err := json.Unmarshal(size, &f.FileSize); err != nil || f.FileSize <= 0 {
		return nil, &ParseError{Msg: "files[0].filesize must be a positive integer, got " + string(size)}
	}
	id, ok := m["fileid"]
	if !ok || string(id) == "null" {
		return nil, &ParseError{Msg: "files[0].fileid is missing"}
	}
	if err := json.Unmarshal(id, &f.FileID); err != nil || f.FileID < 0 || f.FileID > 255 {
		return nil, &ParseError{Msg: "files[0].fileid must be an integer 0-255, got " + string(id)}
	}
	if v, ok := m["fileType"]; ok && string(v) != "null" {
		var t int
		if err := json.Unmarshal(v, &t); err != nil {
			return nil, &ParseError{Msg: "files[0].fileType must be an integer"}
		}
		f.FileType = &t
	}
	if f.CertFile == "" {
		return nil, &ParseError{Msg: "files[0].certfile is missing"}
	}
	for _, k := range sigKeys {
		v, ok := m[k]
		if !ok {
			continue
		}
		var s string
		if err := json.Unmarshal(v, &s); err != nil {
			return nil, &ParseError{Msg: fmt.Sprintf("files[0].%s must be a base64 string", k)}
		}
		sig, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(sig) == 0 {
			return nil, &ParseError{Msg: fmt.Sprintf("files[0].%s is not base64", k)}
		}
		f.SigKey, f.Signature = k, sig
		return f, nil
	}
	for k := range m {
		if strings.HasPrefix(k, "sig-") {
			return nil, &ParseError{Msg: "files[0]." + k + ": unsupported signature algorithm"}
		}
	}
	return nil, &ParseError{Msg: "files[0] has no signature (sig-sha256-ecdsa, sig-sha256-rsa or sig-sha1-rsa)"}
}
