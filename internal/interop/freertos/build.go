// Package freertos builds the FreeRTOS OTA demos (the real OTA agent that
// devices run, from the AWS IoT Device SDK for Embedded C) for otactl's
// interop tests. The sources are third-party and stay outside the
// repository, in ../shared/interop/freertos-ota-c beside the module root
// (or where $OTACTL_FREERTOS_OTA_C points); a build compiles them with gcc
// and OpenSSL into a cache directory, keyed by a hash of every input, so
// that repeated test runs reuse the binaries.
package freertos

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// SourcesEnv overrides where the sources are.
const SourcesEnv = "OTACTL_FREERTOS_OTA_C"

// Environment variables the built demos read at run time. The ports are
// run-time values (the test's broker listens on a free port) so that one
// binary serves every run; everything else is compiled in.
const (
	MQTTPortEnv  = "OTACTL_MQTT_PORT"
	HTTPSPortEnv = "OTACTL_HTTPS_PORT"
)

// Files the demos open, relative to their working directory.
const (
	RootCAFile     = "ca.pem"
	ClientCertFile = "device.crt"
	ClientKeyFile  = "device.key"
)

// Demo is one of the two OTA demos.
type Demo string

const (
	MQTTDemo Demo = "ota_demo_core_mqtt" // job and file over MQTT (streams)
	HTTPDemo Demo = "ota_demo_core_http" // job over MQTT, file over HTTPS
)

// Options is one build.
type Options struct {
	Sources  string // the freertos-ota-c folder
	CacheDir string // where binaries are kept ("" = the user cache dir)
	Demo     Demo
	// ClientID is the MQTT client identifier (the thing name), compiled in.
	ClientID string
	// Endpoint is the host name the agent dials and checks the broker's
	// certificate against (SNI too); "localhost" when empty.
	Endpoint string
	// VersionBuild is APP_VERSION_BUILD, the firmware version's build
	// number the agent reports and compares.
	VersionBuild int
	// Header, when set, is a generated device header (otactl bootstrap's)
	// included before everything (gcc -include): the endpoint, client id
	// and file paths then come from it alone, not from -D flags, and
	// ClientID and Endpoint only name the cache entry.
	Header string
}

// FindSources returns the sources folder: $OTACTL_FREERTOS_OTA_C, or
// ../shared/interop/freertos-ota-c relative to the module root (the folder
// holding go.mod, found upward from the working directory).
func FindSources() (string, error) {
	if dir := os.Getenv(SourcesEnv); dir != "" {
		return checkSources(dir)
	}
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return checkSources(filepath.Join(dir, "..", "shared", "interop", "freertos-ota-c"))
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("no go.mod above %s", wd)
		}
	}
}

func checkSources(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(dir, "libraries", "aws", "ota-for-aws-iot-embedded-sdk", "source", "ota.c")); err != nil {
		return "", fmt.Errorf("no FreeRTOS OTA sources in %s (set $%s): %w", dir, SourcesEnv, err)
	}
	return dir, nil
}

