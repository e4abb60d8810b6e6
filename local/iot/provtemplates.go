package iot

import (
	"strconv"
	"time"
	"unicode"

	"github.com/otactl/otactl/local/provisioning"
	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/ota"
)

// Provisioning templates (CreateProvisioningTemplate and its kin): named,
// versioned templates of type FLEET_PROVISIONING or JITP. A CA's
// registrationConfig can name a JITP template instead of carrying a body;
// just-in-time provisioning then runs its default version (autoreg.go).
// The wire is in provtemplates_http.go.

const (
	tProvTemplates = "iot.provtemplates" // template name → ProvisioningTemplate
	tProvVersions  = "iot.provversions"  // name + "\x00" + padded version id → ProvisioningTemplateVersion

	maxTemplateVersions = 5     // per template (VersionsLimitExceededException beyond)
	maxTemplateBody     = 10240 // characters (API reference)
)

// Provisioning template types.
const (
	TemplateFleet = "FLEET_PROVISIONING"
	TemplateJITP  = "JITP"
)

// ProvisioningHook is a template's pre-provisioning hook (a Lambda AWS
// calls before fleet provisioning; recorded, not called).
type ProvisioningHook struct {
	PayloadVersion string `json:"payloadVersion,omitempty"`
	TargetArn      string `json:"targetArn"`
}

// ProvisioningTemplate is a template's record.
type ProvisioningTemplate struct {
	Name           string            `json:"templateName"`
	Arn            string            `json:"templateArn"`
	Description    string            `json:"description,omitempty"`
	Enabled        bool              `json:"enabled"`
	RoleArn        string            `json:"provisioningRoleArn"`
	Hook           *ProvisioningHook `json:"preProvisioningHook,omitempty"`
	Type           string            `json:"type"`
	DefaultVersion int64             `json:"defaultVersionId"`
	LastVersion    int64             `json:"lastVersionId"`
	CreatedAt      time.Time         `json:"creationDate"`
	LastModified   time.Time         `json:"lastModifiedDate"`
}

// ProvisioningTemplateVersion is one version of a template's body.
type ProvisioningTemplateVersion struct {
	VersionID int64     `json:"versionId"`
	Body      string    `json:"templateBody"`
	CreatedAt time.Time `json:"creationDate"`
}

// ProvisioningTemplateInput is CreateProvisioningTemplate's request.
type ProvisioningTemplateInput struct {
	TemplateName        string            `json:"templateName"`
	Description         string            `json:"description"`
	TemplateBody        string            `json:"templateBody"`
	Enabled             bool              `json:"enabled"`
	ProvisioningRoleArn string            `json:"provisioningRoleArn"`
	PreProvisioningHook *ProvisioningHook `json:"preProvisioningHook"`
	Tags                []ota.Tag         `json:"tags"`
	Type                string            `json:"type"`
}

func provVersionKey(name string, id int64) string {
	return name + "\x00" + padInt(id)
}

func checkTemplateName(name string) error {
	if !templateName.MatchString(name) {
		return invalid("templateName must be 1-36 of [0-9A-Za-z_-], got %q", name)
	}
	return nil
}

func checkTemplateDescription(d string) error {
	if len(d) > 500 {
		return invalid("description must be at most 500 characters, got %d", len(d))
	}
	for _, r := range d {
		if unicode.IsControl(r) {
			return invalid("description must not contain control characters")
		}
	}
	return nil
}

// checkTemplateBody: the API's length rule, and a template otactl local
// can read (a body that is not a provisioning template would fail every
// device it provisions; AWS refuses it as InvalidRequestException too).
func checkTemplateBody(body string) error {
	if body == "" || len(body) > maxTemplateBody {
		return invalid("templateBody must be 1-%d characters, got %d", maxTemplateBody, len(body))
	}
	if _, err := provisioning.Parse(body); err != nil {
		return invalid("templateBody: %v", err)
	}
	return nil
}

func checkRoleArn(field, arn string) error {
	if len(arn) < 20 || len(arn) > 2048 {
		return invalid("%s must be 20-2048 characters, got %d", field, len(arn))
	}
	return nil
}

func checkHook(h *ProvisioningHook, typ string) error {
	if h == nil {
		return nil
	}
	if typ != TemplateFleet {
		return invalid("preProvisioningHook is only supported for templates of type FLEET_PROVISIONING")
	}
	if h.TargetArn == "" || len(h.TargetArn) > 2048 {
		return invalid("preProvisioningHook.targetArn must be 1-2048 characters")
	}
	if h.PayloadVersion != "" && h.PayloadVersion != "2020-04-01" {
		return invalid("preProvisioningHook.payloadVersion must be 2020-04-01, got %q", h.PayloadVersion)
	}
	return nil
}

