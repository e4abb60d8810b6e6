package policy

import (
	"crypto/x509/pkix"
	"reflect"
	"testing"
	"time"
)

func one(effect, action, resource, extra string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"` + effect + `","Action":` + action + `,"Resource":` + resource + extra + `}]}`
}

func TestEvaluateMatching(t *testing.T) {
	cases := []struct {
		name   string
		policy string
		checks []check
	}{
		{"? is one character, * any run", one("Allow", `"iot:Publish"`, `"arn:aws:iot:us-east-1:123456789012:topic/dev?/*/x"`, ""), []check{
			publish("dev1/a/b/x", client("c"), Allowed),
			publish("devé/a/x", client("c"), Allowed), // one character, not one byte
			publish("dev12/a/x", client("c"), ImplicitDeny),
			publish("dev/a/x", client("c"), ImplicitDeny),
			publish("dev1//x", client("c"), Allowed),
			publish("dev1/x", client("c"), ImplicitDeny),
		}},
		{"region and account wildcards", one("Allow", `"iot:Connect"`, `"arn:aws:iot:*:*:client/a"`, ""), []check{
			connect("a", client("a"), Allowed),
			connect("b", client("b"), ImplicitDeny),
		}},
		{"action case-insensitive, wildcard", one("Allow", `["IOT:CONNECT","iot:Pub*","iot:*Thing*"]`, `"*"`, ""), []check{
			connect("a", client("a"), Allowed),
			publish("t", client("a"), Allowed),
			{"iot:GetThingShadow", "thing/t", client("a"), Allowed},
			subscribe("t", client("a"), ImplicitDeny),
			receive("t", client("a"), ImplicitDeny),
		}},
		{"NotAction", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotAction":["iot:Receive","iot:Subscribe"],"Resource":"*"}]}`, []check{
			publish("t", client("a"), Allowed),
			receive("t", client("a"), ImplicitDeny),
			subscribe("t", client("a"), ImplicitDeny),
		}},
		{"NotResource deny", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":"*"},
			{"Effect":"Deny","Action":"iot:Publish","NotResource":"arn:aws:iot:us-east-1:123456789012:topic/${iot:ClientId}/*"}]}`, []check{
			publish("a/x", client("a"), Allowed),
			publish("b/x", client("a"), ExplicitDeny),
		}},
		{"substituted value is literal", one("Allow", `"iot:Publish"`, `"arn:aws:iot:us-east-1:123456789012:topic/${iot:ClientId}/data"`, ""), []check{
			publish("*/data", client("*"), Allowed),
			publish("a/data", client("*"), ImplicitDeny),
			publish("ab/data", client("a?"), ImplicitDeny),
		}},
		{"special characters $(*) $(?) $($)", one("Allow", `"iot:Publish"`, `"arn:aws:iot:us-east-1:123456789012:topic/a$(*)b$(?)c$($)d"`, ""), []check{
			publish("a*b?c$d", client("c"), Allowed),
			publish("axbyc$d", client("c"), ImplicitDeny),
		}},
		{"2008-10-17: variables are literal text", `{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:us-east-1:123456789012:topic/${iot:ClientId}"}]}`, []check{
			publish("a", client("a"), ImplicitDeny),
			publish("${iot:ClientId}", client("a"), Allowed),
		}},
		{"unresolved variable never matches, even its own text", one("Allow", `"iot:Connect"`, `"arn:aws:iot:us-east-1:123456789012:client/${iot:Connection.Thing.ThingName}"`, ""), []check{
			connect("${iot:Connection.Thing.ThingName}", client("${iot:Connection.Thing.ThingName}"), ImplicitDeny),
		}},
		{"thing type and attributes", one("Allow", `"iot:Publish"`,
			`"arn:aws:iot:us-east-1:123456789012:topic/${iot:Connection.Thing.ThingTypeName}/${iot:Connection.Thing.Attributes[site]}/*"`, ""), []check{
			publish("lamp/berlin/x", typed("t1", "lamp", map[string]string{"site": "berlin"}), Allowed),
			publish("lamp/paris/x", typed("t1", "lamp", map[string]string{"site": "berlin"}), ImplicitDeny),
			publish("lamp/berlin/x", typed("t1", "lamp", map[string]string{"Site": "berlin"}), ImplicitDeny),
			publish("lamp//x", typed("t1", "lamp", nil), ImplicitDeny),
		}},
		{"condition with variable value", one("Allow", `"iot:Publish"`, `"*"`,
			`,"Condition":{"StringEquals":{"iot:Connection.Thing.Attributes[owner]":"${iot:ClientId}"}}`), []check{
			publish("x", typed("alice", "", map[string]string{"owner": "alice"}), Allowed),
			publish("x", typed("alice", "", map[string]string{"owner": "bob"}), ImplicitDeny),
		}},
		{"SourceIp and SecureTransport", one("Allow", `"iot:Connect"`, `"*"`,
			`,"Condition":{"IpAddress":{"aws:SourceIp":["127.0.0.0/8","::1"]},"Bool":{"aws:SecureTransport":"true"}}`), []check{
			connect("a", Context{ClientID: "a", SourceIP: "127.0.0.1", SecureTransport: true}, Allowed),
			connect("a", Context{ClientID: "a", SourceIP: "::1", SecureTransport: true}, Allowed),
			connect("a", Context{ClientID: "a", SourceIP: "10.1.1.1", SecureTransport: true}, ImplicitDeny),
			connect("a", Context{ClientID: "a", SourceIP: "127.0.0.1"}, ImplicitDeny),
			connect("a", Context{ClientID: "a", SecureTransport: true}, ImplicitDeny),
		}},
		{"unknown key: absent", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"StringNotEquals":{"iot:NoSuchKey":"x"}}},
			{"Effect":"Deny","Action":"iot:Connect","Resource":"*","Condition":{"StringEquals":{"iot:NoSuchKey":"x"}}},
			{"Effect":"Deny","Action":"iot:Connect","Resource":"*","Condition":{"ForAnyValue:StringEquals":{"iot:NoSuchKey":"x"}}},
			{"Effect":"Allow","Action":"iot:Publish","Resource":"*","Condition":{"StringEqualsIfExists":{"iot:NoSuchKey":"x"}}},
			{"Effect":"Allow","Action":"iot:Subscribe","Resource":"*","Condition":{"Null":{"iot:NoSuchKey":"true"}}},
			{"Effect":"Allow","Action":"iot:Receive","Resource":"*","Condition":{"Null":{"iot:NoSuchKey":"false"}}}]}`, []check{
			connect("a", client("a"), Allowed),
			publish("t", client("a"), Allowed),
			subscribe("t", client("a"), Allowed),
			receive("t", client("a"), ImplicitDeny),
		}},
		{"StringLike and IgnoreCase", one("Allow", `"iot:Connect"`, `"*"`,
			`,"Condition":{"StringLike":{"iot:ClientId":"sensor-*"},"StringNotEqualsIgnoreCase":{"iot:ClientId":"SENSOR-BAD"}}`), []check{
			connect("sensor-1", client("sensor-1"), Allowed),
			connect("sensor-bad", client("sensor-bad"), ImplicitDeny),
			connect("Sensor-1", client("Sensor-1"), ImplicitDeny),
		}},
		{"ArnLike does not cross colons", one("Allow", `"iot:Connect"`, `"*"`,
			`,"Condition":{"ArnLike":{"iot:LastWillTopic":"arn:aws:iot:*:123456789012:topic/will/*"}}`), []check{
			connect("a", will(client("a"), "will/a", lw), Allowed),
			connect("a", Context{ClientID: "a", LastWillTopic: "arn:aws:iot:us-east-1:1:123456789012:topic/will/a"}, ImplicitDeny),
			connect("a", will(client("a"), "other", lw), ImplicitDeny),
		}},
		{"dates and numbers", one("Allow", `"iot:Connect"`, `"*"`,
			`,"Condition":{"DateLessThan":{"aws:CurrentTime":"2030-01-01T00:00:00Z"},"NumericGreaterThanEquals":{"aws:EpochTime":1700000000}}`), []check{
			connect("a", Context{ClientID: "a", Now: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)}, Allowed),
			connect("a", Context{ClientID: "a", Now: time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)}, ImplicitDeny),
			connect("a", Context{ClientID: "a", Now: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}, ImplicitDeny),
			connect("a", client("a"), ImplicitDeny),
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) { runChecks(t, mustParse(t, c.policy), c.checks) })
	}
}

func typed(name, typ string, attrs map[string]string) Context {
	return Context{ClientID: name, Thing: &Thing{Name: name, TypeName: typ, Attributes: attrs, IsAttached: true}}
}

func TestEvaluateAcrossPolicies(t *testing.T) {
	allow := mustParse(t, `{"Version":"2012-10-17","Statement":[{"Sid":"pub","Effect":"Allow","Action":"iot:Publish","Resource":"*"},
		{"Effect":"Allow","Action":"iot:*","Resource":"arn:aws:iot:us-east-1:123456789012:topic/a"}]}`)
	deny := mustParse(t, `{"Version":"2012-10-17","Statement":{"Sid":"no-a","Effect":"Deny","Action":"iot:Publish","Resource":"arn:aws:iot:us-east-1:123456789012:topic/a"}}`)
	pols := []Policy{{Name: "cert", Document: allow}, {Name: "group", Document: deny}, {Name: "nil"}}

	got := Evaluate(pols, Request{Action: ActionPublish, Resource: arnPrefix + "topic/b"})
	if want := (Decision{Effect: Allowed, By: []Match{{"cert", 0, "pub"}}}); !reflect.DeepEqual(got, want) {
		t.Errorf("topic/b: %+v, want %+v", got, want)
	}
	got = Evaluate(pols, Request{Action: ActionPublish, Resource: arnPrefix + "topic/a"})
	if want := (Decision{Effect: ExplicitDeny, By: []Match{{"group", 0, "no-a"}}}); !reflect.DeepEqual(got, want) {
		t.Errorf("topic/a: %+v, want %+v", got, want)
	}
	got = Evaluate(pols[:1], Request{Action: ActionPublish, Resource: arnPrefix + "topic/a"})
	if want := (Decision{Effect: Allowed, By: []Match{{"cert", 0, "pub"}, {"cert", 1, ""}}}); !reflect.DeepEqual(got, want) {
		t.Errorf("topic/a, one policy: %+v, want %+v", got, want)
	}
	if got := Evaluate(nil, Request{Action: ActionConnect, Resource: arnPrefix + "client/a"}); got.Effect != ImplicitDeny || got.Allowed() {
		t.Errorf("no policies: %+v", got)
	}
}

func TestEvaluateHandBuiltDocument(t *testing.T) {
	// A Document built in Go (not through Parse) is compiled on the fly.
	d := &Document{Version: Version2012, Statements: []Statement{{Effect: "Allow", Action: []string{"iot:Connect"},
		Resource:  []string{"arn:aws:iot:*:*:client/${iot:ClientId}"},
		Condition: map[string]map[string][]string{"StringLike": {"iot:ClientId": {"d-*"}}}}}}
	runChecks(t, d, []check{
		connect("d-1", client("d-1"), Allowed),
		connect("e-1", client("e-1"), ImplicitDeny),
	})
}

func TestEvaluateMissing(t *testing.T) {
	d := mustParse(t, `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:us-east-1:123456789012:topic/${iot:Connection.Thing.ThingName}/*"},
		{"Effect":"Allow","Action":"iot:Publish","Resource":"*","Condition":{"StringEquals":{"iot:Certificate.Subject.CommonName":"x"}}},
		{"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:us-east-1:123456789012:topic/${iot:Connection.Thing.ThingName}/b"}]}`)
	got := Evaluate([]Policy{{Name: "p", Document: d}}, Request{Action: ActionPublish, Resource: arnPrefix + "topic/t/b", Context: client("t")})
	want := []string{"iot:Certificate.Subject.CommonName", "iot:Connection.Thing.ThingName"}
	if got.Effect != ImplicitDeny || !reflect.DeepEqual(got.Missing, want) {
		t.Errorf("got %+v, want implicit deny missing %v", got, want)
	}
	got = Evaluate([]Policy{{Name: "p", Document: d}}, Request{Action: ActionPublish, Resource: arnPrefix + "topic/t/b", Context: thing("t")})
	if got.Effect != Allowed || len(got.By) != 2 {
		t.Errorf("attached thing: %+v", got)
	}
}

func TestCertificateVariables(t *testing.T) {
	// Two countries as separate RDNs: in one RDN, DER's SET ordering would
	// put DE first.
	c := makeCert(t, pkix.Name{Organization: []string{"IoT Devices"}, CommonName: "bulb",
		ExtraNames: []pkix.AttributeTypeAndValue{{Type: []int{2, 5, 4, 6}, Value: "US"}, {Type: []int{2, 5, 4, 6}, Value: "DE"},
			{Type: []int{2, 5, 4, 12}, Value: "RGB"}, {Type: []int{2, 5, 4, 42}, Value: "Bulb*"}}},
		"bulb.example.com")
	ctx := withCert(client("c"), c)
	for _, tc := range []struct {
		key  string
		want string
		ok   bool
	}{
		{"iot:Certificate.Subject.CommonName", "bulb", true},
		{"iot:Certificate.Subject.Country", "US", true},
		{"iot:Certificate.Subject.Country.1", "DE", true},
		{"iot:Certificate.Subject.Country.2", "", false},
		{"iot:Certificate.Subject.Title", "RGB", true},
		{"iot:Certificate.Subject.GivenName", "", false}, // holds a wildcard: not substituted
		{"iot:Certificate.Issuer.CommonName", "bulb", true},
		{"iot:Certificate.Subject.AlternativeName.DNSName", "bulb.example.com", true},
		{"iot:Certificate.Subject.AlternativeName.IPAddress", "", false},
		{"iot:Certificate.SerialNumber", "4660", true},
		{"iot:certificate.subject.commonname", "bulb", true},
		{"iot:Certificate.Subject.Nope", "", false},
	} {
		k := parseKey(tc.key)
		got, ok := k.one(&ctx)
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s = %q, %v; want %q, %v", tc.key, got, ok, tc.want, tc.ok)
		}
	}
	k := parseKey("iot:Certificate.Subject.Country.List")
	if got, ok := k.values(&ctx, nil); !ok || !reflect.DeepEqual(got, []string{"US", "DE"}) {
		t.Errorf("Country.List = %v, %v", got, ok)
	}
	k = parseKey("iot:Certificate.AvailableKeys")
	if got, _ := k.values(&ctx, nil); len(got) < 5 || got[0] != "iot:CertificateId" {
		t.Errorf("AvailableKeys = %v", got)
	}
}
