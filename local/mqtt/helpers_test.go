package mqtt_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
	"github.com/eclipse/paho.golang/paho"
	"github.com/eclipse/paho.golang/paho/log"

	"github.com/otactl/otactl/local"
	"github.com/otactl/otactl/local/iot"
	"github.com/otactl/otactl/local/mqtt"
	"github.com/otactl/otactl/local/policy"
	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/local/wire"
)

const (
	account = "123456789012"
	roleArn = "arn:aws:iam::123456789012:role/ota"
	// wait bounds every wait for a message: a guard against hanging, not a
	// timing assertion.
	wait = 20 * time.Second
)

var bg = context.Background()

// objects is an in-memory S3 stand-in: bucket/key/version → body. It
// records the largest read, to show reads stay within a request's blocks.
type objects struct {
	mu      sync.Mutex
	data    map[string][]byte
	maxRead int
}

func (o *objects) put(bucket, key, version string, body []byte) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.data[bucket+"/"+key+"/"+version] = body
}

func (o *objects) Open(bucket, key, version string) (mqtt.Object, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	b, ok := o.data[bucket+"/"+key+"/"+version]
	if !ok {
		return nil, mqtt.ErrNotFound
	}
	return &object{Reader: bytes.NewReader(b), o: o}, nil
}

// ObjectSize and ReadObject serve the IoT service's checks.
func (o *objects) ObjectSize(bucket, key, version string) (int64, error) {
	obj, err := o.Open(bucket, key, version)
	if err != nil {
		return 0, err
	}
	return obj.Size(), nil
}

func (o *objects) ReadObject(bucket, key string, limit int64) ([]byte, error) {
	return nil, errors.New("not supported")
}

type object struct {
	*bytes.Reader
	o *objects
}

func (ob *object) ReadAt(p []byte, off int64) (int, error) {
	ob.o.mu.Lock()
	ob.o.maxRead = max(ob.o.maxRead, len(p))
	ob.o.mu.Unlock()
	return ob.Reader.ReadAt(p, off)
}

func (ob *object) Close() error { return nil }

// presigner makes recognisable fake URLs.
type presigner struct{}

func (presigner) PresignGet(bucket, key, version string, expires time.Duration) (string, error) {
	return fmt.Sprintf("http://s3.local/%s/%s?versionId=%s&X-Amz-Expires=%d", bucket, key, version, int(expires.Seconds())), nil
}

// env is one otactl local device side: the IoT control plane on the wire,
// and the broker on free loopback ports.
type env struct {
	t      testing.TB
	svc    *iot.Service
	api    *sdkiot.Client
	objs   *objects
	broker *mqtt.Broker
	ca     *mqtt.CA
	// pols stands in for the policy API: which policies apply to whom.
	pols *principals
	// st and deps rebuild the broker on the same state (restart).
	st      *store.Store
	cfg     mqtt.Config
	deps    mqtt.Deps
	adapter *local.MQTTIoT
}

// thingPolicy is AWS's usual thing-scoped device policy: a certificate's
// thing may connect with its name and use its own topics.
const thingPolicy = `{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:us-east-1:123456789012:client/${iot:Connection.Thing.ThingName}"},
 {"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":"arn:aws:iot:us-east-1:123456789012:topic/$aws/things/${iot:Connection.Thing.ThingName}/*"},
 {"Effect":"Allow","Action":"iot:Subscribe","Resource":"arn:aws:iot:us-east-1:123456789012:topicfilter/$aws/things/${iot:Connection.Thing.ThingName}/*"}]}`

// principals is a Principals with real policy documents: the certificate's
// status and thing come from the IoT service, its policies from the test
// (thingPolicy unless set), named policies likewise.
type principals struct {
	t     testing.TB
	ids   mqtt.Identities
	mu    sync.Mutex
	certs map[string][]policy.Policy // certificate id → policies
	named map[string]policy.Policy
}

