package local

import (
	"errors"
	"time"

	"github.com/otactl/otactl/local/jobs"
	"github.com/otactl/otactl/local/mqtt"
	"github.com/otactl/otactl/local/shadow"
)

// The Device Shadow service (local/shadow): the iot-data wire under the
// SigV4 signing name "iotdata" (what the AWS SDKs and CLI sign the IoT data
// plane with), the $package shadows the job engine writes, and the MQTT
// messages of shadow changes.

// newShadows builds the shadow service. Its MQTT messages go through the
// broker once StartMQTT has run (shadowPublisher).
func (s *Server) newShadows() *shadow.Service {
	return shadow.New(s.st, s.env, shadow.Deps{Publisher: shadowPublisher{s}, Retained: shadowRetained{MQTTRetained{s.st}},
		Connections: shadowConnections{s}})
}

// shadowRetained shows the broker's stored retained messages to iot-data's
// GetRetainedMessage and ListRetainedMessages.
type shadowRetained struct{ r MQTTRetained }

func (a shadowRetained) RetainedMessages() ([]shadow.RetainedMessage, error) {
	ms, err := a.r.RetainedMessages()
	out := make([]shadow.RetainedMessage, len(ms))
	for i, m := range ms {
		out[i] = shadow.RetainedMessage{Topic: m.Topic, Payload: m.Payload, QoS: m.QoS, Modified: time.Unix(m.Created, 0)}
	}
	return out, err
}

// shadows is the registered shadow service.
func (s *Server) shadows() *shadow.Service {
	sh, _ := s.Service("iotdata").(*shadow.Service)
	return sh
}

// shadowPublisher is shadow.Publisher over the environment's broker
// (deliveries through its hooks, so iot:Receive applies); ErrNoPublisher
// before StartMQTT.
type shadowPublisher struct{ s *Server }

func (p shadowPublisher) Publish(topic string, payload []byte, qos byte, retain bool) error {
	b := p.s.Broker()
	if b == nil {
		return shadow.ErrNoPublisher
	}
	return b.Publish(topic, payload, qos, retain)
}

// mqttShadows is mqtt.Shadows: the broker's shadow hook asks the shadow
// service about each message on a $aws/things/.../shadow/ topic.
type mqttShadows struct{ s *Server }

func (m mqttShadows) ServeShadow(topic string, payload []byte) ([]mqtt.ShadowMessage, bool) {
	thing, name, op, ok := shadow.ParseTopic(topic)
	sh := m.s.shadows()
	if !ok || sh == nil {
		return nil, false
	}
	msgs := sh.Handle(thing, name, op, payload)
	out := make([]mqtt.ShadowMessage, len(msgs))
	for i, x := range msgs {
		out[i] = mqtt.ShadowMessage{Topic: x.Topic, Payload: x.Payload, Answer: x.Answer}
	}
	return out, true
}

// jobPackages is jobs.PackageShadows over the $package shadow: each package
// is {"version": "<v>"} in the reported section.
type jobPackages struct{ sh *shadow.Service }

func (j jobPackages) ReportPackages(thing string, versions map[string]string) error {
	reported := map[string]any{}
	for p, v := range versions {
		reported[p] = map[string]any{"version": v}
	}
	return j.sh.UpdateReported(thing, shadow.PackageShadowName, reported)
}

func (j jobPackages) ReportedPackages(thing string) (map[string]string, error) {
	rep, err := j.sh.ReportedState(thing, shadow.PackageShadowName)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for p, v := range rep {
		if m, ok := v.(map[string]any); ok {
			if s, ok := m["version"].(string); ok {
				out[p] = s
			}
		}
	}
	return out, nil
}

// packageShadows is the job engine's option writing into the shadow
// service (an error when the service is missing: registerServices order).
func (s *Server) packageShadows() (jobs.Option, error) {
	sh := s.shadows()
	if sh == nil {
		return nil, errors.New("local: the shadow service must be registered before the job engine")
	}
	return jobs.WithPackageShadows(jobPackages{sh}), nil
}

// shadowConnections is shadow.Connections over the environment's broker.
type shadowConnections struct{ s *Server }

func (c shadowConnections) DeleteConnection(clientID string, clean, preventWill bool) error {
	b := c.s.Broker()
	if b == nil {
		return shadow.ErrNotConnected // no broker: nobody is connected
	}
	err := b.DeleteConnection(clientID, clean, preventWill)
	if errors.Is(err, mqtt.ErrNotConnected) {
		return shadow.ErrNotConnected
	}
	return err
}