// CreateProvisioningTemplate stores a template with its first version
// (the default).
func (s *Service) CreateProvisioningTemplate(in ProvisioningTemplateInput) (ProvisioningTemplate, error) {
	if in.Type == "" {
		in.Type = TemplateFleet
	}
	if in.Type != TemplateFleet && in.Type != TemplateJITP {
		return ProvisioningTemplate{}, invalid("type must be FLEET_PROVISIONING or JITP, got %q", in.Type)
	}
	for _, err := range []error{checkTemplateName(in.TemplateName), checkTemplateDescription(in.Description),
		checkTemplateBody(in.TemplateBody), checkRoleArn("provisioningRoleArn", in.ProvisioningRoleArn), checkHook(in.PreProvisioningHook, in.Type)} {
		if err != nil {
			return ProvisioningTemplate{}, err
		}
	}
	if errs := ota.ValidateTagsAPI("tags", in.Tags); len(errs) > 0 {
		return ProvisioningTemplate{}, invalidFields(errs)
	}
	now := s.now()
	t := ProvisioningTemplate{Name: in.TemplateName, Arn: s.env.ARN("iot", "provisioningtemplate/"+in.TemplateName),
		Description: in.Description, Enabled: in.Enabled, RoleArn: in.ProvisioningRoleArn, Hook: in.PreProvisioningHook,
		Type: in.Type, DefaultVersion: 1, LastVersion: 1, CreatedAt: now, LastModified: now}
	err := s.st.Update(func(tx *store.Tx) error {
		if tx.Has(tProvTemplates, t.Name) {
			return alreadyExists(t.Name, t.Arn, "Provisioning template %s already exists.", t.Name)
		}
		if err := tx.Put(tProvVersions, provVersionKey(t.Name, 1), ProvisioningTemplateVersion{VersionID: 1, Body: in.TemplateBody, CreatedAt: now}); err != nil {
			return err
		}
		if err := putTags(tx, t.Arn, in.Tags); err != nil {
			return err
		}
		return tx.Put(tProvTemplates, t.Name, t)
	})
	return t, err
}

func loadProvTemplate(tx *store.Tx, name string) (ProvisioningTemplate, error) {
	var t ProvisioningTemplate
	ok, err := tx.Get(tProvTemplates, name, &t)
	if err == nil && !ok {
		err = notFound("Provisioning template %s cannot be found.", name)
	}
	return t, err
}

func loadProvVersion(tx *store.Tx, name string, id int64) (ProvisioningTemplateVersion, error) {
	var v ProvisioningTemplateVersion
	ok, err := tx.Get(tProvVersions, provVersionKey(name, id), &v)
	if err == nil && !ok {
		err = notFound("Version %d of provisioning template %s cannot be found.", id, name)
	}
	return v, err
}

// ProvisioningTemplate returns a template and the body of its default
// version.
func (s *Service) ProvisioningTemplate(name string) (ProvisioningTemplate, string, error) {
	var t ProvisioningTemplate
	var v ProvisioningTemplateVersion
	err := s.st.View(func(tx *store.Tx) (err error) {
		if t, err = loadProvTemplate(tx, name); err != nil {
			return err
		}
		v, err = loadProvVersion(tx, name, t.DefaultVersion)
		return err
	})
	return t, v.Body, err
}

// ProvisioningTemplateUpdate is UpdateProvisioningTemplate's request.
type ProvisioningTemplateUpdate struct {
	Description               *string           `json:"description"`
	Enabled                   *bool             `json:"enabled"`
	DefaultVersionID          *int64            `json:"defaultVersionId"`
	ProvisioningRoleArn       *string           `json:"provisioningRoleArn"`
	PreProvisioningHook       *ProvisioningHook `json:"preProvisioningHook"`
	RemovePreProvisioningHook bool              `json:"removePreProvisioningHook"`
}

// UpdateProvisioningTemplate changes what the request names.
func (s *Service) UpdateProvisioningTemplate(name string, u ProvisioningTemplateUpdate) error {
	if u.Description != nil {
		if err := checkTemplateDescription(*u.Description); err != nil {
			return err
		}
	}
	if u.ProvisioningRoleArn != nil {
		if err := checkRoleArn("provisioningRoleArn", *u.ProvisioningRoleArn); err != nil {
			return err
		}
	}
	if u.PreProvisioningHook != nil && u.RemovePreProvisioningHook {
		return invalid("preProvisioningHook and removePreProvisioningHook cannot both be given")
	}
	return s.st.Update(func(tx *store.Tx) error {
		t, err := loadProvTemplate(tx, name)
		if err != nil {
			return err
		}
		if u.PreProvisioningHook != nil {
			if err := checkHook(u.PreProvisioningHook, t.Type); err != nil {
				return err
			}
			t.Hook = u.PreProvisioningHook
		}
		if u.RemovePreProvisioningHook {
			t.Hook = nil
		}
		if u.DefaultVersionID != nil {
			if _, err := loadProvVersion(tx, name, *u.DefaultVersionID); err != nil {
				return err
			}
			t.DefaultVersion = *u.DefaultVersionID
		}
		if u.Description != nil {
			t.Description = *u.Description
		}
		if u.Enabled != nil {
			t.Enabled = *u.Enabled
		}
		if u.ProvisioningRoleArn != nil {
			t.RoleArn = *u.ProvisioningRoleArn
		}
		t.LastModified = s.now()
		return tx.Put(tProvTemplates, name, t)
	})
}

