package awscloud

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

type debugKey struct{}

// WithDebug asks every Cloud built with ctx (New) to log each AWS call to
// w: what otactl --debug shows, as aws --debug does.
func WithDebug(ctx context.Context, w io.Writer) context.Context {
	return context.WithValue(ctx, debugKey{}, &debugLog{w: w})
}

type debugLog struct {
	mu sync.Mutex // calls run concurrently (signing several files, fleets)
	w  io.Writer
}

func debugFrom(ctx context.Context) *debugLog {
	d, _ := ctx.Value(debugKey{}).(*debugLog)
	return d
}

// debugMiddleware logs one line per attempt (it sits in the deserialize
// step, inside the retry loop): service and operation, method and URL,
// HTTP status, request id and how long the attempt took.
func (d *debugLog) middleware(stack *middleware.Stack) error {
	return stack.Deserialize.Add(middleware.DeserializeMiddlewareFunc("otactlDebug",
		func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
			start := time.Now()
			out, md, err := next.HandleDeserialize(ctx, in)
			took := time.Since(start)
			call := awsmiddleware.GetServiceID(ctx) + "." + awsmiddleware.GetOperationName(ctx)
			target := "-"
			if req, ok := in.Request.(*smithyhttp.Request); ok && req.URL != nil {
				u := *req.URL
				u.RawQuery = "" // pre-signed or paged queries add nothing a bug report needs
				target = req.Method + " " + u.String()
			}
			status, reqID := "-", "-"
			if resp, ok := out.RawResponse.(*smithyhttp.Response); ok && resp != nil && resp.Response != nil && resp.StatusCode != 0 {
				status = fmt.Sprint(resp.StatusCode)
				for _, h := range []string{"X-Amzn-Requestid", "X-Amz-Request-Id", "X-Amzn-Request-Id"} {
					if v := resp.Header.Get(h); v != "" {
						reqID = v
						break
					}
				}
			}
			if id, ok := awsmiddleware.GetRequestIDMetadata(md); ok && id != "" {
				reqID = id
			}
			line := fmt.Sprintf("debug: %s %s %s status=%s request-id=%s %s", time.Now().UTC().Format("15:04:05.000"),
				call, target, status, reqID, took.Round(100*time.Microsecond))
			if err != nil && status == "-" { // no answer: say why
				line += fmt.Sprintf(" error=%q", err.Error())
			}
			d.mu.Lock()
			fmt.Fprintln(d.w, line)
			d.mu.Unlock()
			return out, md, err
		}), middleware.Before)
}
