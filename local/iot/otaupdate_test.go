package iot_test

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
	sdks3 "github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/otactl/otactl/internal/demo"
	"github.com/otactl/otactl/local"
	"github.com/otactl/otactl/local/localtest"
)

// otaEnv is a full server seeded as a user would for CreateOTAUpdate: a
// versioned bucket with firmware, a signing profile whose key the server
// generated, a group of two things.
type otaEnv struct {
	*localtest.Env
	iot    *sdkiot.Client
	seeded *demo.Seeded
	group  string // its ARN
}

const (
	otaBucket  = "ota-firmware"
	otaProfile = "ota_signer"
	otaCert    = "code_sign.crt"
)

func startOTA(t testing.TB) *otaEnv { return startOTAWith(t, local.Config{}, 5000) }

func startOTAWith(t testing.TB, cfg local.Config, firmwareSize int) *otaEnv {
	t.Helper()
	current = t
	e := localtest.StartWith(t, cfg)
	seeded := must(demo.Prepare(ctx, e.Config, demo.Seed{Bucket: otaBucket, Key: "fw.bin", FirmwareSize: firmwareSize,
		Profile: otaProfile, CertName: otaCert, Group: "fleet", Things: []string{"dev-1", "dev-2"}, ThingsInGroups: true}))
	return &otaEnv{Env: e, iot: sdkiot.NewFromConfig(e.Config), seeded: seeded,
		group: e.Server.Env().ARN("iot", "thinggroup/fleet")}
}

// signedFile is a file of fw.bin in bucket, signed with the seeded profile.
func signedFile(bucket string) types.OTAUpdateFile {
	return types.OTAUpdateFile{
		FileName:     aws.String("/firmware/app.bin"),
		FileLocation: &types.FileLocation{S3Location: &types.S3Location{Bucket: aws.String(bucket), Key: aws.String("fw.bin")}},
		CodeSigning: &types.CodeSigning{StartSigningJobParameter: &types.StartSigningJobParameter{
			SigningProfileName: aws.String(otaProfile),
			Destination:        &types.Destination{S3Destination: &types.S3Destination{Bucket: aws.String(bucket), Prefix: aws.String("signed/")}},
		}},
	}
}

func (e *otaEnv) create(t testing.TB, id string, files ...types.OTAUpdateFile) *sdkiot.CreateOTAUpdateOutput {
	t.Helper()
	return must(e.iot.CreateOTAUpdate(ctx, &sdkiot.CreateOTAUpdateInput{OtaUpdateId: aws.String(id), Description: aws.String("update " + id),
		Targets: []string{e.group}, Files: files, RoleArn: aws.String(roleArn),
		AdditionalParameters:          map[string]string{"note": "from a test"},
		AwsJobExecutionsRolloutConfig: &types.AwsJobExecutionsRolloutConfig{MaximumPerMinute: aws.Int32(50)}}))
}

