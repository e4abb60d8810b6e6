package s3_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestExpectContinueOneConnection sends PutObject 6 bytes, 0 bytes and 6
// bytes on one connection, each with Expect: 100-continue, the way botocore
// does: headers first, the body only after 100 Continue. Every request,
// the zero-length one too, must get 100 Continue and then its 200.
func TestExpectContinueOneConnection(t *testing.T) {
	f := newFixture(t)
	f.bucket(t, "expect", "")
	conn, err := net.Dial("tcp", strings.TrimPrefix(f.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// A bound on a broken exchange, not a timing assertion: a missing
	// answer fails the read instead of hanging the test.
	conn.SetDeadline(time.Now().Add(30 * time.Second))
	br := bufio.NewReader(conn)
	for i, body := range []string{"hello!", "", "world!"} {
		fmt.Fprintf(conn, "PUT /expect/k HTTP/1.1\r\nHost: %s\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n",
			strings.TrimPrefix(f.url, "http://"), len(body))
		interim, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if interim.StatusCode != http.StatusContinue {
			t.Fatalf("request %d (%d bytes): first answer %s, want 100 Continue", i, len(body), interim.Status)
		}
		io.WriteString(conn, body)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Close {
			t.Fatalf("request %d: %s (close %v)", i, resp.Status, resp.Close)
		}
	}
	if got := f.get(t, "expect", "k", ""); got != "world!" {
		t.Fatalf("body = %q", got)
	}
}
