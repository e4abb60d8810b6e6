package acm

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// epoch is a timestamp on the wire: JSON 1.1 sends seconds since the epoch.
type epoch time.Time

func (t epoch) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(time.Time(t).UnixMilli())/1000, 'f', -1, 64), nil
}

func ts(t time.Time) *epoch {
	if t.IsZero() {
		return nil
	}
	e := epoch(t)
	return &e
}

type importInput struct {
	Certificate      []byte `json:"Certificate"`
	PrivateKey       []byte `json:"PrivateKey"`
	CertificateChain []byte `json:"CertificateChain"`
	CertificateArn   string `json:"CertificateArn"`
	Tags             []tag  `json:"Tags"`
}

func (s *Service) handleImport(r *http.Request) (any, error) {
	var in importInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if in.CertificateArn != "" {
		if err := s.checkARN(in.CertificateArn); err != nil {
			return nil, err
		}
	}
	if err := checkTagList(in.Tags); err != nil {
		return nil, err
	}
	arn, err := s.importCert(in.CertificateArn, in.Certificate, in.PrivateKey, in.CertificateChain, in.Tags)
	if err != nil {
		return nil, err
	}
	return map[string]string{"CertificateArn": arn}, nil
}

type arnInput struct {
	CertificateArn string `json:"CertificateArn"`
}

// load reads the record behind a request's CertificateArn.
func (s *Service) load(r *http.Request) (*record, *x509.Certificate, error) {
	var in arnInput
	if err := decode(r, &in); err != nil {
		return nil, nil, err
	}
	if err := s.checkARN(in.CertificateArn); err != nil {
		return nil, nil, err
	}
	var rec record
	found, err := s.st.Get(table, in.CertificateArn, &rec)
	if err != nil {
		return nil, nil, err
	}
	if !found {
		return nil, nil, notFound(in.CertificateArn)
	}
	certs, err := parseCerts([]byte(rec.CertPEM), "certificate")
	if err != nil {
		return nil, nil, err
	}
	return &rec, certs[0], nil
}

// detail is ACM's CertificateDetail for an imported certificate.
type detail struct {
	CertificateArn          string        `json:"CertificateArn"`
	DomainName              string        `json:"DomainName,omitempty"`
	SubjectAlternativeNames []string      `json:"SubjectAlternativeNames,omitempty"`
	Serial                  string        `json:"Serial"`
	Subject                 string        `json:"Subject"`
	Issuer                  string        `json:"Issuer"`
	CreatedAt               *epoch        `json:"CreatedAt,omitempty"`
	ImportedAt              *epoch        `json:"ImportedAt,omitempty"`
	Status                  string        `json:"Status"`
	NotBefore               *epoch        `json:"NotBefore"`
	NotAfter                *epoch        `json:"NotAfter"`
	KeyAlgorithm            string        `json:"KeyAlgorithm"`
	SignatureAlgorithm      string        `json:"SignatureAlgorithm"`
	InUseBy                 []string      `json:"InUseBy"`
	Type                    string        `json:"Type"`
	KeyUsages               []keyUsage    `json:"KeyUsages,omitempty"`
	ExtendedKeyUsages       []extKeyUsage `json:"ExtendedKeyUsages,omitempty"`
	RenewalEligibility      string        `json:"RenewalEligibility"`
	Options                 any           `json:"Options,omitempty"`
}

type keyUsage struct {
	Name string `json:"Name"`
}

func status(c *x509.Certificate, now time.Time) string {
	if now.After(c.NotAfter) {
		return "EXPIRED"
	}
	return "ISSUED"
}

