package mqtt_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"

	"github.com/otactl/otactl/internal/mqttwire"
	"github.com/otactl/otactl/local/mqtt"
)

// BenchmarkIdleTLSConnections measures what an idle mutual-TLS device
// costs the broker: N devices (OTACTL_BENCH_DEVICES, default 2000), each
// with its own certificate from CreateKeysAndCertificate, the thing policy
// attached through the IoT API and resolved by the control plane (as in
// otactl local), connect as their thing and subscribe to notify-next, as
// the fleet benchmark's devices do. The devices run in a child process (this
// test binary again, see TestMain), so every byte measured here is the
// broker's. Per connection, as deltas over the same broker before the
// devices came, it reports stack-B/conn (MemStats.StackInuse after five
// collections; stack1-B/conn after one: each halves a stack that uses less
// than a quarter of it), heap-B/conn (HeapAlloc after a collection: the
// live heap), total-B/conn (Sys − HeapReleased) and goroutines/conn.
//
//	go test -run x -bench IdleTLSConnections -benchtime 1x ./local/mqtt
//
// Where the bytes were (December 2026, Go 1.26, mochi v2.7.9, 2000 devices):
// stacks 20 KiB, two goroutines of mochi's. The connection goroutine is
// parked 6.4 KiB deep (attachClient's frame is 2.9 KiB and Client.Read's
// 1.6 KiB, crypto/tls's read path 1.3 KiB) and reading any packet takes it
// past 8 KiB (ReadPacket and Hooks.OnPacketRead are 2.5 and 3.3 KiB more),
// so its stack is 16 KiB and never shrinks (that needs under 4 KiB in use).
// WriteLoop is parked 2.3 KiB deep in a 4 KiB stack; 8 KiB once it has
// written, or when the runtime's adaptive starting size has reached 8 KiB
// (a second run in the same process reports 24 KiB). Live heap 12-13 KB;
// the heap profile's shares: crypto/tls about 60 % (the record and
// handshake buffers the ClientHello grew, the parsed client certificate and
// its message, AES-GCM both ways, the Conn), mochi's client 20 % (its
// outbound queue of 128 pointers is 1 KiB), the notify-next subscription
// 20 % (a map bucket in the client and one in the topic trie, three trie
// levels), the broker's own state 2-3 %.
func BenchmarkIdleTLSConnections(b *testing.B) {
	n := 2000
	if v, err := strconv.Atoi(os.Getenv("OTACTL_BENCH_DEVICES")); err == nil && v > 0 {
		n = v
	}
	e := newEnv(b, mqtt.Config{})
	// The control plane's principals (policies attached over the API,
	// parsed once per version), not the tests' stand-in.
	e.deps.Principals = e.adapter
	e.restart()
	if _, err := e.api.CreatePolicy(bg, &sdkiot.CreatePolicyInput{PolicyName: aws.String("thing"), PolicyDocument: aws.String(thingPolicy)}); err != nil {
		b.Fatal(err)
	}
	credsPath := registerFleet(b, e, n)

	b.ResetTimer()
	for it := 0; it < b.N; it++ {
		e.restart() // a fresh broker on the same control plane
		before := settledMem(1)
		child := exec.Command(os.Args[0], "-test.run=^$")
		child.Env = append(os.Environ(), idleClientsEnv+"="+credsPath, idleAddrEnv+"="+e.broker.TLSAddr())
		child.Stderr = os.Stderr
		stdin, _ := child.StdinPipe()
		stdout, _ := child.StdoutPipe()
		if err := child.Start(); err != nil {
			b.Fatal(err)
		}
		line, err := bufio.NewReader(stdout).ReadString('\n')
		if err != nil || line != "ready\n" {
			stdin.Close()
			child.Wait()
			b.Fatalf("device process: %q, %v", line, err)
		}
		first := settledMem(1)
		after := settledMem(4)
		goroutines := runtime.NumGoroutine()
		stdin.Close()
		child.Wait()
		per := func(a, b uint64) float64 { return (float64(a) - float64(b)) / float64(n) }
		b.ReportMetric(per(after.StackInuse, before.StackInuse), "stack-B/conn")
		b.ReportMetric(per(first.StackInuse, before.StackInuse), "stack1-B/conn")
		b.ReportMetric(per(after.HeapAlloc, before.HeapAlloc), "heap-B/conn")
		b.ReportMetric(per(after.Sys-after.HeapReleased, before.Sys-before.HeapReleased), "total-B/conn")
		b.ReportMetric(per(uint64(goroutines), uint64(before.goroutines)), "goroutines/conn")
	}
}

