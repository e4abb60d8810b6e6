package device

import (
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// GetRequest is an MQTT file stream get request, with AWS's short keys.
type GetRequest struct {
	C string `cbor:"c,omitempty"` // client token
	F int    `cbor:"f"`           // file id
	L int    `cbor:"l"`           // block size
	O int    `cbor:"o"`           // offset: first block
	N int    `cbor:"n"`           // number of blocks wanted
	B []byte `cbor:"b,omitempty"` // bitmap of wanted blocks from O, LSB first
}

// DataBlock is one data/cbor message: a block of a file.
type DataBlock struct {
	C string `cbor:"c,omitempty"`
	F int    `cbor:"f"`
	L int    `cbor:"l"` // payload length
	I int    `cbor:"i"` // block index
	P []byte `cbor:"p"`
}

// StreamRejected is a rejected/cbor message.
type StreamRejected struct {
	O string `cbor:"o"` // error code
	M string `cbor:"m"`
	C string `cbor:"c,omitempty"`
}

// EncodeGet encodes a get request in CBOR.
func EncodeGet(r GetRequest) []byte {
	raw, err := cbor.Marshal(r)
	if err != nil {
		panic(fmt.Sprintf("device: encode get request: %v", err)) // plain struct: cannot fail
	}
	return raw
}

// DecodeData decodes a data/cbor message and checks its length field.
func DecodeData(raw []byte) (DataBlock, error) {
	d, ok := decodeDataFast(raw) // cbor_fast.go
	if !ok {
		d = DataBlock{}
		if err := cbor.Unmarshal(raw, &d); err != nil {
			return d, fmt.Errorf("data block: %w", err)
		}
	}
	if d.L != len(d.P) {
		return d, fmt.Errorf("data block %d: l=%d but %d payload bytes", d.I, d.L, len(d.P))
	}
	if d.I < 0 {
		return d, fmt.Errorf("data block: negative index %d", d.I)
	}
	return d, nil
}

// DecodeRejected decodes a rejected/cbor message.
func DecodeRejected(raw []byte) (StreamRejected, error) {
	var r StreamRejected
	err := cbor.Unmarshal(raw, &r)
	return r, err
}