func (s *Service) handleDescribe(r *http.Request) (any, error) {
	rec, c, err := s.load(r)
	if err != nil {
		return nil, err
	}
	alg, _ := keyAlgorithm(c.PublicKey)
	d := detail{
		CertificateArn:          rec.ARN,
		DomainName:              domainName(c),
		SubjectAlternativeNames: sans(c),
		Serial:                  serial(c),
		Subject:                 c.Subject.String(),
		Issuer:                  issuer(c),
		CreatedAt:               ts(rec.CreatedAt),
		ImportedAt:              ts(rec.ImportedAt),
		Status:                  status(c, s.now()),
		NotBefore:               ts(c.NotBefore),
		NotAfter:                ts(c.NotAfter),
		KeyAlgorithm:            alg,
		SignatureAlgorithm:      signatureAlgorithm(c),
		InUseBy:                 []string{},
		Type:                    "IMPORTED",
		ExtendedKeyUsages:       extKeyUsages(c),
		RenewalEligibility:      "INELIGIBLE",
		Options:                 map[string]string{"CertificateTransparencyLoggingPreference": "DISABLED"},
	}
	for _, u := range keyUsages(c) {
		d.KeyUsages = append(d.KeyUsages, keyUsage{u})
	}
	return map[string]any{"Certificate": d}, nil
}

// issuer is what ACM shows as Issuer: the issuing organisation, else its CN.
func issuer(c *x509.Certificate) string {
	if len(c.Issuer.Organization) > 0 {
		return c.Issuer.Organization[0]
	}
	return c.Issuer.CommonName
}

func (s *Service) handleGet(r *http.Request) (any, error) {
	rec, _, err := s.load(r)
	if err != nil {
		return nil, err
	}
	out := map[string]string{"Certificate": rec.CertPEM}
	if rec.ChainPEM != "" {
		out["CertificateChain"] = rec.ChainPEM
	}
	return out, nil
}

type listInput struct {
	CertificateStatuses       []string `json:"CertificateStatuses"`
	CertificateKeyPairOrigins []string `json:"CertificateKeyPairOrigins"`
	Includes                  *struct {
		ExtendedKeyUsage []string `json:"extendedKeyUsage"`
		KeyUsage         []string `json:"keyUsage"`
		KeyTypes         []string `json:"keyTypes"`
		ManagedBy        string   `json:"managedBy"`
		ExportOption     string   `json:"exportOption"`
	} `json:"Includes"`
	MaxItems  *int   `json:"MaxItems"`
	NextToken string `json:"NextToken"`
	SortBy    string `json:"SortBy"`
	SortOrder string `json:"SortOrder"`
}

type summary struct {
	CertificateArn                       string   `json:"CertificateArn"`
	DomainName                           string   `json:"DomainName,omitempty"`
	SubjectAlternativeNameSummaries      []string `json:"SubjectAlternativeNameSummaries,omitempty"`
	HasAdditionalSubjectAlternativeNames bool     `json:"HasAdditionalSubjectAlternativeNames"`
	Status                               string   `json:"Status"`
	Type                                 string   `json:"Type"`
	KeyAlgorithm                         string   `json:"KeyAlgorithm"`
	KeyUsages                            []string `json:"KeyUsages,omitempty"`
	ExtendedKeyUsages                    []string `json:"ExtendedKeyUsages,omitempty"`
	InUse                                bool     `json:"InUse"`
	RenewalEligibility                   string   `json:"RenewalEligibility"`
	NotBefore                            *epoch   `json:"NotBefore,omitempty"`
	NotAfter                             *epoch   `json:"NotAfter,omitempty"`
	CreatedAt                            *epoch   `json:"CreatedAt,omitempty"`
	ImportedAt                           *epoch   `json:"ImportedAt,omitempty"`
	created                              time.Time
}

// defaultKeyTypes is what ListCertificates returns without Includes.keyTypes:
// like ACM, only RSA_1024 and RSA_2048 certificates.
var defaultKeyTypes = []string{"RSA_1024", "RSA_2048"}