// Build compiles the demo o describes and returns the binary's path. A
// binary built before from the same inputs is reused; concurrent builds
// of the same inputs are safe (the result is renamed into place).
func Build(o Options) (string, error) {
	if o.ClientID == "" || strings.ContainsAny(o.ClientID, `"\`) {
		return "", fmt.Errorf("freertos: client id %q is empty or not a plain C string", o.ClientID)
	}
	if o.Endpoint == "" {
		o.Endpoint = "localhost"
	}
	if o.Demo != MQTTDemo && o.Demo != HTTPDemo {
		return "", fmt.Errorf("freertos: unknown demo %q", o.Demo)
	}
	demoDir := filepath.Join(o.Sources, "demos", "ota", string(o.Demo))
	orig, err := os.ReadFile(filepath.Join(demoDir, "demo_config.h"))
	if err != nil {
		return "", err
	}
	config, err := editConfig(orig, o.VersionBuild)
	if err != nil {
		return "", err
	}
	args, keyed, name := gccArgs(o), config, string(o.Demo)
	var hdr []byte
	if o.Header != "" {
		if hdr, err = os.ReadFile(o.Header); err != nil {
			return "", err
		}
		args, keyed, name = withoutConnectionDefines(args), append(append([]byte{}, config...), hdr...), name+"-h"
	}
	key, err := cacheKey(o.Sources, keyed, args)
	if err != nil {
		return "", err
	}
	cache := o.CacheDir
	if cache == "" {
		if cache, err = os.UserCacheDir(); err != nil {
			cache = os.TempDir()
		}
		cache = filepath.Join(cache, "otactl-interop")
	}
	out := filepath.Join(cache, fmt.Sprintf("%s-%s", name, key[:20]))
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", err
	}
	work, err := os.MkdirTemp(cache, "build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work)
	// The demo's .c includes "demo_config.h" from its own folder first, so
	// the demo folder is copied and its demo_config.h replaced by the edit.
	local := filepath.Join(work, string(o.Demo))
	if err := copyDir(demoDir, local); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(local, "demo_config.h"), config, 0o644); err != nil {
		return "", err
	}
	if hdr != nil {
		included := filepath.Join(work, "device_config.h")
		if err := os.WriteFile(included, hdr, 0o644); err != nil {
			return "", err
		}
		args = append([]string{"-include", included}, args...)
	}
	bin := filepath.Join(work, "demo")
	cmd := exec.Command("gcc", append(args, "-o", bin)...)
	cmd.Dir = work
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("freertos: gcc %s: %v\n%s", o.Demo, err, b)
	}
	if err := os.Rename(bin, out); err != nil {
		return "", err
	}
	return out, nil
}

// withoutConnectionDefines drops the -D flags a device header provides.
func withoutConnectionDefines(args []string) []string {
	var out []string
	for _, a := range args {
		drop := false
		for _, d := range []string{"-DAWS_IOT_ENDPOINT=", "-DROOT_CA_CERT_PATH=", "-DCLIENT_CERT_PATH=", "-DCLIENT_PRIVATE_KEY_PATH=", "-DCLIENT_IDENTIFIER="} {
			drop = drop || strings.HasPrefix(a, d)
		}
		if !drop {
			out = append(out, a)
		}
	}
	return out
}

var (
	mqttPortLine = regexp.MustCompile(`(?m)^#define AWS_MQTT_PORT\s.*$`)
	buildLine    = regexp.MustCompile(`(?m)^#define APP_VERSION_BUILD\s.*$`)
	guardLine    = regexp.MustCompile(`(?m)^#define DEMO_CONFIG_H_\s*$`)
)

// editConfig edits the demo's own demo_config.h where it hard-codes what a
// test must choose: the MQTT port (read from $OTACTL_MQTT_PORT at run
// time) and APP_VERSION_BUILD. An edit that finds nothing to replace is an
// error, so a changed header cannot silently build the wrong version.
func editConfig(orig []byte, build int) ([]byte, error) {
	for _, re := range []*regexp.Regexp{mqttPortLine, buildLine, guardLine} {
		if n := len(re.FindAllIndex(orig, -1)); n != 1 {
			return nil, fmt.Errorf("freertos: demo_config.h has %d lines matching %s, want 1", n, re)
		}
	}
	out := guardLine.ReplaceAll(orig, []byte("#define DEMO_CONFIG_H_\n#include <stdlib.h> /* otactl: the ports are read with getenv */"))
	out = mqttPortLine.ReplaceAll(out, []byte("#define AWS_MQTT_PORT    "+runtimePort(MQTTPortEnv, 8883)))
	out = buildLine.ReplaceAll(out, []byte("#define APP_VERSION_BUILD    "+strconv.Itoa(build)))
	return out, nil
}

// runtimePort is a C expression: the port in $env, def when it is unset.
func runtimePort(env string, def int) string {
	return fmt.Sprintf(`( ( uint16_t ) atoi( getenv( "%s" ) != NULL ? getenv( "%s" ) : "%d" ) )`, env, env, def)
}

// gccArgs is the compile line (README "Building"), relative to the
// sources; the copied demo folder is the work directory's.
func gccArgs(o Options) []string {
	s := func(p ...string) string { return filepath.Join(append([]string{o.Sources}, p...)...) }
	otaSrc := s("libraries", "aws", "ota-for-aws-iot-embedded-sdk", "source")
	mqttLib := s("libraries", "standard", "coreMQTT", "source")
	cbor := s("libraries", "3rdparty", "tinycbor", "src")
	httpLib := s("libraries", "standard", "coreHTTP", "source")
	llhttp := filepath.Join(httpLib, "dependency", "3rdparty", "llhttp")

	files := []string{
		filepath.Join(string(o.Demo), string(o.Demo)+".c"),
		s("demos", "ota", "common", "src", "mqtt_subscription_manager.c"),
		filepath.Join(otaSrc, "ota.c"), filepath.Join(otaSrc, "ota_interface.c"), filepath.Join(otaSrc, "ota_base64.c"),
		filepath.Join(otaSrc, "ota_mqtt.c"), filepath.Join(otaSrc, "ota_cbor.c"), filepath.Join(otaSrc, "portable", "os", "ota_os_posix.c"),
		filepath.Join(mqttLib, "core_mqtt.c"), filepath.Join(mqttLib, "core_mqtt_state.c"), filepath.Join(mqttLib, "core_mqtt_serializer.c"),
		s("libraries", "standard", "backoffAlgorithm", "source", "backoff_algorithm.c"),
		s("libraries", "standard", "coreJSON", "source", "core_json.c"),
		s("platform", "posix", "ota_pal", "source", "ota_pal_posix.c"),
		s("platform", "posix", "clock_posix.c"),
		s("platform", "posix", "transport", "src", "openssl_posix.c"),
		s("platform", "posix", "transport", "src", "sockets_posix.c"),
	}
	for _, f := range []string{"cborencoder.c", "cborencoder_close_container_checked.c", "cborerrorstrings.c",
		"cborparser.c", "cborparser_dup_string.c", "cborpretty.c", "cborpretty_stdio.c"} {
		files = append(files, filepath.Join(cbor, f))
	}
	includes := []string{
		string(o.Demo),
		s("demos", "ota", "common", "include"), s("demos", "logging-stack"), s("demos", "include"),
		filepath.Join(mqttLib, "include"), filepath.Join(mqttLib, "interface"),
		s("libraries", "standard", "backoffAlgorithm", "source", "include"),
		s("libraries", "standard", "coreJSON", "source", "include"),
		filepath.Join(otaSrc, "include"), filepath.Join(otaSrc, "portable"), otaSrc, filepath.Join(otaSrc, "portable", "os"),
		s("platform", "include"), s("platform", "posix", "transport", "include"),
		s("platform", "posix", "ota_pal", "source", "include"),
		cbor,
	}
	defines := []string{
		`-DAWS_IOT_ENDPOINT="` + o.Endpoint + `"`,
		`-DROOT_CA_CERT_PATH="` + RootCAFile + `"`,
		`-DCLIENT_CERT_PATH="` + ClientCertFile + `"`,
		`-DCLIENT_PRIVATE_KEY_PATH="` + ClientKeyFile + `"`,
		`-DCLIENT_IDENTIFIER="` + o.ClientID + `"`,
	}
	if o.Demo == HTTPDemo {
		files = append(files, filepath.Join(otaSrc, "ota_http.c"),
			s("demos", "http", "common", "src", "http_demo_url_utils.c"),
			filepath.Join(httpLib, "core_http_client.c"),
			filepath.Join(llhttp, "src", "api.c"), filepath.Join(llhttp, "src", "llhttp.c"), filepath.Join(llhttp, "src", "http.c"))
		includes = append(includes, s("demos", "http", "common", "include"),
			filepath.Join(httpLib, "include"), filepath.Join(httpLib, "interface"), filepath.Join(llhttp, "include"))
		// AWS_HTTPS_PORT is #ifndef-guarded in the HTTP demo's config.
		defines = append(defines, "-DAWS_HTTPS_PORT="+runtimePort(HTTPSPortEnv, 443))
	}
	args := []string{"-std=gnu99", "-O1", "-w"}
	args = append(args, defines...)
	for _, inc := range includes {
		args = append(args, "-I"+inc)
	}
	args = append(args, files...)
	return append(args, "-lssl", "-lcrypto", "-lpthread", "-lrt")
}

// cacheKey hashes every file of the sources, the edited header, the
// compile line and the compiler's version.
func cacheKey(sources string, config []byte, args []string) (string, error) {
	h := sha256.New()
	ver, err := exec.Command("gcc", "--version").Output()
	if err != nil {
		return "", fmt.Errorf("freertos: gcc: %w", err)
	}
	fmt.Fprintf(h, "gcc %q\nargs %q\nconfig %q\n", ver, args, config)
	var paths []string
	err = filepath.WalkDir(sources, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			paths = append(paths, p)
		}
		return err
	})
	if err != nil {
		return "", err
	}
	sort.Strings(paths)
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "file %s\n", p)
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// copyDir copies the regular files of one folder (the demo's, flat).
func copyDir(from, to string) error {
	if err := os.MkdirAll(to, 0o755); err != nil {
		return err
	}
	ents, err := os.ReadDir(from)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if !e.Type().IsRegular() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(from, e.Name()))
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(to, e.Name()), b, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// ErrNoOpenSSL is returned by CheckToolchain when OpenSSL's headers are missing.
var ErrNoOpenSSL = errors.New("OpenSSL development headers (openssl/ssl.h) not found")

// CheckToolchain reports whether gcc can compile against OpenSSL.
func CheckToolchain() error {
	if _, err := exec.LookPath("gcc"); err != nil {
		return err
	}
	cmd := exec.Command("gcc", "-E", "-x", "c", "-")
	cmd.Stdin = strings.NewReader("#include <openssl/ssl.h>\n")
	cmd.Stdout = io.Discard
	if err := cmd.Run(); err != nil {
		return ErrNoOpenSSL
	}
	return nil
}
