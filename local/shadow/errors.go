package shadow

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/otactl/otactl/local/wire"
)

// Error is a Device Shadow failure as the developer guide's "Device Shadow
// error messages" lists them: an HTTP status and one of its messages. Over
// MQTT it is the rejected document {code, message, timestamp, clientToken};
// over HTTP the iot-data exception of that status (wireError).
type Error struct {
	Status  int
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%d: %s", e.Status, e.Message) }

// The messages of the guide's table (400 unless said otherwise).
const (
	msgInvalidJSON     = "Invalid JSON"
	msgMissingState    = "Missing required node: state"
	msgStateObject     = "State node must be an object"
	msgDesiredObject   = "Desired node must be an object"
	msgReportedObject  = "Reported node must be an object"
	msgInvalidVersion  = "Invalid version"
	msgInvalidToken    = "Invalid clientToken"
	msgTooDeep         = "JSON contains too many levels of nesting; maximum is 6"
	msgInvalidNode     = "State contains an invalid node"
	msgVersionConflict = "Version conflict"                             // 409
	msgTooLarge        = "The payload exceeds the maximum size allowed" // 413
	msgEncoding        = "Unsupported documented encoding; supported encoding is UTF-8"
)

var errTrailing = errors.New("data after the JSON document")

func badRequest(msg string) *Error { return &Error{Status: http.StatusBadRequest, Message: msg} }

func conflict() *Error { return &Error{Status: http.StatusConflict, Message: msgVersionConflict} }

func tooLarge() *Error { return &Error{Status: http.StatusRequestEntityTooLarge, Message: msgTooLarge} }

func badEncoding() *Error {
	return &Error{Status: http.StatusUnsupportedMediaType, Message: msgEncoding}
}

// noShadow is the 404 of a get or delete of a shadow that does not exist.
// AWS names the shadow: the thing name for the classic shadow, the shadow
// name for a named one ("No shadow exists with name: 'Limits'").
func noShadow(thing, name string) *Error {
	if name == "" {
		name = thing
	}
	return &Error{Status: http.StatusNotFound, Message: fmt.Sprintf("No shadow exists with name: '%s'", name)}
}

func internal(err error) *Error {
	return &Error{Status: http.StatusInternalServerError, Message: "Internal service failure: " + err.Error()}
}

// wireError is the iot-data exception (API model: iot-data-2015-05-28) for a
// Device Shadow error's status.
func wireError(e *Error) *wire.Error {
	code := "InternalFailureException"
	switch e.Status {
	case http.StatusBadRequest:
		code = "InvalidRequestException"
	case http.StatusUnauthorized:
		code = "UnauthorizedException"
	case http.StatusNotFound:
		code = "ResourceNotFoundException"
	case http.StatusMethodNotAllowed:
		code = "MethodNotAllowedException"
	case http.StatusConflict:
		code = "ConflictException"
	case http.StatusRequestEntityTooLarge:
		code = "RequestEntityTooLargeException"
	case http.StatusUnsupportedMediaType:
		code = "UnsupportedDocumentEncodingException"
	case http.StatusTooManyRequests:
		code = "ThrottlingException"
	case http.StatusServiceUnavailable:
		code = "ServiceUnavailableException"
	}
	return &wire.Error{Status: e.Status, Code: code, Message: e.Message}
}

// asError turns any error into a shadow Error (a store failure is a 500).
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return internal(err)
}
