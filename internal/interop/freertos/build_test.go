package freertos_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/otactl/otactl/internal/interop/freertos"
	"github.com/otactl/otactl/internal/testtool"
)

// sources returns the FreeRTOS OTA sources after checking the toolchain:
// missing gcc, OpenSSL's headers or the sources skip loudly (fail in CI).
func sources(t *testing.T) string {
	t.Helper()
	testtool.Require(t, "gcc", "apt-get install gcc")
	if err := freertos.CheckToolchain(); errors.Is(err, freertos.ErrNoOpenSSL) {
		testtool.Missing(t, "libssl-dev (OpenSSL headers for the FreeRTOS demos)", "apt-get install libssl-dev")
	}
	dir, err := freertos.FindSources()
	if err != nil {
		testtool.Missing(t, "the FreeRTOS OTA sources", err.Error())
	}
	return dir
}

// build builds a demo into the user cache dir ($OTACTL_INTEROP_CACHE to
// choose another), logging how long it took (milliseconds when cached).
func build(t *testing.T, src string, demo freertos.Demo, thing string, version int) string {
	t.Helper()
	start := time.Now()
	bin, err := freertos.Build(freertos.Options{Sources: src, CacheDir: os.Getenv("OTACTL_INTEROP_CACHE"),
		Demo: demo, ClientID: thing, VersionBuild: version})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s build %d: %s (%s)", demo, version, bin, time.Since(start).Round(time.Millisecond))
	return bin
}

// TestBuildIsCached: the same inputs give the same binary without a second
// compile; a different version is a different binary.
func TestBuildIsCached(t *testing.T) {
	src := sources(t)
	cache := t.TempDir()
	o := freertos.Options{Sources: src, CacheDir: cache, Demo: freertos.MQTTDemo, ClientID: "cache-test", VersionBuild: 2}
	a, err := freertos.Build(o)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(a)
	if err != nil {
		t.Fatal(err)
	}
	b, err := freertos.Build(o)
	if err != nil || b != a {
		t.Fatalf("second build: %s, %v; first %s", b, err, a)
	}
	if st2, _ := os.Stat(b); !st2.ModTime().Equal(st.ModTime()) {
		t.Fatal("the cached binary was rebuilt")
	}
	o.VersionBuild = 3
	c, err := freertos.Build(o)
	if err != nil || c == a {
		t.Fatalf("version 3: %s, %v", c, err)
	}
	ents, _ := os.ReadDir(cache)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), "build-") {
			t.Errorf("build directory %s left behind", filepath.Join(cache, e.Name()))
		}
	}
}
