package jobs

import (
	"strings"
	"sync"
)

// The Software Package Catalog side of the job engine: when an execution of
// a job with destinationPackageVersions succeeds, the thing's reported
// package versions change, as AWS records them in the reserved $package
// named shadow. The shadow itself belongs to the Device Shadow service
// (local/shadow); the engine writes through PackageShadows.

// PackageShadowName is the reserved named shadow of the package catalog.
const PackageShadowName = "$package"

// PackageShadows is where the engine records the package versions a thing
// runs: its $package shadow, reported section, one entry per package
// ({"<package>": {"version": "<version>"}}). Package local adapts
// local/shadow to it.
type PackageShadows interface {
	// ReportPackages sets the reported version of each package given (package
	// name → version); other packages of the thing stay as they are.
	ReportPackages(thing string, versions map[string]string) error
	// ReportedPackages returns the versions the thing reports (package name →
	// version); empty when it reports none.
	ReportedPackages(thing string) (map[string]string, error)
}

// Option configures an Engine at New.
type Option func(*Engine)

// WithPackageShadows makes the engine record package versions in p. Without
// it (otactl rehearse, engine tests) they are kept in memory for the life of
// the engine.
func WithPackageShadows(p PackageShadows) Option {
	return func(e *Engine) { e.packages = p }
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
func (e *Engine) recordPackages(jobID, thing string) {
	j, err := e.svc.Job(jobID)
	if err != nil || len(j.DestinationPackageVersions) == 0 {
		return
	}
	versions := map[string]string{}
	for _, arn := range j.DestinationPackageVersions {
		if pkg, v, ok := parsePackageVersionArn(arn); ok {
			versions[pkg] = v
		}
	}
	if len(versions) > 0 {
		e.packages.ReportPackages(thing, versions)
	}
}

// ThingPackages returns the package versions a thing reports (package name
// → version), as its $package shadow holds them; empty when none.
func (e *Engine) ThingPackages(thing string) (map[string]string, error) {
	return e.packages.ReportedPackages(thing)
}

// memPackages keeps reported package versions in memory (no shadow service).
type memPackages struct {
	mu sync.Mutex
	by map[string]map[string]string
}

func newMemPackages() *memPackages { return &memPackages{by: map[string]map[string]string{}} }

func (m *memPackages) ReportPackages(thing string, versions map[string]string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.by[thing] == nil {
		m.by[thing] = map[string]string{}
	}
	for p, v := range versions {
		m.by[thing][p] = v
	}
	return nil
}

func (m *memPackages) ReportedPackages(thing string) (map[string]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[string]string{}
	for p, v := range m.by[thing] {
		out[p] = v
	}
	return out, nil
}
