package iot

import (
	"net/http"

	"github.com/otactl/otactl/ota"
)

// The wire of the CA-certificate operations and RegisterCertificate (rules
// in cacerts.go).

// caDescription is DescribeCACertificate's certificateDescription.
type caDescription struct {
	CertificateArn         string              `json:"certificateArn"`
	CertificateID          string              `json:"certificateId"`
	Status                 string              `json:"status"`
	CertificatePem         string              `json:"certificatePem"`
	OwnedBy                string              `json:"ownedBy"`
	CreationDate           *float64            `json:"creationDate"`
	LastModifiedDate       *float64            `json:"lastModifiedDate"`
	AutoRegistrationStatus string              `json:"autoRegistrationStatus"`
	CustomerVersion        int                 `json:"customerVersion"`
	GenerationID           string              `json:"generationId"`
	Validity               map[string]*float64 `json:"validity"`
	CertificateMode        string              `json:"certificateMode"`
}

// caSummary is an item of ListCACertificates.
type caSummary struct {
	CertificateArn string   `json:"certificateArn"`
	CertificateID  string   `json:"certificateId"`
	Status         string   `json:"status"`
	CreationDate   *float64 `json:"creationDate"`
}

// getRegistrationCode: GET /registrationcode
func (s *Service) getRegistrationCode(r *http.Request) (any, error) {
	code, err := s.GetRegistrationCode()
	if err != nil {
		return nil, err
	}
	return map[string]string{"registrationCode": code}, nil
}

// registerCACertificate: POST /cacertificate?allowAutoRegistration=&setAsActive=
// The registration config's template is stored, not run.
func (s *Service) registerCACertificate(r *http.Request) (any, error) {
	active, err := boolQuery(r, "setAsActive")
	if err != nil {
		return nil, err
	}
	auto, err := boolQuery(r, "allowAutoRegistration")
	if err != nil {
		return nil, err
	}
	var in struct {
		CACertificate           string              `json:"caCertificate"`           // required, PEM
		VerificationCertificate string              `json:"verificationCertificate"` // DEFAULT mode: CN = registration code
		CertificateMode         string              `json:"certificateMode"`         // DEFAULT | SNI_ONLY
		RegistrationConfig      *RegistrationConfig `json:"registrationConfig"`
		Tags                    []ota.Tag           `json:"tags"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.CACertificate == "" {
		return nil, invalid("caCertificate is required")
	}
	ca, err := s.RegisterCACertificate(CARegistration{
		CACertificate: in.CACertificate, VerificationCertificate: in.VerificationCertificate,
		Mode: in.CertificateMode, Active: active, AutoRegistration: auto,
		Config: in.RegistrationConfig, Tags: in.Tags,
	})
	if err != nil {
		return nil, err
	}
	return certRef{CertificateArn: ca.Arn, CertificateID: ca.ID}, nil
}

// describeCACertificate: GET /cacertificate/{caCertificateId}
func (s *Service) describeCACertificate(r *http.Request) (any, error) {
	ca, err := s.DescribeCACertificate(r.PathValue("caCertificateId"))
	if err != nil {
		return nil, err
	}
	out := map[string]any{"certificateDescription": caDescription{
		CertificateArn: ca.Arn, CertificateID: ca.ID, Status: ca.Status, CertificatePem: ca.PEM,
		OwnedBy: s.env.AccountID, CreationDate: at(ca.CreatedAt), LastModifiedDate: at(ca.LastModified),
		AutoRegistrationStatus: ca.AutoReg, CustomerVersion: ca.Version, GenerationID: ca.GenerationID,
		Validity:        map[string]*float64{"notBefore": at(ca.NotBefore), "notAfter": at(ca.NotAfter)},
		CertificateMode: ca.Mode,
	}}
	if ca.Config != nil {
		out["registrationConfig"] = ca.Config
	}
	return out, nil
}

// listCACertificates: GET /cacertificates?isAscendingOrder=&marker=&pageSize=&templateName=
func (s *Service) listCACertificates(r *http.Request) (any, error) {
	p, err := parseDatePage(r)
	if err != nil {
		return nil, err
	}
	cas, next, err := s.ListCACertificates(p, r.URL.Query().Get("templateName"))
	if err != nil {
		return nil, err
	}
	items := make([]caSummary, 0, len(cas))
	for _, c := range cas {
		items = append(items, caSummary{CertificateArn: c.Arn, CertificateID: c.ID, Status: c.Status, CreationDate: at(c.CreatedAt)})
	}
	out := map[string]any{"certificates": items}
	if next != "" {
		out["nextMarker"] = next
	}
	return out, nil
}

// updateCACertificate: PUT /cacertificate/{caCertificateId}?newStatus=&newAutoRegistrationStatus=
// {registrationConfig, removeAutoRegistration}
func (s *Service) updateCACertificate(r *http.Request) (any, error) {
	var in struct {
		RegistrationConfig     *RegistrationConfig `json:"registrationConfig"`
		RemoveAutoRegistration bool                `json:"removeAutoRegistration"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	q := r.URL.Query()
	return nil, s.UpdateCACertificate(r.PathValue("caCertificateId"), CAUpdate{
		Status: q.Get("newStatus"), AutoReg: q.Get("newAutoRegistrationStatus"),
		Config: in.RegistrationConfig, RemoveAutoReg: in.RemoveAutoRegistration,
	})
}

// deleteCACertificate: DELETE /cacertificate/{caCertificateId}
func (s *Service) deleteCACertificate(r *http.Request) (any, error) {
	return nil, s.DeleteCACertificate(r.PathValue("caCertificateId"))
}

// registerCertificate: POST /certificate/register?setAsActive= (deprecated
// in favour of status) {certificatePem, caCertificatePem, status}
func (s *Service) registerCertificate(r *http.Request) (any, error) {
	active, err := boolQuery(r, "setAsActive")
	if err != nil {
		return nil, err
	}
	var in struct {
		CertificatePem   string `json:"certificatePem"`   // required
		CACertificatePem string `json:"caCertificatePem"` // the signing CA, when several share its subject
		Status           string `json:"status"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	c, err := s.RegisterCertificate(in.CertificatePem, in.CACertificatePem, in.Status, active)
	if err != nil {
		return nil, err
	}
	return certRef{CertificateArn: c.Arn, CertificateID: c.ID}, nil
}

// listCertificatesByCA: GET /certificates-by-ca/{caCertificateId}?isAscendingOrder=&marker=&pageSize=
func (s *Service) listCertificatesByCA(r *http.Request) (any, error) {
	p, err := parseDatePage(r)
	if err != nil {
		return nil, err
	}
	certs, next, err := s.ListCertificatesByCA(r.PathValue("caCertificateId"), p)
	if err != nil {
		return nil, err
	}
	return certList(certs, next), nil
}
