package device

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/otactl/otactl/internal/mqttwire"
)

// ErrConnLost is returned by waits when the MQTT connection went away.
var ErrConnLost = errors.New("mqtt connection lost")

// message is a received PUBLISH.
type message struct {
	topic   string
	payload []byte
}

// jobReply is an accepted or rejected answer to a Jobs request.
type jobReply struct {
	accepted bool
	body     []byte
}

// inbox routes what the broker sends: Jobs answers to the request that
// waits for them (by clientToken), notify-next to a flag the idle agent
// waits on (it then asks $next/get: a notification that overtook a newer
// answer cannot start a stale execution), stream messages to
// an unbounded queue. Handlers never block, so the reader keeps reading
// (and acknowledging) whatever the agent is doing.
type inbox struct {
	mu      sync.Mutex
	waiters map[string]chan jobReply
	notify  chan struct{}
	data    []message
	dataCh  chan struct{}
}

func newInbox() *inbox {
	return &inbox{waiters: map[string]chan jobReply{}, notify: make(chan struct{}, 1), dataCh: make(chan struct{}, 1)}
}

func (in *inbox) handle(topic string, payload []byte) {
	switch {
	case strings.HasSuffix(topic, "/jobs/notify-next"):
		select {
		case in.notify <- struct{}{}:
		default:
		}
	case strings.Contains(topic, "/jobs/") && (strings.HasSuffix(topic, "/accepted") || strings.HasSuffix(topic, "/rejected")):
		var tok struct {
			ClientToken string `json:"clientToken"`
		}
		_ = json.Unmarshal(payload, &tok)
		in.mu.Lock()
		w := in.waiters[tok.ClientToken]
		delete(in.waiters, tok.ClientToken)
		in.mu.Unlock()
		if w != nil {
			w <- jobReply{accepted: strings.HasSuffix(topic, "/accepted"), body: payload}
		}
	case strings.Contains(topic, "/streams/"):
		in.mu.Lock()
		in.data = append(in.data, message{topic, payload})
		in.mu.Unlock()
		select {
		case in.dataCh <- struct{}{}:
		default:
		}
	}
}

// notified clears the notify-next flag.
func (in *inbox) notified() {
	select {
	case <-in.notify:
	default:
	}
}

func (in *inbox) wait(token string) chan jobReply {
	ch := make(chan jobReply, 1)
	in.mu.Lock()
	in.waiters[token] = ch
	in.mu.Unlock()
	return ch
}

func (in *inbox) forget(token string) {
	in.mu.Lock()
	delete(in.waiters, token)
	in.mu.Unlock()
}

// takeData returns and clears the queued stream messages.
func (in *inbox) takeData() []message {
	in.mu.Lock()
	defer in.mu.Unlock()
	d := in.data
	in.data = nil
	return d
}

// conn is one MQTT connection of an agent.
type conn struct {
	c    *mqttwire.Client
	dead <-chan struct{} // closed when the connection is lost
}

func (c *conn) lost() { c.c.Drop(ErrConnLost) }

// dial connects to the endpoint as the thing (client id = thing name), over
// MQTT 3.1.1 as the FreeRTOS agent's coreMQTT does.
func dial(ctx context.Context, cfg *Config, in *inbox) (*conn, error) {
	d := net.Dialer{Timeout: 10 * time.Second}
	raw, err := d.DialContext(ctx, "tcp", cfg.Endpoint)
	if err != nil {
		return nil, err
	}
	if cfg.TLS != nil {
		tc := cfg.TLS.Clone()
		if tc.ServerName == "" {
			host, _, _ := net.SplitHostPort(cfg.Endpoint)
			tc.ServerName = host
		}
		tlsConn := tls.Client(raw, tc)
		if err := tlsConn.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, fmt.Errorf("TLS handshake: %w", err)
		}
		raw = tlsConn
	}
	c, err := mqttwire.Connect(raw, cfg.ThingName, 60*time.Second, cfg.ReplyTimeout, in.handle)
	if err != nil {
		raw.Close()
		return nil, err
	}
	return &conn{c: c, dead: c.Done()}, nil
}

func (c *conn) subscribe(ctx context.Context, timeout time.Duration, topics ...string) error {
	codes, err := c.c.Subscribe(timeout, 1, topics...)
	if err != nil {
		return fmt.Errorf("subscribe %v: %w", topics, err)
	}
	for i, r := range codes {
		if r >= 0x80 && i < len(topics) {
			return fmt.Errorf("subscribe %s: refused (return code 0x%02x)", topics[i], r)
		}
	}
	return nil
}

func (c *conn) publish(ctx context.Context, timeout time.Duration, topic string, qos byte, payload []byte) error {
	if err := c.c.Publish(timeout, topic, qos, payload); err != nil {
		c.lost()
		return fmt.Errorf("publish %s: %w", topic, err)
	}
	return nil
}

// close leaves politely (DISCONNECT) or, when abrupt, drops the network
// connection as a device that loses power or coverage would.
func (c *conn) close(abrupt bool) {
	if abrupt {
		c.c.Drop(errors.New("went offline"))
		return
	}
	c.c.Disconnect()
}
