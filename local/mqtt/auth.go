package mqtt

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"strings"

	mochi "github.com/mochi-mqtt/server/v2"
	"github.com/mochi-mqtt/server/v2/packets"
)

// thingPrefix is the root of every topic a device may use.
const thingPrefix = "$aws/things/"

// serverTLS is the TLS listener's configuration: a server certificate from
// the CA, and a client certificate required. Which client certificates are
// good is not a question of chains (AWS IoT accepts registered certificates
// whatever signed them) but of the registry: the certificate must be known
// and ACTIVE to finish the handshake, and attached to the thing to CONNECT.
func (b *Broker) serverTLS() (*tls.Config, error) {
	host, _, _ := net.SplitHostPort(b.cfg.TLSAddr)
	cert, err := b.deps.CA.ServerCertificate(append([]string{host}, b.cfg.Hostnames...)...)
	if err != nil {
		return nil, err
	}
	return &tls.Config{
		Certificates: []tls.Certificate{cert},
		ClientAuth:   tls.RequireAnyClientCert,
		MinVersion:   tls.VersionTLS12,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 {
				return errors.New("a client certificate is required")
			}
			if !b.deps.Identities.CertificateActive(CertificateID(raw[0])) {
				return errors.New("client certificate is not registered or not ACTIVE")
			}
			return nil
		},
	}, nil
}

// hook is the broker's one mochi hook: identity at CONNECT, per-thing topic
// access, and the Jobs and stream request topics.
type hook struct {
	mochi.HookBase
	b *Broker
}

func (h *hook) ID() string { return "otactl" }

func (h *hook) Provides(b byte) bool {
	return bytes.Contains([]byte{
		mochi.OnConnect, mochi.OnConnectAuthenticate, mochi.OnACLCheck,
		mochi.OnPublish, mochi.OnDisconnect,
	}, []byte{b})
}

// validClientID is what a thing name may be (AWS: [a-zA-Z0-9:_-]+, 1-128).
func validClientID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range id {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ':' || c == '_' || c == '-'
		if !ok {
			return false
		}
	}
	return true
}

// OnConnect checks the client's identity. A refusal answers CONNACK "not
// authorized" (MQTT 3.1.1 return code 5, MQTT 5 reason 0x87) and closes.
func (h *hook) OnConnect(cl *mochi.Client, pk packets.Packet) error {
	if reason := h.refuse(cl); reason != "" {
		h.b.log.Info("mqtt: connection refused", "client", cl.ID, "remote", cl.Net.Remote, "reason", reason)
		code := packets.ErrNotAuthorized
		if cl.Properties.ProtocolVersion < 5 {
			code = packets.Err3NotAuthorized // mochi maps only some codes to 3.1.1
		}
		h.b.srv.SendConnack(cl, code, false, nil)
		return packets.ErrNotAuthorized
	}
	return nil
}

func (h *hook) refuse(cl *mochi.Client) string {
	if cl.Net.Listener != listenerTLS {
		// The plain port takes any client id; mochi assigns one when empty.
		// Ids that cannot be thing names would break topic isolation.
		if strings.ContainsAny(cl.ID, "/+#") {
			return "client id contains / + or #"
		}
		return ""
	}
	if !validClientID(cl.ID) {
		return "client id must be the thing name"
	}
	tc, ok := cl.Net.Conn.(*tls.Conn)
	if !ok {
		return "not a TLS connection"
	}
	st := tc.ConnectionState()
	if len(st.PeerCertificates) == 0 {
		return "no client certificate"
	}
	id := CertificateID(st.PeerCertificates[0].Raw)
	if !h.b.deps.Identities.CertificateActive(id) {
		return "certificate is not ACTIVE"
	}
	if !h.b.deps.Identities.CertificateAttached(id, cl.ID) {
		return "certificate is not attached to thing " + cl.ID
	}
	return ""
}

// OnConnectAuthenticate lets through what OnConnect accepted.
func (h *hook) OnConnectAuthenticate(cl *mochi.Client, pk packets.Packet) bool { return true }

// allowed reports whether a client may use a topic (or filter): only under
// its own $aws/things/{clientId}/, as AWS IoT's usual device policy.
func allowed(cl *mochi.Client, topic string) bool {
	rest, ok := strings.CutPrefix(topic, thingPrefix)
	if !ok {
		return false
	}
	thing, _, ok := strings.Cut(rest, "/")
	return ok && thing == cl.ID && cl.ID != ""
}

// OnACLCheck confines a client to its own topics. A refused subscription
// gets SUBACK "not authorized" (0x87; MQTT 3.1.1: 0x80 failure). A refused
// publish disconnects the client, as AWS IoT Core does on a policy violation.
func (h *hook) OnACLCheck(cl *mochi.Client, topic string, write bool) bool {
	if allowed(cl, topic) {
		return true
	}
	if write {
		h.b.log.Info("mqtt: publish refused, disconnecting", "client", cl.ID, "topic", topic)
		if cl.Properties.ProtocolVersion < 5 {
			cl.Stop(packets.ErrNotAuthorized) // MQTT 3.1.1 has no server DISCONNECT
		} else {
			h.b.srv.DisconnectClient(cl, packets.ErrNotAuthorized)
		}
	}
	return false
}

// OnDisconnect forgets the client's request budget.
func (h *hook) OnDisconnect(cl *mochi.Client, err error, expire bool) {
	h.b.limits.forget(cl.ID)
}

// OnPublish serves the request topics. Requests are answered on the
// requester's connection and not forwarded to subscribers: AWS delivers the
// answers only to the requester, and nobody else listens to a request.
func (h *hook) OnPublish(cl *mochi.Client, pk packets.Packet) (packets.Packet, error) {
	if cl.Net.Inline {
		return pk, nil
	}
	rest, ok := strings.CutPrefix(pk.TopicName, thingPrefix+cl.ID+"/")
	if !ok {
		return pk, nil
	}
	switch {
	case strings.HasPrefix(rest, "jobs/"):
		h.b.serveJobs(cl, cl.ID, strings.TrimPrefix(rest, "jobs/"), pk.Payload)
		return pk, packets.CodeSuccessIgnore
	case strings.HasPrefix(rest, "streams/"):
		if h.b.serveStreams(cl, cl.ID, strings.TrimPrefix(rest, "streams/"), pk.Payload) {
			return pk, packets.CodeSuccessIgnore
		}
	}
	return pk, nil
}
