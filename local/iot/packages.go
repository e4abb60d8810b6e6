package iot

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/otactl/otactl/internal/lazyre"
	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/ota"
)

// The Software Package Catalog.
const (
	tPackages    = "iot.packages"    // package name → packageRec
	tPkgVersions = "iot.pkgversions" // package/version → versionRec
)

var (
	packageNamePattern = lazyre.New(`^[a-zA-Z0-9-_.]{1,128}$`)
	versionNamePattern = lazyre.New(`^[a-zA-Z0-9-_.+]{1,64}$`)
)

type packageRec struct {
	Name           string    `json:"name"`
	Arn            string    `json:"arn"`
	Description    string    `json:"description,omitempty"`
	DefaultVersion string    `json:"defaultVersion,omitempty"`
	CreatedAt      time.Time `json:"createdAt"`
	ModifiedAt     time.Time `json:"modifiedAt"`
}

type versionRec struct {
	Package     string            `json:"package"`
	Name        string            `json:"name"`
	Arn         string            `json:"arn"`
	Description string            `json:"description,omitempty"`
	Attributes  map[string]string `json:"attributes,omitempty"`
	Artifact    json.RawMessage   `json:"artifact,omitempty"`
	Recipe      string            `json:"recipe,omitempty"`
	Status      string            `json:"status"`
	CreatedAt   time.Time         `json:"createdAt"`
	ModifiedAt  time.Time         `json:"modifiedAt"`
}

func (s *Service) packageArn(name string) string { return s.env.ARN("iot", "package/"+name) }
func (s *Service) versionArn(pkg, v string) string {
	return s.env.ARN("iot", "package/"+pkg+"/version/"+v)
}

func (s *Service) getPkg(tx *store.Tx, name string) (packageRec, error) {
	var p packageRec
	ok, err := tx.Get(tPackages, name, &p)
	if err == nil && !ok {
		err = notFound("Package %s cannot be found.", name)
	}
	return p, err
}

func (s *Service) getVersion(tx *store.Tx, pkg, v string) (versionRec, error) {
	var vr versionRec
	ok, err := tx.Get(tPkgVersions, pkg+"/"+v, &vr)
	if err == nil && !ok {
		err = notFound("Package version %s of %s cannot be found.", v, pkg)
	}
	return vr, err
}

// packageVersionExists checks a destinationPackageVersions entry.
func (s *Service) packageVersionExists(tx *store.Tx, arn string) error {
	rest := strings.TrimPrefix(arn, s.env.ARN("iot", "package/"))
	pkg, v, ok := strings.Cut(rest, "/version/")
	if rest == arn || !ok {
		return invalid("%s is not a package version ARN of this account and region", arn)
	}
	if !tx.Has(tPkgVersions, pkg+"/"+v) {
		return notFound("package version %s does not exist", arn)
	}
	return nil
}

