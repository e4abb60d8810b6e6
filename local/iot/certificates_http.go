package iot

import (
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"

	"github.com/otactl/otactl/local/store"
)

// The wire of the device-certificate and thing-principal operations
// (rules in certificates.go).

// certDescription is DescribeCertificate's certificateDescription. Transfers are
// not emulated: transferData is always empty and previousOwnedBy absent.
type certDescription struct {
	CertificateArn   string              `json:"certificateArn"`
	CertificateID    string              `json:"certificateId"`
	CACertificateID  string              `json:"caCertificateId,omitempty"`
	Status           string              `json:"status"`
	CertificatePem   string              `json:"certificatePem"`
	OwnedBy          string              `json:"ownedBy"`
	CreationDate     *float64            `json:"creationDate"`
	LastModifiedDate *float64            `json:"lastModifiedDate"`
	CustomerVersion  int                 `json:"customerVersion"`
	GenerationID     string              `json:"generationId"`
	TransferData     struct{}            `json:"transferData"`
	Validity         map[string]*float64 `json:"validity"`
	CertificateMode  string              `json:"certificateMode"`
}

// certSummary is an item of ListCertificates and ListCertificatesByCA.
type certSummary struct {
	CertificateArn  string   `json:"certificateArn"`
	CertificateID   string   `json:"certificateId"`
	Status          string   `json:"status"`
	CertificateMode string   `json:"certificateMode"`
	CreationDate    *float64 `json:"creationDate"`
}

type certRef struct {
	CertificateArn string `json:"certificateArn"`
	CertificateID  string `json:"certificateId"`
	CertificatePem string `json:"certificatePem,omitempty"`
}

// createKeysAndCertificate: POST /keys-and-certificate?setAsActive=
func (s *Service) createKeysAndCertificate(r *http.Request) (any, error) {
	active, err := boolQuery(r, "setAsActive")
	if err != nil {
		return nil, err
	}
	c, err := s.CreateKeysAndCertificate(active)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"certificateArn": c.Arn, "certificateId": c.ID, "certificatePem": c.PEM,
		"keyPair": map[string]string{"PublicKey": c.PublicKeyPEM, "PrivateKey": c.PrivateKey},
	}, nil
}

