package cli

import (
	"bytes"
	"context"
	"crypto/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/acm"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/signer"

	"github.com/otactl/otactl/bootstrap"
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

	// otactl fleet with the device folders: mutual TLS with each thing's
	// own certificate and key, the root CA and the code-signing
	// certificate from its folder, the endpoint bootstrap wrote.
	dev1 := filepath.Join(out, "devices", things[0])
	endpoint, err := os.ReadFile(filepath.Join(dev1, bootstrap.EndpointFile)) // every folder has the same
	if err != nil {
		t.Fatal(err)
	}
	// One otactl fleet per device folder (--cert/--key are one device's);
	// each exits 0 only when its device SUCCEEDED.
	var msg string
	for _, th := range things {
		d := filepath.Join(out, "devices", th)
		msg, code = otactl(t, env, "fleet", "--things", th, "--cert", filepath.Join(d, th+".crt"), "--key", filepath.Join(d, th+".key"),
			"--ca", filepath.Join(d, bootstrap.LocalCAFile), "--signing-cert", "code_sign.crt="+filepath.Join(d, "code_sign.crt"),
			"--endpoint", strings.TrimSpace(string(endpoint)), "--timeout", "2m")
		if code != 0 || !strings.Contains(msg, "(1 succeeded, 0 failed)") {
			t.Fatalf("otactl fleet %s: exit %d (0 only when the device SUCCEEDED)\n%s", th, code, msg)
		}
	}

	execs, err := iot.NewFromConfig(env.Config).ListJobExecutionsForJob(context.Background(), &iot.ListJobExecutionsForJobInput{JobId: aws.String("AFR_OTA-e2e-update-1")})
	if err != nil || len(execs.ExecutionSummaries) != 3 {
		t.Fatalf("executions: %+v %v", execs, err)
	}
	for _, e := range execs.ExecutionSummaries {
		if e.JobExecutionSummary.Status != "SUCCEEDED" {
			t.Fatalf("%s: %s", aws.ToString(e.ThingArn), e.JobExecutionSummary.Status)
		}
	}

	msg, code = otactl(t, env, "bootstrap", "--name", "e2e", "--out", out, "--destroy")
	if code != 0 {
		t.Fatalf("--destroy: exit %d\n%s", code, msg)
	}
	t.Logf("destroy:\n%s", msg)
	assertNothingTagged(t, env, "e2e")
	if _, err := os.Stat(out); !os.IsNotExist(err) {
		t.Fatalf("the output folder is still there: %v", err)
	}
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
