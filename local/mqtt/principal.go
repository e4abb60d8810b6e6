package mqtt

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"unsafe"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"

	"github.com/otactl/otactl/local/policy"
)

// A connection's identity, resolved at CONNECT and kept in memory for as
// long as it is connected: who it is (Principal), what policy variables and
// condition keys resolve to (policy.Context), and the decisions already
// made. The policies themselves stay in local/iot's tables; when they
// change (PoliciesChanged) every connection's principal goes stale and is
// resolved again at its next decision.

// conn is one connection's policy state.
type conn struct {
	certID string // "" on the plain and WebSocket listeners
	ctx    policy.Context
	ws     bool // came over the WebSocket listener (SigV4-authenticated)

	mu        sync.Mutex
	gen       uint64 // policiesGen the principal was resolved at
	resolved  bool   // principal holds what gen resolved to
	principal Principal
	// decided are the decisions made under the principal, in order. A
	// slice, not a map: an idle device has made two (connect, subscribe),
	// and a map's first bucket is 500 bytes of every connection.
	decided []decision
	// subscribing marks the filter strings of the SUBSCRIBE being handled
	// (by the address of their bytes: see OnSubscribe) with the decision
	// made for them.
	subscribing map[*byte]bool
}

// question is a decision's cache key: an action on kind/name (the ARN is
// built only when the question is new: a hit allocates nothing).
type question struct{ action, kind, name string }

type decision struct {
	question
	allowed bool
}

// maxDecisions bounds a connection's decision cache (a client publishing to
// ever new topics must not grow it without end, and a lookup is a scan:
// 64 misses cost about what an evaluation does).
const maxDecisions = 64

// connections holds the policy state of every connection.
type connections struct {
	mu  sync.RWMutex
	by  map[*mochi.Client]*conn
	gen atomic.Uint64 // bumped by PoliciesChanged
}

func (cs *connections) get(cl *mochi.Client) *conn {
	cs.mu.RLock()
	defer cs.mu.RUnlock()
	return cs.by[cl]
}

func (cs *connections) put(cl *mochi.Client, c *conn) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.by == nil {
		cs.by = map[*mochi.Client]*conn{}
	}
	cs.by[cl] = c
}

func (cs *connections) drop(cl *mochi.Client) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	delete(cs.by, cl)
}

func (cs *connections) all() map[*mochi.Client]*conn {
	cs.mu.RLock()
	defer cs.mu.RUnlock()
	out := make(map[*mochi.Client]*conn, len(cs.by))
	for cl, c := range cs.by {
		out[cl] = c
	}
	return out
}

// errNoPrincipals: a TLS connection without a Principals dependency.
var errNoPrincipals = errors.New("no policy source for certificates")

// peerCertificate returns the client certificate of a TLS connection.
func peerCertificate(cl *mochi.Client) *x509.Certificate {
	tc, ok := cl.Net.Conn.(*tls.Conn)
	if !ok {
		return nil
	}
	st := tc.ConnectionState()
	if len(st.PeerCertificates) == 0 {
		return nil
	}
	return st.PeerCertificates[0]
}

// newConn builds a connection's context from its CONNECT.
func (b *Broker) newConn(cl *mochi.Client) *conn {
	c := &conn{ctx: policy.Context{ClientID: cl.ID}}
	if cl.Net.Listener == listenerWSS {
		c.ctx.SecureTransport, c.ws = true, true
	}
	if cl.Net.Listener == listenerTLS {
		c.ctx.SecureTransport = true
		if cert := peerCertificate(cl); cert != nil {
			c.ctx.Certificate = cert
			c.certID = CertificateID(cert.Raw)
			c.ctx.CertificateID = c.certID // not hashed again per evaluation
		}
	}
	if host, _, err := net.SplitHostPort(cl.Net.Remote); err == nil {
		c.ctx.SourceIP = host
	} else {
		c.ctx.SourceIP = cl.Net.Remote
	}
	// iot:ConnectAttributes: PersistentConnect for a session that outlives
	// the connection (3.1.1 clean session off; MQTT 5 a session expiry),
	// LastWill when the CONNECT carries a Will.
	persistent := !cl.Properties.Clean
	if cl.Properties.ProtocolVersion == 5 {
		persistent = cl.Properties.Props.SessionExpiryInterval > 0
	}
	if persistent {
		c.ctx.ConnectAttributes = append(c.ctx.ConnectAttributes, "PersistentConnect")
	}
	if cl.Properties.Will.Flag > 0 {
		c.ctx.ConnectAttributes = append(c.ctx.ConnectAttributes, "LastWill")
	}
	return c
}

// resolve asks Principals who the connection is: by its certificate over
// TLS, and through the plain policy on the plain listener.
func (b *Broker) resolve(c *conn) (Principal, error) {
	if c.ws {
		return b.namedOrDev(b.cfg.WebSocketPolicy, c)
	}
	if c.ctx.SecureTransport {
		if b.deps.Principals == nil {
			return Principal{}, errNoPrincipals
		}
		if c.certID == "" {
			return Principal{}, errors.New("no client certificate")
		}
		return b.deps.Principals.ForCertificate(c.certID, c.ctx.ClientID)
	}
	return b.namedOrDev(b.cfg.PlainPolicy, c)
}

