package ota

import (
	"encoding/json"
	"fmt"
	"io"
)

// SignedObject is the head of the JSON document Signer writes for the
// FreeRTOS platforms: {"rawPayloadSize":N,"signature":"...","signatureAlgorithm":"...","payload":"..."}.
type SignedObject struct {
	RawPayloadSize     int64  `json:"rawPayloadSize"`
	Signature          string `json:"signature"`
	SignatureAlgorithm string `json:"signatureAlgorithm"`
}

// ReadSignedObject reads the signature fields from a signed object, stopping
// before the base64 payload when the fields come first (as Signer writes
// them), so a large firmware is not held in memory.
func ReadSignedObject(r io.Reader) (SignedObject, error) {
	var so SignedObject
	dec := json.NewDecoder(r)
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return so, fmt.Errorf("signed object is not a JSON object")
	}
	have := 0
	for dec.More() && have < 3 {
		t, err := dec.Token()
		if err != nil {
			return so, fmt.Errorf("signed object: %w", err)
		}
		var dst any
		switch t {
		case "rawPayloadSize":
			dst = &so.RawPayloadSize
		case "signature":
			dst = &so.Signature
		case "signatureAlgorithm":
			dst = &so.SignatureAlgorithm
		default:
			var skip json.RawMessage
			dst = &skip
			have-- // not one of ours
		}
		if err := dec.Decode(dst); err != nil {
			return so, fmt.Errorf("signed object field %v: %w", t, err)
		}
		have++
	}
	if so.Signature == "" || so.SignatureAlgorithm == "" || so.RawPayloadSize <= 0 {
		return so, fmt.Errorf("signed object lacks rawPayloadSize, signature or signatureAlgorithm")
	}
	return so, nil
}
