// Package mqtt is the device side of otactl local: an embedded MQTT broker
// (mochi-mqtt) that serves the AWS IoT Jobs MQTT API and MQTT-based file
// delivery (streams) under $aws/things/{thingName}/, with AWS IoT's security
// model: over TLS the client certificate must be registered and ACTIVE, and
// every decision (connect, publish, retain, Will, subscribe, receive) is
// an IoT policy evaluation (local/policy) over the policies of the
// connection's certificate and its thing's groups. The plain listener is
// for development: a named policy or the built-in development policy
// (devpolicy.go) applies to its clients, who prove nothing about who they
// are. AWS's message broker limits (limits.go) apply on both.
//
// The package depends on the control plane only through the small interfaces
// in deps.go (Jobs, Streams, Objects, Presigner, Identities, Principals,
// Retained), so it can be tested on its own and wired to local/iot,
// local/s3 and local/store by package local.
package mqtt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/listeners"
	"github.com/mochi-mqtt/server/v2/packets"
)

// Default listen addresses of otactl local's broker.
const (
	DefaultAddr    = "127.0.0.1:1883"
	DefaultTLSAddr = "127.0.0.1:8883"
)

// Config says where the broker listens and how it behaves.
type Config struct {
	// Addr is the plain TCP listener ("host:port"; port 0 picks a free one).
	// Empty: no plain listener. It is a development port: nothing proves
	// who a client is, and PlainPolicy decides what each may do.
	Addr string
	// PlainPolicy names the IoT policy (its default version) applied to
	// every plain-listener client, through Deps.Principals. Empty: the
	// built-in development policy (DevPolicy), thing-scoped by client id.
	PlainPolicy string
	// Region and AccountID are those of the resource ARNs policies are
	// evaluated against (arn:aws:iot:<region>:<account>:client/<id>).
	// Empty: us-east-1 and 000000000000.
	Region, AccountID string
	// TLSAddr is the mutual-TLS listener. Empty: no TLS listener. It needs
	// Deps.CA, Deps.Identities and Deps.Principals.
	TLSAddr string
	// Hostnames are extra DNS names for the server certificate (127.0.0.1,
	// ::1 and localhost are always in it, and the TLSAddr host).
	Hostnames []string
	// JobsRate limits Jobs API requests per client per second (token bucket
	// of JobsBurst); 0 means no limit. Excess requests get RequestThrottled.
	JobsRate  float64
	JobsBurst int
	// WebSocketAddr is the MQTT-over-WebSocket listener (wss, path /mqtt,
	// SigV4-signed upgrade; websocket.go). Empty: none. It needs Deps.CA
	// and WebSocketSecret.
	WebSocketAddr string
	// WebSocketPolicy names the IoT policy applied to WebSocket clients
	// (otactl local does not enforce the IAM policies AWS would); empty:
	// the development policy.
	WebSocketPolicy string
	// WebSocketSecret returns the secret access key of an access key id,
	// to verify the upgrade's signature.
	WebSocketSecret func(accessKey string) (secret string, ok bool)
	// Logger receives the broker's diagnostics; nil discards them.
	Logger *slog.Logger
}

// Broker is the running MQTT side of otactl local.
type Broker struct {
	cfg  Config
	deps Deps
	srv  *mochi.Server
	log  *slog.Logger

	plain, secure, ws net.Listener

	notifier *notifier
	limits   *limiter
	objects  objectCache
	conns    connections
	// willsPrevented: Wills DeleteConnection suppressed; endedBy: why the
	// broker ended a connection, for its lifecycle event (connections.go).
	willsPrevented, endedBy clientMarks
	dev                     devPolicyCache
	recheck                 chan struct{} // PoliciesChanged → recheckLoop
	done                    chan struct{} // closed by Close

	closeOnce sync.Once
}

