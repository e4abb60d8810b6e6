package provisioning

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"math/big"
	"reflect"
	"strings"
	"testing"
	"time"
)

// jitp is a just-in-time provisioning template of the shape the developer
// guide describes: the thing named after the certificate's common name,
// grouped by its country, the certificate activated, a policy by document.
const jitp = `{
  "Parameters": {
    "AWS::IoT::Certificate::CommonName": {"Type": "String"},
    "AWS::IoT::Certificate::Country": {"Type": "String"},
    "AWS::IoT::Certificate::Id": {"Type": "String"},
    "Fleet": {"Type": "String", "Default": "sensors"}
  },
  "Resources": {
    "thing": {
      "Type": "AWS::IoT::Thing",
      "Properties": {
        "ThingName": {"Ref": "AWS::IoT::Certificate::CommonName"},
        "AttributePayload": {"fleet": {"Ref": "Fleet"}, "hw": "rev-b"},
        "ThingGroups": ["all-devices", {"Fn::Join": ["-", ["country", {"Ref": "AWS::IoT::Certificate::Country"}]]}]
      },
      "OverrideSettings": {"AttributePayload": "MERGE", "ThingGroups": "DO_NOTHING"}
    },
    "certificate": {
      "Type": "AWS::IoT::Certificate",
      "Properties": {"CertificateId": {"Ref": "AWS::IoT::Certificate::Id"}, "Status": "ACTIVE"},
      "OverrideSettings": {"Status": "DO_NOTHING"}
    },
    "policy": {
      "Type": "AWS::IoT::Policy",
      "Properties": {"PolicyDocument": "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Action\":\"iot:Connect\",\"Resource\":\"*\"}]}"}
    }
  }
}`

func TestEvaluateJITP(t *testing.T) {
	tpl, err := Parse(jitp)
	if err != nil {
		t.Fatal(err)
	}
	p, err := tpl.Evaluate(map[string]string{ParamCommonName: "sensor-7", ParamCountry: "DE", ParamID: "abc"})
	if err != nil {
		t.Fatal(err)
	}
	want := &Thing{Logical: "thing", ThingName: "sensor-7", Attributes: map[string]string{"fleet": "sensors", "hw": "rev-b"},
		ThingGroups: []string{"all-devices", "country-DE"}, Override: map[string]string{"AttributePayload": Merge, "ThingGroups": DoNothing}}
	if !reflect.DeepEqual(p.Thing, want) {
		t.Errorf("thing = %+v\nwant %+v", p.Thing, want)
	}
	if c := p.Certificate; c.CertificateID != "abc" || c.Status != "ACTIVE" || c.Override["Status"] != DoNothing {
		t.Errorf("certificate = %+v", c)
	}
	if len(p.Policies) != 1 || len(p.Policies[0].Name) != 64 || !strings.Contains(p.Policies[0].Document, "iot:Connect") {
		t.Errorf("policies = %+v", p.Policies)
	}
	// Without the country the certificate does not provision; the error
	// names the parameter.
	_, err = tpl.Evaluate(map[string]string{ParamCommonName: "sensor-7", ParamID: "abc"})
	var te *Error
	if !errors.As(err, &te) || te.Path != "Parameters."+ParamCountry {
		t.Errorf("missing country: %v", err)
	}
}

func TestFunctions(t *testing.T) {
	body := `{
	  "Parameters": {"Serial": {"Type": "String"}, "Region": {"Type": "String", "Default": "eu"}},
	  "Mappings": {"Sites": {"eu": {"Group": "site-frankfurt"}}},
	  "Resources": {"thing": {"Type": "AWS::IoT::Thing", "Properties": {
	    "ThingName": {"Fn::Sub": "dev-${Serial}"},
	    "ThingTypeName": {"Fn::Select": [1, {"Fn::Split": ["/", "acme/sensor/v2"]}]},
	    "AttributePayload": {
	      "sub2": {"Fn::Sub": ["${Serial}@${Where} costs ${!Dollar}", {"Where": {"Ref": "Region"}}]},
	      "joined": {"Fn::Join": ["", ["a", "b", "c"]]}
	    },
	    "ThingGroups": [{"Fn::FindInMap": ["Sites", {"Ref": "Region"}, "Group"]}]
	  }}},
	  "DeviceConfiguration": {"Endpoint": {"Fn::Sub": "https://${Region}.example"}}
	}`
	tpl, err := Parse(body)
	if err != nil {
		t.Fatal(err)
	}
	p, err := tpl.Evaluate(map[string]string{"Serial": "0042"})
	if err != nil {
		t.Fatal(err)
	}
	th := p.Thing
	if th.ThingName != "dev-0042" || th.ThingTypeName != "sensor" || th.Attributes["sub2"] != "0042@eu costs ${Dollar}" ||
		th.Attributes["joined"] != "abc" || !reflect.DeepEqual(th.ThingGroups, []string{"site-frankfurt"}) {
		t.Errorf("thing = %+v", th)
	}
	if p.DeviceConfiguration["Endpoint"] != "https://eu.example" {
		t.Errorf("device configuration = %v", p.DeviceConfiguration)
	}
}