// settle polls GetOTAUpdate until the update is complete or failed.
func (e *otaEnv) settle(t testing.TB, id string) *types.OTAUpdateInfo {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		info := must(e.iot.GetOTAUpdate(ctx, &sdkiot.GetOTAUpdateInput{OtaUpdateId: aws.String(id)})).OtaUpdateInfo
		switch info.OtaUpdateStatus {
		case types.OTAUpdateStatusCreateComplete, types.OTAUpdateStatusCreateFailed:
			return info
		case types.OTAUpdateStatusCreatePending, types.OTAUpdateStatusCreateInProgress:
		default:
			t.Fatalf("status %q", info.OtaUpdateStatus)
		}
		if time.Now().After(deadline) {
			t.Fatalf("update %s still %s", id, info.OtaUpdateStatus)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestOTAUpdateLifecycle(t *testing.T) {
	// Strict authentication with a key pair of its own: the pipeline's calls
	// are signed with the server's credentials, like every other client's.
	e := startOTAWith(t, local.Config{StrictAuth: true, Credentials: map[string]string{"AKIDOTA": "ota-secret"}}, 5000)
	out := e.create(t, "fw-v2", signedFile(otaBucket))
	if out.OtaUpdateStatus != types.OTAUpdateStatusCreatePending || *out.AwsIotJobId != "AFR_OTA-fw-v2" ||
		*out.OtaUpdateArn != e.Server.Env().ARN("iot", "otaupdate/fw-v2") || *out.AwsIotJobArn != e.Server.Env().ARN("iot", "job/AFR_OTA-fw-v2") {
		t.Fatalf("CreateOTAUpdate: %+v", out)
	}
	info := e.settle(t, "fw-v2")
	if info.OtaUpdateStatus != types.OTAUpdateStatusCreateComplete {
		t.Fatalf("not complete: %+v %+v", info, info.ErrorInfo)
	}
	if *info.AwsIotJobId != "AFR_OTA-fw-v2" || *info.Description != "update fw-v2" || info.Targets[0] != e.group ||
		len(info.Protocols) != 1 || info.Protocols[0] != types.ProtocolMqtt || info.TargetSelection != types.TargetSelectionSnapshot ||
		info.AdditionalParameters["note"] != "from a test" || *info.AwsJobExecutionsRolloutConfig.MaximumPerMinute != 50 ||
		info.CreationDate.IsZero() || info.LastModifiedDate.Before(*info.CreationDate) || info.ErrorInfo != nil {
		t.Fatalf("GetOTAUpdate: %+v", info)
	}
	f := info.OtaUpdateFiles[0]
	if *f.FileName != "/firmware/app.bin" || aws.ToString(f.CodeSigning.AwsSignerJobId) == "" ||
		*f.CodeSigning.StartSigningJobParameter.SigningProfileName != otaProfile {
		t.Fatalf("otaUpdateFiles: %+v %+v", f, f.CodeSigning)
	}

	// The job CreateOTAUpdate made, with the afr_ota document devices parse
	// (its executions are the job engine's: rolled out at 50 a minute).
	job := must(e.iot.DescribeJob(ctx, &sdkiot.DescribeJobInput{JobId: aws.String("AFR_OTA-fw-v2")})).Job
	if *job.JobArn != *info.AwsIotJobArn || job.Targets[0] != e.group ||
		*job.JobExecutionsRolloutConfig.MaximumPerMinute != 50 {
		t.Fatalf("DescribeJob: %+v", job)
	}
	var doc struct {
		AfrOta struct {
			Protocols  []string         `json:"protocols"`
			StreamName string           `json:"streamname"`
			Files      []map[string]any `json:"files"`
		} `json:"afr_ota"`
	}
	raw := must(e.iot.GetJobDocument(ctx, &sdkiot.GetJobDocumentInput{JobId: aws.String("AFR_OTA-fw-v2")})).Document
	if err := json.Unmarshal([]byte(*raw), &doc); err != nil {
		t.Fatal(err)
	}
	d := doc.AfrOta
	if len(d.Files) != 1 || d.Protocols[0] != "MQTT" || !strings.HasPrefix(d.StreamName, "AFR_OTA-") ||
		d.Files[0]["filesize"] != float64(5000) || d.Files[0]["certfile"] != otaCert || d.Files[0]["filepath"] != "/firmware/app.bin" ||
		d.Files[0]["fileid"] != float64(0) {
		t.Fatalf("job document: %s", *raw)
	}
	sig, _ := d.Files[0]["sig-sha256-ecdsa"].(string)
	verifySignature(t, e.seeded, sig)

	// The stream serves the raw firmware copied over the signed object.
	st := must(e.iot.DescribeStream(ctx, &sdkiot.DescribeStreamInput{StreamId: aws.String(d.StreamName)})).StreamInfo
	loc := st.Files[0].S3Location
	if *loc.Bucket != otaBucket || !strings.HasPrefix(*loc.Key, "signed/") {
		t.Fatalf("stream file: %+v", loc)
	}
	obj := must(e.S3().GetObject(ctx, &sdks3.GetObjectInput{Bucket: loc.Bucket, Key: loc.Key, VersionId: loc.Version}))
	body := must(io.ReadAll(obj.Body))
	obj.Body.Close()
	if string(body) != string(e.seeded.Firmware) {
		t.Fatal("the stream's object is not the firmware")
	}

	// An id is used once.
	_, err := e.iot.CreateOTAUpdate(ctx, &sdkiot.CreateOTAUpdateInput{OtaUpdateId: aws.String("fw-v2"),
		Targets: []string{e.group}, Files: []types.OTAUpdateFile{signedFile(otaBucket)}, RoleArn: aws.String(roleArn)})
	if ae := wantCode(t, err, "ResourceAlreadyExistsException"); !strings.Contains(ae.ErrorMessage(), "fw-v2") {
		t.Fatalf("duplicate: %v", err)
	}

	// The job is in progress: deleting it needs forceDeleteAWSJob, and
	// without it nothing is deleted.
	_, err = e.iot.DeleteOTAUpdate(ctx, &sdkiot.DeleteOTAUpdateInput{OtaUpdateId: aws.String("fw-v2"), DeleteStream: true})
	wantCode(t, err, "InvalidRequestException")
	must(e.iot.GetOTAUpdate(ctx, &sdkiot.GetOTAUpdateInput{OtaUpdateId: aws.String("fw-v2")}))

	must(e.iot.DeleteOTAUpdate(ctx, &sdkiot.DeleteOTAUpdateInput{OtaUpdateId: aws.String("fw-v2"), DeleteStream: true, ForceDeleteAWSJob: true}))
	_, err = e.iot.GetOTAUpdate(ctx, &sdkiot.GetOTAUpdateInput{OtaUpdateId: aws.String("fw-v2")})
	wantCode(t, err, "ResourceNotFoundException")
	_, err = e.iot.DescribeJob(ctx, &sdkiot.DescribeJobInput{JobId: aws.String("AFR_OTA-fw-v2")})
	wantCode(t, err, "ResourceNotFoundException")
	_, err = e.iot.DescribeStream(ctx, &sdkiot.DescribeStreamInput{StreamId: aws.String(d.StreamName)})
	wantCode(t, err, "ResourceNotFoundException")
	_, err = e.iot.DeleteOTAUpdate(ctx, &sdkiot.DeleteOTAUpdateInput{OtaUpdateId: aws.String("fw-v2")})
	wantCode(t, err, "ResourceNotFoundException")

	// The id is free again; the new update reuses the signing job (same
	// client token for the same file version).
	e.create(t, "fw-v2", signedFile(otaBucket))
	again := e.settle(t, "fw-v2")
	if again.OtaUpdateStatus != types.OTAUpdateStatusCreateComplete ||
		*again.OtaUpdateFiles[0].CodeSigning.AwsSignerJobId != *f.CodeSigning.AwsSignerJobId {
		t.Fatalf("created again: %+v %+v", again, again.ErrorInfo)
	}

	// Deleting an update still being created stops its pipeline (which
	// removes what it made) or deletes what it finished making: either way
	// nothing of it is left.
	e.create(t, "fw-v3", signedFile(otaBucket))
	must(e.iot.DeleteOTAUpdate(ctx, &sdkiot.DeleteOTAUpdateInput{OtaUpdateId: aws.String("fw-v3"), DeleteStream: true, ForceDeleteAWSJob: true}))
	_, err = e.iot.DescribeJob(ctx, &sdkiot.DescribeJobInput{JobId: aws.String("AFR_OTA-fw-v3")})
	wantCode(t, err, "ResourceNotFoundException")
	streams := must(e.iot.ListStreams(ctx, &sdkiot.ListStreamsInput{})).Streams
	if len(streams) != 1 || *streams[0].StreamId != d.StreamName {
		t.Fatalf("streams left: %+v", streams)
	}

	// Without forceDeleteAWSJob the delete may stop the pipeline and still
	// refuse (its job got made): the update is then settled, never left in
	// progress with no pipeline behind it.
	e.create(t, "fw-v4", signedFile(otaBucket))
	if _, err := e.iot.DeleteOTAUpdate(ctx, &sdkiot.DeleteOTAUpdateInput{OtaUpdateId: aws.String("fw-v4")}); err != nil {
		wantCode(t, err, "InvalidRequestException")
		st := must(e.iot.GetOTAUpdate(ctx, &sdkiot.GetOTAUpdateInput{OtaUpdateId: aws.String("fw-v4")})).OtaUpdateInfo.OtaUpdateStatus
		if st != types.OTAUpdateStatusCreateComplete && st != types.OTAUpdateStatusCreateFailed {
			t.Fatalf("after a refused delete the update is %s", st)
		}
	}
}

// verifySignature checks the document's signature of the firmware against
// the profile's certificate, as a device does.
func verifySignature(t *testing.T, s *demo.Seeded, sigB64 string) {
	t.Helper()
	sig, err := base64.StdEncoding.DecodeString(sigB64)
	if err != nil || len(sig) == 0 {
		t.Fatalf("signature %q: %v", sigB64, err)
	}
	block, _ := pem.Decode(s.SigningCertPEM)
	cert := must(x509.ParseCertificate(block.Bytes))
	sum := sha256.Sum256(s.Firmware)
	if !ecdsa.VerifyASN1(cert.PublicKey.(*ecdsa.PublicKey), sum[:], sig) {
		t.Fatal("the job document's signature does not verify against the signing certificate")
	}
}

func TestOTAUpdateFailures(t *testing.T) {
	e := startOTA(t)
	// An unversioned bucket cannot be signed from: the update fails, with why.
	s3c := e.S3()
	must(s3c.CreateBucket(ctx, &sdks3.CreateBucketInput{Bucket: aws.String("plain")}))
	must(s3c.PutObject(ctx, &sdks3.PutObjectInput{Bucket: aws.String("plain"), Key: aws.String("fw.bin"), Body: strings.NewReader("firmware")}))
	e.create(t, "unversioned", signedFile("plain"))
	info := e.settle(t, "unversioned")
	if info.OtaUpdateStatus != types.OTAUpdateStatusCreateFailed || info.ErrorInfo == nil ||
		aws.ToString(info.ErrorInfo.Code) == "" || !strings.Contains(aws.ToString(info.ErrorInfo.Message), "versioned") ||
		info.AwsIotJobArn != nil {
		t.Fatalf("unversioned bucket: %+v %+v", info, info.ErrorInfo)
	}
	t.Logf("unversioned bucket: errorInfo %s: %s", aws.ToString(info.ErrorInfo.Code), aws.ToString(info.ErrorInfo.Message))
	_, err := e.iot.DescribeJob(ctx, &sdkiot.DescribeJobInput{JobId: aws.String("AFR_OTA-unversioned")})
	wantCode(t, err, "ResourceNotFoundException")

	// A profile that does not exist: failed, nothing left behind.
	missing := signedFile(otaBucket)
	missing.CodeSigning.StartSigningJobParameter.SigningProfileName = aws.String("no_such_profile")
	e.create(t, "no-profile", missing)
	if info := e.settle(t, "no-profile"); info.OtaUpdateStatus != types.OTAUpdateStatusCreateFailed ||
		aws.ToString(info.ErrorInfo.Code) != "ResourceNotFoundException" {
		t.Fatalf("missing profile: %+v %+v", info, info.ErrorInfo)
	}
	if l := must(e.iot.ListStreams(ctx, &sdkiot.ListStreamsInput{})); len(l.Streams) != 0 {
		t.Fatalf("a failed update left streams: %+v", l.Streams)
	}

	// Every broken rule is reported at once, before anything is stored.
	_, err = e.iot.CreateOTAUpdate(ctx, &sdkiot.CreateOTAUpdateInput{OtaUpdateId: aws.String("bad"),
		Targets: []string{"arn:aws:iot:us-east-1:000000000000:nothing/x"}, RoleArn: aws.String("arn:aws:iam::123:role/x"),
		Protocols: []types.Protocol{"CARRIER_PIGEON"},
		Files:     []types.OTAUpdateFile{{FileLocation: &types.FileLocation{S3Location: &types.S3Location{Bucket: aws.String(otaBucket), Key: aws.String("fw.bin")}}}}})
	ae := wantCode(t, err, "InvalidRequestException")
	for _, field := range []string{"targets[0]", "roleArn", "protocols", "files[0].codeSigning"} {
		if !strings.Contains(ae.ErrorMessage(), field) {
			t.Errorf("the error does not name %s: %s", field, ae.ErrorMessage())
		}
	}
	_, err = e.iot.GetOTAUpdate(ctx, &sdkiot.GetOTAUpdateInput{OtaUpdateId: aws.String("bad")})
	wantCode(t, err, "ResourceNotFoundException")

	// Malformed and foreign input gets AWS's error shape.
	for _, body := range []string{`{"files":`, `{"targets":"x"}`, `{"unknownField":1}`, `{"schedulingConfig":{"startTime":"2030-01-01T00:00"}}`} {
		status, code := postJSON(t, e.Env, "/otaUpdates/raw", body)
		if status != 400 || code != "InvalidRequestException" {
			t.Errorf("%s: %d %s", body, status, code)
		}
	}

	// A job of the update's id that someone else made: the update fails,
	// and deleting it, even forced, leaves that job alone.
	must(e.iot.CreateJob(ctx, &sdkiot.CreateJobInput{JobId: aws.String("AFR_OTA-taken"), Targets: []string{e.group}, Document: aws.String(`{"op":"mine"}`)}))
	e.create(t, "taken", signedFile(otaBucket))
	if info := e.settle(t, "taken"); info.OtaUpdateStatus != types.OTAUpdateStatusCreateFailed ||
		aws.ToString(info.ErrorInfo.Code) != "ResourceAlreadyExistsException" {
		t.Fatalf("job id taken: %+v %+v", info, info.ErrorInfo)
	}
	must(e.iot.DeleteOTAUpdate(ctx, &sdkiot.DeleteOTAUpdateInput{OtaUpdateId: aws.String("taken"), DeleteStream: true, ForceDeleteAWSJob: true}))
	must(e.iot.DescribeJob(ctx, &sdkiot.DescribeJobInput{JobId: aws.String("AFR_OTA-taken")}))

	// Failed updates are deleted like any other.
	must(e.iot.DeleteOTAUpdate(ctx, &sdkiot.DeleteOTAUpdateInput{OtaUpdateId: aws.String("unversioned"), DeleteStream: true}))
}

func TestListOTAUpdates(t *testing.T) {
	e := startOTA(t)
	must(e.S3().CreateBucket(ctx, &sdks3.CreateBucketInput{Bucket: aws.String("plain")}))
	must(e.S3().PutObject(ctx, &sdks3.PutObjectInput{Bucket: aws.String("plain"), Key: aws.String("fw.bin"), Body: strings.NewReader("fw")}))
	for _, id := range []string{"a-ok", "b-ok", "c-ok"} {
		e.create(t, id, signedFile(otaBucket))
	}
	e.create(t, "d-failed", signedFile("plain"))
	for _, id := range []string{"a-ok", "b-ok", "c-ok", "d-failed"} {
		e.settle(t, id)
	}
	ids := func(status types.OTAUpdateStatus, max int32) []string {
		var out []string
		in := &sdkiot.ListOTAUpdatesInput{OtaUpdateStatus: status}
		if max > 0 {
			in.MaxResults = aws.Int32(max)
		}
		p := sdkiot.NewListOTAUpdatesPaginator(e.iot, in)
		for p.HasMorePages() {
			page := must(p.NextPage(ctx))
			if max > 0 && len(page.OtaUpdates) > int(max) {
				t.Fatalf("page of %d > maxResults %d", len(page.OtaUpdates), max)
			}
			for _, u := range page.OtaUpdates {
				if u.CreationDate == nil || !strings.HasSuffix(*u.OtaUpdateArn, ":otaupdate/"+*u.OtaUpdateId) {
					t.Fatalf("summary %+v", u)
				}
				out = append(out, *u.OtaUpdateId)
			}
		}
		return out
	}
	for _, c := range []struct {
		status types.OTAUpdateStatus
		max    int32
		want   string
	}{
		{"", 0, "a-ok b-ok c-ok d-failed"},
		{"", 1, "a-ok b-ok c-ok d-failed"},
		{types.OTAUpdateStatusCreateComplete, 2, "a-ok b-ok c-ok"},
		{types.OTAUpdateStatusCreateFailed, 0, "d-failed"},
		{types.OTAUpdateStatusCreatePending, 0, ""},
	} {
		if got := strings.Join(ids(c.status, c.max), " "); got != c.want {
			t.Errorf("ListOTAUpdates(%q, max %d) = %q, want %q", c.status, c.max, got, c.want)
		}
	}
	_, err := e.iot.ListOTAUpdates(ctx, &sdkiot.ListOTAUpdatesInput{OtaUpdateStatus: "DONE"})
	wantCode(t, err, "InvalidRequestException")
	_, err = e.iot.ListOTAUpdates(ctx, &sdkiot.ListOTAUpdatesInput{NextToken: aws.String("garbage!")})
	wantCode(t, err, "InvalidRequestException")
}

// postJSON sends a SigV4-signed POST with a raw JSON body (what the SDK's
// serializer would never produce) and returns the status and error code.
func postJSON(t *testing.T, e *localtest.Env, path, body string) (int, string) {
	t.Helper()
	req := must(http.NewRequest(http.MethodPost, e.URL+path, strings.NewReader(body)))
	req.Header.Set("Content-Type", "application/json")
	sum := sha256.Sum256([]byte(body))
	creds := must(e.Config.Credentials.Retrieve(ctx))
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "iot", e.Config.Region, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp := must(http.DefaultClient.Do(req))
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("X-Amzn-ErrorType")
}

// TestOTAUpdatePersists restarts the server on the same data directory (on
// another port): the update is still there, and deleting it runs against
// the new address.
func TestOTAUpdatePersists(t *testing.T) {
	dir := t.TempDir()
	e := startOTAWith(t, local.Config{DataDir: dir}, 5000)
	e.create(t, "kept", signedFile(otaBucket))
	before := e.settle(t, "kept")
	if before.OtaUpdateStatus != types.OTAUpdateStatusCreateComplete {
		t.Fatalf("%+v %+v", before, before.ErrorInfo)
	}
	e.create(t, "cut", signedFile(otaBucket)) // most likely still running at Close
	if err := e.Server.Close(); err != nil {
		t.Fatal(err)
	}

	e2 := localtest.StartWith(t, local.Config{DataDir: dir})
	c := sdkiot.NewFromConfig(e2.Config)
	after := must(c.GetOTAUpdate(ctx, &sdkiot.GetOTAUpdateInput{OtaUpdateId: aws.String("kept")})).OtaUpdateInfo
	if after.OtaUpdateStatus != types.OTAUpdateStatusCreateComplete || *after.AwsIotJobArn != *before.AwsIotJobArn ||
		!after.CreationDate.Equal(*before.CreationDate) || *after.OtaUpdateFiles[0].CodeSigning.AwsSignerJobId != *before.OtaUpdateFiles[0].CodeSigning.AwsSignerJobId {
		t.Fatalf("after a restart: %+v", after)
	}
	must(c.DeleteOTAUpdate(ctx, &sdkiot.DeleteOTAUpdateInput{OtaUpdateId: aws.String("kept"), DeleteStream: true, ForceDeleteAWSJob: true}))

	// The update cut short by the stop is settled at the start: complete if
	// it got as far as its job, else failed; created again, it completes.
	cut := must(c.GetOTAUpdate(ctx, &sdkiot.GetOTAUpdateInput{OtaUpdateId: aws.String("cut")})).OtaUpdateInfo
	t.Logf("the update cut short by the stop: %s %+v", cut.OtaUpdateStatus, cut.ErrorInfo)
	switch cut.OtaUpdateStatus {
	case types.OTAUpdateStatusCreateComplete:
		must(c.DescribeJob(ctx, &sdkiot.DescribeJobInput{JobId: aws.String("AFR_OTA-cut")}))
	case types.OTAUpdateStatusCreateFailed:
		if cut.ErrorInfo == nil || !strings.Contains(aws.ToString(cut.ErrorInfo.Message), "stopped") {
			t.Fatalf("interrupted update: %+v", cut.ErrorInfo)
		}
	default:
		t.Fatalf("interrupted update left %s", cut.OtaUpdateStatus)
	}
	must(c.DeleteOTAUpdate(ctx, &sdkiot.DeleteOTAUpdateInput{OtaUpdateId: aws.String("cut"), DeleteStream: true, ForceDeleteAWSJob: true}))
	e2o := &otaEnv{Env: e2, iot: c, seeded: e.seeded, group: e.group}
	e2o.create(t, "cut", signedFile(otaBucket))
	if again := e2o.settle(t, "cut"); again.OtaUpdateStatus != types.OTAUpdateStatusCreateComplete {
		t.Fatalf("created again: %+v", again.ErrorInfo)
	}
	must(c.DeleteOTAUpdate(ctx, &sdkiot.DeleteOTAUpdateInput{OtaUpdateId: aws.String("cut"), DeleteStream: true, ForceDeleteAWSJob: true}))
	if l := must(c.ListStreams(ctx, &sdkiot.ListStreamsInput{})); len(l.Streams) != 0 {
		t.Fatalf("stream left: %+v", l.Streams)
	}
	_, err := c.DescribeJob(ctx, &sdkiot.DescribeJobInput{JobId: aws.String("AFR_OTA-kept")})
	wantCode(t, err, "ResourceNotFoundException")
}

// TestOTAUpdateHTTP delivers over HTTP: no stream, a presigned-URL
// placeholder in the document, the presigned-URL configuration kept.
func TestOTAUpdateHTTP(t *testing.T) {
	e := startOTA(t)
	must(e.iot.CreateOTAUpdate(ctx, &sdkiot.CreateOTAUpdateInput{OtaUpdateId: aws.String("over-http"), Targets: []string{e.group},
		Protocols: []types.Protocol{types.ProtocolHttp}, Files: []types.OTAUpdateFile{signedFile(otaBucket)}, RoleArn: aws.String(roleArn),
		AwsJobPresignedUrlConfig: &types.AwsJobPresignedUrlConfig{ExpiresInSec: aws.Int64(600)}}))
	info := e.settle(t, "over-http")
	if info.OtaUpdateStatus != types.OTAUpdateStatusCreateComplete || *info.AwsJobPresignedUrlConfig.ExpiresInSec != 600 ||
		len(info.Protocols) != 1 || info.Protocols[0] != types.ProtocolHttp {
		t.Fatalf("%+v %+v", info, info.ErrorInfo)
	}
	raw := *must(e.iot.GetJobDocument(ctx, &sdkiot.GetJobDocumentInput{JobId: aws.String("AFR_OTA-over-http")})).Document
	if strings.Contains(raw, "streamname") || !strings.Contains(raw, "${aws:iot:s3-presigned-url") || !strings.Contains(raw, `"aws.s3.presigned"`) {
		t.Fatalf("HTTP document: %s", raw)
	}
	if l := must(e.iot.ListStreams(ctx, &sdkiot.ListStreamsInput{})); len(l.Streams) != 0 {
		t.Fatalf("an HTTP update made a stream: %+v", l.Streams)
	}
	must(e.iot.DeleteOTAUpdate(ctx, &sdkiot.DeleteOTAUpdateInput{OtaUpdateId: aws.String("over-http"), DeleteStream: true, ForceDeleteAWSJob: true}))
}