func parsePolicy(t testing.TB, name, text string) policy.Policy {
	t.Helper()
	doc, err := policy.Parse(text)
	if err != nil {
		t.Fatalf("policy %s: %v", name, err)
	}
	return policy.Policy{Name: name, Document: doc}
}

// set makes the policy documents the ones of certificate id.
func (p *principals) set(id string, docs ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.certs[id] = nil
	for i, d := range docs {
		p.certs[id] = append(p.certs[id], parsePolicy(p.t, fmt.Sprintf("p%d", i), d))
	}
}

func (p *principals) name(name, doc string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.named[name] = parsePolicy(p.t, name, doc)
}

func (p *principals) ForCertificate(id, clientID string) (mqtt.Principal, error) {
	out := mqtt.Principal{CertificateStatus: "INACTIVE"}
	if p.ids.CertificateActive(id) {
		out.CertificateStatus = "ACTIVE"
	}
	if p.ids.CertificateAttached(id, clientID) {
		out.Thing = &policy.Thing{Name: clientID, IsAttached: true}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	pols, ok := p.certs[id]
	if !ok {
		pols = []policy.Policy{parsePolicy(p.t, "thing", thingPolicy)}
	}
	out.Policies = pols
	return out, nil
}

func (p *principals) ForPlain(name, clientID string) (mqtt.Principal, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	pol, ok := p.named[name]
	if !ok {
		return mqtt.Principal{}, errors.New("no policy " + name)
	}
	return mqtt.Principal{Policies: []policy.Policy{pol}}, nil
}

func newEnv(t testing.TB, cfg mqtt.Config) *env {
	t.Helper()
	st, err := store.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	objs := &objects{data: map[string][]byte{}}
	svc := iot.New(st, wire.Env{Region: "us-east-1", AccountID: account}, objs)
	ca, err := mqtt.LoadCA(st)
	if err != nil {
		t.Fatal(err)
	}
	svc.SetCertificateIssuer(ca)
	hs := httptest.NewServer(svc)
	t.Cleanup(hs.Close)
	api := sdkiot.New(sdkiot.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(hs.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDLOCAL", "secret", ""),
	})
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.TLSAddr == "" {
		cfg.TLSAddr = "127.0.0.1:0"
	}
	if cfg.Region == "" {
		cfg.Region, cfg.AccountID = "us-east-1", account
	}
	adapter := local.NewMQTTIoT(svc)
	pols := &principals{t: t, ids: adapter, certs: map[string][]policy.Policy{}, named: map[string]policy.Policy{}}
	deps := mqtt.Deps{Jobs: adapter, Streams: adapter, Identities: adapter, Principals: pols,
		Objects: objs, Presigner: presigner{}, Retained: local.MQTTRetained{St: st}, CA: ca}
	e := &env{t: t, svc: svc, api: api, objs: objs, ca: ca, pols: pols, st: st, cfg: cfg, deps: deps, adapter: adapter}
	e.start()
	return e
}

// start runs a broker on the environment's state (again, after a restart:
// the listeners keep their addresses).
func (e *env) start() {
	e.t.Helper()
	b, err := mqtt.New(e.cfg, e.deps)
	if err != nil {
		e.t.Fatal(err)
	}
	e.adapter.Watch(b)
	if err := b.Start(); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { b.Close() })
	e.broker = b
	e.cfg.Addr, e.cfg.TLSAddr = b.Addr(), b.TLSAddr()
}

// restart closes the broker and starts another on the same store.
func (e *env) restart() {
	e.t.Helper()
	e.broker.Close()
	e.start()
}

func (e *env) thing(names ...string) {
	e.t.Helper()
	for _, n := range names {
		if _, err := e.api.CreateThing(bg, &sdkiot.CreateThingInput{ThingName: aws.String(n)}); err != nil {
			e.t.Fatal(err)
		}
	}
}