// DeleteProvisioningTemplate removes a template, its versions and tags.
func (s *Service) DeleteProvisioningTemplate(name string) error {
	return s.st.Update(func(tx *store.Tx) error {
		t, err := loadProvTemplate(tx, name)
		if err != nil {
			return err
		}
		for _, k := range keysUnder(tx, tProvVersions, name+"\x00") {
			if err := tx.Delete(tProvVersions, name+"\x00"+k); err != nil {
				return err
			}
		}
		tx.Delete(tTags, t.Arn)
		return tx.Delete(tProvTemplates, name)
	})
}

// CreateProvisioningTemplateVersion adds a version (at most 5 per
// template), the default when setAsDefault.
func (s *Service) CreateProvisioningTemplateVersion(name, body string, setAsDefault bool) (ProvisioningTemplate, ProvisioningTemplateVersion, error) {
	if err := checkTemplateBody(body); err != nil {
		return ProvisioningTemplate{}, ProvisioningTemplateVersion{}, err
	}
	var t ProvisioningTemplate
	var v ProvisioningTemplateVersion
	err := s.st.Update(func(tx *store.Tx) (err error) {
		if t, err = loadProvTemplate(tx, name); err != nil {
			return err
		}
		if n := len(keysUnder(tx, tProvVersions, name+"\x00")); n >= maxTemplateVersions {
			return versionsLimitExceeded("Provisioning template %s has %d versions, the most it may have; delete one (DeleteProvisioningTemplateVersion) first.", name, n)
		}
		t.LastVersion++
		v = ProvisioningTemplateVersion{VersionID: t.LastVersion, Body: body, CreatedAt: s.now()}
		if setAsDefault {
			t.DefaultVersion = v.VersionID
		}
		t.LastModified = v.CreatedAt
		if err := tx.Put(tProvVersions, provVersionKey(name, v.VersionID), v); err != nil {
			return err
		}
		return tx.Put(tProvTemplates, name, t)
	})
	return t, v, err
}

// ProvisioningTemplateVersions lists a template's versions, oldest first.
func (s *Service) ProvisioningTemplateVersions(name string) (ProvisioningTemplate, []ProvisioningTemplateVersion, error) {
	var t ProvisioningTemplate
	var out []ProvisioningTemplateVersion
	err := s.st.View(func(tx *store.Tx) (err error) {
		if t, err = loadProvTemplate(tx, name); err != nil {
			return err
		}
		for _, k := range keysUnder(tx, tProvVersions, name+"\x00") {
			id, _ := strconv.ParseInt(k, 10, 64)
			v, err := loadProvVersion(tx, name, id)
			if err != nil {
				return err
			}
			out = append(out, v)
		}
		return nil
	})
	return t, out, err
}

// ProvisioningTemplateVersion returns one version and whether it is the
// default.
func (s *Service) ProvisioningTemplateVersion(name string, id int64) (ProvisioningTemplateVersion, bool, error) {
	var v ProvisioningTemplateVersion
	var isDefault bool
	err := s.st.View(func(tx *store.Tx) error {
		t, err := loadProvTemplate(tx, name)
		if err != nil {
			return err
		}
		v, err = loadProvVersion(tx, name, id)
		isDefault = t.DefaultVersion == id
		return err
	})
	return v, isDefault, err
}

// DeleteProvisioningTemplateVersion deletes a version that is not the
// default.
func (s *Service) DeleteProvisioningTemplateVersion(name string, id int64) error {
	return s.st.Update(func(tx *store.Tx) error {
		t, err := loadProvTemplate(tx, name)
		if err != nil {
			return err
		}
		if _, err := loadProvVersion(tx, name, id); err != nil {
			return err
		}
		if t.DefaultVersion == id {
			return deleteConflict("Version %d is the default version of provisioning template %s; make another version the default first.", id, name)
		}
		return tx.Delete(tProvVersions, provVersionKey(name, id))
	})
}
