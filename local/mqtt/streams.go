package mqtt

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/fxamacker/cbor/v2"
	mochi "github.com/mochi-mqtt/server/v2"
)

// MQTT-based file delivery: $aws/things/{thing}/streams/{streamId}/
// describe/{json|cbor} → description/{fmt}, get/{fmt} → one data/{fmt}
// message per block, errors on rejected/{fmt}. Keys are AWS's short ones.

// Limits of the streaming service (AWS IoT Core service quotas).
const (
	minBlockSize     = 256
	maxBlockSize     = 131072
	maxRequestBytes  = 131072 // data sent for one GetStream request
	maxBlockOffset   = 98304
	maxBlockCount    = 98304
	maxBitmapBytes   = 12288 // the bitmap must be smaller than this
	maxStreamFileID  = 255
	streamCodeFormat = "json"
)

// Stream error codes (the rejected payload's "o").
const (
	CodeInvalidCBOR              = "InvalidCbor"
	CodeBlockSizeOutOfBounds     = "BlockSizeOutOfBounds"
	CodeOffsetOutOfBounds        = "OffsetOutOfBounds"
	CodeBlockCountLimitExceeded  = "BlockCountLimitExceeded"
	CodeBlockBitmapLimitExceeded = "BlockBitmapLimitExceeded"
)

// streamError is a rejected stream request.
type streamError struct{ code, msg string }

func (e *streamError) Error() string { return e.code + ": " + e.msg }

func sErr(code, format string, args ...any) *streamError {
	return &streamError{code, fmt.Sprintf(format, args...)}
}

// streamRequest is a DescribeStream or GetStream request. B is a byte
// string in CBOR; in JSON a string, hex ("0x130080", as AWS documents it)
// or base64.
type streamRequest struct {
	C *string `json:"c" cbor:"c"`
	S *int64  `json:"s" cbor:"s"`
	F *int64  `json:"f" cbor:"f"`
	L *int64  `json:"l" cbor:"l"`
	O *int64  `json:"o" cbor:"o"`
	N *int64  `json:"n" cbor:"n"`
	B rawBits `json:"b" cbor:"b"`
}

type rawBits []byte

func (r *rawBits) UnmarshalJSON(raw []byte) error {
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return sErr(CodeInvalidRequest, "b must be a string (hex bitmap)")
	}
	h := strings.TrimPrefix(strings.TrimPrefix(s, "0x"), "0X")
	if v, err := hex.DecodeString(h); err == nil {
		*r = v
		return nil
	}
	if v, err := base64.StdEncoding.DecodeString(s); err == nil {
		*r = v
		return nil
	}
	return sErr(CodeInvalidRequest, "b is neither hex nor base64")
}

type describeResponse struct {
	C *string          `json:"c,omitempty" cbor:"c,omitempty"`
	S int64            `json:"s" cbor:"s"`
	D string           `json:"d,omitempty" cbor:"d,omitempty"`
	R []describeFileJS `json:"r" cbor:"r"`
}

type describeFileJS struct {
	F int   `json:"f" cbor:"f"`
	Z int64 `json:"z" cbor:"z"`
}

type dataResponse struct {
	C *string `json:"c,omitempty" cbor:"c,omitempty"`
	F int64   `json:"f" cbor:"f"`
	L int     `json:"l" cbor:"l"`
	I int64   `json:"i" cbor:"i"`
	P []byte  `json:"p" cbor:"p"` // base64 in JSON, a byte string in CBOR
}

type streamRejected struct {
	O string  `json:"o" cbor:"o"`
	M string  `json:"m" cbor:"m"`
	C *string `json:"c,omitempty" cbor:"c,omitempty"`
}

// serveStreams answers a request on $aws/things/{thing}/streams/{rest}; it
// reports false for topics that are not requests (answers, data).
func (b *Broker) serveStreams(cl *mochi.Client, thing, rest string, payload []byte) bool {
	parts := strings.Split(rest, "/")
	if len(parts) != 3 || (parts[1] != "describe" && parts[1] != "get") {
		return false
	}
	streamID, op, format := parts[0], parts[1], parts[2]
	base := thingPrefix + thing + "/streams/" + streamID + "/"
	if format != "json" && format != "cbor" {
		b.reply(cl, base+"rejected/"+streamCodeFormat, encodeAs(streamCodeFormat,
			streamRejected{O: CodeInvalidTopic, M: "format must be json or cbor, got " + format}))
		return true
	}
	req, err := decodeStreamRequest(format, payload)
	var token *string
	if req != nil {
		token = req.C
	}
	if err == nil {
		if op == "describe" {
			err = b.describeStream(cl, base, format, streamID, req)
		} else {
			err = b.getStream(cl, base, format, streamID, req)
		}
	}
	if err != nil {
		var se *streamError
		if !errors.As(err, &se) {
			se = sErr(CodeInternalError, "%v", err)
		}
		b.reply(cl, base+"rejected/"+format, encodeAs(format, streamRejected{O: se.code, M: se.msg, C: token}))
	}
	return true
}

