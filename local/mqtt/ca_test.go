package mqtt_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/otactl/otactl/local/mqtt"
	"github.com/otactl/otactl/local/store"
)

// TestCAPersists: devices keep trusting the broker across restarts.
func TestCAPersists(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	a, err := mqtt.LoadCA(st)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	st, err = store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	b, err := mqtt.LoadCA(st)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.CertPEM(), b.CertPEM()) {
		t.Fatal("a new CA after reopening the store")
	}
	onDisk, err := os.ReadFile(filepath.Join(dir, mqtt.CAFile))
	if err != nil || !bytes.Equal(onDisk, a.CertPEM()) {
		t.Fatalf("%s: %v", mqtt.CAFile, err)
	}
	// The server certificate chains to it.
	sc, err := b.ServerCertificate("broker.local")
	if err != nil || len(sc.Certificate) != 2 {
		t.Fatalf("server certificate: %v", err)
	}
}
