package iot

import (
	"net/http"
	"sort"
	"strconv"

	"github.com/otactl/otactl/local/store"
)

// The wire of provisioning templates (the rules are in provtemplates.go).

func (s *Service) createProvisioningTemplate(r *http.Request) (any, error) {
	var in ProvisioningTemplateInput
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	t, err := s.CreateProvisioningTemplate(in)
	if err != nil {
		return nil, err
	}
	return map[string]any{"templateArn": t.Arn, "templateName": t.Name, "defaultVersionId": t.DefaultVersion}, nil
}

func (s *Service) describeProvisioningTemplate(r *http.Request) (any, error) {
	t, body, err := s.ProvisioningTemplate(r.PathValue("templateName"))
	if err != nil {
		return nil, err
	}
	out := map[string]any{"templateArn": t.Arn, "templateName": t.Name, "description": t.Description,
		"creationDate": at(t.CreatedAt), "lastModifiedDate": at(t.LastModified), "defaultVersionId": t.DefaultVersion,
		"templateBody": body, "enabled": t.Enabled, "provisioningRoleArn": t.RoleArn, "type": t.Type}
	if t.Hook != nil {
		out["preProvisioningHook"] = t.Hook
	}
	return out, nil
}

type provTemplateSummary struct {
	TemplateArn      string   `json:"templateArn"`
	TemplateName     string   `json:"templateName"`
	Description      string   `json:"description,omitempty"`
	CreationDate     *float64 `json:"creationDate,omitempty"`
	LastModifiedDate *float64 `json:"lastModifiedDate,omitempty"`
	Enabled          bool     `json:"enabled"`
	Type             string   `json:"type"`
}

// listProvisioningTemplates is ListProvisioningTemplates, in name order.
func (s *Service) listProvisioningTemplates(r *http.Request) (any, error) {
	p, err := parsePage(r)
	if err != nil {
		return nil, err
	}
	summary := records(func(t *ProvisioningTemplate) (provTemplateSummary, bool) {
		return provTemplateSummary{TemplateArn: t.Arn, TemplateName: t.Name, Description: t.Description,
			CreationDate: at(t.CreatedAt), LastModifiedDate: at(t.LastModified), Enabled: t.Enabled, Type: t.Type}, true
	})
	return listView(s.st, "templates", func(tx *store.Tx) ([]provTemplateSummary, string, error) {
		return pageOf(tx, tProvTemplates, "", p, summary)
	})
}

func (s *Service) updateProvisioningTemplate(r *http.Request) (any, error) {
	var u ProvisioningTemplateUpdate
	if err := decode(r, &u); err != nil {
		return nil, err
	}
	return nil, s.UpdateProvisioningTemplate(r.PathValue("templateName"), u)
}

func (s *Service) deleteProvisioningTemplate(r *http.Request) (any, error) {
	return nil, s.DeleteProvisioningTemplate(r.PathValue("templateName"))
}

func (s *Service) createProvisioningTemplateVersion(r *http.Request) (any, error) {
	var in struct {
		TemplateBody string `json:"templateBody"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	setAsDefault := false
	if v := r.URL.Query().Get("setAsDefault"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return nil, invalid("setAsDefault must be true or false, got %q", v)
		}
		setAsDefault = b
	}
	t, v, err := s.CreateProvisioningTemplateVersion(r.PathValue("templateName"), in.TemplateBody, setAsDefault)
	if err != nil {
		return nil, err
	}
	return map[string]any{"templateArn": t.Arn, "templateName": t.Name, "versionId": v.VersionID,
		"isDefaultVersion": t.DefaultVersion == v.VersionID}, nil
}

func versionID(r *http.Request) (int64, error) {
	v := r.PathValue("versionId")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 1 {
		return 0, invalid("versionId must be a positive whole number, got %q", v)
	}
	return id, nil
}

func (s *Service) describeProvisioningTemplateVersion(r *http.Request) (any, error) {
	id, err := versionID(r)
	if err != nil {
		return nil, err
	}
	v, isDefault, err := s.ProvisioningTemplateVersion(r.PathValue("templateName"), id)
	if err != nil {
		return nil, err
	}
	return map[string]any{"versionId": v.VersionID, "creationDate": at(v.CreatedAt), "templateBody": v.Body, "isDefaultVersion": isDefault}, nil
}

// listProvisioningTemplateVersions lists every version (at most 5, so one
// page whatever maxResults says).
func (s *Service) listProvisioningTemplateVersions(r *http.Request) (any, error) {
	if _, err := parsePage(r); err != nil {
		return nil, err
	}
	t, vs, err := s.ProvisioningTemplateVersions(r.PathValue("templateName"))
	if err != nil {
		return nil, err
	}
	sort.Slice(vs, func(i, j int) bool { return vs[i].VersionID < vs[j].VersionID })
	out := make([]map[string]any, len(vs))
	for i, v := range vs {
		out[i] = map[string]any{"versionId": v.VersionID, "creationDate": at(v.CreatedAt), "isDefaultVersion": v.VersionID == t.DefaultVersion}
	}
	return map[string]any{"versions": out}, nil
}

func (s *Service) deleteProvisioningTemplateVersion(r *http.Request) (any, error) {
	id, err := versionID(r)
	if err != nil {
		return nil, err
	}
	return nil, s.DeleteProvisioningTemplateVersion(r.PathValue("templateName"), id)
}
