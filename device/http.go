package device

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// downloadHTTP fetches the file from the document's pre-signed
// update_data_url with Range requests of HTTPChunk bytes (whole blocks),
// asking again for a chunk that failed, up to MaxTries times in a row.
func (a *Agent) downloadHTTP(ctx context.Context, ex *execution, doc *JobDocument, rcv *receiver, df *downloadFaults, out *JobOutcome) error {
	url := doc.File.UpdateDataURL
	if strings.HasPrefix(url, "${") {
		return &failure{CodeInvalidDataProtocol, fmt.Errorf("update_data_url is an unreplaced placeholder: %s", url)}
	}
	chunkBlocks := max(1, a.cfg.HTTPChunk/a.cfg.BlockSize)
	bs := int64(a.cfg.BlockSize)
	fails := 0
	for rcv.received() < rcv.nblocks {
		o, _, _ := rcv.have.missingFrom(rcv.nblocks, 1)
		end := min(o+chunkBlocks, rcv.nblocks)
		from, to := int64(o)*bs, min(int64(end)*bs, rcv.size)-1
		body, err := a.getRange(ctx, url, from, to, rcv.size)
		if err == nil && a.dice.chance(a.cfg.Faults.DropRate) {
			err = fmt.Errorf("bytes %d-%d lost (injected)", from, to)
		}
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if f, ok := err.(*failure); ok {
				return f
			}
			out.Rerequests++
			if fails++; fails >= a.cfg.MaxTries {
				return &failure{CodeDownloadFailed, fmt.Errorf("%d failed requests in a row: %w", fails, err)}
			}
			if !sleep(ctx, time.Duration(20*fails)*time.Millisecond) {
				return ctx.Err()
			}
			continue
		}
		fails = 0
		for i := o; i < end; i++ {
			p := body[int64(i-o)*bs : min(int64(i-o+1)*bs, int64(len(body)))]
			offline, err := a.arrived(ctx, ex, rcv, df, i, p)
			if err != nil {
				return err
			}
			if offline {
				break
			}
		}
	}
	return nil
}

// getRange GETs bytes from-to of the object. A 206 must carry exactly that
// range; a 200 (a server ignoring Range) must carry the whole file. Access
// errors (403, 404: an expired or bad URL) fail the download at once.
func (a *Agent) getRange(ctx context.Context, url string, from, to, size int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, &failure{CodeDownloadFailed, fmt.Errorf("update_data_url: %w", err)}
	}
	req.Header.Set("Range", fmt.Sprintf("bytes=%d-%d", from, to))
	resp, err := a.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusPartialContent:
		body, err := io.ReadAll(io.LimitReader(resp.Body, to-from+2))
		if err != nil {
			return nil, err
		}
		if int64(len(body)) != to-from+1 {
			return nil, fmt.Errorf("range %d-%d: got %d bytes", from, to, len(body))
		}
		return body, nil
	case http.StatusOK:
		body, err := io.ReadAll(io.LimitReader(resp.Body, size+1))
		if err != nil {
			return nil, err
		}
		if int64(len(body)) != size {
			return nil, &failure{CodeRxFileTooLarge, fmt.Errorf("the object has %d bytes, the job document says %d", len(body), size)}
		}
		return body[from : to+1], nil
	case http.StatusForbidden, http.StatusNotFound, http.StatusBadRequest, http.StatusRequestedRangeNotSatisfiable:
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, &failure{CodeDownloadFailed, fmt.Errorf("GET update_data_url: %s: %s", resp.Status, strings.TrimSpace(string(msg)))}
	}
	return nil, fmt.Errorf("GET update_data_url: %s", resp.Status)
}
