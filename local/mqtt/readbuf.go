package mqtt

import (
	"net"
	"sync"
)

// Read buffers that idle connections do not hold. mochi reads every
// connection through a bufio.Reader of Options.ClientNetReadBufferSize,
// allocated when the client connects and kept for as long as it stays
// connected: with 10,000 idle devices, a 2 KiB buffer is 20 MiB of heap
// that holds nothing. The broker gives mochi the smallest bufio.Reader
// there is (readBufferSize) and buffers where it pays:
//   - over TLS, crypto/tls already holds each decrypted record and hands
//     it out in whatever pieces are asked for, with no system call;
//   - on the plain listener, pooledReadConn reads the socket into a pooled
//     buffer that goes back to the pool as soon as its bytes are consumed,
//     so a request still costs one read system call, and an idle
//     connection holds no buffer.

// readBufferSize is mochi's per-connection bufio.Reader (16 bytes is the
// least bufio allows): a fixed header and the start of a body.
const readBufferSize = 16

// plainReadBuffer is what one read system call on a plain connection
// fetches: several requests a device pipelines (stream requests are a few
// hundred bytes).
const plainReadBuffer = 4 << 10

var plainReadBufs = sync.Pool{New: func() any {
	b := make([]byte, plainReadBuffer)
	return &b
}}

// pooledReadConn is a plain connection whose reads go through a pooled
// buffer. Only mochi's reading goroutine calls Read.
type pooledReadConn struct {
	net.Conn
	buf  *[]byte // nil while nothing read is unconsumed
	r, w int     // unconsumed bytes: (*buf)[r:w]
	err  error   // an error that came with the last bytes read
}

func (c *pooledReadConn) Read(p []byte) (int, error) {
	if c.buf == nil {
		if c.err != nil {
			err := c.err
			c.err = nil
			return 0, err
		}
		if len(p) >= plainReadBuffer {
			return c.Conn.Read(p) // as large as the buffer: no copy
		}
		buf := plainReadBufs.Get().(*[]byte)
		n, err := c.Conn.Read(*buf)
		if n <= 0 {
			plainReadBufs.Put(buf)
			return 0, err
		}
		c.buf, c.r, c.w, c.err = buf, 0, n, err
	}
	n := copy(p, (*c.buf)[c.r:c.w])
	c.r += n
	if c.r == c.w {
		plainReadBufs.Put(c.buf)
		c.buf = nil
	}
	return n, nil
}