func (s *Service) createPackage(r *http.Request) (any, error) {
	name := r.PathValue("packageName")
	var in struct {
		Description string            `json:"description"`
		Tags        map[string]string `json:"tags"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if !packageNamePattern.MatchString(name) {
		return nil, validation("packageName must be 1-128 characters of [a-zA-Z0-9-_.], got %q", name)
	}
	if len(in.Description) > 1024 {
		return nil, validation("description must be at most 1024 characters")
	}
	now := s.now()
	p := packageRec{Name: name, Arn: s.packageArn(name), Description: in.Description, CreatedAt: now, ModifiedAt: now}
	err := s.st.Update(func(tx *store.Tx) error {
		if tx.Has(tPackages, name) {
			return conflict("Package %s already exists.", name)
		}
		if err := putTags(tx, p.Arn, mapTags(in.Tags)); err != nil {
			return err
		}
		return tx.Put(tPackages, name, p)
	})
	if err != nil {
		return nil, err
	}
	return map[string]string{"packageName": p.Name, "packageArn": p.Arn, "description": p.Description}, nil
}

// mapTags turns the catalog's tag map into tags (the rest of IoT uses lists).
func mapTags(m map[string]string) []ota.Tag {
	var out []ota.Tag
	for k, v := range m {
		out = append(out, ota.Tag{Key: k, Value: v})
	}
	return out
}

func (s *Service) getPackage(r *http.Request) (any, error) {
	var p packageRec
	err := s.st.View(func(tx *store.Tx) (err error) {
		p, err = s.getPkg(tx, r.PathValue("packageName"))
		return err
	})
	if err != nil {
		return nil, err
	}
	return s.packageOut(p, true), nil
}

func (s *Service) packageOut(p packageRec, full bool) map[string]any {
	out := map[string]any{"packageName": p.Name, "creationDate": at(p.CreatedAt), "lastModifiedDate": at(p.ModifiedAt)}
	if p.DefaultVersion != "" {
		out["defaultVersionName"] = p.DefaultVersion
	}
	if full {
		out["packageArn"] = p.Arn
		out["description"] = p.Description
	}
	return out
}

func (s *Service) updatePackage(r *http.Request) (any, error) {
	name := r.PathValue("packageName")
	var in struct {
		Description         *string `json:"description"`
		DefaultVersionName  string  `json:"defaultVersionName"`
		UnsetDefaultVersion bool    `json:"unsetDefaultVersion"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	err := s.st.Update(func(tx *store.Tx) error {
		p, err := s.getPkg(tx, name)
		if err != nil {
			return err
		}
		if in.Description != nil {
			p.Description = *in.Description
		}
		if in.DefaultVersionName != "" {
			if _, err := s.getVersion(tx, name, in.DefaultVersionName); err != nil {
				return err
			}
			p.DefaultVersion = in.DefaultVersionName
		}
		if in.UnsetDefaultVersion {
			p.DefaultVersion = ""
		}
		p.ModifiedAt = s.now()
		return tx.Put(tPackages, name, p)
	})
	if err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (s *Service) deletePackage(r *http.Request) (any, error) {
	name := r.PathValue("packageName")
	err := s.st.Update(func(tx *store.Tx) error {
		p, err := s.getPkg(tx, name)
		if err != nil {
			return nil // AWS: deleting a missing package succeeds
		}
		for _, v := range keysUnder(tx, tPkgVersions, name+"/") {
			tx.Delete(tTags, s.versionArn(name, v))
			tx.Delete(tPkgVersions, name+"/"+v)
		}
		tx.Delete(tTags, p.Arn)
		return tx.Delete(tPackages, name)
	})
	if err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (s *Service) listPackages(r *http.Request) (any, error) {
	pg, err := parsePage(r)
	if err != nil {
		return nil, err
	}
	return listView(s.st, "packageSummaries", func(tx *store.Tx) ([]map[string]any, string, error) {
		return pageOf(tx, tPackages, "", pg, records(func(p *packageRec) (map[string]any, bool) {
			return s.packageOut(*p, false), true
		}))
	})
}

func (s *Service) createPackageVersion(r *http.Request) (any, error) {
	pkg, ver := r.PathValue("packageName"), r.PathValue("version")
	var in struct {
		Description string            `json:"description"`
		Attributes  map[string]string `json:"attributes"`
		Artifact    json.RawMessage   `json:"artifact"`
		Recipe      string            `json:"recipe"`
		Tags        map[string]string `json:"tags"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	if !versionNamePattern.MatchString(ver) {
		return nil, validation("versionName must be 1-64 characters of [a-zA-Z0-9-_.+], got %q", ver)
	}
	now := s.now()
	v := versionRec{Package: pkg, Name: ver, Arn: s.versionArn(pkg, ver), Description: in.Description,
		Attributes: in.Attributes, Artifact: in.Artifact, Recipe: in.Recipe, Status: "DRAFT", CreatedAt: now, ModifiedAt: now}
	err := s.st.Update(func(tx *store.Tx) error {
		if _, err := s.getPkg(tx, pkg); err != nil {
			return err
		}
		if tx.Has(tPkgVersions, pkg+"/"+ver) {
			return conflict("Package version %s of %s already exists.", ver, pkg)
		}
		if err := putTags(tx, v.Arn, mapTags(in.Tags)); err != nil {
			return err
		}
		return tx.Put(tPkgVersions, pkg+"/"+ver, v)
	})
	if err != nil {
		return nil, err
	}
	return map[string]any{"packageVersionArn": v.Arn, "packageName": pkg, "versionName": ver,
		"description": v.Description, "attributes": nonNil(v.Attributes), "status": v.Status}, nil
}

func (s *Service) getPackageVersion(r *http.Request) (any, error) {
	var v versionRec
	err := s.st.View(func(tx *store.Tx) (err error) {
		v, err = s.getVersion(tx, r.PathValue("packageName"), r.PathValue("version"))
		return err
	})
	if err != nil {
		return nil, err
	}
	out := map[string]any{"packageVersionArn": v.Arn, "packageName": v.Package, "versionName": v.Name,
		"description": v.Description, "attributes": nonNil(v.Attributes), "status": v.Status,
		"creationDate": at(v.CreatedAt), "lastModifiedDate": at(v.ModifiedAt)}
	if len(v.Artifact) > 0 {
		out["artifact"] = v.Artifact
	}
	if v.Recipe != "" {
		out["recipe"] = v.Recipe
	}
	return out, nil
}

func (s *Service) updatePackageVersion(r *http.Request) (any, error) {
	pkg, ver := r.PathValue("packageName"), r.PathValue("version")
	var in struct {
		Description *string           `json:"description"`
		Attributes  map[string]string `json:"attributes"`
		Artifact    json.RawMessage   `json:"artifact"`
		Recipe      *string           `json:"recipe"`
		Action      string            `json:"action"`
	}
	if err := decode(r, &in); err != nil {
		return nil, err
	}
	err := s.st.Update(func(tx *store.Tx) error {
		v, err := s.getVersion(tx, pkg, ver)
		if err != nil {
			return err
		}
		switch in.Action {
		case "":
		case "PUBLISH":
			if v.Status == "DEPRECATED" {
				return conflict("a DEPRECATED package version cannot be published")
			}
			v.Status = "PUBLISHED"
		case "DEPRECATE":
			v.Status = "DEPRECATED"
		default:
			return validation("action must be PUBLISH or DEPRECATE, got %q", in.Action)
		}
		if in.Description != nil {
			v.Description = *in.Description
		}
		if in.Attributes != nil {
			v.Attributes = in.Attributes
		}
		if len(in.Artifact) > 0 {
			v.Artifact = in.Artifact
		}
		if in.Recipe != nil {
			v.Recipe = *in.Recipe
		}
		v.ModifiedAt = s.now()
		return tx.Put(tPkgVersions, pkg+"/"+ver, v)
	})
	if err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (s *Service) deletePackageVersion(r *http.Request) (any, error) {
	pkg, ver := r.PathValue("packageName"), r.PathValue("version")
	err := s.st.Update(func(tx *store.Tx) error {
		v, err := s.getVersion(tx, pkg, ver)
		if err != nil {
			return nil // deleting a missing version succeeds
		}
		tx.Delete(tTags, v.Arn)
		return tx.Delete(tPkgVersions, pkg+"/"+ver)
	})
	if err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (s *Service) listPackageVersions(r *http.Request) (any, error) {
	pkg := r.PathValue("packageName")
	pg, err := parsePage(r)
	if err != nil {
		return nil, err
	}
	status := r.URL.Query().Get("status")
	if status != "" && status != "DRAFT" && status != "PUBLISHED" && status != "DEPRECATED" {
		return nil, validation("status must be DRAFT, PUBLISHED or DEPRECATED, got %q", status)
	}
	return listView(s.st, "packageVersionSummaries", func(tx *store.Tx) ([]map[string]any, string, error) {
		if _, err := s.getPkg(tx, pkg); err != nil {
			return nil, "", err
		}
		return pageOf(tx, tPkgVersions, pkg+"/", pg, records(func(v *versionRec) (map[string]any, bool) {
			if status != "" && v.Status != status {
				return nil, false
			}
			return map[string]any{"packageName": v.Package, "versionName": v.Name, "status": v.Status,
				"creationDate": at(v.CreatedAt), "lastModifiedDate": at(v.ModifiedAt)}, true
		}))
	})
}
