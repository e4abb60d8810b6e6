package cli

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/otactl/otactl/internal/mqttwire"
	"github.com/otactl/otactl/internal/wsconn"
	"github.com/otactl/otactl/local"
)

// TestLocalWebSocketBanner: otactl local --mqtt-wss-addr says where MQTT
// over WebSocket is and which policy judges its clients, and a client
// signing with the keys the banner exports connects there.
func TestLocalWebSocketBanner(t *testing.T) {
	dir := t.TempDir()
	_, m := runLocalUntil(t, regexp.MustCompile(`# MQTT over WebSocket: wss://127\.0\.0\.1:(\d+)/mqtt, SigV4 \(service iotdevicegateway\) with the keys above; clients judged by the built-in development policy\n`),
		"--data-dir", dir, "--addr", "127.0.0.1:0", "--mqtts-addr", "", "--mqtt-wss-addr", "127.0.0.1:0")
	pem, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	req, _ := http.NewRequest("GET", "https://localhost:"+m[1]+"/mqtt", nil)
	empty := sha256.Sum256(nil)
	signed, _, err := v4.NewSigner().PresignHTTP(context.Background(),
		aws.Credentials{AccessKeyID: local.DefaultAccessKeyID, SecretAccessKey: local.DefaultSecretAccessKey},
		req, hex.EncodeToString(empty[:]), "iotdevicegateway", local.DefaultRegion, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	conn, err := wsconn.Dial("wss"+signed[len("https"):], &tls.Config{RootCAs: roots}, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c, err := mqttwire.Connect(conn, "dev-1", 0, 20*time.Second, func(string, []byte) {})
	if err != nil {
		t.Fatal(err)
	}
	c.Disconnect()
}
