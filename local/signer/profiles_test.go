package signer

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkacm "github.com/aws/aws-sdk-go-v2/service/acm"
	sdksigner "github.com/aws/aws-sdk-go-v2/service/signer"
	"github.com/aws/aws-sdk-go-v2/service/signer/types"
)

func TestPlatforms(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	out, err := h.signer.ListSigningPlatforms(ctx, &sdksigner.ListSigningPlatformsInput{})
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]types.SigningPlatform{}
	for _, p := range out.Platforms {
		byID[*p.PlatformId] = p
	}
	def, ok := byID["AmazonFreeRTOS-Default"]
	if len(byID) != 5 || !ok {
		t.Fatalf("platforms %v", byID)
	}
	if aws.ToString(def.DisplayName) != "Amazon FreeRTOS SHA256-ECDSA" || aws.ToString(def.Partner) != "AmazonFreeRTOS" ||
		aws.ToString(def.Target) != "SHA256-ECDSA" || def.MaxSizeInMB != 16 ||
		def.SigningConfiguration.EncryptionAlgorithmOptions.DefaultValue != types.EncryptionAlgorithmEcdsa ||
		def.SigningConfiguration.HashAlgorithmOptions.DefaultValue != types.HashAlgorithmSha256 ||
		def.SigningImageFormat.DefaultFormat != types.ImageFormatJSONEmbedded {
		t.Fatalf("AmazonFreeRTOS-Default %+v", def)
	}
	ti := byID["AmazonFreeRTOS-TI-CC3220SF"]
	if ti.SigningConfiguration.EncryptionAlgorithmOptions.AllowedValues[0] != types.EncryptionAlgorithmRsa ||
		ti.SigningConfiguration.HashAlgorithmOptions.AllowedValues[0] != types.HashAlgorithmSha1 {
		t.Fatalf("TI %+v", ti.SigningConfiguration)
	}
	if byID["AWSIoTDeviceManagement-SHA256-ECDSA"].SigningImageFormat.DefaultFormat != types.ImageFormatJSONDetached {
		t.Fatal("IoT Device Management format")
	}

	if l := byID["AWSLambda-SHA384-ECDSA"]; aws.ToString(l.DisplayName) != "AWS Lambda" || l.MaxSizeInMB != 250 ||
		!l.RevocationSupported || l.SigningConfiguration.HashAlgorithmOptions.DefaultValue != "SHA384" {
		t.Fatalf("AWSLambda-SHA384-ECDSA %+v", l)
	}
	// Paging one at a time visits all five once.
	var seen []string
	p := sdksigner.NewListSigningPlatformsPaginator(h.signer, &sdksigner.ListSigningPlatformsInput{MaxResults: aws.Int32(1)})
	for p.HasMorePages() {
		page := must(p.NextPage(ctx))
		for _, pl := range page.Platforms {
			seen = append(seen, *pl.PlatformId)
		}
	}
	if strings.Join(seen, ",") != "AWSIoTDeviceManagement-SHA256-ECDSA,AWSLambda-SHA384-ECDSA,AmazonFreeRTOS-Default,AmazonFreeRTOS-TI-CC3220SF,Notation-OCI-SHA384-ECDSA" {
		t.Fatalf("paged %v", seen)
	}
	only := must(h.signer.ListSigningPlatforms(ctx, &sdksigner.ListSigningPlatformsInput{Partner: aws.String("AmazonFreeRTOS")}))
	if len(only.Platforms) != 2 {
		t.Fatalf("partner filter %d", len(only.Platforms))
	}

	g, err := h.signer.GetSigningPlatform(ctx, &sdksigner.GetSigningPlatformInput{PlatformId: aws.String("AmazonFreeRTOS-TI-CC3220SF")})
	if err != nil || aws.ToString(g.DisplayName) != "Amazon FreeRTOS SHA1-RSA CC3220SF-Format" {
		t.Fatalf("get platform %v %+v", err, g)
	}
	_, err = h.signer.GetSigningPlatform(ctx, &sdksigner.GetSigningPlatformInput{PlatformId: aws.String("Nope")})
	wantCode(t, err, "ResourceNotFoundException")
}

