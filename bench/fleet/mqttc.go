package main

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

// client is the baseline's MQTT 3.1.1 client. It reads the way the device
// package's client does (one 16 KiB buffered reader, one slice allocated per
// received packet, the topic turned into a string, a callback), so that the
// subscribers of the baseline cost the client side what the simulated
// devices cost it; the device package keeps its client unexported.
type client struct {
	nc  net.Conn
	r   *bufio.Reader
	wmu sync.Mutex
}

// dialMQTT connects with a clean session and no keep-alive (the runs are short).
func dialMQTT(addr, id string, timeout time.Duration) (*client, error) {
	nc, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	c := &client{nc: nc, r: bufio.NewReaderSize(nc, 16*1024)}
	var vh []byte
	vh = appendString(vh, "MQTT")
	vh = append(vh, 4, 0x02, 0, 0) // 3.1.1, clean session, keep-alive 0
	vh = appendString(vh, id)
	nc.SetDeadline(time.Now().Add(timeout))
	if _, err := nc.Write(frame(nil, 0x10, vh)); err != nil {
		nc.Close()
		return nil, err
	}
	h, body, err := c.readPacket()
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("CONNECT %s: %w", id, err)
	}
	if h>>4 != 2 || len(body) != 2 || body[1] != 0 {
		nc.Close()
		return nil, fmt.Errorf("CONNECT %s refused (packet %#x, %v)", id, h, body)
	}
	nc.SetDeadline(time.Time{})
	return c, nil
}

// subscribe subscribes to one filter at QoS 0 and waits for the SUBACK.
func (c *client) subscribe(filter string, timeout time.Duration) error {
	body := binary.BigEndian.AppendUint16(nil, 1)
	body = appendString(body, filter)
	body = append(body, 0)
	c.nc.SetDeadline(time.Now().Add(timeout))
	defer c.nc.SetDeadline(time.Time{})
	if _, err := c.nc.Write(frame(nil, 0x82, body)); err != nil {
		return err
	}
	h, ack, err := c.readPacket()
	if err != nil {
		return fmt.Errorf("SUBSCRIBE: %w", err)
	}
	if h>>4 != 9 || len(ack) != 3 || ack[2] > 2 {
		return fmt.Errorf("SUBSCRIBE %s refused (packet %#x, %v)", filter, h, ack)
	}
	return nil
}

// write sends frames already built (several PUBLISHes in one write).
func (c *client) write(b []byte) error {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	_, err := c.nc.Write(b)
	return err
}

// readLoop hands every PUBLISH to on until the connection ends.
func (c *client) readLoop(on func(topic string, payload []byte)) error {
	for {
		h, body, err := c.readPacket()
		if err != nil {
			return err
		}
		if h>>4 != 3 {
			continue
		}
		if len(body) < 2 {
			return errors.New("short PUBLISH")
		}
		tl := int(binary.BigEndian.Uint16(body))
		if len(body) < 2+tl {
			return errors.New("short PUBLISH topic")
		}
		rest := body[2+tl:]
		if (h>>1)&3 > 0 {
			rest = rest[2:] // packet id; the baseline publishes at QoS 0
		}
		on(string(body[2:2+tl]), rest)
	}
}

func (c *client) readPacket() (byte, []byte, error) {
	h, err := c.r.ReadByte()
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
	if n > 1<<20 {
		return 0, nil, fmt.Errorf("packet of %d bytes", n)
	}
	body := make([]byte, n)
	_, err = io.ReadFull(c.r, body)
	return h, body, err
}

func (c *client) close() {
	_ = c.write([]byte{0xe0, 0}) // DISCONNECT
	c.nc.Close()
}

// appendPublish appends a QoS 0 PUBLISH frame.
func appendPublish(dst []byte, topic string, payload []byte) []byte {
	body := appendString(make([]byte, 0, 2+len(topic)+len(payload)), topic)
	return frame(dst, 0x30, append(body, payload...))
}

// frame appends a packet: header byte, remaining length, body.
func frame(dst []byte, header byte, body []byte) []byte {
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

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...)
}
