package policy

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"testing"
	"time"
)

// The developer guide's examples use this region and account.
const arnPrefix = "arn:aws:iot:us-east-1:123456789012:"

// A check is one question to a policy and the answer the guide gives.
type check struct {
	action   string
	resource string // without arnPrefix
	ctx      Context
	want     Effect
}

func connect(client string, ctx Context, want Effect) check {
	return check{ActionConnect, "client/" + client, ctx, want}
}
func publish(topic string, ctx Context, want Effect) check {
	return check{ActionPublish, "topic/" + topic, ctx, want}
}
func retain(topic string, ctx Context, want Effect) check {
	return check{ActionRetainPublish, "topic/" + topic, ctx, want}
}
func subscribe(filter string, ctx Context, want Effect) check {
	return check{ActionSubscribe, "topicfilter/" + filter, ctx, want}
}
func receive(topic string, ctx Context, want Effect) check {
	return check{ActionReceive, "topic/" + topic, ctx, want}
}

// thing is a connection whose client id names a thing attached to its
// certificate.
func thing(name string) Context {
	return Context{ClientID: name, Thing: &Thing{Name: name, IsAttached: true}}
}

// client is a connection with no registered thing.
func client(id string) Context { return Context{ClientID: id} }

// unattached is a connection whose client id names a thing that is not
// attached to its certificate.
func unattached(name string) Context {
	return Context{ClientID: name, Thing: &Thing{Name: name}}
}

func withAttrs(ctx Context, attrs ...string) Context {
	ctx.ConnectAttributes = attrs
	return ctx
}

func withCert(ctx Context, c *x509.Certificate) Context {
	ctx.Certificate = c
	return ctx
}

var (
	oidCN = asn1.ObjectIdentifier{2, 5, 4, 3}
	oidO  = asn1.ObjectIdentifier{2, 5, 4, 10}
)

// makeCert issues a real self-signed certificate (so its names come back
// through crypto/x509's parser, as the broker's will).
func makeCert(t testing.TB, subject pkix.Name, dns ...string) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(4660),
		Subject:      subject,
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		DNSNames:     dns,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func names(oid asn1.ObjectIdentifier, values ...string) []pkix.AttributeTypeAndValue {
	out := make([]pkix.AttributeTypeAndValue, len(values))
	for i, v := range values {
		out[i] = pkix.AttributeTypeAndValue{Type: oid, Value: v}
	}
	return out
}

func mustParse(t testing.TB, text string) *Document {
	t.Helper()
	d, err := Parse(text)
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, text)
	}
	return d
}

func runChecks(t *testing.T, doc *Document, checks []check) {
	t.Helper()
	for _, c := range checks {
		req := Request{Action: c.action, Resource: arnPrefix + c.resource, Context: c.ctx}
		got := Evaluate([]Policy{{Name: "p", Document: doc}}, req)
		if got.Effect != c.want {
			t.Errorf("%s %s (client %q, attrs %v): got %s, want %s (by %v, missing %v)",
				c.action, c.resource, c.ctx.ClientID, c.ctx.ConnectAttributes, got.Effect, c.want, got.By, got.Missing)
		}
	}
}
