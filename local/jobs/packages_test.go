package jobs

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
)

// TestPackageCatalog: a succeeded execution of a job with
// destinationPackageVersions sets the thing's $package shadow; a failed one
// does not.
func TestPackageCatalog(t *testing.T) {
	f := newFx(t)
	things := f.group("g", 2)
	must(f.client.CreatePackage(bg, &sdkiot.CreatePackageInput{PackageName: aws.String("sensor-fw")}))
	v := must(f.client.CreatePackageVersion(bg, &sdkiot.CreatePackageVersionInput{PackageName: aws.String("sensor-fw"), VersionName: aws.String("1.4.0")}))
	f.job("j", "g", func(in *sdkiot.CreateJobInput) {
		in.DestinationPackageVersions = []string{aws.ToString(v.PackageVersionArn)}
	})
	f.startAll(things)
	f.report(things[0], "j", "SUCCEEDED")
	f.report(things[1], "j", "FAILED")
	if got := must(f.eng.ThingPackages(things[0])); got["sensor-fw"] != "1.4.0" || len(got) != 1 {
		t.Fatalf("packages of %s: %v", things[0], got)
	}
	if got := must(f.eng.ThingPackages(things[1])); len(got) != 0 {
		t.Fatalf("a failed execution changed the packages: %v", got)
	}

}

// TestPackageShadows: with WithPackageShadows the engine writes the
// versions there, through the interface, and reads them back from it.
func TestPackageShadows(t *testing.T) {
	f := newFx(t)
	rec := &recordingPackages{memPackages: newMemPackages()}
	f.eng = New(f.svc, f.st, f.clock, WithPackageShadows(rec)) // replaces the fixture's engine
	things := f.group("g", 1)
	must(f.client.CreatePackage(bg, &sdkiot.CreatePackageInput{PackageName: aws.String("fw")}))
	v := must(f.client.CreatePackageVersion(bg, &sdkiot.CreatePackageVersionInput{PackageName: aws.String("fw"), VersionName: aws.String("2.0")}))
	f.job("j", "g", func(in *sdkiot.CreateJobInput) {
		in.DestinationPackageVersions = []string{aws.ToString(v.PackageVersionArn)}
	})
	f.startAll(things)
	f.report(things[0], "j", "SUCCEEDED")
	if len(rec.calls) != 1 || rec.calls[0] != things[0]+" fw=2.0" {
		t.Fatalf("ReportPackages calls: %v", rec.calls)
	}
	if got := must(f.eng.ThingPackages(things[0])); got["fw"] != "2.0" {
		t.Fatalf("ThingPackages: %v", got)
	}
}

type recordingPackages struct {
	*memPackages
	calls []string
}

func (r *recordingPackages) ReportPackages(thing string, versions map[string]string) error {
	for p, v := range versions {
		r.calls = append(r.calls, thing+" "+p+"="+v)
	}
	return r.memPackages.ReportPackages(thing, versions)
}

// TestRealClock: Start runs the engine on the wall clock; a new job is
// rolled out without any Tick from the caller.
func TestRealClock(t *testing.T) {
	f := newFx(t)
	f.eng = New(f.svc, f.st, RealClock{}) // a second engine: the first one is never ticked again
	f.svc.Now = RealClock{}.Now
	if err := f.eng.Start(); err != nil {
		t.Fatal(err)
	}
	defer f.eng.Close()
	f.group("g", 3)
	must(f.client.CreateJob(bg, &sdkiot.CreateJobInput{JobId: aws.String("j"), Targets: []string{groupArn("g")}, Document: aws.String(`{}`),
		JobExecutionsRolloutConfig: &types.JobExecutionsRolloutConfig{MaximumPerMinute: aws.Int32(100)}}))
	deadline := time.Now().Add(time.Minute) // a hang guard, not a timing assertion
	for f.notifiedThings("j") != 3 {
		if time.Now().After(deadline) {
			t.Fatal("the running engine did not roll out the job")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
