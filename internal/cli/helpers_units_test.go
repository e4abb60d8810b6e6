package cli

import (
	"errors"
	"sort"
	"strings"
	"testing"

	"github.com/otactl/otactl/device"
)

func TestThingLess(t *testing.T) {
	got := []string{"big-10", "big-2", "big-100", "big-1", "thing/dev-01", "thing/dev-1", "alpha", "big-"}
	sort.Slice(got, func(i, j int) bool { return thingLess(got[i], got[j]) })
	want := "alpha big- big-1 big-2 big-10 big-100 thing/dev-01 thing/dev-1"
	if strings.Join(got, " ") != want {
		t.Fatalf("%v", got)
	}
}

func TestProgressText(t *testing.T) {
	for _, tc := range []struct {
		p    device.Progress
		want string
	}{
		{device.Progress{Devices: 3}, "connecting 3 devices"},
		{device.Progress{Devices: 3, Connected: 2, Waiting: 2}, "2 of 3 devices connected, waiting for jobs"},
		{device.Progress{Devices: 3, Connected: 3, Working: 1, Waiting: 2}, "0 of 3 devices done (0 succeeded, 0 failed), 1 working, 2 waiting for jobs"},
		{device.Progress{Devices: 3, Done: 3, Succeeded: 2, Failed: 1}, "3 of 3 devices done (2 succeeded, 1 failed)"},
	} {
		if got := progressText(tc.p); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.p, got, tc.want)
		}
	}
}

// Ctrl-C during create: exit 130, the signing job named, no "context canceled".
func TestInterruptedCreate(t *testing.T) {
	err := interruptedCreate(errors.New("signer:DescribeSigningJob files[0] (job 8f2e27af-1234-4abc-9def-0123456789ab): interrupted while waiting for signing: context canceled"))
	var ee *exitError
	if !errors.As(err, &ee) || ee.code != exitInterrupted ||
		err.Error() != "interrupted; signing job 8f2e27af-1234-4abc-9def-0123456789ab keeps running: run the same create again to resume (it is not signed twice)" {
		t.Fatalf("%v", err)
	}
}
