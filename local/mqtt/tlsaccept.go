package mqtt

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"time"
)

// handshakeListener completes each TLS handshake on a short-lived
// goroutine of its own before mochi sees the connection. A handshake
// (certificate parsing and verification, ECDHE) grows a goroutine's stack
// to tens of KiB; done on mochi's connection goroutine, which then reads
// the connection for as long as it lives, that stack stays with every idle
// device. Here it goes when the handshake ends. Handshakes are not counted
// or queued: a bound would let a few hundred silent sockets hold every
// slot for connectTimeout, which one goroutine per connection (as before)
// does not.
type handshakeListener struct {
	net.Listener // the raw listener (its Addr, Close)
	cfg          *tls.Config
	ready        chan net.Conn
	done         chan struct{}
	closeOnce    sync.Once
}

func newHandshakeListener(raw net.Listener, cfg *tls.Config) *handshakeListener {
	l := &handshakeListener{Listener: raw, cfg: cfg, ready: make(chan net.Conn), done: make(chan struct{})}
	go l.acceptLoop()
	return l
}

func (l *handshakeListener) acceptLoop() {
	defer l.closeOnce.Do(func() { close(l.done) })
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of descriptors, an aborted connection: the listener
			// itself is fine, and mochi stops serving on any error.
			time.Sleep(5 * time.Millisecond)
			continue
		}
		go func() {
			tc := tls.Server(c, l.cfg)
			ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
			err := tc.HandshakeContext(ctx)
			cancel()
			if err != nil {
				c.Close()
				return
			}
			// connectTimeout again bounds CONNECT; mochi's
			// keepalive deadline takes over after it.
			c.SetDeadline(time.Now().Add(connectTimeout))
			select {
			case l.ready <- tc:
			case <-l.done:
				tc.Close()
			}
		}()
	}
}

// Accept returns the next connection whose handshake succeeded.
func (l *handshakeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.ready:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close stops accepting; handshakes under way are dropped.
func (l *handshakeListener) Close() error {
	err := l.Listener.Close()
	l.closeOnce.Do(func() { close(l.done) })
	return err
}
