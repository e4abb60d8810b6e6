package cli

import (
	"strings"
	"testing"
)

func TestFleetFlagErrors(t *testing.T) {
	cases := map[string][]string{
		"no devices":         {"--signing-cert", "x.pem"},
		"both namings":       {"--thing", "a", "--devices", "2", "--signing-cert", "x.pem"},
		"no signing cert":    {"--devices", "2"},
		"bad rate":           {"--devices", "2", "--signing-cert", "x.pem", "--drop-rate", "1.5"},
		"bad block size":     {"--devices", "2", "--signing-cert", "x.pem", "--block-size", "100"},
		"cert without key":   {"--devices", "2", "--signing-cert", "x.pem", "--cert", "a.crt"},
		"group alone":        {"--devices", "2", "--signing-cert", "x.pem", "--add-to-group", "g"},
		"endpoint sans port": {"--devices", "2", "--signing-cert", "x.pem", "--endpoint", "localhost"},
		"bad output":         {"--devices", "2", "--signing-cert", "x.pem", "-o", "yaml"},
		"missing cert file":  {"--devices", "2", "--signing-cert", "/nonexistent.pem", "--endpoint", "127.0.0.1:1"},
		"unknown flag":       {"--devices", "2", "--frobnicate"},
	}
	for name, args := range cases {
		code, _, stderr := run(t, append([]string{"fleet"}, args...)...)
		if code != ExitInvalid || !strings.HasPrefix(stderr, "otactl: ") {
			t.Errorf("%s: exit %d, stderr %q", name, code, stderr)
		}
	}
}
