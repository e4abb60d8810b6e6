// Package iam is the IAM of otactl local: the role operations an OTA
// setup needs (roles, their trust policy, attached managed policies,
// inline policies and tags), over IAM's wire, the AWS query protocol: a
// form-encoded POST with Action and Version, an XML answer wrapped in
// <ActionResponse><ActionResult>, and errors as
// <ErrorResponse><Error><Type/><Code/><Message/></Error>.
//
// Served: CreateRole, GetRole, DeleteRole, AttachRolePolicy,
// DetachRolePolicy, ListAttachedRolePolicies, PutRolePolicy,
// GetRolePolicy, DeleteRolePolicy, ListRolePolicies, TagRole, UntagRole,
// ListRoleTags. Customer managed policies (CreatePolicy) are not: only the
// AWS managed policies listed in managed.go can be attached. Policies are
// stored and checked for shape; nothing evaluates them (otactl local
// does not enforce IAM).
package iam

import (
	"encoding/xml"
	"errors"
	"io"
	"net/http"
	"net/url"

	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/local/wire"
)

const (
	xmlns   = "https://iam.amazonaws.com/doc/2010-05-08/"
	version = "2010-05-08"
)

// Service is the IAM of one environment. It is an http.Handler.
type Service struct {
	st  *store.Store
	env wire.Env
}

// New returns the IAM of env's account, stored in st.
func New(st *store.Store, env wire.Env) *Service { return &Service{st: st, env: env} }

// op is one action: it reads the form and returns the Result element's
// content (nil for actions that answer with ResponseMetadata only).
type op func(form url.Values) (any, error)

func (s *Service) ops() map[string]op {
	return map[string]op{
		"CreateRole":               s.createRole,
		"GetRole":                  s.getRole,
		"DeleteRole":               s.deleteRole,
		"AttachRolePolicy":         s.attachRolePolicy,
		"DetachRolePolicy":         s.detachRolePolicy,
		"ListAttachedRolePolicies": s.listAttachedRolePolicies,
		"PutRolePolicy":            s.putRolePolicy,
		"GetRolePolicy":            s.getRolePolicy,
		"DeleteRolePolicy":         s.deleteRolePolicy,
		"ListRolePolicies":         s.listRolePolicies,
		"TagRole":                  s.tagRole,
		"UntagRole":                s.untagRole,
		"ListRoleTags":             s.listRoleTags,
	}
}

// ServeHTTP serves the query protocol: Action and Version as form fields
// (POST) or query parameters (GET).
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	params := r.URL.Query()
	if r.Method == http.MethodPost {
		raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		form, perr := url.ParseQuery(string(raw))
		if err != nil || perr != nil {
			writeError(w, errorf(http.StatusBadRequest, "MalformedQueryString", "The request body is not a valid form."))
			return
		}
		for k, v := range form {
			params[k] = v
		}
	}
	action := params.Get("Action")
	if action == "" {
		writeError(w, errorf(http.StatusBadRequest, "MissingAction", "Missing Action"))
		return
	}
	if v := params.Get("Version"); v != "" && v != version {
		writeError(w, errorf(http.StatusBadRequest, "InvalidParameterValue", "Unsupported Version %s", v))
		return
	}
	fn, ok := s.ops()[action]
	if !ok {
		writeError(w, errorf(http.StatusBadRequest, "InvalidAction", "Could not find operation %s for version %s (otactl local's IAM serves role operations only)", action, version))
		return
	}
	result, err := fn(params)
	if err != nil {
		writeError(w, err)
		return
	}
	writeResponse(w, action, result)
}

// writeResponse wraps result as <ActionResponse><ActionResult>result
// </ActionResult><ResponseMetadata/></ActionResponse>.
func writeResponse(w http.ResponseWriter, action string, result any) {
	id := wire.ResponseRequestID(w) // before the header is written
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, xml.Header)
	enc := xml.NewEncoder(w)
	resp := xml.StartElement{Name: xml.Name{Local: action + "Response"}, Attr: []xml.Attr{{Name: xml.Name{Local: "xmlns"}, Value: xmlns}}}
	enc.EncodeToken(resp)
	if result != nil {
		// EncodeElement names the element after the action, whatever
		// result's Go type is called.
		enc.EncodeElement(result, xml.StartElement{Name: xml.Name{Local: action + "Result"}})
	}
	enc.EncodeElement(struct {
		RequestID string `xml:"RequestId"`
	}{id}, xml.StartElement{Name: xml.Name{Local: "ResponseMetadata"}})
	enc.EncodeToken(resp.End())
	enc.Flush()
}

// Namespace is IAM's XML namespace (its errors are written in it).
const Namespace = xmlns

func writeError(w http.ResponseWriter, err error) {
	var we *wire.Error
	if !errors.As(err, &we) {
		we = &wire.Error{Status: http.StatusInternalServerError, Code: "ServiceFailure", Message: err.Error()}
	}
	wire.WriteQueryError(w, xmlns, we.Status, we.Code, we.Message)
}

// The errors IAM answers with, with AWS's statuses.
func errorf(status int, code, format string, args ...any) *wire.Error {
	return wire.Errorf(status, code, format, args...)
}

func noSuchEntity(format string, args ...any) *wire.Error {
	return errorf(http.StatusNotFound, "NoSuchEntity", format, args...)
}

func alreadyExists(format string, args ...any) *wire.Error {
	return errorf(http.StatusConflict, "EntityAlreadyExists", format, args...)
}

func deleteConflict(format string, args ...any) *wire.Error {
	return errorf(http.StatusConflict, "DeleteConflict", format, args...)
}

func malformedPolicy(format string, args ...any) *wire.Error {
	return errorf(http.StatusBadRequest, "MalformedPolicyDocument", format, args...)
}

func invalidInput(format string, args ...any) *wire.Error {
	return errorf(http.StatusBadRequest, "InvalidInput", format, args...)
}

func validationError(format string, args ...any) *wire.Error {
	return errorf(http.StatusBadRequest, "ValidationError", format, args...)
}

func limitExceeded(format string, args ...any) *wire.Error {
	return errorf(http.StatusConflict, "LimitExceeded", format, args...)
}
