package mqtt

import (
	"crypto/tls"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"github.com/otactl/otactl/internal/wsconn"
	"github.com/otactl/otactl/local/sigv4"
)

// MQTT over WebSocket, as AWS IoT serves it at wss://<endpoint>/mqtt: the
// upgrade request carries a SigV4 query (service iotdevicegateway) signed
// with the caller's AWS credentials. On AWS those credentials' IAM policy
// then decides what the connection may do; otactl local does not enforce
// IAM, so a WebSocket client is judged, like a plain one, by the IoT
// policy Config.WebSocketPolicy names, or by the built-in development
// policy. Unlike a plain client it has proved who it is (the signature),
// so it may take over a session as a mutual-TLS client can.

// listenerWSS is the WebSocket listener's id.
const listenerWSS = "wss"

// wsListener serves the upgrade over TLS and hands mochi each verified
// WebSocket as a net.Conn.
type wsListener struct {
	ln    net.Listener
	srv   *http.Server
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func (b *Broker) newWSListener(ln net.Listener, tc *tls.Config) *wsListener {
	wl := &wsListener{ln: ln, conns: make(chan net.Conn), done: make(chan struct{})}
	up := websocket.Upgrader{
		// "mqtt" (MQTT 3.1.1 and 5), and "mqttv3.1", which the AWS IoT
		// Device SDK for JavaScript asks for whatever version it speaks.
		Subprotocols:     []string{wsconn.Subprotocol, "mqttv3.1"},
		HandshakeTimeout: connectTimeout,
		// Browsers send an Origin; AWS IoT accepts any (the signature is
		// what authenticates).
		CheckOrigin: func(*http.Request) bool { return true },
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /mqtt", func(w http.ResponseWriter, r *http.Request) {
		id, err := sigv4.CheckWebSocket(r, b.cfg.WebSocketSecret, time.Now())
		if err == nil && id.Region != b.cfg.Region {
			err = &sigv4.Error{Kind: sigv4.Mismatch, Message: "the credential scope's region must be " + b.cfg.Region + ", got " + id.Region}
		}
		if err != nil {
			b.log.Info("mqtt: WebSocket upgrade refused", "remote", r.RemoteAddr, "reason", err)
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return // Upgrade answered the client
		}
		// The 128 KiB message limit holds before anything is read.
		ws.SetReadLimit(maxPacket)
		c := &wsClientConn{Conn: wsconn.New(ws), accessKey: id.AccessKey}
		c.SetDeadline(time.Now().Add(connectTimeout)) // CONNECT; mochi's keep-alive takes over
		select {
		case wl.conns <- c:
		case <-wl.done:
			c.Close()
		}
	})
	wl.srv = &http.Server{Handler: mux, TLSConfig: tc, ReadHeaderTimeout: connectTimeout}
	go wl.srv.ServeTLS(ln, "", "")
	return wl
}

// wsClientConn is a verified WebSocket and the access key that signed it.
type wsClientConn struct {
	*wsconn.Conn
	accessKey string
}

// Accept returns the next verified WebSocket.
func (wl *wsListener) Accept() (net.Conn, error) {
	select {
	case c := <-wl.conns:
		return c, nil
	case <-wl.done:
		return nil, net.ErrClosed
	}
}

// Close stops serving upgrades; connections already handed over are
// mochi's.
func (wl *wsListener) Close() error {
	wl.once.Do(func() { close(wl.done) })
	return wl.srv.Close()
}

func (wl *wsListener) Addr() net.Addr { return wl.ln.Addr() }

// webSocketTLS is the WebSocket listener's TLS: the broker's certificate,
// no client certificate (the signature authenticates).
func (b *Broker) webSocketTLS() (*tls.Config, error) {
	host, _, _ := net.SplitHostPort(b.cfg.WebSocketAddr)
	cert, err := b.deps.CA.ServerCertificate(append([]string{host}, b.cfg.Hostnames...)...)
	if err != nil {
		return nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12, NextProtos: []string{"http/1.1"}}, nil
}

// WebSocketAddr is the WebSocket listener's address ("" when none).
func (b *Broker) WebSocketAddr() string {
	if b.ws == nil {
		return ""
	}
	return b.ws.Addr().String()
}
