// Package sts is the STS of otactl local: GetCallerIdentity over the query
// protocol (form POST, XML response), with the query protocol's XML errors.
package sts

import (
	"encoding/xml"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"

	"github.com/otactl/otactl/local/wire"
)

const xmlns = "https://sts.amazonaws.com/doc/2011-06-15/"

// Service answers STS requests. It is an http.Handler.
type Service struct {
	env wire.Env
}

// New returns the STS of env's account.
func New(env wire.Env) *Service { return &Service{env: env} }

type identityResponse struct {
	XMLName xml.Name `xml:"GetCallerIdentityResponse"`
	Xmlns   string   `xml:"xmlns,attr"`
	Result  struct {
		Arn     string
		UserID  string `xml:"UserId"`
		Account string
	} `xml:"GetCallerIdentityResult"`
	RequestID string `xml:"ResponseMetadata>RequestId"`
}

// ServeHTTP serves the query protocol: Action and Version as form fields
// (POST) or query parameters (GET).
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	params := r.URL.Query()
	if r.Method == http.MethodPost {
		raw, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		form, perr := url.ParseQuery(string(raw))
		if err != nil || perr != nil {
			WriteError(w, http.StatusBadRequest, "MalformedQueryString", "The request body is not a valid form.")
			return
		}
		for k, v := range form {
			params[k] = v
		}
	}
	switch action := params.Get("Action"); action {
	case "":
		WriteError(w, http.StatusBadRequest, "MissingAction", "Missing Action")
	case "GetCallerIdentity":
		if v := params.Get("Version"); v != "" && v != "2011-06-15" {
			WriteError(w, http.StatusBadRequest, "InvalidParameterValue", "Unsupported Version "+v)
			return
		}
		ak := accessKey(r)
		var res identityResponse
		res.Xmlns = xmlns
		res.Result.Account = s.env.AccountID
		res.Result.UserID = ak
		res.Result.Arn = "arn:aws:iam::" + s.env.AccountID + ":user/otactl-local"
		res.RequestID = wire.ResponseRequestID(w)
		wire.WriteXML(w, http.StatusOK, res)
	default:
		WriteError(w, http.StatusBadRequest, "InvalidAction", "Could not find operation "+action+" for version 2011-06-15")
	}
}

var credentialRe = regexp.MustCompile(`Credential=([^/,\s]+)/`)

// accessKey is the access key id that signed r.
func accessKey(r *http.Request) string {
	if m := credentialRe.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		return m[1]
	}
	c := r.URL.Query().Get("X-Amz-Credential")
	ak, _, _ := strings.Cut(c, "/")
	return ak
}

// WriteError writes the query protocol's error shape in STS's namespace.
func WriteError(w http.ResponseWriter, status int, code, message string) {
	wire.WriteQueryError(w, xmlns, status, code, message)
}
