package iot_test

import (
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
)

// TestDescribeEndpointCredentialProvider: the credentials provider is not
// served, so iot:CredentialProvider is refused (InvalidRequestException)
// even when every other type has an address, until it is set by name.
func TestDescribeEndpointCredentialProvider(t *testing.T) {
	f := start(t)
	typ := aws.String("iot:CredentialProvider")
	f.svc.SetEndpoint("", "localhost:8883")
	_, err := f.client.DescribeEndpoint(ctx, &sdkiot.DescribeEndpointInput{EndpointType: typ})
	wantCode(t, err, "InvalidRequestException")
	f.svc.SetEndpoint("iot:CredentialProvider", "localhost:4443")
	if e := must(f.client.DescribeEndpoint(ctx, &sdkiot.DescribeEndpointInput{EndpointType: typ})); *e.EndpointAddress != "localhost:4443" {
		t.Fatalf("iot:CredentialProvider = %q once set", *e.EndpointAddress)
	}
	if e := must(f.client.DescribeEndpoint(ctx, &sdkiot.DescribeEndpointInput{})); *e.EndpointAddress != "localhost:8883" {
		t.Fatalf("default type = %q", *e.EndpointAddress)
	}
}