func decodeStreamRequest(format string, payload []byte) (*streamRequest, error) {
	req, fast := (*streamRequest)(nil), false
	if format == "cbor" {
		req, fast = decodeGetCBOR(payload) // request_cbor.go
	}
	if !fast {
		req = &streamRequest{}
	}
	if !fast && (format == "cbor" && len(payload) > 0 || format == "json" && len(bytes.TrimSpace(payload)) > 0) {
		var err error
		if format == "json" {
			err = json.Unmarshal(payload, req)
		} else {
			err = cbor.Unmarshal(payload, req)
		}
		if err != nil {
			var se *streamError
			var jt *json.UnmarshalTypeError
			var ct *cbor.UnmarshalTypeError
			switch {
			case errors.As(err, &se):
				return nil, se
			case errors.As(err, &jt):
				// The other fields are decoded: the token is echoed.
				return req, sErr(CodeInvalidRequest, "field %s: expected %s", jt.Field, jt.Type)
			case errors.As(err, &ct):
				return req, sErr(CodeInvalidRequest, "%v", ct)
			case format == "json":
				return nil, sErr(CodeInvalidJSON, "the request is not valid JSON: %v", err)
			default:
				return nil, sErr(CodeInvalidCBOR, "the request is not valid CBOR: %v", err)
			}
		}
	}
	if req.C != nil && len(*req.C) > maxClientToken {
		req.C = nil // a malformed token is not echoed
		return req, sErr(CodeInvalidRequest, "the client token is longer than %d bytes", maxClientToken)
	}
	return req, nil
}

func encodeAs(format string, v any) []byte {
	if format == "cbor" {
		raw, err := cbor.Marshal(v)
		if err != nil {
			panic(fmt.Sprintf("mqtt: encode response: %v", err))
		}
		return raw
	}
	return mustJSON(v)
}

func (b *Broker) stream(id string) (Stream, error) {
	if b.deps.Streams == nil {
		return Stream{}, errors.New("streams are not available")
	}
	st, err := b.deps.Streams.Stream(id)
	if errors.Is(err, ErrNotFound) {
		return st, sErr(CodeResourceNotFound, "stream %s not found", id)
	}
	return st, err
}

func (b *Broker) open(f StreamFile) (Object, error) {
	if b.deps.Objects == nil {
		return nil, errors.New("objects are not available")
	}
	o, err := b.objects.open(b.deps.Objects, f)
	if errors.Is(err, ErrNotFound) {
		return nil, sErr(CodeResourceNotFound, "file %d: s3://%s/%s version %q not found", f.FileID, f.Bucket, f.Key, f.Version)
	}
	return o, err
}

func (b *Broker) describeStream(cl *mochi.Client, base, format, id string, req *streamRequest) error {
	st, err := b.stream(id)
	if err != nil {
		return err
	}
	resp := describeResponse{C: req.C, S: st.Version, D: st.Description, R: []describeFileJS{}}
	for _, f := range st.Files {
		o, err := b.open(f)
		if err != nil {
			return err
		}
		resp.R = append(resp.R, describeFileJS{F: f.FileID, Z: o.Size()})
		o.Close()
	}
	b.reply(cl, base+"description/"+format, encodeAs(format, resp))
	return nil
}

