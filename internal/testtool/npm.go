package testtool

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// NodeScript installs the dependencies of packageJSON with npm into a
// cache directory keyed by its contents (once per machine, from the
// registry npm is configured with) and writes script beside them, so that
// require() finds them. It returns the script's path. probe is a file
// under node_modules whose presence says the install is complete. A
// missing npm, or an install that fails, skips the test loudly outside CI
// and fails it in CI.
func NodeScript(t testing.TB, packageJSON, script []byte, name, probe string) string {
	t.Helper()
	npm := Require(t, "npm", "apt-get install npm")
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	sum := sha256.Sum256(packageJSON)
	dir := filepath.Join(cache, "otactl-test", "node-"+hex.EncodeToString(sum[:8]))
	if _, err := os.Stat(filepath.Join(dir, "node_modules", probe)); err != nil {
		// Install beside the final directory and rename it into place, so a
		// concurrent or interrupted run never sees half an installation.
		tmp := fmt.Sprintf("%s.tmp-%d", dir, os.Getpid())
		os.RemoveAll(tmp)
		defer os.RemoveAll(tmp)
		if err := os.MkdirAll(tmp, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(tmp, "package.json"), packageJSON, 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(npm, "install", "--no-audit", "--no-fund", "--loglevel=error")
		cmd.Dir = tmp
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Logf("npm install: %v\n%s", err, out)
			Missing(t, probe+" (npm install failed)", "needs npm and its package registry")
		}
		if err := os.Rename(tmp, dir); err != nil && !os.IsExist(err) {
			if _, serr := os.Stat(dir); serr != nil { // not another run's install
				t.Fatal(err)
			}
		}
	}
	// One copy per process, as other runs may share the directory.
	path := filepath.Join(dir, fmt.Sprintf("%s-%d.cjs", name, os.Getpid()))
	if err := os.WriteFile(path, script, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(path) })
	return path
}
