package device

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// downloadMQTT fetches the file over the document's MQTT stream, as the
// FreeRTOS agent does: CBOR get requests for a window of the missing blocks
// (offset of the first missing block and a bitmap of the missing ones after
// it), one data message per block, and a request again for what is still
// missing when the window's last block went by or the request timed out.
// MaxTries requests in a row that bring nothing fail the download.
func (a *Agent) downloadMQTT(ctx context.Context, ex *execution, doc *JobDocument, rcv *receiver, df *downloadFaults, out *JobOutcome) error {
	base := a.topic("streams/" + doc.StreamName + "/")
	a.streamTopics = []string{base + "data/cbor", base + "rejected/cbor"}
	defer func() { a.streamTopics = nil }()
	if err := a.cn.subscribe(ctx, a.cfg.ReplyTimeout, a.streamTopics...); err != nil {
		if err := a.reconnect(ctx, false, 0); err != nil { // connect re-subscribes
			return err
		}
	}
	a.in.takeData() // nothing stale from an earlier download
	empty, again := 0, false
	for rcv.received() < rcv.nblocks {
		o, bm, _ := rcv.have.missingFrom(rcv.nblocks, a.cfg.BitmapBlocks)
		want := min(a.cfg.Window, bm.Count())
		if again { // asking again for blocks an earlier request did not bring
			out.Rerequests++
		}
		a.seq++
		req := GetRequest{C: strconv.Itoa(a.seq), F: doc.File.FileID, L: a.cfg.BlockSize, O: o, N: want, B: bm}
		if err := a.cn.publish(ctx, a.cfg.ReplyTimeout, base+"get/cbor", 0, EncodeGet(req)); err != nil {
			if err := a.reconnect(ctx, false, 0); err != nil {
				return err
			}
			continue
		}
		got, timeout, err := a.collect(ctx, ex, rcv, df, req, want)
		if err != nil {
			return err
		}
		again = got < want
		if got > 0 {
			empty = 0
			continue
		}
		if timeout {
			if empty++; empty >= a.cfg.MaxTries {
				return &failure{CodeMomentumAbort, fmt.Errorf("no blocks after %d requests (%d/%d received)", empty, rcv.received(), rcv.nblocks)}
			}
		}
	}
	return nil
}

// lastRequested is the highest block index a request can bring.
func lastRequested(req GetRequest, want int) int {
	last, n := -1, 0
	for k := 0; k < len(req.B)*8 && n < want; k++ {
		if req.B[k/8]&(1<<(k%8)) != 0 {
			last, n = req.O+k, n+1
		}
	}
	return last
}

// collect takes the blocks a request brings. It returns after want new
// blocks, after the request's last block went by (the broker sends a
// request's blocks in order, so anything missing before it was lost), on
// a reconnect, or after RequestTimeout (timeout = true).
func (a *Agent) collect(ctx context.Context, ex *execution, rcv *receiver, df *downloadFaults, req GetRequest, want int) (got int, timeout bool, err error) {
	last := lastRequested(req, want)
	t := time.NewTimer(a.cfg.RequestTimeout)
	defer t.Stop()
	cn := a.cn
	for {
		for _, m := range a.in.takeData() {
			switch {
			case strings.HasSuffix(m.topic, "/rejected/cbor"):
				rej, derr := DecodeRejected(m.payload)
				if derr != nil || rej.C != "" && rej.C != req.C {
					continue // not ours: an older request's
				}
				return got, false, &failure{CodeRequestBlockFailed, fmt.Errorf("stream %s rejected the request: %s %s", req.C, rej.O, rej.M)}
			case !strings.HasSuffix(m.topic, "/data/cbor"):
				continue
			}
			blk, derr := DecodeData(m.payload)
			if derr != nil || blk.F != req.F {
				a.logf("ignored stream message", "error", derr)
				continue
			}
			ended := blk.I == last
			if a.dice.chance(a.cfg.Faults.DropRate) {
				if ended {
					return got, false, nil
				}
				continue
			}
			before := rcv.received()
			offline, err := a.arrived(ctx, ex, rcv, df, blk.I, blk.P)
			if err != nil {
				return got, false, err
			}
			got += rcv.received() - before
			if offline || got >= want || ended {
				return got, false, nil
			}
		}
		select {
		case <-a.in.dataCh:
		case <-t.C:
			return got, true, nil
		case <-cn.dead:
			if err := a.reconnect(ctx, false, 0); err != nil {
				return got, false, err
			}
			return got, false, nil
		case <-ctx.Done():
			return got, false, ctx.Err()
		}
	}
}
