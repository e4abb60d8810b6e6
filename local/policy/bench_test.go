package policy

import "testing"

// thingScoped is the least-privilege policy AWS's getting-started guides
// attach to a device, built on ${iot:Connection.Thing.ThingName}, plus the
// Jobs and shadow topics an OTA device uses.
const thingScoped = `{"Version":"2012-10-17","Statement":[
 {"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:us-east-1:123456789012:client/${iot:Connection.Thing.ThingName}",
  "Condition":{"Bool":{"iot:Connection.Thing.IsAttached":"true"}}},
 {"Effect":"Allow","Action":["iot:Publish","iot:RetainPublish"],"Resource":[
  "arn:aws:iot:us-east-1:123456789012:topic/$aws/things/${iot:Connection.Thing.ThingName}/*",
  "arn:aws:iot:us-east-1:123456789012:topic/telemetry/${iot:Connection.Thing.ThingName}"]},
 {"Effect":"Allow","Action":"iot:Subscribe","Resource":[
  "arn:aws:iot:us-east-1:123456789012:topicfilter/$aws/things/${iot:Connection.Thing.ThingName}/*",
  "arn:aws:iot:us-east-1:123456789012:topicfilter/fleet/broadcast"]},
 {"Effect":"Allow","Action":"iot:Receive","Resource":[
  "arn:aws:iot:us-east-1:123456789012:topic/$aws/things/${iot:Connection.Thing.ThingName}/*",
  "arn:aws:iot:us-east-1:123456789012:topic/fleet/broadcast"]},
 {"Effect":"Deny","Action":"iot:Publish","Resource":"arn:aws:iot:us-east-1:123456789012:topic/$aws/things/${iot:Connection.Thing.ThingName}/shadow/name/locked/*"}]}`

// BenchmarkEvaluateReceive is the broker's per-delivery question: may this
// thing receive a message on its own jobs topic?
func BenchmarkEvaluateReceive(b *testing.B) {
	doc := mustParse(b, thingScoped)
	pols := []Policy{{Name: "thing-scoped", Document: doc}}
	req := Request{
		Action:   ActionReceive,
		Resource: "arn:aws:iot:us-east-1:123456789012:topic/$aws/things/sensor-0042/jobs/notify-next",
		Context:  Context{ClientID: "sensor-0042", Thing: &Thing{Name: "sensor-0042", IsAttached: true}, SecureTransport: true},
	}
	if d := Evaluate(pols, req); !d.Allowed() {
		b.Fatalf("%+v", d)
	}
	b.ReportAllocs()
	for b.Loop() {
		Evaluate(pols, req)
	}
}

// BenchmarkEvaluateReceiveDenied: a delivery the policy does not allow
// (another thing's topic) walks every statement.
func BenchmarkEvaluateReceiveDenied(b *testing.B) {
	doc := mustParse(b, thingScoped)
	pols := []Policy{{Name: "thing-scoped", Document: doc}}
	req := Request{
		Action:   ActionReceive,
		Resource: "arn:aws:iot:us-east-1:123456789012:topic/$aws/things/sensor-0043/jobs/notify-next",
		Context:  Context{ClientID: "sensor-0042", Thing: &Thing{Name: "sensor-0042", IsAttached: true}},
	}
	if d := Evaluate(pols, req); d.Effect != ImplicitDeny {
		b.Fatalf("%+v", d)
	}
	b.ReportAllocs()
	for b.Loop() {
		Evaluate(pols, req)
	}
}

func BenchmarkParse(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(thingScoped); err != nil {
			b.Fatal(err)
		}
	}
}
