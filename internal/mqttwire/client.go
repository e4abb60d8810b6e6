// Package mqttwire is a small MQTT 3.1.1 client with what a simulated device
// or a benchmark client needs: CONNECT, SUBSCRIBE, PUBLISH at QoS 0 and 1
// both ways, PINGREQ, DISCONNECT. It reads through one buffer and allocates
// one slice per received packet, so that a thousand clients on one machine
// leave the CPU to the broker they measure. (General-purpose clients copy
// each payload several times.) The device package's agents and the fleet
// benchmark's mosquitto baseline both use it, so that the client side costs
// the same in both measurements.
package mqttwire

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"
)

// MQTT control packet types.
const (
	PktConnect    = 1
	PktConnack    = 2
	PktPublish    = 3
	PktPuback     = 4
	PktSubscribe  = 8
	PktSuback     = 9
	PktPingreq    = 12
	PktPingresp   = 13
	PktDisconnect = 14
)

// MaxPacket bounds what the client accepts from the broker.
const MaxPacket = 1 << 20

// connackCodes are MQTT 3.1.1's CONNACK return codes.
var connackCodes = map[byte]string{
	1: "unacceptable protocol version", 2: "identifier rejected", 3: "server unavailable",
	4: "bad user name or password", 5: "not authorized",
}

// ErrRefused is a CONNECT the broker answered with a refusal.
var ErrRefused = errors.New("CONNECT refused")

// Client is one MQTT connection.
type Client struct {
	nc        net.Conn
	r         *bufio.Reader
	wmu       sync.Mutex
	onPublish func(topic string, payload []byte)

	mu      sync.Mutex
	nextID  uint16
	waiting map[uint16]chan []byte // PUBACK and SUBACK by packet id

	dead     chan struct{}
	deadOnce sync.Once
	err      error
}

// Connect sends CONNECT (clean session) on nc and waits for CONNACK, then
// reads in the background: every PUBLISH goes to onPublish, on the reading
// goroutine, with a payload the handler may keep. A keepAlive of 0 sends no
// PINGREQ. On an error the caller still owns nc.
func Connect(nc net.Conn, clientID string, keepAlive time.Duration, timeout time.Duration, onPublish func(topic string, payload []byte)) (*Client, error) {
	c := &Client{nc: nc, r: bufio.NewReaderSize(nc, 16*1024), onPublish: onPublish,
		waiting: map[uint16]chan []byte{}, dead: make(chan struct{})}
	var vh []byte
	vh = appendString(vh, "MQTT")
	vh = append(vh, 4, 0x02) // protocol level 3.1.1; clean session
	vh = binary.BigEndian.AppendUint16(vh, uint16(keepAlive/time.Second))
	vh = appendString(vh, clientID)
	nc.SetDeadline(time.Now().Add(timeout))
	if err := c.write(PktConnect<<4, vh); err != nil {
		return nil, err
	}
	h, body, err := c.readPacket()
	if err != nil {
		return nil, fmt.Errorf("CONNECT: %w", err)
	}
	if h>>4 != PktConnack || len(body) != 2 {
		return nil, fmt.Errorf("CONNECT: answered with packet type %d", h>>4)
	}
	if body[1] != 0 {
		return nil, fmt.Errorf("%w: %s (return code %d)", ErrRefused, connackCodes[body[1]], body[1])
	}
	nc.SetDeadline(time.Time{})
	go c.readLoop()
	go c.pingLoop(keepAlive)
	return c, nil
}

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}

// appendFrame appends one packet: fixed header byte, remaining length, body.
func appendFrame(dst []byte, header byte, body []byte) []byte {
	dst = append(dst, header)
	n := len(body)
	for {
		b := byte(n % 128)
		if n /= 128; n > 0 {
			b |= 0x80
		}
		dst = append(dst, b)
		if n == 0 {
			break
		}
	}
	return append(dst, body...)
}

// AppendPublish appends a QoS 0 PUBLISH packet, for WriteFrames.
func AppendPublish(dst []byte, topic string, payload []byte) []byte {
	body := appendString(make([]byte, 0, 2+len(topic)+len(payload)), topic)
	return appendFrame(dst, PktPublish<<4, append(body, payload...))
}

// write sends one packet.
func (c *Client) write(header byte, body []byte) error {
	return c.WriteFrames(appendFrame(make([]byte, 0, 5+len(body)), header, body))
}

// WriteFrames sends packets already built (several PUBLISHes in one write).
// A failed write drops the connection.
func (c *Client) WriteFrames(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if _, err := c.nc.Write(b); err != nil {
		c.Drop(err)
		return err
	}
	return nil
}

// readPacket reads one packet: its first byte (type and flags) and body.
func (c *Client) readPacket() (h byte, body []byte, err error) {
	h, err = c.r.ReadByte()
	if err != nil {
		return 0, nil, err
	}
	n, mult := 0, 1
	for i := 0; ; i++ {
		b, err := c.r.ReadByte()
		if err != nil {
			return 0, nil, err
		}
		n += int(b&0x7f) * mult
		if b&0x80 == 0 {
			break
		}
		if mult *= 128; i == 3 {
			return 0, nil, errors.New("malformed remaining length")
		}
	}
	if n > MaxPacket {
		return 0, nil, fmt.Errorf("packet of %d bytes is too large", n)
	}
	body = make([]byte, n)
	if _, err := io.ReadFull(c.r, body); err != nil {
		return 0, nil, err
	}
	return h, body, nil
}