func TestProfileWithImportedMaterial(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	arn, _, _ := h.importCert(t, false)
	put := h.putProfile(t, "fw_signer", "AmazonFreeRTOS-Default", arn)
	wantARN := "arn:aws:signer:us-east-1:123456789012:/signing-profiles/fw_signer"
	if aws.ToString(put.Arn) != wantARN || len(aws.ToString(put.ProfileVersion)) != 10 ||
		aws.ToString(put.ProfileVersionArn) != wantARN+"/"+aws.ToString(put.ProfileVersion) {
		t.Fatalf("put %+v", put)
	}
	g, err := h.signer.GetSigningProfile(ctx, &sdksigner.GetSigningProfileInput{ProfileName: aws.String("fw_signer")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(g.Arn) != wantARN || g.Status != types.SigningProfileStatusActive ||
		aws.ToString(g.SigningMaterial.CertificateArn) != arn || g.SigningParameters["certname"] != "otasigner.crt" ||
		aws.ToString(g.PlatformId) != "AmazonFreeRTOS-Default" || aws.ToString(g.PlatformDisplayName) != "Amazon FreeRTOS SHA256-ECDSA" ||
		aws.ToString(g.ProfileVersion) != aws.ToString(put.ProfileVersion) {
		t.Fatalf("get %+v", g)
	}

	// Putting the same name again makes a new version of the profile.
	put2 := h.putProfile(t, "fw_signer", "AmazonFreeRTOS-Default", arn)
	if aws.ToString(put2.ProfileVersion) == aws.ToString(put.ProfileVersion) {
		t.Fatal("no new version")
	}

	// An RSA certificate cannot sign for an ECDSA platform, and the reverse.
	rsaARN, _, _ := h.importCert(t, true)
	_, err = h.signer.PutSigningProfile(ctx, &sdksigner.PutSigningProfileInput{
		ProfileName: aws.String("mismatch"), PlatformId: aws.String("AmazonFreeRTOS-Default"),
		SigningMaterial: &types.SigningMaterial{CertificateArn: aws.String(rsaARN)},
	})
	wantCode(t, err, "ValidationException")
	h.putProfile(t, "ti_signer", "AmazonFreeRTOS-TI-CC3220SF", rsaARN)
}

func TestProfileWithGeneratedMaterial(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	h.putProfile(t, "generated", "AmazonFreeRTOS-Default", "")
	g := must(h.signer.GetSigningProfile(ctx, &sdksigner.GetSigningProfileInput{ProfileName: aws.String("generated")}))
	if g.SigningMaterial == nil {
		t.Fatal("no signing material exposed")
	}
	arn := aws.ToString(g.SigningMaterial.CertificateArn)
	// The generated certificate is in ACM, where a user fetches it for devices.
	c := must(h.certs.GetCertificate(ctx, &sdkacm.GetCertificateInput{CertificateArn: &arn}))
	b, _ := pem.Decode([]byte(aws.ToString(c.Certificate)))
	cert, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	if k, ok := cert.PublicKey.(*ecdsa.PublicKey); !ok || k.Curve != elliptic.P256() {
		t.Fatalf("key %T", cert.PublicKey)
	}
	if len(cert.ExtKeyUsage) != 1 || cert.ExtKeyUsage[0] != x509.ExtKeyUsageCodeSigning || cert.KeyUsage != x509.KeyUsageDigitalSignature {
		t.Fatalf("usages %v %v", cert.ExtKeyUsage, cert.KeyUsage)
	}
	if err := cert.CheckSignature(cert.SignatureAlgorithm, cert.RawTBSCertificate, cert.Signature); err != nil {
		t.Fatalf("not self-signed: %v", err)
	}
	// A new version keeps the generated material devices already trust.
	h.putProfile(t, "generated", "AmazonFreeRTOS-Default", "")
	g2 := must(h.signer.GetSigningProfile(ctx, &sdksigner.GetSigningProfileInput{ProfileName: aws.String("generated")}))
	if aws.ToString(g2.SigningMaterial.CertificateArn) != arn {
		t.Fatal("generated material changed with the version")
	}
	// The Go API gives the certificate too.
	pc, err := h.svc.ProfileCertificate("generated")
	if err != nil || !pc.Equal(cert) {
		t.Fatalf("ProfileCertificate: %v", err)
	}

	// The TI platform gets an RSA key.
	h.putProfile(t, "ti_generated", "AmazonFreeRTOS-TI-CC3220SF", "")
	ti, err := h.svc.ProfileCertificate("ti_generated")
	if err != nil {
		t.Fatal(err)
	}
	if k, ok := ti.PublicKey.(*rsa.PublicKey); !ok || k.N.BitLen() != 2048 {
		t.Fatalf("TI key %T", ti.PublicKey)
	}
}

func TestProfileCancelAndList(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	for _, n := range []string{"p_a", "p_b", "p_c"} {
		h.putProfile(t, n, "AmazonFreeRTOS-Default", "")
	}
	h.putProfile(t, "p_ti", "AmazonFreeRTOS-TI-CC3220SF", "")
	if _, err := h.signer.CancelSigningProfile(ctx, &sdksigner.CancelSigningProfileInput{ProfileName: aws.String("p_b")}); err != nil {
		t.Fatal(err)
	}
	g := must(h.signer.GetSigningProfile(ctx, &sdksigner.GetSigningProfileInput{ProfileName: aws.String("p_b")}))
	if g.Status != types.SigningProfileStatusCanceled {
		t.Fatalf("status %s", g.Status)
	}
	names := func(in *sdksigner.ListSigningProfilesInput) string {
		var out []string
		p := sdksigner.NewListSigningProfilesPaginator(h.signer, in)
		for p.HasMorePages() {
			for _, pr := range must(p.NextPage(ctx)).Profiles {
				out = append(out, *pr.ProfileName+":"+string(pr.Status))
			}
		}
		return strings.Join(out, ",")
	}
	if got := names(&sdksigner.ListSigningProfilesInput{MaxResults: aws.Int32(1)}); got != "p_a:Active,p_c:Active,p_ti:Active" {
		t.Fatalf("list %s", got)
	}
	if got := names(&sdksigner.ListSigningProfilesInput{IncludeCanceled: true}); got != "p_a:Active,p_b:Canceled,p_c:Active,p_ti:Active" {
		t.Fatalf("includeCanceled %s", got)
	}
	if got := names(&sdksigner.ListSigningProfilesInput{Statuses: []types.SigningProfileStatus{types.SigningProfileStatusCanceled}}); got != "p_b:Canceled" {
		t.Fatalf("statuses %s", got)
	}
	if got := names(&sdksigner.ListSigningProfilesInput{PlatformId: aws.String("AmazonFreeRTOS-TI-CC3220SF")}); got != "p_ti:Active" {
		t.Fatalf("platform %s", got)
	}
	// A canceled name cannot be reused; an unknown one cannot be canceled.
	_, err := h.signer.PutSigningProfile(ctx, &sdksigner.PutSigningProfileInput{ProfileName: aws.String("p_b"), PlatformId: aws.String("AmazonFreeRTOS-Default")})
	wantCode(t, err, "ValidationException")
	_, err = h.signer.CancelSigningProfile(ctx, &sdksigner.CancelSigningProfileInput{ProfileName: aws.String("p_zz")})
	wantCode(t, err, "ResourceNotFoundException")
	_, err = h.signer.GetSigningProfile(ctx, &sdksigner.GetSigningProfileInput{ProfileName: aws.String("p_zz")})
	wantCode(t, err, "ResourceNotFoundException")
}

func TestProfileErrors(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	cases := []struct {
		name string
		in   *sdksigner.PutSigningProfileInput
		code string
	}{
		{"bad name", &sdksigner.PutSigningProfileInput{ProfileName: aws.String("has-dash"), PlatformId: aws.String("AmazonFreeRTOS-Default")}, "ValidationException"},
		{"unknown platform", &sdksigner.PutSigningProfileInput{ProfileName: aws.String("pp"), PlatformId: aws.String("AWSLambda-SHA256-RSA")}, "ValidationException"},
		{"unknown certificate", &sdksigner.PutSigningProfileInput{ProfileName: aws.String("pp"), PlatformId: aws.String("AmazonFreeRTOS-Default"),
			SigningMaterial: &types.SigningMaterial{CertificateArn: aws.String("arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-0000-0000-000000000000")}}, "ResourceNotFoundException"},
		{"bad override", &sdksigner.PutSigningProfileInput{ProfileName: aws.String("pp"), PlatformId: aws.String("AmazonFreeRTOS-Default"),
			Overrides: &types.SigningPlatformOverrides{SigningConfiguration: &types.SigningConfigurationOverrides{HashAlgorithm: types.HashAlgorithmSha1}}}, "ValidationException"},
		{"bad validity", &sdksigner.PutSigningProfileInput{ProfileName: aws.String("pp"), PlatformId: aws.String("AmazonFreeRTOS-Default"),
			SignatureValidityPeriod: &types.SignatureValidityPeriod{Type: "WEEKS", Value: 3}}, "ValidationException"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.signer.PutSigningProfile(ctx, tc.in)
			wantCode(t, err, tc.code)
		})
	}
}

// TestWire sends raw requests: malformed JSON, unknown fields, wrong types
// and unknown routes get Signer's error shape, never a 500.
func TestWire(t *testing.T) {
	h := start(t)
	h.putProfile(t, "wire", "AmazonFreeRTOS-Default", "")
	cases := []struct {
		method, path, body string
		status             int
		code               string
	}{
		{"PUT", "/signing-profiles/wire2", "{", 400, "ValidationException"},
		{"PUT", "/signing-profiles/wire2", `{"platformId":"AmazonFreeRTOS-Default","bogus":1}`, 400, "ValidationException"},
		{"PUT", "/signing-profiles/wire2", `{"platformId":7}`, 400, "ValidationException"},
		{"PUT", "/signing-profiles/wire2", `{}`, 400, "ValidationException"},
		{"POST", "/signing-jobs", `{"profileName":"wire"`, 400, "ValidationException"},
		{"POST", "/signing-jobs", `{"profileName":"wire","clientRequestToken":"t","source":{"s3":{"bucketName":"b","key":"k"}},"destination":{"s3":{"bucketName":"d"}}}`, 400, "ValidationException"},
		{"POST", "/signing-jobs", `{"profileName":"wire","clientRequestToken":"t","source":{"s3":{"bucketName":"b","key":"k","version":"1","extra":true}},"destination":{"s3":{"bucketName":"d"}}}`, 400, "ValidationException"},
		{"POST", "/signing-jobs", `{"profileName":"wire","source":{"s3":{"bucketName":"b","key":"k","version":"1"}},"destination":{"s3":{"bucketName":"d"}}}`, 400, "ValidationException"},
		{"POST", "/signing-jobs", `[]`, 400, "ValidationException"},
		{"GET", "/signing-jobs?status=Sideways", "", 400, "ValidationException"},
		{"GET", "/signing-jobs?maxResults=0", "", 400, "ValidationException"},
		{"GET", "/signing-jobs?nextToken=%21%21", "", 400, "ValidationException"},
		{"GET", "/signing-profiles?includeCanceled=maybe", "", 400, "ValidationException"},
		{"GET", "/signing-jobs/nope", "", 404, "ResourceNotFoundException"},
		{"PATCH", "/signing-jobs", "", 404, "UnknownOperationException"},
		{"GET", "/nowhere", "", 404, "UnknownOperationException"},
	}
	for _, tc := range cases {
		req, _ := http.NewRequest(tc.method, h.url+tc.path, strings.NewReader(tc.body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.status || resp.Header.Get("X-Amzn-ErrorType") != tc.code {
			t.Errorf("%s %s %s: %d %s %s", tc.method, tc.path, tc.body, resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType"), body)
		}
	}
}

func TestTags(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	put := h.putProfile(t, "tagged", "AmazonFreeRTOS-Default", "")
	arn := put.Arn
	must(h.signer.TagResource(ctx, &sdksigner.TagResourceInput{ResourceArn: arn, Tags: map[string]string{"team": "fw", "env": "ci"}}))
	must(h.signer.UntagResource(ctx, &sdksigner.UntagResourceInput{ResourceArn: put.ProfileVersionArn, TagKeys: []string{"env"}}))
	l := must(h.signer.ListTagsForResource(ctx, &sdksigner.ListTagsForResourceInput{ResourceArn: arn}))
	if len(l.Tags) != 1 || l.Tags["team"] != "fw" {
		t.Fatalf("tags %v", l.Tags)
	}
	g := must(h.signer.GetSigningProfile(ctx, &sdksigner.GetSigningProfileInput{ProfileName: aws.String("tagged")}))
	if g.Tags["team"] != "fw" {
		t.Fatalf("profile tags %v", g.Tags)
	}
	_, err := h.signer.ListTagsForResource(ctx, &sdksigner.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:signer:us-east-1:123456789012:/signing-profiles/none")})
	wantCode(t, err, "ResourceNotFoundException")
	_, err = h.signer.TagResource(ctx, &sdksigner.TagResourceInput{ResourceArn: aws.String("arn:aws:s3:::bucket"), Tags: map[string]string{"a": "b"}})
	wantCode(t, err, "ValidationException")
	must(h.signer.CancelSigningProfile(ctx, &sdksigner.CancelSigningProfileInput{ProfileName: aws.String("tagged")}))
	_, err = h.signer.TagResource(ctx, &sdksigner.TagResourceInput{ResourceArn: arn, Tags: map[string]string{"a": "b"}})
	wantCode(t, err, "BadRequestException")
}

// TestProfilesForEveryPlatform: a profile can be made for each platform
// ListSigningPlatforms lists (Lambda's and Notation's with AWS's default
// validity of 135 months and no material), and a signing job for a
// platform otactl local cannot sign for is refused with an error naming
// it and the platforms it signs for.
func TestProfilesForEveryPlatform(t *testing.T) {
	h := start(t)
	ctx := context.Background()
	out := must(h.signer.ListSigningPlatforms(ctx, &sdksigner.ListSigningPlatformsInput{}))
	for i, pl := range out.Platforms {
		name := fmt.Sprintf("every_%d", i)
		if _, err := h.signer.PutSigningProfile(ctx, &sdksigner.PutSigningProfileInput{ProfileName: aws.String(name), PlatformId: pl.PlatformId}); err != nil {
			t.Fatalf("%s: %v", *pl.PlatformId, err)
		}
		got := must(h.signer.GetSigningProfile(ctx, &sdksigner.GetSigningProfileInput{ProfileName: aws.String(name)}))
		if *got.PlatformId != *pl.PlatformId || aws.ToString(got.PlatformDisplayName) != aws.ToString(pl.DisplayName) {
			t.Fatalf("%s: profile %+v", *pl.PlatformId, got)
		}
		signsHere := !strings.HasSuffix(*pl.PlatformId, "SHA384-ECDSA")
		if signsHere != (got.SigningMaterial != nil) {
			t.Fatalf("%s: signing material %+v", *pl.PlatformId, got.SigningMaterial)
		}
		if !signsHere {
			if v := got.SignatureValidityPeriod; v == nil || v.Type != types.ValidityTypeMonths || v.Value != 135 {
				t.Fatalf("%s: validity %+v", *pl.PlatformId, v)
			}
			_, err := h.signer.StartSigningJob(ctx, &sdksigner.StartSigningJobInput{
				ProfileName: aws.String(name),
				Source:      &types.Source{S3: &types.S3Source{BucketName: aws.String("b"), Key: aws.String("k"), Version: aws.String("1")}},
				Destination: &types.Destination{S3: &types.S3Destination{BucketName: aws.String("d")}},
			})
			wantCode(t, err, "ValidationException")
			if msg := err.Error(); !strings.Contains(msg, *pl.PlatformId) || !strings.Contains(msg, "AmazonFreeRTOS-Default") {
				t.Fatalf("%s: refusal %q names neither the platform nor those signed for", *pl.PlatformId, msg)
			}
		}
	}
	if len(out.Platforms) != 5 {
		t.Fatalf("%d platforms", len(out.Platforms))
	}
	jobs := must(h.signer.ListSigningJobs(ctx, &sdksigner.ListSigningJobsInput{}))
	if len(jobs.Jobs) != 0 {
		t.Fatalf("refused jobs were recorded: %+v", jobs.Jobs)
	}
}