// TestTemplateErrors: each broken template or evaluation is refused with
// the path of what is wrong.
func TestTemplateErrors(t *testing.T) {
	thing := func(props string) string {
		return `{"Parameters": {"P": {"Type": "String"}}, "Resources": {"thing": {"Type": "AWS::IoT::Thing", "Properties": ` + props + `}}}`
	}
	for _, tc := range []struct{ name, body, path string }{
		{"not JSON", `{`, ""},
		{"unknown section", `{"Resources": {}, "Outputs": {}}`, "Outputs"},
		{"no resources", `{"Parameters": {}}`, "Resources"},
		{"parameter type", `{"Parameters": {"P": {"Type": "Number"}}, "Resources": {}}`, "Parameters.P.Type"},
		{"resource type", `{"Resources": {"x": {"Type": "AWS::S3::Bucket", "Properties": {}}}}`, "Resources.x.Type"},
		{"merge on a thing type", `{"Resources": {"thing": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": "a"}, "OverrideSettings": {"ThingTypeName": "MERGE"}}}}`, "Resources.thing.OverrideSettings.ThingTypeName"},
		{"policy override", `{"Resources": {"p": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyName": "a"}, "OverrideSettings": {}}}}`, "Resources.p.OverrideSettings"},
		{"two things", `{"Resources": {"a": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": "a"}}, "b": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": "b"}}}}`, "Resources.b"},
		{"undeclared ref", thing(`{"ThingName": {"Ref": "Q"}}`), "Resources.thing.Properties.ThingName.Ref"},
		{"unknown function", thing(`{"ThingName": {"Fn::GetAtt": ["a", "b"]}}`), "Resources.thing.Properties.ThingName.Fn::GetAtt"},
		{"select out of range", thing(`{"ThingName": {"Fn::Select": [3, ["a"]]}}`), "Resources.thing.Properties.ThingName.Fn::Select"},
		{"sub unknown var", thing(`{"ThingName": {"Fn::Sub": "x-${Nope}"}}`), "Resources.thing.Properties.ThingName.Fn::Sub"},
		{"missing map key", thing(`{"ThingName": {"Fn::FindInMap": ["M", "a", "b"]}}`), "Resources.thing.Properties.ThingName.Fn::FindInMap"},
		{"thing name required", thing(`{"ThingTypeName": "t"}`), "Resources.thing.Properties.ThingName"},
		{"groups not a list", thing(`{"ThingName": "a", "ThingGroups": "g"}`), "Resources.thing.Properties.ThingGroups"},
		{"unknown property", thing(`{"ThingName": "a", "Colour": "red"}`), "Resources.thing.Properties.Colour"},
		{"two certificate sources", `{"Resources": {"c": {"Type": "AWS::IoT::Certificate", "Properties": {"CertificateId": "a", "CertificatePem": "b"}}}}`, "Resources.c.Properties"},
		{"certificate status", `{"Resources": {"c": {"Type": "AWS::IoT::Certificate", "Properties": {"CertificateId": "a", "Status": "REVOKED"}}}}`, "Resources.c.Properties.Status"},
		{"policy name and document", `{"Resources": {"p": {"Type": "AWS::IoT::Policy", "Properties": {"PolicyName": "a", "PolicyDocument": "{}"}}}}`, "Resources.p.Properties"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tpl, err := Parse(tc.body)
			if err == nil {
				_, err = tpl.Evaluate(map[string]string{"P": "x"})
			}
			var te *Error
			if !errors.As(err, &te) || te.Path != tc.path {
				t.Fatalf("got %v, want an error at %q", err, tc.path)
			}
		})
	}
}

func TestCertificateParameters(t *testing.T) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	subject := pkix.Name{
		Country: []string{"DE"}, Organization: []string{"Acme"}, OrganizationalUnit: []string{"Sensors"},
		Province: []string{"Bavaria"}, CommonName: "sensor-7", SerialNumber: "SN-0042",
		ExtraNames: []pkix.AttributeTypeAndValue{{Type: asn1.ObjectIdentifier{2, 5, 4, 46}, Value: "q1"}},
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(99), Subject: subject, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	got := CertificateParameters(cert, "cid")
	want := map[string]string{ParamID: "cid", ParamCountry: "DE", ParamOrganization: "Acme", ParamOrganizationalUnit: "Sensors",
		ParamStateName: "Bavaria", ParamCommonName: "sensor-7", ParamSerialNumber: "SN-0042", ParamDistinguishedNameQualifier: "q1"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("parameters = %v\nwant %v", got, want)
	}
}

func FuzzTemplate(f *testing.F) {
	f.Add(jitp)
	f.Add(`{"Resources": {"t": {"Type": "AWS::IoT::Thing", "Properties": {"ThingName": {"Fn::Select": ["1", {"Fn::Split": [",", "a,b"]}]}}}}}`)
	f.Fuzz(func(t *testing.T, body string) {
		tpl, err := Parse(body)
		if err != nil {
			return
		}
		tpl.Evaluate(map[string]string{ParamCommonName: "a", ParamCountry: "b", ParamID: "c"})
	})
}