// registerFleet registers n devices and writes their credentials for the
// device process into a file (its path returned: nothing of the fleet
// stays in this process's heap to be freed during a measurement).
func registerFleet(b *testing.B, e *env, n int) string {
	devs := make([]idleCreds, n)
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				d, err := registerDevice(e, fmt.Sprintf("idle-%05d", i))
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				devs[i] = d
				mu.Unlock()
			}
		}()
	}
	for i := range devs {
		next <- i
	}
	close(next)
	wg.Wait()
	if firstErr != nil {
		b.Fatal(firstErr)
	}
	dir := b.TempDir()
	credsPath := filepath.Join(dir, "devices.json")
	raw, _ := json.Marshal(idleFleet{CA: string(e.ca.CertPEM()), Devices: devs})
	if err := os.WriteFile(credsPath, raw, 0o600); err != nil {
		b.Fatal(err)
	}
	return credsPath
}

type memState struct {
	runtime.MemStats
	goroutines int
}

// settledMem collects gcs times and reads the memory statistics.
func settledMem(gcs int) memState {
	for i := 0; i < gcs; i++ {
		runtime.GC()
	}
	var m memState
	runtime.ReadMemStats(&m.MemStats)
	m.goroutines = runtime.NumGoroutine()
	return m
}

// idleCreds is one device's certificate and key (PEM).
type idleCreds struct{ Thing, Cert, Key string }

type idleFleet struct {
	CA      string
	Devices []idleCreds
}

// registerDevice creates the thing, an active certificate with the thing
// policy, attached to the thing.
func registerDevice(e *env, thing string) (idleCreds, error) {
	if _, err := e.api.CreateThing(bg, &sdkiot.CreateThingInput{ThingName: aws.String(thing)}); err != nil {
		return idleCreds{}, err
	}
	out, err := e.api.CreateKeysAndCertificate(bg, &sdkiot.CreateKeysAndCertificateInput{SetAsActive: true})
	if err != nil {
		return idleCreds{}, err
	}
	if _, err := e.api.AttachPolicy(bg, &sdkiot.AttachPolicyInput{PolicyName: aws.String("thing"), Target: out.CertificateArn}); err != nil {
		return idleCreds{}, err
	}
	if _, err := e.api.AttachThingPrincipal(bg, &sdkiot.AttachThingPrincipalInput{ThingName: aws.String(thing), Principal: out.CertificateArn}); err != nil {
		return idleCreds{}, err
	}
	return idleCreds{Thing: thing, Cert: *out.CertificatePem, Key: *out.KeyPair.PrivateKey}, nil
}

// The device process of BenchmarkIdleTLSConnections: TestMain runs it
// instead of the tests when idleClientsEnv names the devices' file.
const (
	idleClientsEnv = "OTACTL_IDLE_DEVICES"
	idleAddrEnv    = "OTACTL_IDLE_ADDR"
)

func TestMain(m *testing.M) {
	if path := os.Getenv(idleClientsEnv); path != "" {
		if err := runIdleDevices(path, os.Getenv(idleAddrEnv)); err != nil {
			fmt.Fprintln(os.Stderr, "idle devices:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runIdleDevices connects every device (16 handshakes at a time),
// subscribes each to its notify-next, says "ready" and stays until stdin
// closes.
func runIdleDevices(path, addr string) error {
	raw, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var f idleFleet
	if err := json.Unmarshal(raw, &f); err != nil {
		return err
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM([]byte(f.CA))
	clients := make([]*mqttwire.Client, len(f.Devices))
	errs := make(chan error, len(f.Devices))
	next := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				c, err := idleDevice(addr, f.Devices[i], roots)
				if err != nil {
					errs <- err
					continue
				}
				clients[i] = c
			}
		}()
	}
	for i := range f.Devices {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	fmt.Println("ready")
	io.Copy(io.Discard, os.Stdin)
	for _, c := range clients {
		c.Disconnect()
	}
	return nil
}

func idleDevice(addr string, d idleCreds, roots *x509.CertPool) (*mqttwire.Client, error) {
	pair, err := tls.X509KeyPair([]byte(d.Cert), []byte(d.Key))
	if err != nil {
		return nil, err
	}
	dialer := &tls.Dialer{NetDialer: &net.Dialer{Timeout: wait},
		Config: &tls.Config{Certificates: []tls.Certificate{pair}, RootCAs: roots, MinVersion: tls.VersionTLS12, ServerName: "localhost"}}
	ctx, cancel := context.WithTimeout(bg, wait)
	defer cancel()
	nc, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("%s: TLS: %w", d.Thing, err)
	}
	c, err := mqttwire.Connect(nc, d.Thing, 0, wait, func(string, []byte) {})
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("%s: %w", d.Thing, err)
	}
	topic := "$aws/things/" + d.Thing + "/jobs/notify-next"
	if codes, err := c.Subscribe(wait, 1, topic); err != nil || len(codes) != 1 || codes[0] > 1 {
		c.Disconnect()
		return nil, fmt.Errorf("%s: SUBSCRIBE %s: %v %v", d.Thing, topic, codes, err)
	}
	return c, nil
}
