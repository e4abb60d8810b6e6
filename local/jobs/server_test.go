package jobs_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/otactl/otactl/local/iot"
	"github.com/otactl/otactl/local/localtest"
)

// TestServerRunsTheEngine: otactl local runs the engine on the wall clock:
// a rate-limited job is rolled out, a failed execution is retried, and the
// $package shadow is served on the IoT data plane (SigV4 service iotdata).
func TestServerRunsTheEngine(t *testing.T) {
	env := localtest.Start(t)
	ctx := context.Background()
	c := sdkiot.NewFromConfig(env.Config)
	svc := env.Server.Service("iot").(*iot.Service)
	mustDo(t)(c.CreateThingGroup(ctx, &sdkiot.CreateThingGroupInput{ThingGroupName: aws.String("g")}))
	mustDo(t)(c.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String("dev1")}))
	mustDo(t)(c.AddThingToThingGroup(ctx, &sdkiot.AddThingToThingGroupInput{ThingName: aws.String("dev1"), ThingGroupName: aws.String("g")}))
	mustDo(t)(c.CreatePackage(ctx, &sdkiot.CreatePackageInput{PackageName: aws.String("fw")}))
	v, err := c.CreatePackageVersion(ctx, &sdkiot.CreatePackageVersionInput{PackageName: aws.String("fw"), VersionName: aws.String("2.0")})
	if err != nil {
		t.Fatal(err)
	}
	group, err := c.DescribeThingGroup(ctx, &sdkiot.DescribeThingGroupInput{ThingGroupName: aws.String("g")})
	if err != nil {
		t.Fatal(err)
	}
	mustDo(t)(c.CreateJob(ctx, &sdkiot.CreateJobInput{JobId: aws.String("j"), Targets: []string{aws.ToString(group.ThingGroupArn)},
		Document:                   aws.String(`{}`),
		DestinationPackageVersions: []string{aws.ToString(v.PackageVersionArn)},
		JobExecutionsRolloutConfig: &types.JobExecutionsRolloutConfig{MaximumPerMinute: aws.Int32(10)},
		JobExecutionsRetryConfig: &types.JobExecutionsRetryConfig{CriteriaList: []types.RetryCriteria{
			{FailureType: types.RetryableFailureTypeFailed, NumberOfRetries: aws.Int32(1)}}}}))
	waitFor(t, "the rollout", func() bool { x, err := svc.Execution("dev1", "j"); return err == nil && x.Status == "QUEUED" })
	if _, err := svc.UpdateExecution("dev1", "j", iot.ExecutionUpdate{Status: "FAILED"}); err != nil {
		t.Fatal(err)
	}
	x, _ := svc.Execution("dev1", "j")
	if x.Status != "QUEUED" || x.ExecutionNumber != 2 || x.RetryAttempt != 1 {
		t.Fatalf("after a failure: %+v", x)
	}
	if _, err := svc.UpdateExecution("dev1", "j", iot.ExecutionUpdate{Status: "SUCCEEDED"}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "completion", func() bool {
		j, err := c.DescribeJob(ctx, &sdkiot.DescribeJobInput{JobId: aws.String("j")})
		return err == nil && j.Job.Status == types.JobStatusCompleted
	})

	req, _ := http.NewRequest("GET", env.URL+"/things/dev1/shadow?name=%24package", nil)
	empty := sha256.Sum256(nil)
	creds, _ := env.Config.Credentials.Retrieve(ctx)
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(empty[:]), "iotdata", "us-east-1", time.Now()); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the $package shadow", func() bool {
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var doc struct {
			State struct {
				Reported map[string]struct{ Version string } `json:"reported"`
			} `json:"state"`
		}
		return resp.StatusCode == 200 && json.NewDecoder(resp.Body).Decode(&doc) == nil && doc.State.Reported["fw"].Version == "2.0"
	})
}

func mustDo(t *testing.T) func(any, error) {
	return func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
}

// waitFor polls cond (the engine runs on its own goroutine); no timing is
// asserted, the limit only keeps a broken build from hanging.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}
