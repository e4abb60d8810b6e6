// Package wsconn makes a WebSocket carrying MQTT (binary messages, the
// "mqtt" subprotocol, as AWS IoT's wss://<endpoint>/mqtt) a net.Conn, for
// the broker's WebSocket listener and for clients that dial it. MQTT
// packets may span messages and a message may hold several packets: the
// stream is the concatenation of the binary messages.
package wsconn

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// Subprotocol is the WebSocket subprotocol MQTT uses.
const Subprotocol = "mqtt"

// Conn is a WebSocket as a byte stream.
type Conn struct {
	ws *websocket.Conn
	r  io.Reader // the message being read; nil between messages
	wm sync.Mutex
}

// New wraps ws. Reads take the binary messages in order; a text message
// is an error (MQTT over WebSocket is binary). Each Write is one message.
func New(ws *websocket.Conn) *Conn { return &Conn{ws: ws} }

// ErrText: the peer sent a text message.
var ErrText = errors.New("wsconn: MQTT over WebSocket takes binary messages, got a text message")

func (c *Conn) Read(p []byte) (int, error) {
	for {
		if c.r == nil {
			kind, r, err := c.ws.NextReader()
			if err != nil {
				return 0, err
			}
			if kind != websocket.BinaryMessage {
				return 0, ErrText
			}
			c.r = r
		}
		n, err := c.r.Read(p)
		if err == io.EOF {
			c.r = nil
			if n > 0 {
				return n, nil
			}
			continue
		}
		return n, err
	}
}

func (c *Conn) Write(p []byte) (int, error) {
	c.wm.Lock()
	defer c.wm.Unlock()
	if err := c.ws.WriteMessage(websocket.BinaryMessage, p); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Close closes the connection without a close handshake (MQTT's DISCONNECT
// is the protocol's goodbye).
func (c *Conn) Close() error                      { return c.ws.Close() }
func (c *Conn) LocalAddr() net.Addr               { return c.ws.LocalAddr() }
func (c *Conn) RemoteAddr() net.Addr              { return c.ws.RemoteAddr() }
func (c *Conn) SetReadDeadline(t time.Time) error { return c.ws.SetReadDeadline(t) }

// SetWriteDeadline takes the write lock: gorilla keeps the write deadline
// in a field its writes read, and a net.Conn's deadlines may be set while
// another goroutine writes (mochi's keep-alive does).
func (c *Conn) SetWriteDeadline(t time.Time) error {
	c.wm.Lock()
	defer c.wm.Unlock()
	return c.ws.SetWriteDeadline(t)
}

func (c *Conn) SetDeadline(t time.Time) error {
	if err := c.ws.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// Dial opens MQTT over WebSocket at url (wss://host:port/mqtt?<SigV4
// query>), trusting tc's roots.
func Dial(url string, tc *tls.Config, timeout time.Duration) (*Conn, error) {
	d := websocket.Dialer{Subprotocols: []string{Subprotocol}, TLSClientConfig: tc, HandshakeTimeout: timeout}
	ws, resp, err := d.Dial(url, nil)
	if err != nil {
		if resp != nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			resp.Body.Close()
			return nil, fmt.Errorf("wsconn: %s: %w (%s: %s)", strings.SplitN(url, "?", 2)[0], err, resp.Status, strings.TrimSpace(string(body)))
		}
		return nil, err
	}
	return New(ws), nil
}
