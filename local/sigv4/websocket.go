package sigv4

import (
	"crypto/hmac"
	"encoding/hex"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// WebSocketService is the signing name of AWS IoT's MQTT over WebSocket
// (wss://<endpoint>/mqtt).
const WebSocketService = "iotdevicegateway"

// webSocketDefaultExpiry is how long after X-Amz-Date a URL without
// X-Amz-Expires may open a connection (several AWS IoT clients sign none;
// AWS's skew window).
const webSocketDefaultExpiry = "900"

// CheckWebSocket verifies the SigV4 query of an MQTT-over-WebSocket
// upgrade request the way AWS IoT's clients sign it, which differs from a
// presigned S3 URL in three ways: X-Amz-Security-Token is appended after
// signing (it is not part of the canonical query), X-Amz-Expires may be
// missing, and the payload hash is that of the empty string (some
// clients use UNSIGNED-PAYLOAD: both are accepted). The host a client
// signs may leave out a port its Host header carries (AWS's endpoint has
// none); both are accepted. The scope's service must be iotdevicegateway.
func CheckWebSocket(r *http.Request, secret func(accessKey string) (string, bool), now time.Time) (*Identity, error) {
	rawPath, rawQuery, _ := strings.Cut(r.RequestURI, "?")
	if !strings.HasPrefix(rawPath, "/") {
		rawPath, rawQuery = r.URL.EscapedPath(), r.URL.RawQuery
	}
	var kept []string
	for _, p := range strings.Split(rawQuery, "&") {
		if p != "" && !strings.HasPrefix(p, "X-Amz-Security-Token=") {
			kept = append(kept, p)
		}
	}
	signedQuery := strings.Join(kept, "&")
	q, err := url.ParseQuery(signedQuery)
	if err != nil {
		return nil, errorf(MalformedQuery, "the query string cannot be parsed")
	}
	if q.Get("X-Amz-Expires") == "" {
		q.Set("X-Amz-Expires", webSocketDefaultExpiry)
	}
	si, err := parseV4Query(q)
	if err != nil {
		return nil, err
	}
	id := &Identity{AccessKey: si.accessKey, Service: si.service, Region: si.region, Presigned: true}
	if si.service != WebSocketService {
		return id, errorf(Mismatch, "the credential scope's service must be "+WebSocketService+", got "+si.service)
	}
	key, known := secret(si.accessKey)
	if !known {
		return id, errorf(UnknownKey, "The AWS Access Key Id you provided does not exist in our records.")
	}
	t, _ := time.Parse(amzDateFormat, si.amzDate) // parseV4Query checked it
	if now.After(t.Add(time.Duration(si.expires) * time.Second)) {
		return id, errorf(Expired, "Request has expired")
	}
	if t.After(now.Add(maxSkew)) {
		return id, errorf(NotYetValid, "Request is not valid yet")
	}
	hosts := []string{r.Host}
	if h, _, err := net.SplitHostPort(r.Host); err == nil {
		hosts = append(hosts, h)
	}
	skey := signingKey(key, si.scope)
	for _, host := range hosts {
		for _, payload := range []string{hexSHA256(nil), "UNSIGNED-PAYLOAD"} {
			var cr strings.Builder
			cr.WriteString(r.Method + "\n" + escape(rawPath, true) + "\n" + canonicalQuery(signedQuery, true) + "\n")
			for _, h := range si.signedHeaders {
				v := headerValue(r, h)
				if h == "host" {
					v = host
				}
				cr.WriteString(h + ":" + v + "\n")
			}
			cr.WriteString("\n" + strings.Join(si.signedHeaders, ";") + "\n" + payload)
			sts := "AWS4-HMAC-SHA256\n" + si.amzDate + "\n" + si.scope + "\n" + hexSHA256([]byte(cr.String()))
			if hmac.Equal([]byte(hex.EncodeToString(hmacSHA256(skey, sts))), []byte(si.signature)) {
				id.Verified = true
				return id, nil
			}
		}
	}
	return id, errorf(Mismatch, msgMismatch)
}