// job creates a job with doc on things.
func (e *env) job(id, doc string, things ...string) {
	e.t.Helper()
	var targets []string
	for _, th := range things {
		targets = append(targets, "arn:aws:iot:us-east-1:"+account+":thing/"+th)
	}
	in := &sdkiot.CreateJobInput{JobId: aws.String(id), Targets: targets, Document: aws.String(doc)}
	if strings.Contains(doc, "s3-presigned-url") {
		in.PresignedUrlConfig = &types.PresignedUrlConfig{RoleArn: aws.String(roleArn), ExpiresInSec: aws.Int64(900)}
	}
	if _, err := e.api.CreateJob(bg, in); err != nil {
		e.t.Fatal(err)
	}
}

// stream creates a stream serving bodies as files 0, 1, ...
func (e *env) stream(id string, bodies ...[]byte) {
	e.t.Helper()
	var files []types.StreamFile
	for i, body := range bodies {
		key := fmt.Sprintf("fw-%s-%d.bin", id, i)
		e.objs.put("bucket", key, "v1", body)
		files = append(files, types.StreamFile{FileId: aws.Int32(int32(i)), S3Location: &types.S3Location{
			Bucket: aws.String("bucket"), Key: aws.String(key), Version: aws.String("v1")}})
	}
	if _, err := e.api.CreateStream(bg, &sdkiot.CreateStreamInput{StreamId: aws.String(id), Files: files,
		RoleArn: aws.String(roleArn), Description: aws.String("firmware " + id)}); err != nil {
		e.t.Fatal(err)
	}
}

// device is an MQTT 5 client (paho) whose received messages queue up.
type device struct {
	t    testing.TB
	c    *paho.Client
	msgs chan *paho.Publish
	conn net.Conn
}

func dial(t testing.TB, addr, id string, tc *tls.Config) (*device, error) {
	t.Helper()
	var conn net.Conn
	var err error
	if tc != nil {
		conn, err = tls.Dial("tcp", addr, tc)
	} else {
		conn, err = net.Dial("tcp", addr)
	}
	if err != nil {
		return nil, err
	}
	d := &device{t: t, msgs: make(chan *paho.Publish, 4096)}
	d.c = paho.NewClient(paho.ClientConfig{
		Conn: conn, PingHandler: noPinger{},
		OnPublishReceived: []func(paho.PublishReceived) (bool, error){func(p paho.PublishReceived) (bool, error) {
			d.msgs <- p.Packet
			return true, nil
		}},
	})
	ctx, cancel := context.WithTimeout(bg, wait)
	defer cancel()
	if _, err := d.c.Connect(ctx, &paho.Connect{ClientID: id, KeepAlive: 60, CleanStart: true}); err != nil {
		conn.Close()
		return nil, err
	}
	t.Cleanup(func() { d.c.Disconnect(&paho.Disconnect{}) })
	return d, nil
}

func connect(t *testing.T, e *env, id string) *device {
	t.Helper()
	d, err := dial(t, e.broker.Addr(), id, nil)
	if err != nil {
		t.Fatalf("connect %s: %v", id, err)
	}
	return d
}

// sub subscribes and returns the SUBACK reason codes.
func (d *device) sub(topics ...string) []byte {
	d.t.Helper()
	var opts []paho.SubscribeOptions
	for _, t := range topics {
		opts = append(opts, paho.SubscribeOptions{Topic: t, QoS: 1})
	}
	ctx, cancel := context.WithTimeout(bg, wait)
	defer cancel()
	sa, err := d.c.Subscribe(ctx, &paho.Subscribe{Subscriptions: opts})
	if sa == nil {
		d.t.Fatalf("subscribe %v: %v", topics, err)
	}
	return sa.Reasons
}

func (d *device) pub(topic string, payload []byte) {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(bg, wait)
	defer cancel()
	if _, err := d.c.Publish(ctx, &paho.Publish{Topic: topic, QoS: 1, Payload: payload}); err != nil {
		d.t.Fatalf("publish %s: %v", topic, err)
	}
}

func (d *device) pubJSON(topic string, v any) {
	d.t.Helper()
	raw, _ := json.Marshal(v)
	d.pub(topic, raw)
}

