package signer

import (
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"net/http"
	"slices"
	"time"

	"github.com/otactl/otactl/internal/lazyre"
)

// profile is what the store keeps for a signing profile (its latest version).
type profile struct {
	Name              string            `json:"name"`
	PlatformID        string            `json:"platformId"`
	Version           string            `json:"version"`
	Status            string            `json:"status"` // Active | Canceled
	CertificateArn    string            `json:"certificateArn"`
	Generated         bool              `json:"generated,omitempty"` // material made by otactl local
	SigningParameters map[string]string `json:"signingParameters,omitempty"`
	Overrides         *overrides        `json:"overrides,omitempty"`
	Validity          *validity         `json:"validity,omitempty"`
	Tags              map[string]string `json:"tags,omitempty"`
	CreatedAt         time.Time         `json:"createdAt"`
}

type overrides struct {
	SigningConfiguration *configOverrides `json:"signingConfiguration,omitempty"`
	SigningImageFormat   string           `json:"signingImageFormat,omitempty"`
}

type configOverrides struct {
	EncryptionAlgorithm string `json:"encryptionAlgorithm,omitempty"`
	HashAlgorithm       string `json:"hashAlgorithm,omitempty"`
}

type validity struct {
	Type  string `json:"type"`
	Value int    `json:"value"`
}

type material struct {
	CertificateArn string `json:"certificateArn"`
}

// profileView is a profile on the wire (GetSigningProfile, ListSigningProfiles).
type profileView struct {
	Arn                     string            `json:"arn"`
	ProfileName             string            `json:"profileName"`
	ProfileVersion          string            `json:"profileVersion"`
	ProfileVersionArn       string            `json:"profileVersionArn"`
	PlatformID              string            `json:"platformId"`
	PlatformDisplayName     string            `json:"platformDisplayName"`
	SigningMaterial         *material         `json:"signingMaterial,omitempty"`
	SigningParameters       map[string]string `json:"signingParameters,omitempty"`
	Overrides               *overrides        `json:"overrides,omitempty"`
	SignatureValidityPeriod *validity         `json:"signatureValidityPeriod,omitempty"`
	Status                  string            `json:"status"`
	Tags                    map[string]string `json:"tags,omitempty"`
}

// profileARN is arn:aws:signer:<region>:<account>:/signing-profiles/<name>
// (AWS puts a slash before the resource type).
func (s *Service) profileARN(name string) string {
	return s.env.ARN("signer", "/signing-profiles/"+name)
}

func (s *Service) view(p *profile) profileView {
	v := profileView{
		Arn: s.profileARN(p.Name), ProfileName: p.Name, ProfileVersion: p.Version,
		ProfileVersionArn: s.profileARN(p.Name) + "/" + p.Version,
		PlatformID:        p.PlatformID, SigningParameters: p.SigningParameters, Overrides: p.Overrides,
		SignatureValidityPeriod: p.Validity, Status: p.Status, Tags: p.Tags,
	}
	if pl := findPlatform(p.PlatformID); pl != nil {
		v.PlatformDisplayName = pl.DisplayName
	}
	if p.CertificateArn != "" {
		v.SigningMaterial = &material{CertificateArn: p.CertificateArn}
	}
	return v
}

var profileNameRE = lazyre.New(`^[a-zA-Z0-9_]{2,64}$`)

func checkProfileName(name string) error {
	if !profileNameRE.MatchString(name) {
		return validation("1 validation error detected: Value '%s' at 'profileName' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-zA-Z0-9_]{2,64}$", name)
	}
	return nil
}

type putInput struct {
	PlatformID              string            `json:"platformId"`
	SigningMaterial         *material         `json:"signingMaterial"`
	SigningParameters       map[string]string `json:"signingParameters"`
	Overrides               *overrides        `json:"overrides"`
	SignatureValidityPeriod *validity         `json:"signatureValidityPeriod"`
	Tags                    map[string]string `json:"tags"`
}

// putProfile creates a profile, or a new version of an Active one.
func (s *Service) putProfile(w http.ResponseWriter, r *http.Request) {
	var in putInput
	if err := decode(r, &in); err != nil {
		reply(w, nil, err)
		return
	}
	out, err := s.doPutProfile(r.PathValue("profileName"), in)
	reply(w, out, err)
}

