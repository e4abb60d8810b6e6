package local_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	iottypes "github.com/aws/aws-sdk-go-v2/service/iot/types"
	sdks3 "github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/eclipse/paho.golang/paho"
	"github.com/eclipse/paho.golang/paho/log"
	"github.com/fxamacker/cbor/v2"

	"github.com/otactl/otactl/local/localtest"
	"github.com/otactl/otactl/local/mqtt"
)

// noPinger is paho's keep-alive pinger switched off: paho.golang v0.23's
// default pinger can write PINGREQ between the two writes of one packet,
// which the broker then reads as malformed. Tests are shorter than any
// keep-alive.
type noPinger struct{}

func (noPinger) Run(ctx context.Context, _ net.Conn, _ uint16) error { <-ctx.Done(); return nil }
func (noPinger) PacketSent()                                         {}
func (noPinger) PacketReceived()                                     {}
func (noPinger) PingResp()                                           {}
func (noPinger) SetDebug(log.Logger)                                 {}

// mqttDevice is a paho (MQTT 5) client whose messages queue up.
type mqttDevice struct {
	t    *testing.T
	c    *paho.Client
	msgs chan *paho.Publish
}

func dialDevice(t *testing.T, addr, id string, tc *tls.Config) *mqttDevice {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, tc)
	if err != nil {
		t.Fatal(err)
	}
	d := &mqttDevice{t: t, msgs: make(chan *paho.Publish, 1024)}
	d.c = paho.NewClient(paho.ClientConfig{Conn: conn, PingHandler: noPinger{}, OnPublishReceived: []func(paho.PublishReceived) (bool, error){
		func(p paho.PublishReceived) (bool, error) { d.msgs <- p.Packet; return true, nil }}})
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := d.c.Connect(cctx, &paho.Connect{ClientID: id, KeepAlive: 60, CleanStart: true}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.c.Disconnect(&paho.Disconnect{}) })
	return d
}

func (d *mqttDevice) ask(topic string, payload []byte, answer string) []byte {
	d.t.Helper()
	if _, err := d.c.Publish(ctx, &paho.Publish{Topic: topic, QoS: 1, Payload: payload}); err != nil {
		d.t.Fatal(err)
	}
	return d.next(answer)
}

func (d *mqttDevice) next(topic string) []byte {
	d.t.Helper()
	select {
	case m := <-d.msgs:
		if m.Topic != topic {
			d.t.Fatalf("message on %s (%s), want %s", m.Topic, m.Payload, topic)
		}
		return m.Payload
	case <-time.After(20 * time.Second):
		d.t.Fatalf("no message on %s", topic)
	}
	return nil
}

// thingScopedPolicy is the least-privilege device policy of AWS's guides:
// a certificate's thing connects with its name and uses its own topics.
const thingScopedPolicy = `{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:us-east-1:000000000000:client/${iot:Connection.Thing.ThingName}"},
 {"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":"arn:aws:iot:us-east-1:000000000000:topic/$aws/things/${iot:Connection.Thing.ThingName}/*"},
 {"Effect":"Allow","Action":"iot:Subscribe","Resource":"arn:aws:iot:us-east-1:000000000000:topicfilter/$aws/things/${iot:Connection.Thing.ThingName}/*"}]}`

