package sts_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdksts "github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/otactl/otactl/local/sts"
	"github.com/otactl/otactl/local/wire"
)

func TestGetCallerIdentity(t *testing.T) {
	srv := httptest.NewServer(sts.New(wire.Env{Region: "eu-west-1", AccountID: "123456789012"}))
	defer srv.Close()
	c := sdksts.NewFromConfig(aws.Config{Region: "eu-west-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDLOCAL", "secret", "")})
	out, err := c.GetCallerIdentity(context.Background(), &sdksts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	if *out.Account != "123456789012" || *out.UserId != "AKIDLOCAL" || *out.Arn != "arn:aws:iam::123456789012:user/otactl-local" {
		t.Fatalf("identity = %s %s %s", *out.Account, *out.UserId, *out.Arn)
	}
	// An operation STS has but this one does not serve: the SDK sees InvalidAction.
	_, err = c.GetSessionToken(context.Background(), &sdksts.GetSessionTokenInput{})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidAction" {
		t.Fatalf("GetSessionToken: %v", err)
	}
	// GET with the query string works too (the query protocol allows it).
	resp, err := http.Get(srv.URL + "/?Action=GetCallerIdentity&Version=2011-06-15")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET: %v %v", resp, err)
	}
	resp.Body.Close()
	resp, _ = http.Post(srv.URL, "application/x-www-form-urlencoded", strings.NewReader("Action=GetCallerIdentity&Version=1999-01-01"))
	if resp.StatusCode != 400 {
		t.Fatalf("bad version: %d", resp.StatusCode)
	}
	resp.Body.Close()
}
