// Package wire holds what every service of otactl local shares on the wire:
// the account and region ARNs are built from, AWS's REST-JSON error shape,
// and JSON request decoding that rejects what AWS rejects.
package wire

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// Env is the account and region the environment pretends to be.
type Env struct {
	Region    string
	AccountID string
}

// ARN builds arn:aws:<service>:<region>:<account>:<resource>.
func (e Env) ARN(service, resource string) string {
	return fmt.Sprintf("arn:aws:%s:%s:%s:%s", service, e.Region, e.AccountID, resource)
}

// Error is an AWS service error: Code is the exception name
// (ResourceNotFoundException...), Status the HTTP status.
type Error struct {
	Status  int
	Code    string
	Message string
	// Extra fields AWS adds to some errors (resourceId, resourceArn).
	Fields map[string]string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Errorf builds an Error.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Common REST-JSON errors (IoT, Signer, ACM use these names).
func NotFound(format string, args ...any) *Error {
	return Errorf(http.StatusNotFound, "ResourceNotFoundException", format, args...)
}
func InvalidRequest(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, "InvalidRequestException", format, args...)
}
func Conflict(format string, args ...any) *Error {
	return Errorf(http.StatusConflict, "ConflictException", format, args...)
}
func Internal(err error) *Error {
	return Errorf(http.StatusInternalServerError, "InternalFailureException", "%v", err)
}

// WriteJSON writes v as a JSON response with status. Characters go out as
// they are (no \u0026 for &): AWS sends documents and URLs unescaped, and
// device parsers that do not unescape depend on it.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if v != nil {
		enc := json.NewEncoder(w)
		enc.SetEscapeHTML(false)
		enc.Encode(v)
	}
}

// WriteError writes err in AWS's REST-JSON error shape: the X-Amzn-ErrorType
// header and a body with message (and lowercase code fields some SDKs read).
// A non-*Error becomes an InternalFailureException.
func WriteError(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = Internal(err)
	}
	body := map[string]string{"message": e.Message, "__type": e.Code}
	for k, v := range e.Fields {
		body[k] = v
	}
	w.Header().Set("X-Amzn-ErrorType", e.Code)
	WriteJSON(w, e.Status, body)
}

// MaxBody is the largest request body a JSON API accepts.
const MaxBody = 1 << 20

// DecodeJSON reads a JSON request body into v. Malformed JSON, a wrong type
// or an unknown field is an InvalidRequestException naming the problem; an
// empty body decodes as {}.
func DecodeJSON(r *http.Request, v any) error {
	raw, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
	if err != nil {
		return InvalidRequest("reading request body: %v", err)
	}
	if len(raw) > MaxBody {
		return Errorf(http.StatusRequestEntityTooLarge, "InvalidRequestException", "request body exceeds %d bytes", MaxBody)
	}
	if len(strings.TrimSpace(string(raw))) == 0 {
		raw = []byte("{}")
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return InvalidRequest("field %s: expected %s, got %s", te.Field, te.Type, te.Value)
		}
		return InvalidRequest("malformed JSON request: %v", err)
	}
	return nil
}
