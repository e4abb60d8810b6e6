package ota

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// Job document limits.
const (
	MaxDocumentBytes         = 32768 // CreateJob rejects larger documents
	SmallDeviceDocumentBytes = 4096  // small FreeRTOS devices drop larger job messages
)

// AuthSchemePresigned is the auth_scheme of an HTTP download with a pre-signed URL.
const AuthSchemePresigned = "aws.s3.presigned"

// FileArtifact is what the pipeline knows about one file once it is signed
// and placed: everything the job document says about it.
type FileArtifact struct {
	FileID int   // the file's id in the stream
	Size   int64 // rawPayloadSize: bytes of the raw binary
	// SizePlaceholder, when set, is written instead of Size (plans only).
	SizePlaceholder string
	SigKey          string // sig-sha256-ecdsa, ...
	Signature       string // base64 DER signature
	CertFile        string // path of the code-signing certificate on the device
	// Raw is the raw binary's exact location; HTTP downloads point at it.
	Raw *S3Location
}

// DocumentInput is what only the pipeline can know when the document is built.
type DocumentInput struct {
	StreamID string // the job's stream; "" when the update has no MQTT
	Region   string // for the HTTP placeholder URL
	Files    []FileArtifact
}

// SignatureKey maps a Signer signatureAlgorithm (SHA256withECDSA) to the
// job-document key a device looks for (sig-sha256-ecdsa).
func SignatureKey(signatureAlgorithm string) string {
	hash, sig, ok := strings.Cut(signatureAlgorithm, "with")
	if !ok {
		return "sig-" + strings.ToLower(signatureAlgorithm)
	}
	return "sig-" + strings.ToLower(hash) + "-" + strings.ToLower(sig)
}

// CustomSignatureKey is the key for custom signing: sig-<hash>-<sig>,
// lowercased, with any dash in the hash removed (SHA-256 → sha256; devices
// do not match sig-sha-256-ecdsa).
func CustomSignatureKey(hashAlgorithm, signatureAlgorithm string) string {
	return "sig-" + strings.ToLower(strings.ReplaceAll(hashAlgorithm, "-", "")) + "-" + strings.ToLower(signatureAlgorithm)
}

// PresignedURLPlaceholder is what IoT replaces with a pre-signed S3 URL when
// a device fetches the document.
func PresignedURLPlaceholder(region string, loc S3Location) string {
	return fmt.Sprintf("${aws:iot:s3-presigned-url:https://s3.%s.amazonaws.com/%s/%s}", region, loc.Bucket, loc.Key)
}

// BuildJobDocument returns the afr_ota document CreateOTAUpdate would make for
// s, compact and with its keys in the order AWS writes them.
func BuildJobDocument(s *Spec, in DocumentInput) ([]byte, error) {
	if len(in.Files) != len(s.Files) {
		return nil, fmt.Errorf("job document: %d file artifacts for %d files", len(in.Files), len(s.Files))
	}
	mqtt, http := s.HasProtocol(ProtocolMQTT), s.HasProtocol(ProtocolHTTP)
	var b bytes.Buffer
	b.WriteString(`{"afr_ota":{"protocols":`)
	writeJSON(&b, s.EffectiveProtocols())
	if mqtt {
		if in.StreamID == "" {
			return nil, fmt.Errorf("job document: MQTT needs a stream id")
		}
		b.WriteString(`,"streamname":`)
		writeJSON(&b, in.StreamID)
	}
	b.WriteString(`,"files":[`)
	for i, f := range s.Files {
		a := in.Files[i]
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"filepath":`)
		writeJSON(&b, nullable(f.FileName))
		b.WriteString(`,"filesize":`)
		if a.SizePlaceholder != "" {
			writeJSON(&b, a.SizePlaceholder)
		} else {
			writeJSON(&b, a.Size)
		}
		b.WriteString(`,"fileid":`)
		writeJSON(&b, a.FileID)
		b.WriteString(`,"certfile":`)
		writeJSON(&b, nullable(a.CertFile))
		if f.FileType != nil {
			b.WriteString(`,"fileType":`)
			writeJSON(&b, *f.FileType)
		}
		var url, scheme any
		if http {
			if a.Raw == nil {
				return nil, fmt.Errorf("job document: files[%d]: HTTP needs the file's S3 location", i)
			}
			url, scheme = PresignedURLPlaceholder(in.Region, *a.Raw), AuthSchemePresigned
		}
		b.WriteString(`,"update_data_url":`)
		writeJSON(&b, url)
		b.WriteString(`,"auth_scheme":`)
		writeJSON(&b, scheme)
		b.WriteString(`,`)
		writeJSON(&b, a.SigKey)
		b.WriteString(`:`)
		writeJSON(&b, a.Signature)
		b.WriteString(`}`)
	}
	b.WriteString(`]}}`)
	return b.Bytes(), nil
}

// nullable makes "" a JSON null, as AWS writes absent strings.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func writeJSON(b *bytes.Buffer, v any) {
	// Values here are strings, numbers and string slices: encoding cannot fail.
	raw, _ := json.Marshal(v)
	b.Write(raw)
}

// CheckDocumentSize applies the device and CreateJob limits to a built
// document: an error over MaxDocumentBytes, a warning over SmallDeviceDocumentBytes.
func CheckDocumentSize(doc []byte) (warnings []string, errs Errors) {
	switch n := len(doc); {
	case n > MaxDocumentBytes:
		errs = append(errs, FieldError{Path: "jobDocument", Rule: fmt.Sprintf("is %d bytes; CreateJob accepts at most %d", n, MaxDocumentBytes)})
	case n > SmallDeviceDocumentBytes:
		warnings = append(warnings, fmt.Sprintf("the job document is %d bytes: small FreeRTOS devices drop job messages over about %d bytes", n, SmallDeviceDocumentBytes))
	}
	return warnings, errs
}
