package wire

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/xml"
	"io"
	"net/http"
)

// The AWS query protocol (STS, IAM): form-encoded requests, XML answers.
// Its error shape is written here once, for the services and for the
// router's authentication errors.

type queryError struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Error   struct {
		Type    string
		Code    string
		Message string
	}
	RequestID string `xml:"RequestId"`
}

// WriteQueryError writes <ErrorResponse><Error><Type/><Code/><Message/>
// </Error><RequestId/></ErrorResponse> in the service's namespace xmlns;
// Type is Sender for a client fault, Receiver for ours (status >= 500).
func WriteQueryError(w http.ResponseWriter, xmlns string, status int, code, message string) {
	var e queryError
	e.Xmlns = xmlns
	e.Error.Type = "Sender"
	if status >= 500 {
		e.Error.Type = "Receiver"
	}
	e.Error.Code, e.Error.Message = code, message
	e.RequestID = ResponseRequestID(w)
	WriteXML(w, status, e)
}

// WriteXML writes v as an XML document with status.
func WriteXML(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	io.WriteString(w, xml.Header)
	xml.NewEncoder(w).Encode(v)
}

// RequestIDHeader is where AWS's JSON and query services put a response's
// request id (S3 has its own, x-amz-request-id).
const RequestIDHeader = "X-Amzn-Requestid"

// ResponseRequestID is the request id of the response w: the one already
// in its header (the router sets one for every non-S3 request), or a fresh
// one set there now, so that a body that repeats the id (the query
// protocol's RequestId) agrees with the header clients log.
func ResponseRequestID(w http.ResponseWriter) string {
	if id := w.Header().Get(RequestIDHeader); id != "" {
		return id
	}
	id := RequestID()
	w.Header().Set(RequestIDHeader, id)
	return id
}

// RequestID is a fresh request id in AWS's UUID form.
func RequestID() string {
	var b [16]byte
	rand.Read(b[:])
	h := hex.EncodeToString(b[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}
