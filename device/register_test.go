package device_test

import (
	"crypto/tls"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"

	"github.com/otactl/otactl/device"
	"github.com/otactl/otactl/device/devicetest"
	"github.com/otactl/otactl/local/policy"
)

func TestEndpointFromDescribeEndpoint(t *testing.T) {
	e := devicetest.Start(t)
	if ep, err := device.Endpoint(devicetest.Ctx, e.API, false); err != nil || ep != "127.0.0.1:1883" {
		t.Fatalf("plain: %q %v", ep, err)
	}
	if ep, err := device.Endpoint(devicetest.Ctx, e.API, true); err != nil || ep != "127.0.0.1:8883" {
		t.Fatalf("TLS: %q %v", ep, err)
	}
	e.IoT.SetEndpoint("iot:Data-ATS", "127.0.0.1:18883")
	if ep, err := device.Endpoint(devicetest.Ctx, e.API, true); err != nil || ep != "127.0.0.1:18883" {
		t.Fatalf("with a port: %q %v", ep, err)
	}
}

func TestRegisterIsIdempotent(t *testing.T) {
	e := devicetest.Start(t)
	e.Things("r-1")
	dir := t.TempDir()
	reg := device.Registration{Group: "g", CertDir: dir, Policy: device.DefaultPolicyName}
	for i := 0; i < 2; i++ {
		if err := device.Register(devicetest.Ctx, e.API, []string{"r-1", "r-2", "r-3"}, reg); err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
	}
	in, err := e.API.ListThingsInThingGroup(devicetest.Ctx, &sdkiot.ListThingsInThingGroupInput{ThingGroupName: aws.String("g")})
	if err != nil || len(in.Things) != 3 {
		t.Fatalf("group: %v %v", in, err)
	}
	// One certificate per thing, kept across runs.
	for _, th := range []string{"r-1", "r-2", "r-3"} {
		ps, err := e.API.ListThingPrincipals(devicetest.Ctx, &sdkiot.ListThingPrincipalsInput{ThingName: aws.String(th)})
		if err != nil || len(ps.Principals) != 1 {
			t.Fatalf("%s principals: %v %v", th, ps, err)
		}
		crt, _ := device.CertPaths(dir, th)
		if _, err := os.Stat(crt); err != nil {
			t.Fatal(err)
		}
		// The thing-scoped policy, attached once to each certificate.
		ap, err := e.API.ListAttachedPolicies(devicetest.Ctx, &sdkiot.ListAttachedPoliciesInput{Target: aws.String(ps.Principals[0])})
		if err != nil || len(ap.Policies) != 1 || aws.ToString(ap.Policies[0].PolicyName) != device.DefaultPolicyName {
			t.Fatalf("%s policies: %+v %v", th, ap, err)
		}
	}
	// The devices connect over mutual TLS with what was written.
	e.Job(devicetest.Update{ID: "reg", Image: devicetest.Firmware(5000)}, "r-2")
	cfg := e.Config("r-2")
	crt, key := device.CertPaths(dir, "r-2")
	pair, err := loadPair(crt, key)
	if err != nil {
		t.Fatal(err)
	}
	tc := &tls.Config{Certificates: pair, RootCAs: e.CA.Pool()}
	cfg.Endpoint, cfg.TLS = e.Broker.TLSAddr(), tc
	if res := e.Run(cfg); res.Status != "SUCCEEDED" {
		t.Fatalf("%+v", res)
	}
}

// The policy device.Register attaches is what lets a device in: a
// certificate registered without it is refused at CONNECT, and with it a
// device cannot connect as another thing.
func TestRegisteredPolicyConfinesTheDevice(t *testing.T) {
	e := devicetest.Start(t)
	dir, bare := t.TempDir(), t.TempDir()
	if err := device.Register(devicetest.Ctx, e.API, []string{"p-1", "p-2"}, device.Registration{CertDir: dir, Policy: device.DefaultPolicyName}); err != nil {
		t.Fatal(err)
	}
	if err := device.Register(devicetest.Ctx, e.API, []string{"p-3"}, device.Registration{CertDir: bare}); err != nil {
		t.Fatal(err)
	}
	e.Job(devicetest.Update{ID: "pol", Image: devicetest.Firmware(3000)}, "p-1", "p-3")
	run := func(certDir, certOf, as string) *device.Result {
		cfg := e.Config(as)
		crt, key := device.CertPaths(certDir, certOf)
		pair, err := loadPair(crt, key)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Endpoint, cfg.TLS = e.Broker.TLSAddr(), &tls.Config{Certificates: pair, RootCAs: e.CA.Pool()}
		return e.Run(cfg)
	}
	if res := run(dir, "p-1", "p-1"); res.Status != "SUCCEEDED" {
		t.Fatalf("p-1 with the policy: %+v", res)
	}
	if res := run(bare, "p-3", "p-3"); res.Status != "ERROR" || !strings.Contains(res.Err, "not authorized") {
		t.Fatalf("p-3 without a policy: %+v", res)
	}
	if res := run(dir, "p-2", "p-1"); res.Status != "ERROR" || !strings.Contains(res.Err, "not authorized") {
		t.Fatalf("p-2's certificate as p-1: %+v", res)
	}
}

func TestThingPolicyParses(t *testing.T) {
	doc := device.ThingPolicy("arn:aws:iot:us-east-1:123456789012")
	if _, err := policy.Parse(doc); err != nil {
		t.Fatalf("%v\n%s", err, doc)
	}
}
