package policy

import (
	"crypto/sha256"
	"crypto/x509/pkix"
	"encoding/hex"
	"testing"
)

// The AWS IoT developer guide's publish/subscribe, receive, basic-variable,
// connect-and-publish and certificate policy examples.

const p3 = `"arn:aws:iot:us-east-1:123456789012:client/client1","arn:aws:iot:us-east-1:123456789012:client/client2","arn:aws:iot:us-east-1:123456789012:client/client3"`

func TestGuidePubSubExamples(t *testing.T) {
	runExamples(t, []example{
		// "Publish/Subscribe policy examples" > "Policies for MQTT clients",
		// registered devices (5): publish to any topic prefixed by the thing
		// name.
		{"registered publish thing/*", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":["iot:Connect"],"Resource":["arn:aws:iot:us-east-1:123456789012:client/${iot:Connection.Thing.ThingName}"]},
			{"Effect":"Allow","Action":["iot:Publish"],"Resource":["arn:aws:iot:us-east-1:123456789012:topic/${iot:Connection.Thing.ThingName}/*"]}]}`,
			[]check{
				publish("thing1/a", thing("thing1"), Allowed),
				publish("thing1/a/b/c", thing("thing1"), Allowed), // '*' crosses '/'
				publish("thing1", thing("thing1"), ImplicitDeny),
				publish("thing2/a", thing("thing1"), ImplicitDeny),
				publish("thing1/a", unattached("thing1"), ImplicitDeny),
				connect("thing1", thing("thing1"), Allowed),
			}},
		// ... unregistered devices (5): client1..3, publish under the client id.
		{"unregistered publish clientid/*", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":["iot:Connect"],"Resource":[` + p3 + `]},
			{"Effect":"Allow","Action":["iot:Publish"],"Resource":["arn:aws:iot:us-east-1:123456789012:topic/${iot:ClientId}/*"]}]}`,
			[]check{
				connect("client3", client("client3"), Allowed),
				connect("client4", client("client4"), ImplicitDeny),
				publish("client2/x", client("client2"), Allowed),
				publish("client1/x", client("client2"), ImplicitDeny),
			}},
		// ... registered devices (6): subscribe to <thing>/room*, receive
		// on <thing>/room*.
		{"registered room*", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":["iot:Connect"],"Resource":["arn:aws:iot:us-east-1:123456789012:client/${iot:Connection.Thing.ThingName}"]},
			{"Effect":"Allow","Action":["iot:Subscribe"],"Resource":["arn:aws:iot:us-east-1:123456789012:topicfilter/${iot:Connection.Thing.ThingName}/room*"]},
			{"Effect":"Allow","Action":["iot:Receive"],"Resource":["arn:aws:iot:us-east-1:123456789012:topic/${iot:Connection.Thing.ThingName}/room*"]}]}`,
			[]check{
				subscribe("thing1/room1", thing("thing1"), Allowed),
				subscribe("thing1/room2", thing("thing1"), Allowed),
				receive("thing1/room1", thing("thing1"), Allowed),
				receive("thing1/kitchen", thing("thing1"), ImplicitDeny),
				subscribe("thing2/room1", thing("thing1"), ImplicitDeny),
				// A topic resource does not grant the topicfilter of the
				// same text, and the other way round.
				{ActionSubscribe, "topic/thing1/room1", thing("thing1"), ImplicitDeny},
				{ActionReceive, "topicfilter/thing1/room1", thing("thing1"), ImplicitDeny},
			}},
		// ... unregistered devices (6).
		{"unregistered room*", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":["iot:Connect"],"Resource":[` + p3 + `]},
			{"Effect":"Allow","Action":["iot:Subscribe"],"Resource":["arn:aws:iot:us-east-1:123456789012:topicfilter/${iot:ClientId}/room*"]},
			{"Effect":"Allow","Action":["iot:Receive"],"Resource":["arn:aws:iot:us-east-1:123456789012:topic/${iot:ClientId}/room*"]}]}`,
			[]check{
				subscribe("client1/room9", client("client1"), Allowed),
				receive("client1/room9", client("client1"), Allowed),
				receive("client2/room9", client("client1"), ImplicitDeny),
			}},
		// ... registered devices (4): "MQTT wildcard characters + and # are
		// treated as literal characters": subscribe to some/+/topic only.
		{"registered literal +", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":["iot:Connect"],"Resource":["arn:aws:iot:us-east-1:123456789012:client/${iot:Connection.Thing.ThingName}"]},
			{"Effect":"Allow","Action":["iot:Subscribe"],"Resource":["arn:aws:iot:us-east-1:123456789012:topicfilter/some/+/topic"]}]}`,
			[]check{
				subscribe("some/+/topic", thing("t"), Allowed),
				subscribe("some/a/topic", thing("t"), ImplicitDeny),
				subscribe("some/#", thing("t"), ImplicitDeny),
			}},
		// ... unregistered devices (4).
		{"unregistered literal +", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":["iot:Connect"],"Resource":["arn:aws:iot:us-east-1:123456789012:client/client1"]},
			{"Effect":"Allow","Action":["iot:Subscribe"],"Resource":["arn:aws:iot:us-east-1:123456789012:topicfilter/some/+/topic"]}]}`,
			[]check{
				subscribe("some/+/topic", client("client1"), Allowed),
				subscribe("some/x/topic", client("client1"), ImplicitDeny),
			}},
		// ... registered devices (7): subscribe to my/topic and my/othertopic.
		{"registered two filters", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":["iot:Connect"],"Resource":["arn:aws:iot:us-east-1:123456789012:client/${iot:Connection.Thing.ThingName}"]},
			{"Effect":"Allow","Action":["iot:Subscribe"],"Resource":["arn:aws:iot:us-east-1:123456789012:topicfilter/my/topic","arn:aws:iot:us-east-1:123456789012:topicfilter/my/othertopic"]}]}`,
			[]check{
				subscribe("my/topic", thing("t"), Allowed),
				subscribe("my/othertopic", thing("t"), Allowed),
				subscribe("my/+", thing("t"), ImplicitDeny),
				subscribe("my/topic/x", thing("t"), ImplicitDeny),
			}},
		// ... unregistered devices (8): publish to my/topic/<client id>.
		{"unregistered my/topic/clientid", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":["iot:Connect"],"Resource":["arn:aws:iot:us-east-1:123456789012:client/client1"]},
			{"Effect":"Allow","Action":["iot:Publish"],"Resource":["arn:aws:iot:us-east-1:123456789012:topic/my/topic/${iot:ClientId}"]}]}`,
			[]check{
				publish("my/topic/client1", client("client1"), Allowed),
				publish("my/topic/client2", client("client1"), ImplicitDeny),
			}},
		// ... unregistered devices (9): publish under the client id except
		// <client id>/bar.
		{"unregistered deny bar", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":["iot:Connect"],"Resource":["arn:aws:iot:us-east-1:123456789012:client/client1","arn:aws:iot:us-east-1:123456789012:client/client2"]},
			{"Effect":"Allow","Action":["iot:Publish"],"Resource":["arn:aws:iot:us-east-1:123456789012:topic/${iot:ClientId}/*"]},
			{"Effect":"Deny","Action":["iot:Publish"],"Resource":["arn:aws:iot:us-east-1:123456789012:topic/${iot:ClientId}/bar"]}]}`,
			[]check{
				publish("client1/foo", client("client1"), Allowed),
				publish("client1/bar", client("client1"), ExplicitDeny),
				publish("client2/bar", client("client1"), ImplicitDeny),
				publish("client1/bar/baz", client("client1"), Allowed),
			}},
		// ... registered devices (10), as in the current guide (thing
		// variable spelled iot:Connection.Thing.ThingName): subscribe to
		// my/topic, no publish to <thing>/bar.
		{"registered subscribe, deny publish bar", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":["iot:Connect"],"Resource":["arn:aws:iot:us-east-1:123456789012:client/${iot:Connection.Thing.ThingName}"]},
			{"Effect":"Allow","Action":["iot:Subscribe"],"Resource":["arn:aws:iot:us-east-1:123456789012:topicfilter/my/topic"]},
			{"Effect":"Deny","Action":["iot:Publish"],"Resource":["arn:aws:iot:us-east-1:123456789012:topic/${iot:Connection.Thing.ThingName}/bar"]}]}`,
			[]check{
				subscribe("my/topic", thing("t1"), Allowed),
				publish("t1/bar", thing("t1"), ExplicitDeny),
				publish("t1/baz", thing("t1"), ImplicitDeny),
			}},
		// ... "publish and receive topic iotmonitor/provisioning/987654321098".
		{"iotmonitor", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":["iot:Connect"],"Resource":["arn:aws:iot:us-east-1:123456789012:client/client1"]},
			{"Effect":"Allow","Action":["iot:Publish","iot:Receive"],"Resource":["arn:aws:iot:us-east-1:123456789012:topic/iotmonitor/provisioning/987654321098"]},
			{"Effect":"Allow","Action":["iot:Subscribe"],"Resource":["arn:aws:iot:us-east-1:123456789012:topicfilter/iotmonitor/provisioning/987654321098"]}]}`,
			[]check{
				publish("iotmonitor/provisioning/987654321098", client("client1"), Allowed),
				receive("iotmonitor/provisioning/987654321098", client("client1"), Allowed),
				subscribe("iotmonitor/provisioning/987654321098", client("client1"), Allowed),
				publish("iotmonitor/provisioning/1", client("client1"), ImplicitDeny),
			}},
		// "Publish/Subscribe policy examples" > "Receive policy examples",
		// registered devices (11).
		{"receive my/topic", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":["iot:Connect"],"Resource":["arn:aws:iot:us-east-1:123456789012:client/${iot:Connection.Thing.ThingName}"]},
			{"Effect":"Allow","Action":["iot:Subscribe"],"Resource":["arn:aws:iot:us-east-1:123456789012:topicfilter/my/topic"]},
			{"Effect":"Allow","Action":["iot:Receive"],"Resource":["arn:aws:iot:us-east-1:123456789012:topic/my/topic"]}]}`,
			[]check{
				subscribe("my/topic", thing("t"), Allowed),
				receive("my/topic", thing("t"), Allowed),
				receive("my/other", thing("t"), ImplicitDeny),
			}},
		// "Connect and publish policy examples": registered (publish only on
		// the thing-name topic) and unregistered (${iot:clientId}, lower-case
		// c as the guide writes it: variable names are case-insensitive).
		{"connect and publish registered", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":["iot:Publish"],"Resource":["arn:aws:iot:us-east-1:123456789012:topic/${iot:Connection.Thing.ThingName}"]},
			{"Effect":"Allow","Action":["iot:Connect"],"Resource":["arn:aws:iot:us-east-1:123456789012:client/${iot:Connection.Thing.ThingName}"]}]}`,
			[]check{
				publish("bulb", thing("bulb"), Allowed),
				publish("bulb/x", thing("bulb"), ImplicitDeny),
				connect("bulb", unattached("bulb"), ImplicitDeny),
			}},
		{"connect and publish unregistered", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":["iot:Publish"],"Resource":["arn:aws:iot:us-east-1:123456789012:topic/${iot:clientId}"]},
			{"Effect":"Allow","Action":["iot:Connect"],"Resource":["arn:aws:iot:us-east-1:123456789012:client/client1"]}]}`,
			[]check{
				connect("client1", client("client1"), Allowed),
				publish("client1", client("client1"), Allowed),
				publish("client2", client("client1"), ImplicitDeny),
			}},
		// "Basic AWS IoT Core policy variables": a client that connects with
		// id "+" may subscribe to my/+/topic under my/${iot:ClientId}/topic
		// (the hazard the guide warns of); restricting iot:Connect to
		// clientid1 closes it.
		{"basic variables ClientId +", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":["iot:Subscribe"],"Resource":["arn:aws:iot:us-east-1:123456789012:topicfilter/my/${iot:ClientId}/topic"]},
			{"Effect":"Allow","Action":["iot:Connect"],"Resource":["arn:aws:iot:us-east-1:123456789012:client/clientid1"]}]}`,
			[]check{
				subscribe("my/+/topic", client("+"), Allowed),
				connect("+", client("+"), ImplicitDeny),
				connect("clientid1", client("clientid1"), Allowed),
				subscribe("my/+/topic", client("clientid1"), ImplicitDeny),
			}},
	})
}

func TestGuideCertificateExamples(t *testing.T) {
	plain := makeCert(t, pkix.Name{CommonName: "bulb-cert", Organization: []string{"Example Corp"}})
	sum := sha256.Sum256(plain.Raw)
	certID := hex.EncodeToString(sum[:])
	admin := makeCert(t, pkix.Name{ExtraNames: names(oidCN, "device", "operator", "Administrator")})
	adminFirst := makeCert(t, pkix.Name{ExtraNames: names(oidCN, "Administrator", "device")})
	other := makeCert(t, pkix.Name{CommonName: "x", Organization: []string{"Other Inc"}})
	mixed := makeCert(t, pkix.Name{ExtraNames: names(oidO, "AnyCompany", "Other Inc")})

	runExamples(t, []example{
		// "Certificate policy examples", registered devices (12): publish to
		// the topic named by ${iot:CertificateId}.
		{"CertificateId topic", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":["iot:Publish"],"Resource":["arn:aws:iot:us-east-1:123456789012:topic/${iot:CertificateId}"]},
			{"Effect":"Allow","Action":["iot:Connect"],"Resource":["arn:aws:iot:us-east-1:123456789012:client/${iot:Connection.Thing.ThingName}"]}]}`,
			[]check{
				publish(certID, withCert(thing("bulb"), plain), Allowed),
				publish("0000", withCert(thing("bulb"), plain), ImplicitDeny),
				publish(certID, thing("bulb"), ImplicitDeny), // no certificate: variable absent
			}},
		// ... unregistered devices (13): publish to the topic named by the
		// subject's common name.
		{"CommonName topic", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":["iot:Publish"],"Resource":["arn:aws:iot:us-east-1:123456789012:topic/${iot:Certificate.Subject.CommonName}"]},
			{"Effect":"Allow","Action":["iot:Connect"],"Resource":[` + p3 + `]}]}`,
			[]check{
				publish("bulb-cert", withCert(client("client1"), plain), Allowed),
				publish("x", withCert(client("client1"), plain), ImplicitDeny),
			}},
		// ... registered devices (14): publish under admin/ when
		// Subject.CommonName.2 is "Administrator".
		{"CommonName.2 Administrator", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":["iot:Connect"],"Resource":["arn:aws:iot:us-east-1:123456789012:client/${iot:Connection.Thing.ThingName}"]},
			{"Effect":"Allow","Action":["iot:Publish"],"Resource":["arn:aws:iot:us-east-1:123456789012:topic/admin/*"],
			 "Condition":{"StringEquals":{"iot:Certificate.Subject.CommonName.2":"Administrator"}}}]}`,
			[]check{
				publish("admin/reboot", withCert(thing("t"), admin), Allowed),
				publish("admin/reboot", withCert(thing("t"), adminFirst), ImplicitDeny),
				publish("admin/reboot", withCert(thing("t"), plain), ImplicitDeny),
			}},
		// ... registered devices (15): publish to admin/<thing> when any
		// Subject.CommonName is "Administrator" (ForAnyValue, .List).
		{"CommonName.List Administrator", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":["iot:Connect"],"Resource":["arn:aws:iot:us-east-1:123456789012:client/${iot:Connection.Thing.ThingName}"]},
			{"Effect":"Allow","Action":["iot:Publish"],"Resource":["arn:aws:iot:us-east-1:123456789012:topic/admin/${iot:Connection.Thing.ThingName}"],
			 "Condition":{"ForAnyValue:StringEquals":{"iot:Certificate.Subject.CommonName.List":"Administrator"}}}]}`,
			[]check{
				publish("admin/t", withCert(thing("t"), admin), Allowed),
				publish("admin/t", withCert(thing("t"), adminFirst), Allowed),
				publish("admin/t", withCert(thing("t"), plain), ImplicitDeny),
				publish("admin/u", withCert(thing("t"), admin), ImplicitDeny),
			}},
		// "X.509 Certificate AWS IoT Core policy variables", registered
		// devices (2): publish only with Organization "Example Corp" or
		// "AnyCompany" (ForAllValues:StringEquals on .List).
		{"Organization.List", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":["iot:Connect"],"Resource":["arn:aws:iot:us-east-1:123456789012:client/${iot:Connection.Thing.ThingName}"]},
			{"Effect":"Allow","Action":["iot:Publish"],"Resource":["arn:aws:iot:us-east-1:123456789012:topic/my/topic/${iot:Connection.Thing.ThingName}"],
			 "Condition":{"ForAllValues:StringEquals":{"iot:Certificate.Subject.Organization.List":["Example Corp","AnyCompany"]}}}]}`,
			[]check{
				publish("my/topic/t", withCert(thing("t"), plain), Allowed),
				publish("my/topic/t", withCert(thing("t"), other), ImplicitDeny),
				publish("my/topic/t", withCert(thing("t"), mixed), ImplicitDeny),
			}},
	})
}
