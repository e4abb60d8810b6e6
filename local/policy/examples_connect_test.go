package policy

import "testing"

// The AWS IoT developer guide's connect, thing and retained-message policy
// examples: each policy allows and denies what the guide says it does.

type example struct {
	name   string
	policy string
	checks []check
}

func runExamples(t *testing.T, examples []example) {
	for _, ex := range examples {
		t.Run(ex.name, func(t *testing.T) {
			runChecks(t, mustParse(t, ex.policy), ex.checks)
		})
	}
}

const (
	pc = "PersistentConnect"
	lw = "LastWill"
)

func TestGuideConnectExamples(t *testing.T) {
	runExamples(t, []example{
		// "Connect policy examples": grants permission to connect with
		// client ID client1 (unregistered devices).
		{"connect client1", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iot:Connect"],
			"Resource":["arn:aws:iot:us-east-1:123456789012:client/client1"]}]}`,
			[]check{
				connect("client1", client("client1"), Allowed),
				connect("client2", client("client2"), ImplicitDeny),
				connect("Client1", client("Client1"), ImplicitDeny), // resources are case-sensitive
				publish("client1", client("client1"), ImplicitDeny),
			}},
		// "Connect policy examples": denies client1 and client2, allows a
		// client id that is the name of a thing attached to the principal
		// (Bool iot:Connection.Thing.IsAttached "true").
		{"deny client1 client2, allow attached thing", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Deny","Action":["iot:Connect"],"Resource":["arn:aws:iot:us-east-1:123456789012:client/client1","arn:aws:iot:us-east-1:123456789012:client/client2"]},
			{"Effect":"Allow","Action":["iot:Connect"],"Resource":["arn:aws:iot:us-east-1:123456789012:client/${iot:Connection.Thing.ThingName}"],
			 "Condition":{"Bool":{"iot:Connection.Thing.IsAttached":"true"}}}]}`,
			[]check{
				connect("sensor-7", thing("sensor-7"), Allowed),
				connect("client1", thing("client1"), ExplicitDeny),
				connect("client2", client("client2"), ExplicitDeny),
				connect("sensor-7", unattached("sensor-7"), ImplicitDeny),
				connect("sensor-7", client("sensor-7"), ImplicitDeny),
			}},
		// "Connect policy examples" > "MQTT persistent sessions policy
		// examples": allows connect with the PersistentConnect feature.
		{"ForAllValues PersistentConnect", attrPolicy(`"ForAllValues:StringEquals":{"iot:ConnectAttributes":["PersistentConnect"]}`),
			[]check{
				connect("c", withAttrs(client("c"), pc), Allowed),
				connect("c", withAttrs(client("c")), Allowed),
				connect("c", withAttrs(client("c"), lw), ImplicitDeny),
				connect("c", withAttrs(client("c"), pc, lw), ImplicitDeny),
			}},
		// ... "disallows PersistentConnect, other features are allowed"
		// (the guide's JSON lacks its closing brace; added here).
		{"ForAllValues StringNotEquals PersistentConnect", attrPolicy(`"ForAllValues:StringNotEquals":{"iot:ConnectAttributes":["PersistentConnect"]}`),
			[]check{
				connect("c", withAttrs(client("c"), lw), Allowed),
				connect("c", withAttrs(client("c")), Allowed),
				connect("c", withAttrs(client("c"), pc), ImplicitDeny),
				connect("c", withAttrs(client("c"), pc, lw), ImplicitDeny),
			}},
		// ... "the above policy can also be expressed using StringEquals"
		// (Allow all, Deny ForAnyValue PersistentConnect).
		{"Deny ForAnyValue PersistentConnect", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":["iot:Connect"],"Resource":"*"},
			{"Effect":"Deny","Action":["iot:Connect"],"Resource":"*","Condition":{"ForAnyValue:StringEquals":{"iot:ConnectAttributes":["PersistentConnect"]}}}]}`,
			[]check{
				connect("c", withAttrs(client("c"), lw, "SomeNewFeature"), Allowed),
				connect("c", withAttrs(client("c")), Allowed),
				connect("c", withAttrs(client("c"), pc), ExplicitDeny),
				connect("c", withAttrs(client("c"), lw, pc), ExplicitDeny),
			}},
		// ... "allows connect by both PersistentConnect and LastWill, any
		// other new feature is not allowed".
		{"ForAllValues PersistentConnect LastWill", attrPolicy(`"ForAllValues:StringEquals":{"iot:ConnectAttributes":["PersistentConnect","LastWill"]}`),
			[]check{
				connect("c", withAttrs(client("c"), pc, lw), Allowed),
				connect("c", withAttrs(client("c"), lw), Allowed),
				connect("c", withAttrs(client("c")), Allowed),
				connect("c", withAttrs(client("c"), pc, "SomeNewFeature"), ImplicitDeny),
			}},
		// ... "allows clean connect by clients with or without LastWill".
		{"ForAllValues LastWill", attrPolicy(`"ForAllValues:StringEquals":{"iot:ConnectAttributes":["LastWill"]}`),
			[]check{
				connect("c", withAttrs(client("c"), lw), Allowed),
				connect("c", withAttrs(client("c")), Allowed),
				connect("c", withAttrs(client("c"), pc), ImplicitDeny),
				connect("c", withAttrs(client("c"), pc, lw), ImplicitDeny),
			}},
		// ... "only allows connect using default features".
		{"ForAllValues empty", attrPolicy(`"ForAllValues:StringEquals":{"iot:ConnectAttributes":[]}`),
			[]check{
				connect("c", withAttrs(client("c")), Allowed),
				connect("c", withAttrs(client("c"), lw), ImplicitDeny),
				connect("c", withAttrs(client("c"), pc), ImplicitDeny),
			}},
		// ... "allows connect only with PersistentConnect, any new feature is
		// allowed as long as the connection uses PersistentConnect".
		{"ForAnyValue PersistentConnect", attrPolicy(`"ForAnyValue:StringEquals":{"iot:ConnectAttributes":["PersistentConnect"]}`),
			[]check{
				connect("c", withAttrs(client("c"), pc), Allowed),
				connect("c", withAttrs(client("c"), pc, lw, "SomeNewFeature"), Allowed),
				connect("c", withAttrs(client("c")), ImplicitDeny),
				connect("c", withAttrs(client("c"), lw), ImplicitDeny),
			}},
		// ... "the connect must have both PersistentConnect and LastWill
		// usage, no new feature is allowed".
		{"must have both", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":["iot:Connect"],"Resource":"*","Condition":{"ForAllValues:StringEquals":{"iot:ConnectAttributes":["PersistentConnect","LastWill"]}}},
			{"Effect":"Deny","Action":["iot:Connect"],"Resource":"*","Condition":{"ForAllValues:StringEquals":{"iot:ConnectAttributes":["PersistentConnect"]}}},
			{"Effect":"Deny","Action":["iot:Connect"],"Resource":"*","Condition":{"ForAllValues:StringEquals":{"iot:ConnectAttributes":["LastWill"]}}},
			{"Effect":"Deny","Action":["iot:Connect"],"Resource":"*","Condition":{"ForAllValues:StringEquals":{"iot:ConnectAttributes":[]}}}]}`,
			[]check{
				connect("c", withAttrs(client("c"), pc, lw), Allowed),
				connect("c", withAttrs(client("c"), pc), ExplicitDeny),
				connect("c", withAttrs(client("c"), lw), ExplicitDeny),
				connect("c", withAttrs(client("c")), ExplicitDeny),
				connect("c", withAttrs(client("c"), pc, lw, "SomeNewFeature"), ImplicitDeny),
			}},
		// ... "must not have PersistentConnect but can have LastWill, any
		// other new feature is not allowed".
		{"no PersistentConnect, LastWill ok", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Deny","Action":["iot:Connect"],"Resource":"*","Condition":{"ForAnyValue:StringEquals":{"iot:ConnectAttributes":["PersistentConnect"]}}},
			{"Effect":"Allow","Action":["iot:Connect"],"Resource":"*","Condition":{"ForAllValues:StringEquals":{"iot:ConnectAttributes":["LastWill"]}}}]}`,
			[]check{
				connect("c", withAttrs(client("c"), lw), Allowed),
				connect("c", withAttrs(client("c")), Allowed),
				connect("c", withAttrs(client("c"), pc), ExplicitDeny),
				connect("c", withAttrs(client("c"), lw, pc), ExplicitDeny),
				connect("c", withAttrs(client("c"), lw, "SomeNewFeature"), ImplicitDeny),
			}},
		// ... "allows connect only by clients that have a LastWill with topic
		// my/lastwill/topicName" (ArnEquals iot:LastWillTopic; the guide's
		// region/account placeholders filled in).
		{"LastWillTopic", attrPolicy(`"ArnEquals":{"iot:LastWillTopic":"arn:aws:iot:us-east-1:123456789012:topic/my/lastwill/topicName"}`),
			[]check{
				connect("c", will(client("c"), "my/lastwill/topicName", lw), Allowed),
				connect("c", will(client("c"), "my/lastwill/topicName", lw, pc), Allowed),
				connect("c", will(client("c"), "$aws/things/victim/jobs/notify-next", lw), ImplicitDeny),
				connect("c", withAttrs(client("c")), ImplicitDeny),
			}},
		// ... "only allows clean connect using a specific LastWillTopic".
		{"LastWillTopic clean only", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":["iot:Connect"],"Resource":"*","Condition":{"ArnEquals":{"iot:LastWillTopic":"arn:aws:iot:us-east-1:123456789012:topic/my/lastwill/topicName"}}},
			{"Effect":"Deny","Action":["iot:Connect"],"Resource":"*","Condition":{"ForAnyValue:StringEquals":{"iot:ConnectAttributes":["PersistentConnect"]}}}]}`,
			[]check{
				connect("c", will(client("c"), "my/lastwill/topicName", lw), Allowed),
				connect("c", will(client("c"), "my/lastwill/topicName", lw, pc), ExplicitDeny),
				connect("c", will(client("c"), "other", lw), ImplicitDeny),
			}},
		// "Connect policy examples", registered devices: connect with the
		// thing name as client id and subscribe to my/topic/filter.
		{"registered connect and subscribe", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":["iot:Connect"],"Resource":["arn:aws:iot:us-east-1:123456789012:client/${iot:Connection.Thing.ThingName}"]},
			{"Effect":"Allow","Action":["iot:Subscribe"],"Resource":["arn:aws:iot:us-east-1:123456789012:topicfilter/my/topic/filter"]}]}`,
			[]check{
				connect("lamp", thing("lamp"), Allowed),
				connect("lamp", client("lamp"), ImplicitDeny),
				subscribe("my/topic/filter", thing("lamp"), Allowed),
				subscribe("my/topic/#", thing("lamp"), ImplicitDeny),
				receive("my/topic/filter", thing("lamp"), ImplicitDeny),
			}},
		// "Thing policy examples": connect when the certificate is attached
		// to the thing the policy is evaluated for.
		{"thing IsAttached", `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iot:Connect"],"Resource":["*"],
			"Condition":{"Bool":{"iot:Connection.Thing.IsAttached":["true"]}}}]}`,
			[]check{
				connect("lamp", thing("lamp"), Allowed),
				connect("lamp", unattached("lamp"), ImplicitDeny),
				connect("lamp", client("lamp"), ImplicitDeny),
			}},
		// "Retained message policy examples" > "Policy to connect and
		// publish retained messages" (as on the published page; the GitHub
		// copy's braces are misplaced).
		{"retained publish", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":["iot:Connect"],"Resource":["arn:aws:iot:us-east-1:123456789012:client/device1"]},
			{"Effect":"Allow","Action":["iot:Publish","iot:RetainPublish"],"Resource":["arn:aws:iot:us-east-1:123456789012:topic/device/sample/configuration"]}]}`,
			[]check{
				connect("device1", client("device1"), Allowed),
				publish("device/sample/configuration", client("device1"), Allowed),
				retain("device/sample/configuration", client("device1"), Allowed),
				retain("device/sample/other", client("device1"), ImplicitDeny),
				receive("device/sample/configuration", client("device1"), ImplicitDeny),
			}},
		// ... "Policy to connect and publish retained Will messages".
		{"retained Will", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":["iot:Connect"],"Resource":["arn:aws:iot:us-east-1:123456789012:client/*"],
			 "Condition":{"ForAllValues:StringEquals":{"iot:ConnectAttributes":["LastWill"]}}},
			{"Effect":"Allow","Action":["iot:Publish","iot:RetainPublish"],"Resource":["arn:aws:iot:us-east-1:123456789012:topic/will"]}]}`,
			[]check{
				connect("anyone", withAttrs(client("anyone"), lw), Allowed),
				connect("anyone", withAttrs(client("anyone"), pc), ImplicitDeny),
				publish("will", client("anyone"), Allowed),
				retain("will", client("anyone"), Allowed),
				retain("$aws/things/victim/jobs/notify-next", client("anyone"), ImplicitDeny),
			}},
		// ... "Policy to list and get retained messages".
		{"list and get retained", `{"Version":"2012-10-17","Statement":[
			{"Effect":"Allow","Action":["iot:ListRetainedMessages"],"Resource":["*"]},
			{"Effect":"Allow","Action":["iot:GetRetainedMessage"],"Resource":["arn:aws:iot:us-east-1:123456789012:topic/foo"]}]}`,
			[]check{
				{"iot:ListRetainedMessages", "*", client("app"), Allowed},
				{"iot:GetRetainedMessage", "topic/foo", client("app"), Allowed},
				{"iot:GetRetainedMessage", "topic/bar", client("app"), ImplicitDeny},
				publish("foo", client("app"), ImplicitDeny),
			}},
	})
}

func attrPolicy(condition string) string {
	return `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iot:Connect"],"Resource":"*","Condition":{` + condition + `}}]}`
}

func will(ctx Context, topic string, attrs ...string) Context {
	ctx.ConnectAttributes = attrs
	ctx.LastWillTopic = arnPrefix + "topic/" + topic
	return ctx
}