func (b *Broker) getStream(cl *mochi.Client, base, format, id string, req *streamRequest) error {
	st, err := b.stream(id)
	if err != nil {
		return err
	}
	if req.S != nil && *req.S != st.Version {
		return sErr(CodeVersionMismatch, "stream %s is at version %d, not %d", id, st.Version, *req.S)
	}
	if req.F == nil {
		return sErr(CodeInvalidRequest, "the file id (f) is required")
	}
	if *req.F < 0 || *req.F > maxStreamFileID {
		return sErr(CodeInvalidRequest, "the file id must be 0-%d", maxStreamFileID)
	}
	var file *StreamFile
	for i := range st.Files {
		if int64(st.Files[i].FileID) == *req.F {
			file = &st.Files[i]
		}
	}
	if file == nil {
		return sErr(CodeResourceNotFound, "stream %s has no file %d", id, *req.F)
	}
	if req.L == nil || *req.L < minBlockSize || *req.L > maxBlockSize {
		return sErr(CodeBlockSizeOutOfBounds, "the block size (l) must be %d-%d", minBlockSize, maxBlockSize)
	}
	var offset, count int64
	if req.O != nil {
		offset = *req.O
	}
	if offset < 0 || offset > maxBlockOffset {
		return sErr(CodeOffsetOutOfBounds, "the block offset (o) must be 0-%d", maxBlockOffset)
	}
	if req.N != nil {
		count = *req.N
	}
	if count < 0 || count > maxBlockCount {
		return sErr(CodeBlockCountLimitExceeded, "the number of blocks (n) must be 0-%d", maxBlockCount)
	}
	if len(req.B) >= maxBitmapBytes {
		return sErr(CodeBlockBitmapLimitExceeded, "the bitmap must be smaller than %d bytes", maxBitmapBytes)
	}
	obj, err := b.open(*file)
	if err != nil {
		return err
	}
	defer obj.Close()
	size, l := obj.Size(), *req.L
	blocks := (size + l - 1) / l
	if offset >= blocks {
		return sErr(CodeOffsetOutOfBounds, "block %d is past the end of file %d (%d blocks of %d bytes)", offset, *req.F, blocks, l)
	}
	// At most 128 KiB of blocks per request; n (or the bitmap) may ask for
	// fewer. AWS does not fail a larger request: it sends the first 128 KiB
	// and the device asks again for the rest.
	limit := maxRequestBytes / l
	if count > 0 && count < limit {
		limit = count
	}
	topic, v5 := base+"data/"+format, cl.Properties.ProtocolVersion == 5
	// The window's frames are built into one buffer and written together
	// (flushed early past flushAt), in block order.
	bp := windowPool.Get().(*[]byte)
	out := (*bp)[:0]
	defer func() {
		if cap(out) <= 2*flushAt {
			*bp = out[:0]
			windowPool.Put(bp)
		}
	}()
	flush := func() error {
		if len(out) == 0 {
			return nil
		}
		err := writeFrames(cl, out)
		out = out[:0]
		if err != nil {
			return errGone
		}
		return nil
	}
	var raw, prefix []byte
	var rd *blockReader
	// send appends block i as one message. A block is read straight into
	// the message (CBOR) from the object version: nothing else is read.
	send := func(i int64) error {
		n := int(min(l, size-i*l))
		at := len(out)
		if format == "cbor" {
			prefix = appendBlockCBOR(prefix[:0], req.C, *req.F, i, n)
			out = append(appendPublishHeader(out, topic, v5, len(prefix)+n), prefix...)
			p := len(out)
			out = slices.Grow(out, n)[:p+n]
			if err := rd.read(out[p:], i*l); err != nil {
				out = out[:at]
				return errors.Join(flush(), fmt.Errorf("reading block %d: %w", i, err))
			}
		} else {
			if raw == nil {
				raw = make([]byte, l)
			}
			if err := rd.read(raw[:n], i*l); err != nil {
				return errors.Join(flush(), fmt.Errorf("reading block %d: %w", i, err))
			}
			out = appendPublish(out, topic, v5, mustJSON(dataResponse{C: req.C, F: *req.F, L: n, I: i, P: raw[:n]}))
		}
		if fits(cl, len(out)-at) != nil {
			out = out[:at]
			flush()
			return errGone
		}
		if len(out) >= flushAt {
			return flush()
		}
		return nil
	}
	var wantBuf [32]int64 // a window's blocks, without an allocation
	want := wantedBlocksInto(wantBuf[:0], req.B, offset, blocks, limit)
	if len(want) == 0 {
		return nil
	}
	rd = newBlockReader(obj, min(size, (want[len(want)-1]+1)*l))
	defer rd.release()
	for _, i := range want {
		if err := send(i); err != nil {
			return ignoreGone(err)
		}
	}
	return ignoreGone(flush())
}

// flushAt bounds the bytes of a window held before writing them.
const flushAt = 64 << 10

var windowPool = sync.Pool{New: func() any { b := make([]byte, 0, 40<<10); return &b }}

// errGone means the requester's connection failed: stop sending.
var errGone = errors.New("requester gone")

func ignoreGone(err error) error {
	if errors.Is(err, errGone) {
		return nil
	}
	return err
}