// createCertificateFromCsr: POST /certificates?setAsActive=
// {certificateSigningRequest}
func (s *Service) createCertificateFromCsr(r *http.Request) (any, error) {
	active, err := boolQuery(r, "setAsActive")
	if err != nil {
		return nil, err
	}
	var in struct {
		CertificateSigningRequest string `json:"certificateSigningRequest"` // required, PEM
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	c, err := s.CreateCertificateFromCsr(in.CertificateSigningRequest, active)
	if err != nil {
		return nil, err
	}
	return certRef{CertificateArn: c.Arn, CertificateID: c.ID, CertificatePem: c.PEM}, nil
}

// registerCertificateWithoutCA: POST /certificate/register-no-ca
func (s *Service) registerCertificateWithoutCA(r *http.Request) (any, error) {
	var in struct {
		CertificatePem string `json:"certificatePem"` // required
		Status         string `json:"status"`         // default INACTIVE
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	c, err := s.RegisterCertificateWithoutCA(in.CertificatePem, in.Status)
	if err != nil {
		return nil, err
	}
	return certRef{CertificateArn: c.Arn, CertificateID: c.ID}, nil
}

// describeCertificate: GET /certificates/{certificateId}
func (s *Service) describeCertificate(r *http.Request) (any, error) {
	c, err := s.DescribeCertificate(r.PathValue("certificateId"))
	if err != nil {
		return nil, err
	}
	return map[string]any{"certificateDescription": certDescription{
		CertificateArn: c.Arn, CertificateID: c.ID, CACertificateID: c.CAID, Status: c.Status,
		CertificatePem: c.PEM, OwnedBy: s.env.AccountID,
		CreationDate: at(c.CreatedAt), LastModifiedDate: at(c.LastModified),
		CustomerVersion: c.Version, GenerationID: c.GenerationID,
		Validity:        map[string]*float64{"notBefore": at(c.NotBefore), "notAfter": at(c.NotAfter)},
		CertificateMode: c.mode(),
	}}, nil
}

// updateCertificate: PUT /certificates/{certificateId}?newStatus=
func (s *Service) updateCertificate(r *http.Request) (any, error) {
	return nil, s.UpdateCertificate(r.PathValue("certificateId"), r.URL.Query().Get("newStatus"))
}

// deleteCertificate: DELETE /certificates/{certificateId}?forceDelete=
func (s *Service) deleteCertificate(r *http.Request) (any, error) {
	force, err := boolQuery(r, "forceDelete")
	if err != nil {
		return nil, err
	}
	return nil, s.DeleteCertificate(r.PathValue("certificateId"), force)
}

// listCertificates: GET /certificates?isAscendingOrder=&marker=&pageSize=
func (s *Service) listCertificates(r *http.Request) (any, error) {
	p, err := parseDatePage(r)
	if err != nil {
		return nil, err
	}
	certs, next, err := s.ListCertificates(p, nil)
	if err != nil {
		return nil, err
	}
	return certList(certs, next), nil
}

func certList(certs []Certificate, next string) map[string]any {
	items := make([]certSummary, 0, len(certs))
	for _, c := range certs {
		items = append(items, certSummary{CertificateArn: c.Arn, CertificateID: c.ID, Status: c.Status,
			CertificateMode: c.mode(), CreationDate: at(c.CreatedAt)})
	}
	out := map[string]any{"certificates": items}
	if next != "" {
		out["nextMarker"] = next
	}
	return out
}

// Marker paging of the certificate listings: pageSize 1-250 (25 by
// default, as ListCACertificates documents), marker AWS's base64 pattern.
const defaultCertPageSize = 25

func parseDatePage(r *http.Request) (datePage, error) {
	q := r.URL.Query()
	p := datePage{size: defaultCertPageSize}
	if v := q.Get("isAscendingOrder"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return p, invalid("ascendingOrder must be true or false, got %q", v)
		}
		p.asc = b
	}
	if v := q.Get("pageSize"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxPageSize {
			return p, invalid("pageSize must be 1-%d, got %q", maxPageSize, v)
		}
		p.size = n
	}
	if m := q.Get("marker"); m != "" {
		raw, err := base64.StdEncoding.DecodeString(m)
		if err != nil || len(m) > 1024 || !strings.HasPrefix(string(raw), "d:") {
			return p, invalid("marker %q is not a marker this listing returned", m)
		}
		p.marker = string(raw[2:])
	}
	return p, nil
}

func encodeMarker(key string) string { return base64.StdEncoding.EncodeToString([]byte("d:" + key)) }

// attachThingPrincipal: PUT /things/{thingName}/principals
// (x-amzn-principal header). thingPrincipalType is checked but not
// enforced: EXCLUSIVE_THING does not keep a certificate to one thing.
func (s *Service) attachThingPrincipal(r *http.Request) (any, error) {
	if t := r.URL.Query().Get("thingPrincipalType"); t != "" && t != "EXCLUSIVE_THING" && t != "NON_EXCLUSIVE_THING" {
		return nil, invalid("thingPrincipalType must be EXCLUSIVE_THING or NON_EXCLUSIVE_THING, got %q", t)
	}
	if err := s.AttachThingPrincipal(r.PathValue("thingName"), r.Header.Get(principalHeader)); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// detachThingPrincipal: DELETE /things/{thingName}/principals
func (s *Service) detachThingPrincipal(r *http.Request) (any, error) {
	p := r.Header.Get(principalHeader)
	if p == "" {
		return nil, invalid("the principal (%s header) is required", principalHeader)
	}
	if err := s.DetachThingPrincipal(r.PathValue("thingName"), p); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// listThingPrincipals: GET /things/{thingName}/principals
func (s *Service) listThingPrincipals(r *http.Request) (any, error) {
	thing := r.PathValue("thingName")
	p, err := parsePage(r)
	if err != nil {
		return nil, err
	}
	return listView(s.st, "principals", func(tx *store.Tx) ([]string, string, error) {
		if _, err := s.getThing(tx, thing); err != nil {
			return nil, "", err
		}
		return pageOf(tx, tThingPrincipals, thing+"\x00", p, keyRest(thing+"\x00"))
	})
}

// listPrincipalThings: GET /principals/things (x-amzn-principal header)
func (s *Service) listPrincipalThings(r *http.Request) (any, error) {
	p, err := parsePage(r)
	if err != nil {
		return nil, err
	}
	principal := r.Header.Get(principalHeader)
	return listView(s.st, "things", func(tx *store.Tx) ([]string, string, error) {
		if err := s.checkPrincipal(tx, principal); err != nil {
			return nil, "", err
		}
		return pageOf(tx, tPrincipalThings, principal+"\x00", p, keyRest(principal+"\x00"))
	})
}