// namedOrDev resolves a connection no certificate identifies (plain,
// WebSocket) with the named policy, or the development policy.
func (b *Broker) namedOrDev(name string, c *conn) (Principal, error) {
	if name == "" {
		return Principal{Policies: []policy.Policy{b.devPolicy()}}, nil
	}
	if b.deps.Principals == nil {
		return Principal{}, errNoPrincipals
	}
	return b.deps.Principals.ForPlain(name, c.ctx.ClientID)
}

// refresh resolves the principal again if the policies changed since it
// was resolved. c.mu must be held.
func (b *Broker) refreshLocked(c *conn) error {
	gen := b.conns.gen.Load()
	if c.gen == gen && c.resolved {
		return nil
	}
	p, err := b.resolve(c)
	if err != nil {
		return err
	}
	c.principal, c.gen, c.resolved, c.decided = p, gen, true, c.decided[:0]
	c.ctx.Thing = p.Thing
	return nil
}

// allowed answers "may c do action on resource (kind/name)?", from the
// cache when it was answered before under the same policies.
func (b *Broker) allowed(c *conn, action, kind, name string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := b.refreshLocked(c); err != nil {
		b.log.Info("mqtt: cannot resolve the connection's policies", "client", c.ctx.ClientID, "error", err)
		return false
	}
	if c.certID != "" && c.principal.CertificateStatus != "ACTIVE" {
		return false // a REVOKED or INACTIVE certificate may do nothing
	}
	key := question{action, kind, name}
	for i := len(c.decided) - 1; i >= 0; i-- {
		if c.decided[i].question == key {
			return c.decided[i].allowed
		}
	}
	res := b.arn(kind, name)
	d := policy.Evaluate(c.principal.Policies, policy.Request{Action: action, Resource: res, Context: c.ctx})
	if !d.Allowed() {
		b.log.Info("mqtt: policy denies", "client", c.ctx.ClientID, "action", action, "resource", res, "effect", d.Effect, "by", d.By)
	}
	if len(c.decided) >= maxDecisions {
		c.decided = c.decided[:0]
	}
	c.decided = append(c.decided, decision{key, d.Allowed()})
	return d.Allowed()
}

// arn is the resource ARN of the environment's region and account.
func (b *Broker) arn(kind, name string) string {
	return "arn:aws:iot:" + b.cfg.Region + ":" + b.cfg.AccountID + ":" + kind + "/" + name
}

// markSubscribing records the decisions for the filters of a SUBSCRIBE
// (keyed by the address of each filter string's bytes).
func (c *conn) markSubscribing(marks map[*byte]bool) {
	c.mu.Lock()
	c.subscribing = marks
	c.mu.Unlock()
}

// subscribeDecision returns the decision marked for filter, if filter is
// one of the strings of the SUBSCRIBE being handled.
func (c *conn) subscribeDecision(filter string) (allowed, marked bool) {
	if filter == "" {
		return false, false
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	allowed, marked = c.subscribing[unsafe.StringData(filter)]
	return allowed, marked
}

// PoliciesChanged tells the broker that policies, their versions or
// attachments, or certificates changed. Every connection resolves its
// principal again at its next decision; connections no longer allowed to
// connect (a certificate revoked or deactivated, a policy detached) are
// disconnected, as AWS IoT does. (A Will is checked again when it is sent.)
func (b *Broker) PoliciesChanged() {
	b.conns.gen.Add(1)
	select {
	case b.recheck <- struct{}{}:
	default:
	}
}

// recheckLoop re-examines every connection after policies changed, off the
// control plane's goroutine (its event listeners must not block).
func (b *Broker) recheckLoop() {
	for {
		select {
		case <-b.done:
			return
		case <-b.recheck:
		}
		for cl, c := range b.conns.all() {
			if cl.Closed() {
				// Normally OnDisconnect forgets it; a CONNACK that could
				// not be written ends the connection without that hook.
				b.conns.drop(cl)
				continue
			}
			if !b.allowed(c, policy.ActionConnect, "client", cl.ID) {
				b.log.Info("mqtt: connection no longer allowed, disconnecting", "client", cl.ID)
				b.kick(cl)
			}
		}
	}
}

// kick disconnects a client for a policy violation (MQTT 3.1.1 has no
// server DISCONNECT: the connection is closed).
func (b *Broker) kick(cl *mochi.Client) {
	b.endedBy.set(cl, "AUTH_ERROR")
	if cl.Properties.ProtocolVersion < 5 {
		cl.Stop(packets.ErrNotAuthorized)
		return
	}
	_ = b.srv.DisconnectClient(cl, packets.ErrNotAuthorized)
}
