package policy

import (
	"errors"
	"strings"
	"testing"
)

func TestParseRefusesMalformed(t *testing.T) {
	stmt := func(body string) string {
		return `{"Version":"2012-10-17","Statement":[` + body + `]}`
	}
	ok := `{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}`
	big := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":["` +
		strings.Repeat("a", 2000) + `"]}]}`
	cases := []struct {
		name, doc, want string
	}{
		{"empty", "  \n\t", "policy document is empty"},
		{"not json", "{Version", "policy document is not a JSON object: invalid character 'V'"},
		{"array", `[1]`, "policy document is not a JSON object: got a list"},
		{"string", `"x"`, "policy document is not a JSON object: got a string"},
		{"trailing", `{"Statement":` + ok + `} {}`, "has text after the JSON object"},
		{"too long", big, "has 2096 characters excluding whitespace; the limit is 2048"},
		{"no statement", `{"Version":"2012-10-17"}`, "policy document has no Statement"},
		{"bad version", `{"Version":"2012-10-18","Statement":` + ok + `}`, `Version must be "2012-10-17" or "2008-10-17", got "2012-10-18"`},
		{"version number", `{"Version":2012,"Statement":` + ok + `}`, "Version must be a string, got a number"},
		{"unknown top member", `{"Version":"2012-10-17","Statment":[]}`, `policy document has unknown member "Statment"`},
		{"duplicate member", `{"Version":"2012-10-17","Statement":` + ok + `,"Statement":` + ok + `}`, "Statement appears twice"},
		{"statement string", `{"Statement":"x"}`, "Statement must be an object or a list of objects, got a string"},
		{"statement empty list", stmt(``), "Statement must contain at least one statement"},
		{"statement not object", stmt(ok + `,3`), "Statement[1] must be a JSON object"},
		{"effect case", stmt(ok + `,{"Effect":"allow","Action":"iot:Connect","Resource":"*"}`), `Statement[1].Effect must be "Allow" or "Deny", got "allow"`},
		{"no effect", stmt(`{"Action":"iot:Connect","Resource":"*"}`), "Statement[0] has no Effect"},
		{"unknown statement member", stmt(`{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Principal":"*"}`), `Statement[0] has unknown member "Principal"`},
		{"no action", stmt(`{"Effect":"Allow","Resource":"*"}`), "Statement[0] has no Action (or NotAction)"},
		{"action and notaction", stmt(`{"Effect":"Allow","Action":"iot:Connect","NotAction":"iot:Publish","Resource":"*"}`), "Statement[0] has both Action and NotAction; use one"},
		{"unknown action", stmt(`{"Effect":"Allow","Action":["iot:Connect","iot:Frobnicate"],"Resource":"*"}`), `Statement[0].Action[1] "iot:Frobnicate" is not an action of iot`},
		{"foreign service", stmt(`{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}`), `Statement[0].Action[0] names service "s3", which an IoT policy cannot grant`},
		{"action no colon", stmt(`{"Effect":"Allow","Action":"Connect","Resource":"*"}`), `Statement[0].Action[0] must be "*" or service:action, got "Connect"`},
		{"action number", stmt(`{"Effect":"Allow","Action":7,"Resource":"*"}`), "Statement[0].Action must be a string or a list of strings, got a number"},
		{"action empty list", stmt(`{"Effect":"Allow","Action":[],"Resource":"*"}`), "Statement[0].Action must not be an empty list"},
		{"action empty string", stmt(`{"Effect":"Allow","Action":[""],"Resource":"*"}`), "Statement[0].Action[0] must not be empty"},
		{"no resource", stmt(`{"Effect":"Allow","Action":"iot:Connect"}`), "Statement[0] has no Resource (or NotResource)"},
		{"resource not arn", stmt(`{"Effect":"Allow","Action":"iot:Connect","Resource":"client/x"}`), `Statement[0].Resource[0] must be "*" or an ARN`},
		{"resource short arn", stmt(`{"Effect":"Allow","Action":"iot:Connect","Resource":"arn:aws:iot:us-east-1"}`), `Statement[0].Resource[0] must be "*" or an ARN`},
		{"sid number", stmt(`{"Sid":1,"Effect":"Allow","Action":"iot:Connect","Resource":"*"}`), "Statement[0].Sid must be a string, got a number"},
		{"unknown operator", stmt(`{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"StringEqual":{"iot:ClientId":"a"}}}`), "Statement[0].Condition.StringEqual is not a condition operator"},
		{"null with set", stmt(`{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"ForAnyValue:Null":{"iot:ClientId":"true"}}}`), "Statement[0].Condition.ForAnyValue:Null is not a condition operator"},
		{"condition not object", stmt(`{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":["x"]}`), "Statement[0].Condition must be a JSON object"},
		{"condition empty operator", stmt(`{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"StringEquals":{}}}`), "Statement[0].Condition.StringEquals has no condition key"},
		{"condition value object", stmt(`{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"StringEquals":{"iot:ClientId":{"a":1}}}}`), "Statement[0].Condition.StringEquals.iot:ClientId must be a string, boolean or number, got an object"},
		{"condition value null", stmt(`{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"StringEquals":{"iot:ClientId":[null]}}}`), "Statement[0].Condition.StringEquals.iot:ClientId[0] must be a string, boolean or number, got null"},
		{"numeric not number", stmt(`{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"NumericLessThan":{"aws:EpochTime":"soon"}}}`), `Statement[0].Condition.NumericLessThan.aws:EpochTime[0] must be a number for NumericLessThan, got "soon"`},
		{"bad date", stmt(`{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"DateLessThan":{"aws:CurrentTime":"tomorrow"}}}`), "must be a date (ISO 8601 or epoch seconds) for DateLessThan"},
		{"bad bool", stmt(`{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"yes"}}}`), `must be "true" or "false" for Bool, got "yes"`},
		{"bad ip", stmt(`{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/33"}}}`), `must be an IP address or CIDR block for IpAddress, got "10.0.0.0/33"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := Parse(c.doc)
			if err == nil {
				t.Fatalf("Parse accepted it: %+v", d)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("error %v does not wrap ErrMalformed", err)
			}
			var pe *Error
			if !errors.As(err, &pe) {
				t.Errorf("error %T is not *Error", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q\nwant it to contain %q", err, c.want)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	// Whitespace does not count against the 2048-character limit.
	body := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Publish","Resource":["arn:aws:iot:us-east-1:123456789012:topic/` +
		strings.Repeat("a", 1911) + `"]}]}`
	padded := strings.Join(strings.Split(body, ","), ",\n          ")
	cases := map[string]string{
		"2048 chars plus whitespace": padded,
		"statement object":           `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"iot:*","Resource":"*"}}`,
		"no version":                 `{"Statement":{"Effect":"Deny","NotAction":"iot:Connect","NotResource":"*"}}`,
		"2008 version and Id":        `{"Version":"2008-10-17","Id":"x","Statement":[{"Sid":"a","Effect":"Allow","Action":"iot:Get*","Resource":"*"}]}`,
		"action wildcard and case":   `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["IOT:connect","iot:*Shadow","iotjobsdata:*","greengrass:Discover","iot:CreateThing","*"],"Resource":"*"}]}`,
		"conditions typed":           `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"Bool":{"aws:SecureTransport":true},"NumericLessThan":{"aws:EpochTime":2000000000},"IpAddress":{"aws:SourceIp":["10.0.0.0/8","::1"]},"StringLikeIfExists":{"iot:ClientId":"dev-*"},"Null":{"iot:Connection.Thing.ThingName":"false"},"ForAnyValue:StringNotEqualsIgnoreCase":{"iot:ConnectAttributes":["x"]}}}]}`,
		"variable in numeric":        `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"*","Condition":{"NumericEquals":{"aws:EpochTime":"${iot:Connection.Thing.Attributes[n]}"}}}]}`,
	}
	for name, doc := range cases {
		if _, err := Parse(doc); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if n := len(strings.Join(strings.Fields(padded), "")); n != 2048 {
		t.Fatalf("test document has %d characters excluding whitespace, want 2048", n)
	}
	if _, err := Parse(strings.Replace(padded, "aaaa", "aaaaa", 1)); err == nil {
		t.Error("2049 characters accepted")
	}
}

func TestParseKeepsDocument(t *testing.T) {
	d := mustParse(t, `{"Version":"2012-10-17","Statement":[{"Sid":"s","Effect":"Allow","Action":"iot:Connect","Resource":["*"],
		"Condition":{"StringEquals":{"iot:ClientId":["a","b"]},"Bool":{"aws:SecureTransport":true}}}]}`)
	st := d.Statements[0]
	if d.Version != "2012-10-17" || st.Sid != "s" || st.Effect != "Allow" || st.Action[0] != "iot:Connect" || st.Resource[0] != "*" {
		t.Fatalf("%+v", d)
	}
	if got := st.Condition["StringEquals"]["iot:ClientId"]; len(got) != 2 || got[1] != "b" {
		t.Errorf("StringEquals: %v", got)
	}
	if got := st.Condition["Bool"]["aws:SecureTransport"]; len(got) != 1 || got[0] != "true" {
		t.Errorf("Bool: %v", got)
	}
}
