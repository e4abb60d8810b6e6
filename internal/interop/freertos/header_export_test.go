package freertos

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// BuildWithHeader builds the demo o describes with its connection
// settings taken from a generated header (otactl bootstrap's device
// header), included before everything with gcc -include, instead of the
// -D flags Build passes: the endpoint, client id and file paths come from
// the header alone. o.ClientID only names the cache entry.
func BuildWithHeader(o Options, header string) (string, error) {
	hdr, err := os.ReadFile(header)
	if err != nil {
		return "", err
	}
	if o.ClientID == "" {
		o.ClientID = "header"
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
	var args []string
	for _, a := range gccArgs(o) {
		drop := false
		for _, d := range []string{"-DAWS_IOT_ENDPOINT=", "-DROOT_CA_CERT_PATH=", "-DCLIENT_CERT_PATH=", "-DCLIENT_PRIVATE_KEY_PATH=", "-DCLIENT_IDENTIFIER="} {
			drop = drop || strings.HasPrefix(a, d)
		}
		if !drop {
			args = append(args, a)
		}
	}
	work, err := os.MkdirTemp("", "otactl-header-build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(work)
	local := filepath.Join(work, string(o.Demo))
	if err := copyDir(demoDir, local); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(local, "demo_config.h"), config, 0o644); err != nil {
		return "", err
	}
	hpath := filepath.Join(work, "device_config.h")
	if err := os.WriteFile(hpath, hdr, 0o644); err != nil {
		return "", err
	}
	args = append([]string{"-include", hpath}, args...)
	key, err := cacheKey(o.Sources, append(config, hdr...), append(args[2:], "header"))
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
	out := filepath.Join(cache, fmt.Sprintf("%s-h-%s", o.Demo, key[:20]))
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	if err := os.MkdirAll(cache, 0o755); err != nil {
		return "", err
	}
	bin := filepath.Join(work, "demo")
	if b, err := runGCC(work, append(args, "-o", bin)); err != nil {
		return "", fmt.Errorf("freertos: gcc %s with %s: %v\n%s", o.Demo, header, err, b)
	}
	tmp := out + fmt.Sprintf(".tmp%d", os.Getpid())
	if err := copyFile(bin, tmp); err != nil {
		return "", err
	}
	return out, os.Rename(tmp, out)
}

func runGCC(dir string, args []string) ([]byte, error) {
	cmd := exec.Command("gcc", args...)
	cmd.Dir = dir
	return cmd.CombinedOutput()
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}
