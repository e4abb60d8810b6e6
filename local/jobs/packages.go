package jobs

import (
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/otactl/otactl/local/wire"
)

// The Software Package Catalog side of jobs: when an execution of a job
// with destinationPackageVersions succeeds, the thing's reported package
// versions change, as AWS records them in the reserved $package named
// shadow.

// tPackages holds each thing's $package shadow (thing → packageShadow).
const tPackages = "jobs.packages"

// PackageShadowName is the reserved named shadow of the package catalog.
const PackageShadowName = "$package"

// PackageVersion is one package's entry in a $package shadow.
type PackageVersion struct {
	Version    string            `json:"version"`
	Attributes map[string]string `json:"attributes,omitempty"`
}

type packageShadow struct {
	Reported  map[string]PackageVersion `json:"reported"`
	Version   int64                     `json:"version"`
	UpdatedAt time.Time                 `json:"updatedAt"`
}

// parsePackageVersionArn splits arn:...:package/NAME/version/VERSION.
func parsePackageVersionArn(arn string) (pkg, version string, ok bool) {
	i := strings.Index(arn, ":package/")
	if i < 0 {
		return "", "", false
	}
	pkg, version, ok = strings.Cut(arn[i+len(":package/"):], "/version/")
	return pkg, version, ok && pkg != "" && version != ""
}

// recordPackages sets the thing's reported versions to the job's
// destinationPackageVersions.
func (e *Engine) recordPackages(jobID, thing string, now time.Time) {
	j, err := e.svc.Job(jobID)
	if err != nil || len(j.DestinationPackageVersions) == 0 {
		return
	}
	var sh packageShadow
	e.st.Get(tPackages, thing, &sh)
	if sh.Reported == nil {
		sh.Reported = map[string]PackageVersion{}
	}
	for _, arn := range j.DestinationPackageVersions {
		if pkg, v, ok := parsePackageVersionArn(arn); ok {
			sh.Reported[pkg] = PackageVersion{Version: v}
		}
	}
	sh.Version++
	sh.UpdatedAt = now
	e.st.Put(tPackages, thing, sh)
}

// ThingPackages returns the package versions a thing reports (package name
// → version), as its $package shadow holds them; empty when none.
func (e *Engine) ThingPackages(thing string) (map[string]string, error) {
	var sh packageShadow
	if _, err := e.st.Get(tPackages, thing, &sh); err != nil {
		return nil, err
	}
	out := map[string]string{}
	for k, v := range sh.Reported {
		out[k] = v.Version
	}
	return out, nil
}

// ShadowHandler serves GetThingShadow of the IoT data plane for the $package
// named shadow: GET /things/{thingName}/shadow?name=$package. Other shadows
// are not kept by otactl local and answer ResourceNotFoundException.
func (e *Engine) ShadowHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /things/{thingName}/shadow", func(w http.ResponseWriter, r *http.Request) {
		thing, name := r.PathValue("thingName"), r.URL.Query().Get("name")
		var sh packageShadow
		found := false
		if name == PackageShadowName {
			var err error
			if found, err = e.st.Get(tPackages, thing, &sh); err != nil {
				wire.WriteError(w, wire.Internal(err))
				return
			}
		}
		if !found {
			wire.WriteError(w, wire.NotFound("No shadow exists with name: '%s~%s'", thing, name))
			return
		}
		ts := sh.UpdatedAt.Unix()
		meta := map[string]any{}
		for k := range sh.Reported {
			meta[k] = map[string]any{"version": map[string]int64{"timestamp": ts}}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"state":     map[string]any{"reported": sh.Reported},
			"metadata":  map[string]any{"reported": meta},
			"version":   sh.Version,
			"timestamp": ts,
		})
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		wire.WriteError(w, wire.Errorf(http.StatusNotFound, "UnknownOperationException", "no IoT data plane operation for %s %s", r.Method, r.URL.Path))
	})
	return mux
}