func (c *Client) readLoop() {
	for {
		h, body, err := c.readPacket()
		if err != nil {
			c.Drop(err)
			return
		}
		switch h >> 4 {
		case PktPublish:
			if err := c.received(h, body); err != nil {
				c.Drop(err)
				return
			}
		case PktPuback, PktSuback:
			if len(body) < 2 {
				c.Drop(errors.New("short acknowledgement"))
				return
			}
			id := binary.BigEndian.Uint16(body)
			c.mu.Lock()
			ch := c.waiting[id]
			delete(c.waiting, id)
			c.mu.Unlock()
			if ch != nil {
				ch <- body[2:]
			}
		case PktPingresp:
		default:
			c.Drop(fmt.Errorf("unexpected packet type %d", h>>4))
			return
		}
	}
}

// received handles a PUBLISH: the topic, a packet id at QoS 1 (acknowledged
// after the handler ran), the payload.
func (c *Client) received(h byte, body []byte) error {
	if len(body) < 2 {
		return errors.New("short PUBLISH")
	}
	tl := int(binary.BigEndian.Uint16(body))
	if len(body) < 2+tl {
		return errors.New("short PUBLISH topic")
	}
	topic, rest := string(body[2:2+tl]), body[2+tl:]
	qos := (h >> 1) & 3
	var id []byte
	if qos > 0 {
		if len(rest) < 2 {
			return errors.New("short PUBLISH packet id")
		}
		id, rest = rest[:2], rest[2:]
	}
	c.onPublish(topic, rest)
	if qos == 1 {
		return c.write(PktPuback<<4, id)
	}
	return nil
}

func (c *Client) pingLoop(every time.Duration) {
	if every <= 0 {
		return
	}
	t := time.NewTicker(every / 2)
	defer t.Stop()
	for {
		select {
		case <-c.dead:
			return
		case <-t.C:
			if c.write(PktPingreq<<4, nil) != nil {
				return
			}
		}
	}
}

// Drop closes the network connection without DISCONNECT (as a device that
// loses power would); the first error given is what Err reports.
func (c *Client) Drop(err error) {
	c.deadOnce.Do(func() {
		c.err = err
		close(c.dead)
		c.nc.Close()
	})
}

// Done is closed when the connection is lost or dropped.
func (c *Client) Done() <-chan struct{} { return c.dead }

// Err is why the connection ended, once Done is closed.
func (c *Client) Err() error {
	select {
	case <-c.dead:
		return c.err
	default:
		return nil
	}
}

// id reserves a packet id and the channel its acknowledgement comes on.
func (c *Client) id() (uint16, chan []byte) {
	ch := make(chan []byte, 1)
	c.mu.Lock()
	defer c.mu.Unlock()
	for {
		c.nextID++
		if c.nextID != 0 && c.waiting[c.nextID] == nil {
			break
		}
	}
	c.waiting[c.nextID] = ch
	return c.nextID, ch
}

// await waits for an acknowledgement.
func (c *Client) await(id uint16, ch chan []byte, timeout time.Duration) ([]byte, error) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case body := <-ch:
		return body, nil
	case <-c.dead:
		return nil, fmt.Errorf("connection lost: %v", c.err)
	case <-t.C:
		c.mu.Lock()
		delete(c.waiting, id)
		c.mu.Unlock()
		return nil, errors.New("no acknowledgement")
	}
}

// Subscribe subscribes to filters at the given QoS and returns the SUBACK
// return codes (0x80 and above: refused).
func (c *Client) Subscribe(timeout time.Duration, qos byte, filters ...string) ([]byte, error) {
	id, ch := c.id()
	body := binary.BigEndian.AppendUint16(nil, id)
	for _, f := range filters {
		body = appendString(body, f)
		body = append(body, qos)
	}
	if err := c.write(PktSubscribe<<4|0x02, body); err != nil {
		return nil, err
	}
	return c.await(id, ch, timeout)
}

// Publish sends at QoS 0, or at QoS 1 and waits for PUBACK.
func (c *Client) Publish(timeout time.Duration, topic string, qos byte, payload []byte) error {
	body := make([]byte, 0, 4+len(topic)+len(payload))
	body = appendString(body, topic)
	if qos == 0 {
		return c.write(PktPublish<<4, append(body, payload...))
	}
	id, ch := c.id()
	body = binary.BigEndian.AppendUint16(body, id)
	if err := c.write(PktPublish<<4|0x02, append(body, payload...)); err != nil {
		return err
	}
	_, err := c.await(id, ch, timeout)
	return err
}

// Disconnect leaves politely.
func (c *Client) Disconnect() {
	_ = c.write(PktDisconnect<<4, nil)
	c.Drop(errors.New("disconnected"))
}
