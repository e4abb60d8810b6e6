package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/signer"

	"github.com/otactl/otactl/bootstrap"
	"github.com/otactl/otactl/device"
	"github.com/otactl/otactl/local/localtest"
	"github.com/otactl/otactl/local/mqtt"
)

// bootstrapLocal starts otactl local with a mutual-TLS broker and points
// the CLI's AWS configuration at it; it returns the broker's CA file.
func bootstrapLocal(t *testing.T) (*localtest.Env, string) {
	env := localtest.Start(t)
	if _, err := env.Server.StartMQTT(mqtt.Config{TLSAddr: "127.0.0.1:0"}); err != nil {
		t.Fatal(err)
	}
	creds, err := env.Config.Credentials.Retrieve(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	none := filepath.Join(t.TempDir(), "none")
	t.Setenv("AWS_ACCESS_KEY_ID", creds.AccessKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", creds.SecretAccessKey)
	t.Setenv("AWS_REGION", env.Config.Region)
	t.Setenv("AWS_CONFIG_FILE", none)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", none)
	return env, filepath.Join(env.Server.Config().DataDir, mqtt.CAFile)
}

func otactl(t *testing.T, env *localtest.Env, args ...string) (string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Main(append(args, "--endpoint-url", env.URL), &out, &errb)
	return out.String() + errb.String(), code
}

// TestBootstrapEndToEnd: otactl bootstrap with 3 devices against otactl
// local; a second run creates nothing; otactl create -f the generated
// spec; --destroy refuses while the update runs; the devices, each with
// only its generated folder, take the update over mutual TLS and every one
// SUCCEEDS; --destroy then leaves nothing tagged behind.
func TestBootstrapEndToEnd(t *testing.T) {
	env, ca := bootstrapLocal(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "boot")
	fw := filepath.Join(dir, "app.bin")
	image := make([]byte, 40_000)
	rand.Read(image)
	if err := os.WriteFile(fw, image, 0o644); err != nil {
		t.Fatal(err)
	}
	args := []string{"bootstrap", "--name", "e2e", "--devices", "3", "--out", out, "--root-ca", ca, "--firmware", fw}
	first, code := otactl(t, env, args...)
	if code != 0 {
		t.Fatalf("bootstrap: exit %d\n%s", code, first)
	}
	t.Logf("first run:\n%s", first)
	if !strings.Contains(first, " 0 reused, 0 left alone") || strings.Contains(first, "reused ") {
		t.Fatalf("a first run reused something:\n%s", first)
	}
	second, code := otactl(t, env, args...)
	if code != 0 || !strings.Contains(second, "\n0 created,") {
		t.Fatalf("second run: exit %d, want nothing created:\n%s", code, second)
	}

	// What the folders hold.
	things := []string{"e2e-device-1", "e2e-device-2", "e2e-device-3"}
	for _, th := range things {
		d := filepath.Join(out, "devices", th)
		st, err := os.Stat(filepath.Join(d, th+".key"))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Fatalf("%s key: %v %v", th, st, err)
		}
		h, err := os.ReadFile(filepath.Join(d, bootstrap.HeaderFile))
		if err != nil || !strings.Contains(string(h), `#define CLIENT_IDENTIFIER    "`+th+`"`) || !strings.Contains(string(h), `"ca.pem"`) {
			t.Fatalf("header of %s: %v\n%s", th, err, h)
		}
	}
	if st, err := os.Stat(filepath.Join(out, "signing", "code_sign.key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("signing key: %v %v", st, err)
	}

	spec := filepath.Join(out, "ota-update.yaml")
	if msg, code := otactl(t, env, "create", "-f", spec); code != 0 {
		t.Fatalf("otactl create -f %s: exit %d\n%s", spec, code, msg)
	}
	if msg, code := otactl(t, env, "bootstrap", "--name", "e2e", "--out", out, "--destroy"); code == 0 || !strings.Contains(msg, "e2e-update-1") {
		t.Fatalf("--destroy while the update runs: exit %d\n%s", code, msg)
	}

	rep := runFleetFromFolders(t, out, things)
	for _, d := range rep.Devices {
		if d.Status != "SUCCEEDED" {
			t.Fatalf("%s ended %s", d.Thing, d.Status)
		}
	}
	if len(rep.Devices) != 3 {
		t.Fatalf("%d devices ran", len(rep.Devices))
	}

	msg, code := otactl(t, env, "bootstrap", "--name", "e2e", "--out", out, "--destroy")
	if code != 0 {
		t.Fatalf("--destroy: exit %d\n%s", code, msg)
	}
	t.Logf("destroy:\n%s", msg)
	assertNothingTagged(t, env, "e2e")
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("the output folder is still there: %v", err)
	}
}

// runFleetFromFolders runs the simulated devices with nothing but what
// each device folder holds: endpoint, client id, certificate, key, root CA
// and the code-signing certificate under its certname.
func runFleetFromFolders(t *testing.T, out string, things []string) *device.Report {
	t.Helper()
	folder := func(th string) string { return filepath.Join(out, "devices", th) }
	read := func(th, name string) []byte {
		b, err := os.ReadFile(filepath.Join(folder(th), name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	endpoint := strings.TrimSpace(string(read(things[0], bootstrap.EndpointFile)))
	trust := &device.Trust{}
	if err := trust.Add("code_sign.crt", read(things[0], "code_sign.crt")); err != nil {
		t.Fatal(err)
	}
	fleet := &device.Fleet{
		Things: things,
		TLSFor: func(th string) (*tls.Config, error) {
			if id := strings.TrimSpace(string(read(th, bootstrap.ClientIDFile))); id != th {
				t.Errorf("client id of %s: %q", th, id)
			}
			pair, err := tls.LoadX509KeyPair(filepath.Join(folder(th), th+".crt"), filepath.Join(folder(th), th+".key"))
			if err != nil {
				return nil, err
			}
			roots := x509.NewCertPool()
			roots.AppendCertsFromPEM(read(th, bootstrap.LocalCAFile))
			return &tls.Config{Certificates: []tls.Certificate{pair}, RootCAs: roots, MinVersion: tls.VersionTLS12}, nil
		},
		Base: device.Config{Endpoint: endpoint, Trust: trust, ExitOnSuccess: true, Reboot: true, IdleTimeout: 5 * time.Second},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := fleet.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// assertNothingTagged looks in every service for what bootstrap name
// made: nothing may be left.
func assertNothingTagged(t *testing.T, env *localtest.Env, name string) {
	t.Helper()
	ctx := context.Background()
	ic := iot.NewFromConfig(env.Config)
	things, err := ic.ListThings(ctx, &iot.ListThingsInput{AttributeName: aws.String(bootstrap.TagKey), AttributeValue: aws.String(name)})
	if err != nil || len(things.Things) != 0 {
		t.Errorf("things left: %+v %v", things, err)
	}
	certs, err := ic.ListCertificates(ctx, &iot.ListCertificatesInput{})
	if err != nil || len(certs.Certificates) != 0 {
		t.Errorf("device certificates left: %d %v", len(certs.Certificates), err)
	}
	if g, err := ic.ListThingGroups(ctx, &iot.ListThingGroupsInput{}); err != nil || len(g.ThingGroups) != 0 {
		t.Errorf("thing groups left: %+v %v", g, err)
	}
	if p, err := ic.ListPolicies(ctx, &iot.ListPoliciesInput{}); err != nil || len(p.Policies) != 0 {
		t.Errorf("IoT policies left: %+v %v", p, err)
	}
	if b, err := env.S3().ListBuckets(ctx, &s3.ListBucketsInput{}); err != nil || len(b.Buckets) != 0 {
		t.Errorf("buckets left: %+v %v", b, err)
	}
	if _, err := iam.NewFromConfig(env.Config).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("otactl-" + name + "-ota-role")}); err == nil {
		t.Error("the role is left")
	}
	if c, err := acm.NewFromConfig(env.Config).ListCertificates(ctx, &acm.ListCertificatesInput{}); err != nil || len(c.CertificateSummaryList) != 0 {
		t.Errorf("ACM certificates left: %+v %v", c, err)
	}
	if p, err := signer.NewFromConfig(env.Config).ListSigningProfiles(ctx, &signer.ListSigningProfilesInput{}); err != nil || len(p.Profiles) != 0 {
		t.Errorf("active signing profiles left: %+v %v", p, err)
	}
}