// attachPolicy creates the policy (unless it exists) and attaches it to target.
func attachPolicy(t *testing.T, iotc *sdkiot.Client, name, doc, target string) {
	t.Helper()
	if _, err := iotc.GetPolicy(ctx, &sdkiot.GetPolicyInput{PolicyName: aws.String(name)}); err != nil {
		if _, err := iotc.CreatePolicy(ctx, &sdkiot.CreatePolicyInput{PolicyName: aws.String(name), PolicyDocument: aws.String(doc)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := iotc.AttachPolicy(ctx, &sdkiot.AttachPolicyInput{PolicyName: aws.String(name), Target: aws.String(target)}); err != nil {
		t.Fatal(err)
	}
}

// TestDeviceSide runs the device side of otactl local end to end: a device
// registered with CreateKeysAndCertificate connects over mutual TLS to the
// address DescribeEndpoint gives, fetches its job, downloads the stream's
// file version over MQTT and the file over the presigned HTTP URL, and
// reports; the control plane shows what it reported.
func TestDeviceSide(t *testing.T) {
	e := localtest.Start(t)
	b, err := e.Server.StartMQTT(mqtt.Config{Addr: "127.0.0.1:0", TLSAddr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	if e.Server.Broker() != b {
		t.Fatal("Broker() is not the started broker")
	}
	s3c, iotc := e.S3(), sdkiot.NewFromConfig(e.Config)

	// Firmware: two versions of one key, as CreateOTAUpdate leaves them; the
	// stream names the older.
	if _, err := s3c.CreateBucket(ctx, &sdks3.CreateBucketInput{Bucket: aws.String("fw-bucket")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s3c.PutBucketVersioning(ctx, &sdks3.PutBucketVersioningInput{Bucket: aws.String("fw-bucket"),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: s3types.BucketVersioningStatusEnabled}}); err != nil {
		t.Fatal(err)
	}
	old := bytes.Repeat([]byte("firmware-v1:"), 3000) // 36,000 bytes
	v1, err := s3c.PutObject(ctx, &sdks3.PutObjectInput{Bucket: aws.String("fw-bucket"), Key: aws.String("image.bin"), Body: bytes.NewReader(old)})
	if err != nil {
		t.Fatal(err)
	}
	latest := bytes.Repeat([]byte("LATEST"), 1000)
	if _, err := s3c.PutObject(ctx, &sdks3.PutObjectInput{Bucket: aws.String("fw-bucket"), Key: aws.String("image.bin"), Body: bytes.NewReader(latest)}); err != nil {
		t.Fatal(err)
	}

	// The thing, its certificate, the stream and the job.
	if _, err := iotc.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String("dev-1")}); err != nil {
		t.Fatal(err)
	}
	kc, err := iotc.CreateKeysAndCertificate(ctx, &sdkiot.CreateKeysAndCertificateInput{SetAsActive: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := iotc.AttachThingPrincipal(ctx, &sdkiot.AttachThingPrincipalInput{ThingName: aws.String("dev-1"), Principal: kc.CertificateArn}); err != nil {
		t.Fatal(err)
	}
	attachPolicy(t, iotc, "thing-scoped", thingScopedPolicy, *kc.CertificateArn)
	if _, err := iotc.CreateStream(ctx, &sdkiot.CreateStreamInput{StreamId: aws.String("AFR_OTA-s1"), RoleArn: aws.String("arn:aws:iam::000000000000:role/ota"),
		Files: []iottypes.StreamFile{{FileId: aws.Int32(0), S3Location: &iottypes.S3Location{Bucket: aws.String("fw-bucket"), Key: aws.String("image.bin"), Version: v1.VersionId}}}}); err != nil {
		t.Fatal(err)
	}
	doc := `{"afr_ota":{"protocols":["MQTT","HTTP"],"streamname":"AFR_OTA-s1","files":[{"fileid":0,"filesize":36000,` +
		`"update_data_url":"${aws:iot:s3-presigned-url:https://s3.us-east-1.amazonaws.com/fw-bucket/image.bin}","auth_scheme":"aws.s3.presigned"}]}}`
	if _, err := iotc.CreateJob(ctx, &sdkiot.CreateJobInput{JobId: aws.String("AFR_OTA-1"), Document: aws.String(doc),
		Targets:            []string{"arn:aws:iot:us-east-1:000000000000:thing/dev-1"},
		PresignedUrlConfig: &iottypes.PresignedUrlConfig{RoleArn: aws.String("arn:aws:iam::000000000000:role/ota"), ExpiresInSec: aws.Int64(300)}}); err != nil {
		t.Fatal(err)
	}

	// DescribeEndpoint names the TLS listener; the device trusts ca.pem.
	ep, err := iotc.DescribeEndpoint(ctx, &sdkiot.DescribeEndpointInput{EndpointType: aws.String("iot:Data-ATS")})
	if err != nil || *ep.EndpointAddress != b.TLSAddr() {
		t.Fatalf("DescribeEndpoint = %v, %v; broker at %s", ep, err, b.TLSAddr())
	}
	caPEM, err := os.ReadFile(filepath.Join(e.Server.Config().DataDir, mqtt.CAFile))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(caPEM)
	pair, err := tls.X509KeyPair([]byte(*kc.CertificatePem), []byte(*kc.KeyPair.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	d := dialDevice(t, *ep.EndpointAddress, "dev-1", &tls.Config{RootCAs: roots, Certificates: []tls.Certificate{pair}})

	// The job, with the placeholder replaced by a presigned URL.
	var next struct {
		Execution struct {
			JobID         string `json:"jobId"`
			VersionNumber int64  `json:"versionNumber"`
			JobDocument   struct {
				AfrOTA struct {
					Files []struct {
						URL string `json:"update_data_url"`
					} `json:"files"`
				} `json:"afr_ota"`
			} `json:"jobDocument"`
		} `json:"execution"`
	}
	raw := d.ask("$aws/things/dev-1/jobs/start-next", []byte(`{"clientToken":"c1"}`), "$aws/things/dev-1/jobs/start-next/accepted")
	if err := json.Unmarshal(raw, &next); err != nil {
		t.Fatal(err)
	}
	url := next.Execution.JobDocument.AfrOTA.Files[0].URL
	if next.Execution.JobID != "AFR_OTA-1" || !strings.HasPrefix(url, e.URL+"/fw-bucket/image.bin?") || !strings.Contains(url, "X-Amz-Expires=300") {
		t.Fatalf("start-next: %s", raw)
	}

	// HTTP: the presigned URL downloads with Range (206); tampered, 403.
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Range", "bytes=100-5099")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	part, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusPartialContent || !bytes.Equal(part, latest[100:5100]) {
		t.Fatalf("ranged GET: %d, %d bytes", resp.StatusCode, len(part))
	}
	tampered := strings.Replace(url, "image.bin", "image.bim", 1)
	if code, _ := httpGet(t, tampered); code != http.StatusForbidden {
		t.Errorf("tampered URL: %d, want 403", code)
	}

	// MQTT: the stream serves the version it names, in 4 KiB CBOR blocks.
	var got []byte
	for o := 0; len(got) < len(old); o += 8 {
		req, _ := cbor.Marshal(map[string]any{"c": "rdy", "f": 0, "l": 4096, "o": o, "n": 8})
		if _, err := d.c.Publish(ctx, &paho.Publish{Topic: "$aws/things/dev-1/streams/AFR_OTA-s1/get/cbor", Payload: req}); err != nil {
			t.Fatal(err)
		}
		for i := o; i < o+8 && i*4096 < len(old); i++ {
			var blk struct {
				I int    `cbor:"i"`
				P []byte `cbor:"p"`
			}
			if err := cbor.Unmarshal(d.next("$aws/things/dev-1/streams/AFR_OTA-s1/data/cbor"), &blk); err != nil || blk.I != i {
				t.Fatalf("block %d: %+v, %v", i, blk.I, err)
			}
			got = append(got, blk.P...)
		}
	}
	if !bytes.Equal(got, old) {
		t.Fatal("the stream did not serve the version it names")
	}

	// The report, as the control plane shows it.
	upd := fmt.Sprintf(`{"status":"SUCCEEDED","statusDetails":{"reason":"accepted v1"},"expectedVersion":%d}`, next.Execution.VersionNumber)
	d.ask("$aws/things/dev-1/jobs/AFR_OTA-1/update", []byte(upd), "$aws/things/dev-1/jobs/AFR_OTA-1/update/accepted")
	ex, err := iotc.DescribeJobExecution(ctx, &sdkiot.DescribeJobExecutionInput{JobId: aws.String("AFR_OTA-1"), ThingName: aws.String("dev-1")})
	if err != nil || ex.Execution.Status != iottypes.JobExecutionStatusSucceeded || ex.Execution.StatusDetails.DetailsMap["reason"] != "accepted v1" {
		t.Fatalf("DescribeJobExecution: %+v, %v", ex, err)
	}

	// Starting twice is refused; closing the server closes the broker.
	if _, err := e.Server.StartMQTT(mqtt.Config{Addr: "127.0.0.1:0"}); err == nil {
		t.Error("second StartMQTT succeeded")
	}
}
