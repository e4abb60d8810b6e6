// Package acm is the AWS Certificate Manager of otactl local: enough of it to
// import a code-signing certificate and its key (ImportCertificate) and read
// it back (DescribeCertificate, GetCertificate, ListCertificates; also
// DeleteCertificate and the tag operations), so users
// sign firmware with a key their devices already trust. It speaks ACM's JSON
// 1.1 protocol (POST / with X-Amz-Target) and gives the signer package the
// certificate and private key behind an ARN.
package acm

import (
	"crypto"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"

	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/local/wire"
)

// table holds one record per certificate, keyed by ARN.
const table = "acm-certificates"

// Service is the ACM of one environment. It is an http.Handler.
type Service struct {
	st  *store.Store
	env wire.Env
	now func() time.Time
	mu  sync.Mutex // serialises re-imports so a read-modify-write is atomic
}

// New returns the ACM service keeping its state in st.
func New(st *store.Store, env wire.Env) *Service {
	return &Service{st: st, env: env, now: time.Now}
}

// record is what the store keeps for one certificate.
type record struct {
	ARN        string    `json:"arn"`
	CertPEM    string    `json:"certPem"`
	ChainPEM   string    `json:"chainPem,omitempty"`
	KeyPEM     string    `json:"keyPem"` // PKCS#8
	ImportedAt time.Time `json:"importedAt"`
	CreatedAt  time.Time `json:"createdAt"`
	Tags       []tag     `json:"tags,omitempty"`
}

type tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value,omitempty"`
}

// ErrNotFound is returned (wrapped) by KeyPair for an unknown ARN.
var ErrNotFound = errors.New("acm: certificate not found")

// KeyPair returns the certificate and private key imported under arn: what
// a signing profile needs to sign with it.
func (s *Service) KeyPair(arn string) (*x509.Certificate, crypto.Signer, error) {
	var rec record
	found, err := s.st.Get(table, arn, &rec)
	if err != nil {
		return nil, nil, err
	}
	if !found {
		return nil, nil, fmt.Errorf("%w: %s", ErrNotFound, arn)
	}
	m, err := parseMaterial([]byte(rec.CertPEM), []byte(rec.KeyPEM), nil)
	if err != nil {
		return nil, nil, fmt.Errorf("acm: stored certificate %s: %w", arn, err)
	}
	return m.cert, m.key, nil
}

// Import validates and stores a certificate with its key (and optional
// chain), as ImportCertificate does, and returns the new ARN.
func (s *Service) Import(certPEM, keyPEM, chainPEM []byte) (string, error) {
	return s.importCert("", certPEM, keyPEM, chainPEM, nil)
}

// CertificatePEM returns the PEM certificate imported under arn.
func (s *Service) CertificatePEM(arn string) ([]byte, error) {
	var rec record
	found, err := s.st.Get(table, arn, &rec)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, arn)
	}
	return []byte(rec.CertPEM), nil
}

func (s *Service) importCert(arn string, certPEM, keyPEM, chainPEM []byte, tags []tag) (string, error) {
	m, err := parseMaterial(certPEM, keyPEM, chainPEM)
	if err != nil {
		return "", err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now().UTC()
	rec := record{ARN: arn, CreatedAt: now, Tags: tags}
	if arn == "" {
		rec.ARN = s.env.ARN("acm", "certificate/"+uuid.NewString())
	} else {
		var old record
		found, err := s.st.Get(table, arn, &old)
		if err != nil {
			return "", err
		}
		if !found {
			return "", notFound(arn)
		}
		// A re-import keeps the ARN, the creation time and the tags.
		rec.CreatedAt, rec.Tags = old.CreatedAt, mergeTags(old.Tags, tags)
		if len(rec.Tags) > maxTags {
			return "", tooManyTags(len(rec.Tags))
		}
	}
	rec.ImportedAt = now
	rec.CertPEM, rec.ChainPEM, rec.KeyPEM = m.certPEM, m.chainPEM, m.keyPEM
	if err := s.st.Put(table, rec.ARN, rec); err != nil {
		return "", err
	}
	return rec.ARN, nil
}

// ServeHTTP dispatches a JSON 1.1 request on its X-Amz-Target.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeError(w, validation("ACM accepts only POST requests"))
		return
	}
	target := r.Header.Get("X-Amz-Target")
	op, ok := strings.CutPrefix(target, "CertificateManager.")
	if !ok {
		writeError(w, &wire.Error{Status: http.StatusBadRequest, Code: "UnknownOperationException",
			Message: fmt.Sprintf("unknown X-Amz-Target %q", target)})
		return
	}
	var (
		out any
		err error
	)
	switch op {
	case "ImportCertificate":
		out, err = s.handleImport(r)
	case "DescribeCertificate":
		out, err = s.handleDescribe(r)
	case "GetCertificate":
		out, err = s.handleGet(r)
	case "ListCertificates":
		out, err = s.handleList(r)
	case "DeleteCertificate":
		out, err = s.handleDelete(r)
	case "AddTagsToCertificate":
		out, err = s.handleAddTags(r)
	case "RemoveTagsFromCertificate":
		out, err = s.handleRemoveTags(r)
	case "ListTagsForCertificate":
		out, err = s.handleListTags(r)
	default:
		err = &wire.Error{Status: http.StatusBadRequest, Code: "UnknownOperationException",
			Message: fmt.Sprintf("operation %s is not supported by otactl local", op)}
	}
	if err != nil {
		writeError(w, err)
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.WriteHeader(http.StatusOK)
	json.NewEncoder(w).Encode(out)
}

// decode reads a request body. JSON 1.1 services answer a body that does not
// fit the operation's shape (bad JSON, a wrong type, an unknown member, bad
// base64) with a SerializationException.
func decode(r *http.Request, v any) error {
	err := wire.DecodeJSON(r, v)
	var e *wire.Error
	if errors.As(err, &e) {
		return &wire.Error{Status: http.StatusBadRequest, Code: "SerializationException", Message: e.Message}
	}
	return err
}

func validation(format string, args ...any) *wire.Error {
	return wire.Errorf(http.StatusBadRequest, "ValidationException", format, args...)
}

func notFound(arn string) *wire.Error {
	return wire.Errorf(http.StatusBadRequest, "ResourceNotFoundException", "Could not find certificate with arn %s.", arn)
}

// checkARN validates an ACM certificate ARN the way ACM does before looking it up.
func (s *Service) checkARN(arn string) error {
	if arn == "" {
		return validation("1 validation error detected: Value null at 'certificateArn' failed to satisfy constraint: Member must not be null")
	}
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "acm" || !strings.HasPrefix(parts[5], "certificate/") {
		return wire.Errorf(http.StatusBadRequest, "InvalidArnException", "String '%s' is not a valid ARN.", arn)
	}
	return nil
}

// writeError writes err in the JSON 1.1 error shape (__type + message).
func writeError(w http.ResponseWriter, err error) {
	var e *wire.Error
	if !errors.As(err, &e) {
		e = &wire.Error{Status: http.StatusInternalServerError, Code: "InternalFailure", Message: err.Error()}
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", e.Code)
	w.WriteHeader(e.Status)
	json.NewEncoder(w).Encode(map[string]string{"__type": e.Code, "message": e.Message})
}

func wireErr(code, format string, args ...any) *wire.Error {
	return wire.Errorf(http.StatusBadRequest, code, format, args...)
}
