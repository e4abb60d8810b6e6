package device

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/eclipse/paho.golang/packets"
	"github.com/eclipse/paho.golang/paho"
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
// waits for them (by clientToken), notify-next to a flag, stream messages to
// an unbounded queue. Handlers never block, so paho's reader keeps reading
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

func (in *inbox) handle(p paho.PublishReceived) (bool, error) {
	topic, payload := p.Packet.Topic, p.Packet.Payload
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
	return true, nil
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
	c    *paho.Client
	raw  net.Conn
	dead chan struct{}
	once sync.Once
}

func (c *conn) lost() {
	c.once.Do(func() { close(c.dead) })
}

// bufConn buffers reads: paho reads a packet's header a byte at a time,
// which unbuffered costs a system call per byte.
type bufConn struct {
	net.Conn
	r *bufio.Reader
}

func (b *bufConn) Read(p []byte) (int, error) { return b.r.Read(p) }

// dial connects to the endpoint as the thing (client id = thing name).
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
	cn := &conn{raw: raw, dead: make(chan struct{})}
	cn.c = paho.NewClient(paho.ClientConfig{
		Conn:               packets.NewThreadSafeConn(&bufConn{Conn: raw, r: bufio.NewReaderSize(raw, 32*1024)}),
		OnPublishReceived:  []func(paho.PublishReceived) (bool, error){in.handle},
		OnClientError:      func(error) { cn.lost() },
		OnServerDisconnect: func(*paho.Disconnect) { cn.lost() },
	})
	cctx, cancel := context.WithTimeout(ctx, cfg.ReplyTimeout)
	defer cancel()
	ack, err := cn.c.Connect(cctx, &paho.Connect{ClientID: cfg.ThingName, KeepAlive: 60, CleanStart: true})
	if err != nil {
		raw.Close()
		if ack != nil {
			return nil, fmt.Errorf("CONNECT refused: reason %d %s", ack.ReasonCode, ack.Properties.ReasonString)
		}
		return nil, fmt.Errorf("CONNECT: %w", err)
	}
	return cn, nil
}

func (c *conn) subscribe(ctx context.Context, timeout time.Duration, topics ...string) error {
	subs := make([]paho.SubscribeOptions, len(topics))
	for i, t := range topics {
		subs[i] = paho.SubscribeOptions{Topic: t, QoS: 1}
	}
	sctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	sa, err := c.c.Subscribe(sctx, &paho.Subscribe{Subscriptions: subs})
	if err != nil {
		return fmt.Errorf("subscribe %v: %w", topics, err)
	}
	for i, r := range sa.Reasons {
		if r >= 0x80 {
			return fmt.Errorf("subscribe %s: refused (reason 0x%02x)", topics[i], r)
		}
	}
	return nil
}

func (c *conn) publish(ctx context.Context, timeout time.Duration, topic string, qos byte, payload []byte) error {
	pctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	_, err := c.c.Publish(pctx, &paho.Publish{Topic: topic, QoS: qos, Payload: payload})
	if err != nil {
		c.lost()
		return fmt.Errorf("publish %s: %w", topic, err)
	}
	return nil
}

// close leaves politely (DISCONNECT) or, when abrupt, drops the network
// connection as a device that loses power or coverage would.
func (c *conn) close(abrupt bool) {
	if !abrupt {
		_ = c.c.Disconnect(&paho.Disconnect{ReasonCode: 0})
	}
	c.raw.Close()
	c.lost()
	select {
	case <-c.c.Done():
	case <-time.After(2 * time.Second):
	}
}
