package local_test

import (
	"errors"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	sdkiam "github.com/aws/aws-sdk-go-v2/service/iam"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	sdksigner "github.com/aws/aws-sdk-go-v2/service/signer"
	sdksts "github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"

	"github.com/otactl/otactl/local/localtest"
)

// TestRequestIDs: every answer, success or error, carries a request id the
// SDK can read, as AWS's do (the SDK takes it from x-amzn-RequestId for
// JSON services and from the body's RequestId for the query protocol, so
// for STS and IAM header and body must agree).
func TestRequestIDs(t *testing.T) {
	env := localtest.Start(t)
	ok := func(name string, md middleware.Metadata) {
		t.Helper()
		if id, _ := awsmiddleware.GetRequestIDMetadata(md); len(id) != 36 {
			t.Errorf("%s: request id %q", name, id)
		}
	}
	failed := func(name string, err error) {
		t.Helper()
		var re interface{ ServiceRequestID() string }
		if !errors.As(err, &re) || len(re.ServiceRequestID()) != 36 {
			t.Errorf("%s: error %v has no request id", name, err)
		}
	}

	iot := sdkiot.NewFromConfig(env.Config)
	things, err := iot.ListThings(ctx, &sdkiot.ListThingsInput{})
	if err != nil {
		t.Fatal(err)
	}
	ok("iot ListThings", things.ResultMetadata)
	_, err = iot.DescribeThing(ctx, &sdkiot.DescribeThingInput{ThingName: aws.String("none")})
	failed("iot DescribeThing", err)

	platforms, err := sdksigner.NewFromConfig(env.Config).ListSigningPlatforms(ctx, &sdksigner.ListSigningPlatformsInput{})
	if err != nil {
		t.Fatal(err)
	}
	ok("signer ListSigningPlatforms", platforms.ResultMetadata)

	who, err := sdksts.NewFromConfig(env.Config).GetCallerIdentity(ctx, &sdksts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	ok("sts GetCallerIdentity", who.ResultMetadata)

	iam := sdkiam.NewFromConfig(env.Config)
	roles, err := iam.ListRoles(ctx, &sdkiam.ListRolesInput{})
	if err == nil {
		ok("iam ListRoles", roles.ResultMetadata)
	}
	_, err = iam.GetRole(ctx, &sdkiam.GetRoleInput{RoleName: aws.String("none")})
	failed("iam GetRole", err)
}
