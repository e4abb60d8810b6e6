package device

import (
	"encoding/json"
	"fmt"
	"strings"
)

// DefaultPolicyName is the IoT policy `otactl fleet --create-things` and
// `otactl demo` create and attach to the certificates they make.
const DefaultPolicyName = "otactl-ota-device"

// ThingPolicy is the least-privilege IoT policy of an OTA device, written
// as AWS's getting-started guides write theirs: a certificate may connect
// only with the name of a thing it is attached to as client id, and use only
// that thing's Jobs and MQTT file-stream topics. ${iot:Connection.Thing.
// ThingName} resolves only when the client id names a thing attached to the
// connection's certificate, so one policy serves the whole fleet and no
// certificate can act as another thing. arnPrefix is
// "arn:aws:iot:<region>:<account>".
func ThingPolicy(arnPrefix string) string {
	const thing = "${iot:Connection.Thing.ThingName}"
	topics := func(kind string) []string {
		return []string{
			arnPrefix + ":" + kind + "/$aws/things/" + thing + "/jobs/*",
			arnPrefix + ":" + kind + "/$aws/things/" + thing + "/streams/*",
		}
	}
	type statement struct {
		Effect   string
		Action   string
		Resource any
	}
	doc := struct {
		Version   string
		Statement []statement
	}{"2012-10-17", []statement{
		{"Allow", "iot:Connect", arnPrefix + ":client/" + thing},
		{"Allow", "iot:Publish", topics("topic")},
		{"Allow", "iot:Receive", topics("topic")},
		{"Allow", "iot:Subscribe", topics("topicfilter")},
	}}
	raw, _ := json.MarshalIndent(doc, "", "  ")
	return string(raw)
}

// arnPrefix is "arn:aws:iot:<region>:<account>" of an IoT resource ARN.
func arnPrefix(arn string) (string, error) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iot" {
		return "", fmt.Errorf("not an IoT ARN: %q", arn)
	}
	return strings.Join(parts[:5], ":"), nil
}
