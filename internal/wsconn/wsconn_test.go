package wsconn_test

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/otactl/otactl/internal/wsconn"
)

// TestStream: the binary messages read as one stream whatever their
// boundaries; each write is a message; a text message is an error.
func TestStream(t *testing.T) {
	up := websocket.Upgrader{Subprotocols: []string{wsconn.Subprotocol}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		for _, m := range []string{"ab", "", "cde", "f"} {
			ws.WriteMessage(websocket.BinaryMessage, []byte(m))
		}
		_, echo, _ := ws.ReadMessage()
		ws.WriteMessage(websocket.BinaryMessage, echo)
		ws.WriteMessage(websocket.TextMessage, []byte("oops"))
	}))
	defer srv.Close()
	c, err := wsconn.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/mqtt", nil, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 6)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "abcdef" {
		t.Fatalf("read %q %v", buf, err)
	}
	if n, err := c.Write([]byte("ping")); n != 4 || err != nil {
		t.Fatal(n, err)
	}
	if _, err := io.ReadFull(c, buf[:4]); err != nil || string(buf[:4]) != "ping" {
		t.Fatalf("echo %q %v", buf[:4], err)
	}
	if _, err := c.Read(buf); !errors.Is(err, wsconn.ErrText) {
		t.Fatalf("text message: %v", err)
	}
}

// TestDialRefused: a refused upgrade says the status and the server's words.
func TestDialRefused(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "Request has expired", http.StatusForbidden)
	}))
	defer srv.Close()
	_, err := wsconn.Dial("ws"+strings.TrimPrefix(srv.URL, "http")+"/mqtt?X-Amz-Signature=secret", nil, 5*time.Second)
	if err == nil || !strings.Contains(err.Error(), "403") || !strings.Contains(err.Error(), "Request has expired") || strings.Contains(err.Error(), "secret") {
		t.Fatalf("got %v", err)
	}
}
