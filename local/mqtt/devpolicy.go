package mqtt

import (
	"strings"
	"sync"

	"github.com/otactl/otactl/local/policy"
)

// DevPolicyName names the built-in development policy in logs and
// decisions.
const DevPolicyName = "otactl-plain-development"

// devPolicyText is the plain listener's policy when Config.PlainPolicy
// names none: each client is confined to the topics of the thing named
// like its client id, as a thing-scoped device policy does over TLS. It
// grants no iot:RetainPublish. Nothing proves who a plain client is: any
// client can claim any id, so this is for development only.
const devPolicyText = `{
  "Version": "2012-10-17",
  "Statement": [
    {"Effect": "Allow", "Action": "iot:Connect",
     "Resource": "arn:aws:iot:REGION:ACCOUNT:client/${iot:ClientId}"},
    {"Effect": "Allow", "Action": ["iot:Publish", "iot:Receive"],
     "Resource": "arn:aws:iot:REGION:ACCOUNT:topic/$aws/things/${iot:ClientId}/*"},
    {"Effect": "Allow", "Action": "iot:Subscribe",
     "Resource": "arn:aws:iot:REGION:ACCOUNT:topicfilter/$aws/things/${iot:ClientId}/*"}
  ]
}`

// devPolicyUnsafe are the characters a client id may not hold under the
// development policy: a topic level separator, MQTT wildcards and policy
// wildcards would reach beyond the client's own thing.
const devPolicyUnsafe = "/+#*?"

// DevPolicy is the development policy document for region and account.
func DevPolicy(region, account string) string {
	return strings.NewReplacer("REGION", region, "ACCOUNT", account).Replace(devPolicyText)
}

type devPolicyCache struct {
	once sync.Once
	p    policy.Policy
}

// devPolicy is the parsed development policy of the broker's environment.
func (b *Broker) devPolicy() policy.Policy {
	b.dev.once.Do(func() {
		doc, err := policy.Parse(DevPolicy(b.cfg.Region, b.cfg.AccountID))
		if err != nil {
			panic("mqtt: the development policy does not parse: " + err.Error())
		}
		b.dev.p = policy.Policy{Name: DevPolicyName, Document: doc}
	})
	return b.dev.p
}
