package cli

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iot"
)

// TestBootstrapLeavesOthersAlone: a thing of the same name that someone
// else made is reported as left alone, gets no credentials and survives
// --destroy, as does a role of another bootstrap; --destroy --force goes
// ahead while an update is in progress.
func TestBootstrapLeavesOthersAlone(t *testing.T) {
	env, ca := bootstrapLocal(t)
	ctx := context.Background()
	ic := iot.NewFromConfig(env.Config)
	if _, err := ic.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String("own-device-2")}); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(t.TempDir(), "boot")
	other := filepath.Join(t.TempDir(), "other")
	if msg, code := otactl(t, env, "bootstrap", "--name", "other", "--out", other); code != 0 {
		t.Fatalf("bootstrap other: %d\n%s", code, msg)
	}
	msg, code := otactl(t, env, "bootstrap", "--name", "own", "--devices", "2", "--out", out, "--root-ca", ca, "--firmware", ca)
	if code != 0 || !strings.Contains(msg, "left alone  thing") || !strings.Contains(msg, "own-device-2") {
		t.Fatalf("bootstrap: exit %d\n%s", code, msg)
	}
	if msg, code := otactl(t, env, "create", "-f", filepath.Join(out, "ota-update.yaml")); code != 0 {
		t.Fatalf("create: %d\n%s", code, msg)
	}
	msg, code = otactl(t, env, "bootstrap", "--name", "own", "--out", out, "--destroy", "--force")
	if code != 0 {
		t.Fatalf("--destroy --force: exit %d\n%s", code, msg)
	}
	if strings.Contains(msg, "own-device-2") {
		t.Fatalf("--destroy touched someone else's thing:\n%s", msg)
	}
	if _, err := ic.DescribeThing(ctx, &iot.DescribeThingInput{ThingName: aws.String("own-device-2")}); err != nil {
		t.Fatalf("someone else's thing is gone: %v", err)
	}
	if _, err := iam.NewFromConfig(env.Config).GetRole(ctx, &iam.GetRoleInput{RoleName: aws.String("otactl-other-ota-role")}); err != nil {
		t.Fatalf("the other bootstrap's role is gone: %v", err)
	}
	// The other bootstrap's role name, asked for by this one: refused.
	msg, code = otactl(t, env, "bootstrap", "--name", "own", "--role", "otactl-other-ota-role", "--out", out)
	if code == 0 || !strings.Contains(msg, "--role with another name") {
		t.Fatalf("a role of another bootstrap: exit %d\n%s", code, msg)
	}
}
