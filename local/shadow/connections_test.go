package shadow_test

import (
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/otactl/otactl/internal/mqttwire"
	"github.com/otactl/otactl/internal/testtool"
)

// TestDeleteConnection: `aws iot-data delete-connection` disconnects a
// connected client (its clean session and subscription go); a client that
// is not connected is ResourceNotFoundException; a reserved id is refused.
func TestDeleteConnection(t *testing.T) {
	aws := testtool.Require(t, "aws", "apt-get install awscli")
	f := start(t)
	b := f.startMQTT()
	nc, err := net.Dial("tcp", b.Addr())
	if err != nil {
		t.Fatal(err)
	}
	c, err := mqttwire.Connect(nc, "lamp", 0, 20*time.Second, func(string, []byte) {})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Disconnect()
	if _, err := c.Subscribe(20*time.Second, 1, "$aws/things/lamp/shadow/update/delta"); err != nil {
		t.Fatal(err)
	}
	waitSubscribed(t, b, "lamp", "$aws/things/lamp/shadow/update/delta")
	run := func(args ...string) (string, error) {
		cmd := exec.Command(aws, append([]string{"iot-data", "delete-connection"}, args...)...)
		cmd.Env = cliEnv(f.env.URL)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run("--client-id", "lamp", "--clean-session", "--prevent-will-message"); err != nil {
		t.Fatalf("delete-connection: %v %s", err, out)
	}
	for deadline := time.Now().Add(20 * time.Second); b.Subscribed("lamp", "$aws/things/lamp/shadow/update/delta"); {
		if time.Now().After(deadline) {
			t.Fatal("lamp is still connected and subscribed")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if out, err := run("--client-id", "lamp"); err == nil || !strings.Contains(out, "ResourceNotFoundException") {
		t.Fatalf("a client not connected: %v %s", err, out)
	}
	f.expectError(f.data("DELETE", "/connections/%24aws", ""), 400, "InvalidRequestException", `clientId must be 1-128 characters and may not start with $, got "$aws"`)
}