func (s *Service) doPutProfile(name string, in putInput) (map[string]string, error) {
	if err := checkProfileName(name); err != nil {
		return nil, err
	}
	if in.PlatformID == "" {
		return nil, validation("1 validation error detected: Value null at 'platformId' failed to satisfy constraint: Member must not be null")
	}
	pl := findPlatform(in.PlatformID)
	if pl == nil {
		return nil, validation("Invalid platformId %s: the signing platforms are %s.", in.PlatformID, platformIDs(func(*platform) bool { return true }))
	}
	if err := checkOverrides(pl, in.Overrides); err != nil {
		return nil, err
	}
	if v := in.SignatureValidityPeriod; v != nil {
		if !slices.Contains([]string{"DAYS", "MONTHS", "YEARS"}, v.Type) || v.Value < 1 {
			return nil, validation("signatureValidityPeriod must have a type of DAYS, MONTHS or YEARS and a positive value")
		}
	}
	if len(in.Tags) > 200 {
		return nil, validation("a signing profile has at most 200 tags")
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	var old profile
	exists, err := s.st.Get(profilesTable, name, &old)
	if err != nil {
		return nil, err
	}
	if exists && old.Status != "Active" {
		return nil, validation("A signing profile named %s was canceled; a canceled profile's name cannot be reused.", name)
	}
	p := profile{
		Name: name, PlatformID: pl.PlatformID, Version: newVersion(), Status: "Active",
		SigningParameters: in.SigningParameters, Overrides: in.Overrides, Validity: in.SignatureValidityPeriod,
		Tags: in.Tags, CreatedAt: s.now().UTC(),
	}
	if p.Validity == nil {
		p.Validity = pl.validity
	}
	if in.SigningMaterial != nil && in.SigningMaterial.CertificateArn != "" {
		arn := in.SigningMaterial.CertificateArn
		cert, _, err := s.certs.KeyPair(arn)
		if err != nil {
			return nil, notFound("The signing material %s does not exist in ACM: %v", arn, err)
		}
		if pl.signs && !pl.keyFits(cert.PublicKey) {
			return nil, validation("The certificate %s does not fit platform %s, which signs with %s key.", arn, pl.PlatformID, pl.keyKind())
		}
		p.CertificateArn = arn
	} else if pl.signs { // Lambda's and Notation's keys are AWS's own: none is made for them
		arn, err := s.generatedMaterial(name, pl)
		if err != nil {
			return nil, err
		}
		p.CertificateArn, p.Generated = arn, true
	}
	if err := s.st.Put(profilesTable, name, p); err != nil {
		return nil, err
	}
	v := s.view(&p)
	return map[string]string{"arn": v.Arn, "profileVersion": v.ProfileVersion, "profileVersionArn": v.ProfileVersionArn}, nil
}

func checkOverrides(pl *platform, o *overrides) error {
	if o == nil {
		return nil
	}
	if c := o.SigningConfiguration; c != nil {
		if c.EncryptionAlgorithm != "" && !slices.Contains(pl.SigningConfiguration.EncryptionAlgorithmOptions.AllowedValues, c.EncryptionAlgorithm) {
			return validation("Encryption algorithm %s is not allowed for platform %s.", c.EncryptionAlgorithm, pl.PlatformID)
		}
		if c.HashAlgorithm != "" && !slices.Contains(pl.SigningConfiguration.HashAlgorithmOptions.AllowedValues, c.HashAlgorithm) {
			return validation("Hash algorithm %s is not allowed for platform %s.", c.HashAlgorithm, pl.PlatformID)
		}
	}
	if f := o.SigningImageFormat; f != "" && !slices.Contains(pl.SigningImageFormat.SupportedFormats, f) {
		return validation("Signing image format %s is not supported by platform %s.", f, pl.PlatformID)
	}
	return nil
}

// newVersion makes a profile version: 10 alphanumeric characters, as AWS's.
func newVersion() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, 10)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func (s *Service) loadProfile(name string) (*profile, error) {
	if err := checkProfileName(name); err != nil {
		return nil, err
	}
	var p profile
	found, err := s.st.Get(profilesTable, name, &p)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, notFound("Signing profile %s does not exist.", name)
	}
	return &p, nil
}

func (s *Service) getProfile(w http.ResponseWriter, r *http.Request) {
	p, err := s.loadProfile(r.PathValue("profileName"))
	if err != nil {
		reply(w, nil, err)
		return
	}
	reply(w, s.view(p), nil)
}

// cancelProfile (DELETE) marks a profile Canceled; it stays listed with
// includeCanceled, and its jobs keep their history.
func (s *Service) cancelProfile(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	p, err := s.loadProfile(r.PathValue("profileName"))
	if err == nil && p.Status == "Active" {
		p.Status = "Canceled"
		err = s.st.Put(profilesTable, p.Name, p)
	}
	if err != nil {
		reply(w, nil, err)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (s *Service) listProfiles(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := maxResults(r, 25)
	if err != nil {
		reply(w, nil, err)
		return
	}
	includeCanceled, err := boolParam(r, "includeCanceled")
	if err != nil {
		reply(w, nil, err)
		return
	}
	statuses := q["statuses"]
	for _, st := range statuses {
		if !slices.Contains([]string{"Active", "Canceled", "Revoked"}, st) {
			reply(w, nil, validation("statuses: %q is not one of Active, Canceled, Revoked", st))
			return
		}
	}
	var views []profileView
	err = s.st.List(profilesTable, "", func(_ string, raw []byte) error {
		var p profile
		if err := json.Unmarshal(raw, &p); err != nil {
			return err
		}
		switch {
		case p.Status == "Canceled" && !includeCanceled && !slices.Contains(statuses, "Canceled"),
			len(statuses) > 0 && !slices.Contains(statuses, p.Status),
			q.Get("platformId") != "" && q.Get("platformId") != p.PlatformID:
			return nil
		}
		views = append(views, s.view(&p))
		return nil
	})
	if err != nil {
		reply(w, nil, err)
		return
	}
	// The store lists in key (name) order, which is the order pages follow.
	page, next, err := paginate(views, func(v profileView) string { return v.ProfileName }, q.Get("nextToken"), limit)
	if err != nil {
		reply(w, nil, err)
		return
	}
	out := map[string]any{"profiles": page}
	if next != "" {
		out["nextToken"] = next
	}
	reply(w, out, nil)
}

// ProfileCertificate returns the certificate a profile signs with (imported
// or generated): the one devices must trust to verify its signatures.
func (s *Service) ProfileCertificate(name string) (*x509.Certificate, error) {
	p, err := s.loadProfile(name)
	if err != nil {
		return nil, err
	}
	cert, _, err := s.certs.KeyPair(p.CertificateArn)
	return cert, err
}