// New builds a broker; Start opens its listeners.
func New(cfg Config, deps Deps) (*Broker, error) {
	if cfg.TLSAddr != "" && (deps.CA == nil || deps.Identities == nil || deps.Principals == nil) {
		return nil, errors.New("mqtt: a TLS listener needs a CA, Identities and Principals")
	}
	if cfg.Addr != "" && cfg.PlainPolicy != "" && deps.Principals == nil {
		return nil, errors.New("mqtt: a named plain-listener policy needs Principals")
	}
	if cfg.WebSocketAddr != "" && (deps.CA == nil || cfg.WebSocketSecret == nil || (cfg.WebSocketPolicy != "" && deps.Principals == nil)) {
		return nil, errors.New("mqtt: a WebSocket listener needs a CA and WebSocketSecret (and Principals for a named policy)")
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.AccountID == "" {
		cfg.AccountID = "000000000000"
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	caps := mochi.NewDefaultServerCapabilities()
	caps.MaximumQos = 1 // AWS IoT Core supports QoS 0 and 1
	// Answers are written on the requester's connection, not queued; the
	// queue holds notifications and relayed messages. Its buffer is
	// allocated per client when it connects: 128 pointers are 1 KiB of
	// every idle connection (1024 were 8 KiB).
	caps.MaximumClientWritesPending = 128
	// Checked against each packet's fixed header before its body is read
	// or allocated (CONNECT included): the connection closes instead.
	caps.MaximumPacketSize = maxPacket
	srv := mochi.New(&mochi.Options{
		Capabilities:             caps,
		InlineClient:             true,
		Logger:                   log,
		SysTopicResendInterval:   3600, // $SYS is out of every device's reach anyway
		ClientNetWriteBufferSize: 16 << 10,
		// Allocated for every connection and kept while it lives: the
		// least there is; the buffering is below it (readbuf.go).
		ClientNetReadBufferSize: readBufferSize,
	})
	b := &Broker{cfg: cfg, deps: deps, srv: srv, log: log, recheck: make(chan struct{}, 1), done: make(chan struct{})}
	b.limits = newLimiter(cfg.JobsRate, cfg.JobsBurst)
	b.notifier = newNotifier(b)
	// Order matters for OnPublish, a chain: the policy hook refuses first.
	hooks := []mochi.Hook{&policyHook{b: b}, &serviceHook{b: b}}
	hooks = append(hooks, &shadowHook{b: b}, &presenceHook{b: b})
	if deps.Retained != nil {
		hooks = append(hooks, &retainedHook{b: b})
	}
	for _, h := range hooks {
		if err := srv.AddHook(h, nil); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// Start opens the listeners and serves until Close.
func (b *Broker) Start() error {
	if b.cfg.Addr != "" {
		l, err := net.Listen("tcp", b.cfg.Addr)
		if err != nil {
			return fmt.Errorf("mqtt: listen %s: %w", b.cfg.Addr, err)
		}
		b.plain = l
		if err := b.srv.AddListener(listeners.NewNet(listenerPlain, connectDeadline{l})); err != nil {
			l.Close()
			return err
		}
	}
	if b.cfg.TLSAddr != "" {
		tc, err := b.serverTLS()
		if err != nil {
			b.closeListeners()
			return err
		}
		l, err := net.Listen("tcp", b.cfg.TLSAddr)
		if err != nil {
			b.closeListeners()
			return fmt.Errorf("mqtt: listen %s: %w", b.cfg.TLSAddr, err)
		}
		b.secure = newHandshakeListener(l, tc)
		if err := b.srv.AddListener(listeners.NewNet(listenerTLS, b.secure)); err != nil {
			b.closeListeners()
			return err
		}
	}
	if b.cfg.WebSocketAddr != "" {
		tc, err := b.webSocketTLS()
		if err != nil {
			b.closeListeners()
			return err
		}
		l, err := net.Listen("tcp", b.cfg.WebSocketAddr)
		if err != nil {
			b.closeListeners()
			return fmt.Errorf("mqtt: listen %s: %w", b.cfg.WebSocketAddr, err)
		}
		b.ws = b.newWSListener(l, tc)
		if err := b.srv.AddListener(listeners.NewNet(listenerWSS, b.ws)); err != nil {
			b.closeListeners()
			return err
		}
	}
	go b.notifier.run()
	go b.recheckLoop()
	return b.srv.Serve()
}

func (b *Broker) closeListeners() {
	if b.plain != nil {
		b.plain.Close()
	}
	if b.secure != nil {
		b.secure.Close()
	}
	if b.ws != nil {
		b.ws.Close()
	}
}

// Close disconnects every client and stops the listeners.
func (b *Broker) Close() error {
	var err error
	b.closeOnce.Do(func() {
		b.notifier.stop()
		close(b.done)
		b.closeListeners()
		b.drainClients(2 * time.Second)
		err = b.srv.Close()
		b.objects.close()
	})
	return err
}

// drainClients disconnects every client and waits (up to max) until the
// client map has stopped shrinking. mochi's Close takes the map's read lock
// twice in a row (GetByListener, then Len): a client removing itself in
// between deadlocks the two, which a test run hit. With the listeners
// closed first no client can arrive, so once removals are over Close cannot
// race one.
func (b *Broker) drainClients(max time.Duration) {
	for _, cl := range b.srv.Clients.GetAll() {
		if !cl.Closed() {
			_ = b.srv.DisconnectClient(cl, packets.ErrServerShuttingDown)
		}
	}
	const quiet = 50 * time.Millisecond
	deadline := time.Now().Add(max)
	n, since := b.srv.Clients.Len(), time.Now()
	for n > 0 && time.Now().Before(deadline) && time.Since(since) < quiet {
		time.Sleep(5 * time.Millisecond)
		if m := b.srv.Clients.Len(); m != n {
			n, since = m, time.Now()
		}
	}
}

// Shutdown is Close with the signature http.Server uses.
func (b *Broker) Shutdown(context.Context) error { return b.Close() }

// Addr is the plain listener's address ("" when there is none).
func (b *Broker) Addr() string {
	if b.plain == nil {
		return ""
	}
	return b.plain.Addr().String()
}

// TLSAddr is the TLS listener's address ("" when there is none).
func (b *Broker) TLSAddr() string {
	if b.secure == nil {
		return ""
	}
	return b.secure.Addr().String()
}

// connectTimeout bounds the TLS handshake and CONNECT of a new connection;
// after CONNECT, mochi's keepalive deadline takes over.
const connectTimeout = 30 * time.Second

// connectDeadline gives each accepted connection connectTimeout to connect,
// so a client that opens a socket and says nothing does not stay forever,
// and reads it through a pooled buffer (readbuf.go).
type connectDeadline struct{ net.Listener }

func (l connectDeadline) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(connectTimeout))
	return &pooledReadConn{Conn: c}, nil
}

// Listener ids (mochi keeps them on each client).
const (
	listenerPlain = "plain"
	listenerTLS   = "tls"
)

// Subscribed reports whether the connected client clientID holds a
// subscription to filter (tests and diagnostics wait on it).
func (b *Broker) Subscribed(clientID, filter string) bool {
	cl, ok := b.srv.Clients.Get(clientID)
	if !ok || cl.Closed() {
		return false
	}
	_, ok = cl.State.Subscriptions.Get(filter)
	return ok
}
