package mqtt

import (
	"errors"

	mochi "github.com/mochi-mqtt/server/v2"
)

// Answers (Jobs responses, stream blocks) are QoS 0 PUBLISH packets written
// straight onto the requester's connection. They are framed here, into
// buffers the caller reuses, rather than by mochi's WritePacket, which
// allocates and copies each packet twice: a fleet downloading firmware
// makes this the broker's hottest path.

var errClosed = errors.New("connection closed")

// appendPublish appends a QoS 0 PUBLISH of payload on topic to dst.
func appendPublish(dst []byte, topic string, v5 bool, payload []byte) []byte {
	return append(appendPublishHeader(dst, topic, v5, len(payload)), payload...)
}

// appendPublishHeader appends the PUBLISH up to its payload, which the
// caller appends (size bytes).
func appendPublishHeader(dst []byte, topic string, v5 bool, size int) []byte {
	rem := 2 + len(topic) + size
	if v5 {
		rem++ // an empty property list
	}
	dst = append(dst, 0x30)
	for {
		b := byte(rem & 0x7f)
		rem >>= 7
		if rem > 0 {
			b |= 0x80
		}
		dst = append(dst, b)
		if rem == 0 {
			break
		}
	}
	dst = append(dst, byte(len(topic)>>8), byte(len(topic)))
	dst = append(dst, topic...)
	if v5 {
		dst = append(dst, 0)
	}
	return dst
}

// writeFrame writes a whole packet under the client's write lock (the one
// mochi's own writes take), so packets never interleave. The connection's
// deadline (keepalive × 1.5) bounds a write to a client that stopped reading.
func writeFrame(cl *mochi.Client, frame []byte) error {
	if err := fits(cl, len(frame)); err != nil {
		return err
	}
	return writeFrames(cl, frame)
}

// fits checks that a packet of n bytes may go to the client.
func fits(cl *mochi.Client, n int) error {
	if max := cl.Properties.Props.MaximumPacketSize; max > 0 && uint32(n) > max {
		return errors.New("packet larger than the client's maximum packet size")
	}
	return nil
}

// writeFrames writes whole packets, each already checked with fits, in one
// write under the client's lock: a window of stream blocks costs one
// syscall instead of one per block.
func writeFrames(cl *mochi.Client, frames []byte) error {
	if cl.Closed() || cl.Net.Conn == nil {
		return errClosed
	}
	cl.Lock()
	defer cl.Unlock()
	_, err := cl.Net.Conn.Write(frames)
	return err
}

// CBOR encoding of a stream data block {c, f, l, i, p}, written by hand so
// that the block can be read straight into the message.

func cborHead(dst []byte, major byte, n uint64) []byte {
	m := major << 5
	switch {
	case n < 24:
		return append(dst, m|byte(n))
	case n <= 0xff:
		return append(dst, m|24, byte(n))
	case n <= 0xffff:
		return append(dst, m|25, byte(n>>8), byte(n))
	case n <= 0xffffffff:
		return append(dst, m|26, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
	return append(dst, m|27, byte(n>>56), byte(n>>48), byte(n>>40), byte(n>>32), byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
}

func cborKey(dst []byte, k byte) []byte { return append(dst, 0x61, k) } // a 1-character text string

// appendBlockCBOR appends the block's map up to and including the byte
// string header of p; the caller appends the n payload bytes.
func appendBlockCBOR(dst []byte, token *string, fileID, index int64, n int) []byte {
	fields := uint64(4)
	if token != nil {
		fields++
	}
	dst = cborHead(dst, 5, fields)
	if token != nil {
		dst = cborKey(dst, 'c')
		dst = cborHead(dst, 3, uint64(len(*token)))
		dst = append(dst, *token...)
	}
	dst = cborKey(dst, 'f')
	dst = cborHead(dst, 0, uint64(fileID))
	dst = cborKey(dst, 'l')
	dst = cborHead(dst, 0, uint64(n))
	dst = cborKey(dst, 'i')
	dst = cborHead(dst, 0, uint64(index))
	dst = cborKey(dst, 'p')
	return cborHead(dst, 2, uint64(n))
}
