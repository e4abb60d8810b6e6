package policy

import (
	"crypto/x509/pkix"
	"errors"
	"testing"
)

// FuzzParse: Parse never panics, refuses only with an *Error wrapping
// ErrMalformed, and whatever it accepts evaluates without panicking for
// every data-plane action and a spread of contexts.
func FuzzParse(f *testing.F) {
	seeds := []string{
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["iot:Connect"],"Resource":["arn:aws:iot:us-east-1:123456789012:client/${iot:Connection.Thing.ThingName}"],"Condition":{"Bool":{"iot:Connection.Thing.IsAttached":"true"}}}]}`,
		`{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotAction":"iot:Re*","NotResource":"arn:aws:iot:*:*:topic/a?b$(*)"}}`,
		`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:*","Resource":"*","Condition":{"ForAllValues:StringEquals":{"iot:ConnectAttributes":[]},"ArnLike":{"iot:LastWillTopic":"arn:aws:iot:*:*:topic/${iot:ClientId}/*"},"IpAddressIfExists":{"aws:SourceIp":"10.0.0.0/8"},"NumericLessThan":{"aws:EpochTime":"${iot:Connection.Thing.Attributes[n]}"},"Null":{"iot:Certificate.Subject.CommonName.List":"false"}}}]}`,
		`{"Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":"arn:aws:iot:x:y:topic/${iot:Certificate.Subject.CommonName.7}${"}]}`,
		`{"Version":"2008-10-17","Statement":[]}`,
		`[]`, `{`, ``, `{"Statement":{"Effect":"Allow","Action":"iot:Connect","Resource":"*"},"Statement":1}`,
	}
	for _, s := range seeds {
		f.Add(s)
	}
	cert := makeCert(f, pkix.Name{CommonName: "fz", Organization: []string{"O"}}, "fz.example")
	ctxs := []Context{
		{},
		{ClientID: "a", ConnectAttributes: []string{"LastWill"}, SourceIP: "10.1.2.3", LastWillTopic: "arn:aws:iot:us-east-1:123456789012:topic/a/w"},
		{ClientID: "t", Thing: &Thing{Name: "t", TypeName: "ty", Attributes: map[string]string{"n": "5"}, IsAttached: true}, Certificate: cert, SecureTransport: true, SourceIP: "::1"},
	}
	actions := []string{ActionConnect, ActionPublish, ActionRetainPublish, ActionSubscribe, ActionReceive}
	f.Fuzz(func(t *testing.T, text string) {
		doc, err := Parse(text)
		if err != nil {
			var pe *Error
			if !errors.Is(err, ErrMalformed) || !errors.As(err, &pe) {
				t.Fatalf("error %T %v is not a malformed-policy *Error", err, err)
			}
			return
		}
		pols := []Policy{{Name: "f", Document: doc}}
		for _, ctx := range ctxs {
			for _, a := range actions {
				for _, r := range []string{"arn:aws:iot:us-east-1:123456789012:topic/a/b", "arn:aws:iot:us-east-1:123456789012:client/a", "*", ""} {
					d := Evaluate(pols, Request{Action: a, Resource: r, Context: ctx})
					switch d.Effect {
					case Allowed, ExplicitDeny:
						if len(d.By) == 0 {
							t.Fatalf("%s without a deciding statement", d.Effect)
						}
					case ImplicitDeny:
					default:
						t.Fatalf("effect %q", d.Effect)
					}
				}
			}
		}
	})
}
