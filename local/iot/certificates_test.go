package iot_test

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
	"github.com/aws/smithy-go"

	"github.com/otactl/otactl/local/iot"
	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/local/wire"
)

func certService(t *testing.T) (*iot.Service, *sdkiot.Client) {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := iot.New(st, wire.Env{Region: "us-east-1", AccountID: "123456789012"}, nil)
	svc.EnableCertificates(nil)
	srv := httptest.NewServer(svc)
	t.Cleanup(srv.Close)
	cl := sdkiot.New(sdkiot.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDLOCAL", "secret", ""),
	})
	return svc, cl
}

func certErrCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestCertificatesAndPrincipals(t *testing.T) {
	svc, cl := certService(t)
	c := context.Background()
	if _, err := cl.CreateThing(c, &sdkiot.CreateThingInput{ThingName: aws.String("dev-1")}); err != nil {
		t.Fatal(err)
	}
	out, err := cl.CreateKeysAndCertificate(c, &sdkiot.CreateKeysAndCertificateInput{SetAsActive: true})
	if err != nil {
		t.Fatal(err)
	}
	// The id is the SHA-256 of the certificate, and key and certificate pair up.
	block, _ := pem.Decode([]byte(*out.CertificatePem))
	sum := sha256.Sum256(block.Bytes)
	if *out.CertificateId != hex.EncodeToString(sum[:]) {
		t.Errorf("certificateId %s is not the certificate's SHA-256", *out.CertificateId)
	}
	if _, err := tls.X509KeyPair([]byte(*out.CertificatePem), []byte(*out.KeyPair.PrivateKey)); err != nil {
		t.Fatalf("key pair: %v", err)
	}
	if _, err := x509.ParseCertificate(block.Bytes); err != nil {
		t.Fatal(err)
	}
	if *out.CertificateArn != "arn:aws:iot:us-east-1:123456789012:cert/"+*out.CertificateId {
		t.Errorf("arn %s", *out.CertificateArn)
	}

	d, err := cl.DescribeCertificate(c, &sdkiot.DescribeCertificateInput{CertificateId: out.CertificateId})
	if err != nil {
		t.Fatal(err)
	}
	if d.CertificateDescription.Status != types.CertificateStatusActive || *d.CertificateDescription.CertificatePem != *out.CertificatePem {
		t.Errorf("describe: %+v", d.CertificateDescription)
	}
	if !svc.CertificateActive(*out.CertificateId) || svc.CertificateAttached(*out.CertificateId, "dev-1") {
		t.Error("before attaching: want active and not attached")
	}

	if _, err := cl.AttachThingPrincipal(c, &sdkiot.AttachThingPrincipalInput{ThingName: aws.String("dev-1"), Principal: out.CertificateArn}); err != nil {
		t.Fatal(err)
	}
	if !svc.CertificateAttached(*out.CertificateId, "dev-1") {
		t.Error("attached certificate not reported attached")
	}
	lp, err := cl.ListThingPrincipals(c, &sdkiot.ListThingPrincipalsInput{ThingName: aws.String("dev-1")})
	if err != nil || len(lp.Principals) != 1 || lp.Principals[0] != *out.CertificateArn {
		t.Fatalf("ListThingPrincipals = %v, %v", lp, err)
	}
	pt, err := cl.ListPrincipalThings(c, &sdkiot.ListPrincipalThingsInput{Principal: out.CertificateArn})
	if err != nil || len(pt.Things) != 1 || pt.Things[0] != "dev-1" {
		t.Fatalf("ListPrincipalThings = %v, %v", pt, err)
	}

	// Errors in AWS's shape.
	if _, err := cl.AttachThingPrincipal(c, &sdkiot.AttachThingPrincipalInput{ThingName: aws.String("nope"), Principal: out.CertificateArn}); certErrCode(err) != "ResourceNotFoundException" {
		t.Errorf("attach to a missing thing: %v", err)
	}
	if _, err := cl.AttachThingPrincipal(c, &sdkiot.AttachThingPrincipalInput{ThingName: aws.String("dev-1"), Principal: aws.String("arn:aws:iot:us-east-1:123456789012:cert/ffff")}); certErrCode(err) != "ResourceNotFoundException" {
		t.Errorf("attach a missing certificate: %v", err)
	}
	if _, err := cl.DescribeCertificate(c, &sdkiot.DescribeCertificateInput{CertificateId: aws.String("00")}); certErrCode(err) != "ResourceNotFoundException" {
		t.Errorf("describe missing: %v", err)
	}
	if _, err := cl.DeleteCertificate(c, &sdkiot.DeleteCertificateInput{CertificateId: out.CertificateId}); certErrCode(err) != "CertificateStateException" {
		t.Errorf("delete an active certificate: %v", err)
	}

	// Deactivate: no longer active; detach; delete.
	if _, err := cl.UpdateCertificate(c, &sdkiot.UpdateCertificateInput{CertificateId: out.CertificateId, NewStatus: types.CertificateStatusInactive}); err != nil {
		t.Fatal(err)
	}
	if svc.CertificateActive(*out.CertificateId) {
		t.Error("inactive certificate reported active")
	}
	if _, err := cl.DeleteCertificate(c, &sdkiot.DeleteCertificateInput{CertificateId: out.CertificateId}); certErrCode(err) != "DeleteConflictException" {
		t.Errorf("delete an attached certificate: %v", err)
	}
	if _, err := cl.DetachThingPrincipal(c, &sdkiot.DetachThingPrincipalInput{ThingName: aws.String("dev-1"), Principal: out.CertificateArn}); err != nil {
		t.Fatal(err)
	}
	if svc.CertificateAttached(*out.CertificateId, "dev-1") {
		t.Error("detached certificate still attached")
	}
	if _, err := cl.DeleteCertificate(c, &sdkiot.DeleteCertificateInput{CertificateId: out.CertificateId}); err != nil {
		t.Fatal(err)
	}

	// setAsActive=false makes an INACTIVE certificate.
	in, err := cl.CreateKeysAndCertificate(c, &sdkiot.CreateKeysAndCertificateInput{})
	if err != nil {
		t.Fatal(err)
	}
	if svc.CertificateActive(*in.CertificateId) {
		t.Error("certificate created without setAsActive is active")
	}
	if _, err := cl.UpdateCertificate(c, &sdkiot.UpdateCertificateInput{CertificateId: in.CertificateId, NewStatus: "BOGUS"}); certErrCode(err) != "InvalidRequestException" {
		t.Errorf("bad status: %v", err)
	}
}
