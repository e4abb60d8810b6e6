package device_test

import (
	"os"
	"strings"
	"testing"

	"github.com/otactl/otactl/device"
)

// The README shows the policy otactl attaches to device certificates; this
// keeps the two the same.
func TestREADMEShowsThingPolicy(t *testing.T) {
	raw, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const marker = "<!-- device.ThingPolicy"
	_, rest, ok := strings.Cut(string(raw), marker)
	if !ok {
		t.Fatalf("README.md has no %q block", marker)
	}
	_, rest, _ = strings.Cut(rest, "```json\n")
	block, _, _ := strings.Cut(rest, "```")
	want := device.ThingPolicy("arn:aws:iot:us-east-1:000000000000")
	if strings.TrimSpace(block) != strings.TrimSpace(want) {
		t.Errorf("README's policy differs from device.ThingPolicy; replace it with:\n%s", want)
	}
}