// next returns the next message, which must be on topic.
func (d *device) next(topic string) []byte {
	d.t.Helper()
	select {
	case m := <-d.msgs:
		if m.Topic != topic {
			d.t.Fatalf("got a message on %s (%s), want one on %s", m.Topic, m.Payload, topic)
		}
		return m.Payload
	case <-time.After(wait):
		d.t.Fatalf("no message on %s", topic)
	}
	return nil
}

// isNotification reports whether topic is a Jobs notification topic.
func isNotification(topic string) bool {
	return strings.HasSuffix(topic, "/jobs/notify") || strings.HasSuffix(topic, "/jobs/notify-next")
}

// await returns the next message on topic, passing over Jobs notifications
// that come first: the broker announces a control-plane change (a job
// created just before) on its own goroutine, so its notify-next may arrive
// before or after the answer to a request sent meanwhile. Any other
// message fails the test, as with next.
func (d *device) await(topic string) []byte {
	d.t.Helper()
	timeout := time.After(wait)
	for {
		select {
		case m := <-d.msgs:
			if m.Topic == topic {
				return m.Payload
			}
			if !isNotification(m.Topic) {
				d.t.Fatalf("got a message on %s (%s), want one on %s", m.Topic, m.Payload, topic)
			}
		case <-timeout:
			d.t.Fatalf("no message on %s", topic)
		}
	}
}

// awaitJSON is await, decoded into a map.
func (d *device) awaitJSON(topic string) map[string]any {
	d.t.Helper()
	var m map[string]any
	raw := d.await(topic)
	if err := json.Unmarshal(raw, &m); err != nil {
		d.t.Fatalf("%s: %v: %s", topic, err, raw)
	}
	return m
}

// nextJSON decodes the next message (on topic) into a map.
func (d *device) nextJSON(topic string) map[string]any {
	d.t.Helper()
	var m map[string]any
	raw := d.next(topic)
	if err := json.Unmarshal(raw, &m); err != nil {
		d.t.Fatalf("%s: %v: %s", topic, err, raw)
	}
	return m
}

// drain empties the queue and returns how many messages it held.
func (d *device) drain() int {
	n := 0
	for {
		select {
		case <-d.msgs:
			n++
		default:
			return n
		}
	}
}

// sync makes sure the broker has handled everything sent so far: it asks a
// question and waits for its answer, which comes after any earlier answers.
func (d *device) sync(thing string) {
	d.t.Helper()
	d.pub("$aws/things/"+thing+"/jobs/get", []byte(`{"clientToken":"sync"}`))
	for {
		select {
		case m := <-d.msgs:
			if m.Topic == "$aws/things/"+thing+"/jobs/get/accepted" && bytes.Contains(m.Payload, []byte(`"sync"`)) {
				return
			}
		case <-time.After(wait):
			d.t.Fatal("no answer to the sync request")
		}
	}
}

func timeAfter() <-chan time.Time { return time.After(wait) }

// pubQ0 publishes at QoS 0 (no PUBACK to wait for).
func (d *device) pubQ0(topic string, payload []byte) {
	if _, err := d.c.Publish(bg, &paho.Publish{Topic: topic, Payload: payload}); err != nil {
		d.t.Fatalf("publish %s: %v", topic, err)
	}
}

// noPinger is paho's keep-alive pinger switched off. paho.golang v0.23's
// default pinger writes PINGREQ straight onto the connection, and can do so
// between the two writes of one PUBLISH or SUBSCRIBE (fixed header, then
// body): the broker then reads a malformed packet (seen under -race). The
// tests are far shorter than any keep-alive.
type noPinger struct{}

func (noPinger) Run(ctx context.Context, _ net.Conn, _ uint16) error { <-ctx.Done(); return nil }
func (noPinger) PacketSent()                                         {}
func (noPinger) PacketReceived()                                     {}
func (noPinger) PingResp()                                           {}
func (noPinger) SetDebug(log.Logger)                                 {}
