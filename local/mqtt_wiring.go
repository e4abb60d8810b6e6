package local

import (
	"errors"
	"sync"

	"github.com/otactl/otactl/local/iot"
	"github.com/otactl/otactl/local/mqtt"
)

// The device side of otactl local: the MQTT broker serving the IoT Jobs
// topics and MQTT file streams, plus the IoT certificate APIs its TLS
// listener authenticates devices with. Every decision of the broker is an
// IoT policy evaluation over the control plane's policies (MQTTIoT adapts
// them); retained messages are kept in the store (MQTTRetained).

// Default MQTT listen addresses (as AWS IoT: 8883 is MQTT over mutual TLS).
// The plain listener is off unless asked for: it is a development port.
const (
	DefaultMQTTAddr  = mqtt.DefaultAddr    // plain TCP, the development port
	DefaultMQTTSAddr = mqtt.DefaultTLSAddr // mutual TLS
)

// mqttState is the Server's broker (the Server field mqtt).
type mqttState struct {
	mu     sync.Mutex
	broker *mqtt.Broker
}

// StartMQTT starts the broker of this environment: cfg.Addr (plain TCP) and
// cfg.TLSAddr (mutual TLS), either may be empty to leave it off, port 0 for
// a free one. It loads or creates the environment's CA (its certificate is
// written to <data dir>/ca.pem for devices to trust), enables the IoT
// certificate and principal APIs (CreateKeysAndCertificate signs with that
// CA), and points DescribeEndpoint at the broker: "host:port" of the TLS
// listener, or of the plain one when there is no TLS listener, with the
// public host name when one is configured (Config.PublicEndpoint, or
// localhost with HTTPS on; the broker's certificate covers it). Policies are
// evaluated for the environment's region and account (cfg.Region and
// cfg.AccountID are set from them). The broker is closed by Close, before
// the store. Call it once, after New.
func (s *Server) StartMQTT(cfg mqtt.Config) (*mqtt.Broker, error) {
	svc, ok := s.Service("iot").(*iot.Service)
	if !ok {
		return nil, errors.New("local: no IoT service to serve MQTT for")
	}
	s.mqtt.mu.Lock()
	defer s.mqtt.mu.Unlock()
	if s.mqtt.broker != nil {
		return nil, errors.New("local: MQTT already started")
	}
	ca, err := mqtt.LoadCA(s.st)
	if err != nil {
		return nil, err
	}
	svc.SetCertificateIssuer(ca)
	adapter := NewMQTTIoT(svc)
	objects := MQTTObjects{S3: s.s3}
	cfg.Region, cfg.AccountID = s.env.Region, s.env.AccountID
	if cfg.WebSocketSecret == nil {
		cfg.WebSocketSecret = s.secret // the HTTP API's key pairs sign WebSocket upgrades too
	}
	if h := s.publicHost(); h != "" { // the name DescribeEndpoint gives devices (https.go)
		cfg.Hostnames = append(cfg.Hostnames, h)
	}
	b, err := mqtt.New(cfg, mqtt.Deps{
		Jobs: adapter, Streams: adapter, Identities: adapter, Principals: adapter,
		Objects: objects, Presigner: objects, Retained: MQTTRetained{St: s.st}, CA: ca,
		Shadows: mqttShadows{s}, AutoRegister: mqttAutoRegistrar{svc, s.cfg.Diagnostics},
		Provisioning: mqttProvisioning{svc, s.cfg.Diagnostics},
	})
	if err != nil {
		return nil, err
	}
	adapter.Watch(b)
	if err := b.Start(); err != nil {
		b.Close()
		return nil, err
	}
	endpoint := b.TLSAddr()
	if endpoint == "" {
		endpoint = b.Addr()
	}
	svc.SetEndpoint("", s.mqttEndpoint(endpoint))
	s.mqtt.broker = b
	s.OnClose(brokerCloser{s, b})
	return b, nil
}

// Broker is the environment's MQTT broker (nil before StartMQTT).
func (s *Server) Broker() *mqtt.Broker {
	s.mqtt.mu.Lock()
	defer s.mqtt.mu.Unlock()
	return s.mqtt.broker
}

type brokerCloser struct {
	s *Server
	b *mqtt.Broker
}

func (c brokerCloser) Close() error {
	c.s.mqtt.mu.Lock()
	c.s.mqtt.broker = nil
	c.s.mqtt.mu.Unlock()
	return c.b.Close()
}