func (s *Service) handleList(r *http.Request) (any, error) {
	var in listInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	limit := 1000
	if in.MaxItems != nil {
		if *in.MaxItems < 1 || *in.MaxItems > 1000 {
			return nil, validation("1 validation error detected: Value '%d' at 'maxItems' failed to satisfy constraint: Member must have value between 1 and 1000", *in.MaxItems)
		}
		limit = *in.MaxItems
	}
	if in.SortBy != "" && in.SortBy != "CREATED_AT" {
		return nil, validation("Value '%s' at 'sortBy' failed to satisfy constraint: Member must satisfy enum value set: [CREATED_AT]", in.SortBy)
	}
	if in.SortOrder != "" && in.SortOrder != "ASCENDING" && in.SortOrder != "DESCENDING" {
		return nil, validation("Value '%s' at 'sortOrder' failed to satisfy constraint: Member must satisfy enum value set: [ASCENDING, DESCENDING]", in.SortOrder)
	}
	keyTypes, eku, ku := defaultKeyTypes, []string(nil), []string(nil)
	if in.Includes != nil {
		if len(in.Includes.KeyTypes) > 0 {
			keyTypes = in.Includes.KeyTypes
		}
		eku, ku = in.Includes.ExtendedKeyUsage, in.Includes.KeyUsage
	}
	var all []summary
	now := s.now()
	err := s.st.List(table, "", func(_ string, raw []byte) error {
		var rec record
		if err := json.Unmarshal(raw, &rec); err != nil {
			return err
		}
		certs, err := parseCerts([]byte(rec.CertPEM), "certificate")
		if err != nil {
			return err
		}
		c := certs[0]
		alg, _ := keyAlgorithm(c.PublicKey)
		sm := summary{
			CertificateArn: rec.ARN, DomainName: domainName(c), SubjectAlternativeNameSummaries: sans(c),
			Status: status(c, now), Type: "IMPORTED", KeyAlgorithm: alg, KeyUsages: keyUsages(c),
			RenewalEligibility: "INELIGIBLE", NotBefore: ts(c.NotBefore), NotAfter: ts(c.NotAfter),
			CreatedAt: ts(rec.CreatedAt), ImportedAt: ts(rec.ImportedAt), created: rec.CreatedAt,
		}
		for _, u := range extKeyUsages(c) {
			sm.ExtendedKeyUsages = append(sm.ExtendedKeyUsages, u.Name)
		}
		switch {
		case len(in.CertificateStatuses) > 0 && !slices.Contains(in.CertificateStatuses, sm.Status),
			len(in.CertificateKeyPairOrigins) > 0 && !slices.Contains(in.CertificateKeyPairOrigins, "IMPORTED"),
			!slices.Contains(keyTypes, alg),
			len(eku) > 0 && !anyOf(eku, sm.ExtendedKeyUsages),
			len(ku) > 0 && !anyOf(ku, sm.KeyUsages):
			return nil
		}
		all = append(all, sm)
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Records are keyed by ARN; order by creation (then ARN) so that pages
	// are stable and SortOrder means something.
	slices.SortStableFunc(all, func(a, b summary) int {
		if c := a.created.Compare(b.created); c != 0 {
			if in.SortOrder == "DESCENDING" {
				return -c
			}
			return c
		}
		return strings.Compare(a.CertificateArn, b.CertificateArn)
	})
	start := 0
	if in.NextToken != "" {
		last, err := base64.RawURLEncoding.DecodeString(in.NextToken)
		if err != nil {
			return nil, wireErr("InvalidArgsException", "The NextToken is not valid.")
		}
		start = slices.IndexFunc(all, func(sm summary) bool { return sm.CertificateArn == string(last) }) + 1
		if start == 0 {
			return nil, wireErr("InvalidArgsException", "The NextToken is not valid.")
		}
	}
	page := all[start:]
	out := map[string]any{}
	if len(page) > limit {
		page = page[:limit]
		out["NextToken"] = base64.RawURLEncoding.EncodeToString([]byte(page[len(page)-1].CertificateArn))
	}
	if page == nil {
		page = []summary{}
	}
	out["CertificateSummaryList"] = page
	return out, nil
}

// anyOf reports whether have holds any of want ("ANY" matches everything).
func anyOf(want, have []string) bool {
	for _, w := range want {
		if w == "ANY" && len(have) > 0 || slices.Contains(have, w) {
			return true
		}
	}
	return false
}
