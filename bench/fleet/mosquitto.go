package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/otactl/otactl/device"
	"github.com/otactl/otactl/internal/mqttwire"

	"github.com/otactl/otactl/bench/internal/localproc"
)

// Baseline is mosquitto relaying the same number of block-sized messages to
// the same number of subscribers as the fleet downloads.
type Baseline struct {
	Broker      string `json:"broker"`
	Subscribers int    `json:"subscribers"`
	Publishers  int    `json:"publishers"`
	// Messages per subscriber, each MessageSize bytes, published in windows
	// of Window: the next window goes when the subscriber has the last, as
	// a device asks for its next blocks when it has the previous ones.
	Messages    int   `json:"messagesPerSubscriber"`
	MessageSize int   `json:"messageSize"`
	Window      int   `json:"window"`
	Bytes       int64 `json:"bytes"`
	// Connect is how long connecting and subscribing every client took
	// (before the clock of the relay starts).
	Connect time.Duration `json:"connectNs"`
	// Elapsed runs from the first publish to the last message delivered.
	Elapsed time.Duration `json:"elapsedNs"`
	MBps    float64       `json:"mbps"`
	// P50 and P99 are the subscribers' times to their last message.
	P50        time.Duration `json:"p50Ns"`
	P99        time.Duration `json:"p99Ns"`
	PeakRSSMiB float64       `json:"peakRssMiB"`
	ServerCPU  time.Duration `json:"serverCpuNs"`
	// MBPerCPUSecond is payload per second of the broker's CPU time: what
	// the load of other programs on the machine changes least.
	MBPerCPUSecond float64       `json:"mbPerServerCpuSecond"`
	ClientCPU      time.Duration `json:"clientCpuNs"`
}

// runBaseline starts mosquitto on a free loopback port and measures it.
func runBaseline(ctx context.Context, o Options, dir string, log io.Writer) (*Baseline, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	// Anonymous clients on loopback only; no queue limits, so that nothing
	// is dropped (the windows bound what is queued). Nagle stays on, as
	// Debian ships it: set_tcp_nodelay made no run faster here.
	conf := filepath.Join(dir, "mosquitto.conf")
	cfg := fmt.Sprintf("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 0\nmax_queued_bytes 0\nlog_dest stderr\nlog_type error\nlog_type warning\n", port)
	if err := os.WriteFile(conf, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	srv, err := startServer("mosquitto", o.Mosquitto, "-c", conf)
	if err != nil {
		return nil, err
	}
	defer srv.close()
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	if err := waitListening(ctx, srv, addr); err != nil {
		return nil, err
	}
	b := &Baseline{Broker: mosquittoVersion(o.Mosquitto), Subscribers: o.Devices, Publishers: max(1, min(o.Publishers, o.Devices)),
		Messages: (o.ImageSize + o.BlockSize - 1) / o.BlockSize, MessageSize: o.BlockSize, Window: o.Window}
	fmt.Fprintf(log, "baseline: %s on %s: %d subscribers, %d publishers, %d messages of %d bytes each, windows of %d\n",
		b.Broker, addr, b.Subscribers, b.Publishers, b.Messages, b.MessageSize, b.Window)

	t0 := time.Now()
	pubs := make([]*mqttwire.Client, b.Publishers)
	for i := range pubs {
		if pubs[i], err = dialMQTT(addr, fmt.Sprintf("bench-pub-%d", i), 30*time.Second, func(string, []byte) {}); err != nil {
			return nil, err
		}
		defer pubs[i].Disconnect()
	}
	var delivered atomic.Int64
	subs := make([]*subscriber, o.Devices)
	if err := parallel(ctx, o.Devices, 32, func(i int) error {
		s := &subscriber{topic: fmt.Sprintf("bench/things/%s/streams/AFR_OTA-00000000-0000-0000-0000-000000000000/data/cbor", thingName(i)),
			window: make(chan struct{}, 1), msgs: b.Messages, per: b.Window, delivered: &delivered}
		c, err := dialMQTT(addr, thingName(i), 30*time.Second, s.received)
		if err != nil {
			return err
		}
		s.c = c
		subs[i] = s
		// QoS 0, as the baseline publishes.
		codes, err := c.Subscribe(30*time.Second, 0, s.topic)
		if err != nil {
			return fmt.Errorf("SUBSCRIBE %s: %w", s.topic, err)
		}
		if len(codes) != 1 || codes[0] > 2 {
			return fmt.Errorf("SUBSCRIBE %s refused (%v)", s.topic, codes)
		}
		return nil
	}); err != nil {
		closeSubs(subs)
		return nil, err
	}
	defer closeSubs(subs)
	b.Connect = time.Since(t0)
	fmt.Fprintf(log, "baseline: %d subscribers connected in %v; relaying\n", o.Devices, b.Connect.Round(time.Millisecond))

	payload := make([]byte, b.MessageSize)
	for i := range payload {
		payload[i] = byte(i)
	}
	cpu0, self0 := srv.cpu(), localproc.SelfCPU()
	start := time.Now()
	errs := make(chan error, len(subs))
	var wg sync.WaitGroup
	for i, s := range subs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.publish(ctx, pubs[i%len(pubs)], payload)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			return nil, err
		}
	}
	var times []time.Duration
	for _, s := range subs {
		done := s.end.Sub(start)
		times = append(times, done)
		b.Elapsed = max(b.Elapsed, done)
	}
	b.ServerCPU, b.ClientCPU = srv.cpu()-cpu0, localproc.SelfCPU()-self0
	b.Bytes = delivered.Load()
	b.MBps = float64(b.Bytes) / 1e6 / b.Elapsed.Seconds()
	b.MBPerCPUSecond = perCPU(b.Bytes, b.ServerCPU)
	b.P50, b.P99 = device.Percentile(times, 50), device.Percentile(times, 99)
	b.PeakRSSMiB, _ = srv.memory()
	return b, nil
}

func perCPU(bytes int64, cpu time.Duration) float64 {
	if cpu <= 0 {
		return 0
	}
	return float64(bytes) / 1e6 / cpu.Seconds()
}

// dialMQTT connects with a clean session and no keep-alive (the runs are
// short); every PUBLISH received goes to on.
func dialMQTT(addr, id string, timeout time.Duration, on func(topic string, payload []byte)) (*mqttwire.Client, error) {
	nc, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return nil, err
	}
	c, err := mqttwire.Connect(nc, id, 0, timeout, on)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("%s: %w", id, err)
	}
	return c, nil
}

// subscriber is one baseline client and its progress.
type subscriber struct {
	c         *mqttwire.Client
	topic     string
	msgs      int // messages it is to receive
	per       int // window size
	got       atomic.Int64
	delivered *atomic.Int64 // payload bytes, all subscribers together
	window    chan struct{} // a window has been received in full
	end       time.Time     // when the last message came
}

// received counts a message, on the client's reading goroutine.
func (s *subscriber) received(topic string, payload []byte) {
	n := s.got.Add(1)
	s.delivered.Add(int64(len(payload)))
	if int(n) == s.msgs {
		s.end = time.Now()
	}
	if int(n)%s.per == 0 || int(n) == s.msgs {
		select {
		case s.window <- struct{}{}:
		default:
		}
	}
}

// publish sends the subscriber its messages a window at a time, each window
// in one write.
func (s *subscriber) publish(ctx context.Context, pub *mqttwire.Client, payload []byte) error {
	one := mqttwire.AppendPublish(nil, s.topic, payload)
	var buf []byte
	for k := 0; k < s.per; k++ {
		buf = append(buf, one...)
	}
	for sent := 0; sent < s.msgs; {
		n := min(s.per, s.msgs-sent)
		if err := pub.WriteFrames(buf[:n*len(one)]); err != nil {
			return fmt.Errorf("publish: %w", err)
		}
		sent += n
		select {
		case <-s.window:
		case <-ctx.Done():
			return context.Cause(ctx)
		case <-time.After(30 * time.Second):
			return fmt.Errorf("baseline: %s received %d of %d messages in 30 s (did mosquitto drop some?)", s.topic, s.got.Load(), sent)
		}
	}
	return nil
}

func closeSubs(subs []*subscriber) {
	for _, s := range subs {
		if s != nil && s.c != nil {
			s.c.Disconnect()
		}
	}
}

// parallel runs f(0..n-1) on at most width goroutines; the first error wins.
func parallel(ctx context.Context, n, width int, f func(i int) error) error {
	var next atomic.Int64
	var first error
	var once sync.Once
	var wg sync.WaitGroup
	for w := 0; w < min(width, n); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := f(i); err != nil {
					once.Do(func() { first = err })
					return
				}
			}
		}()
	}
	wg.Wait()
	if first == nil && ctx.Err() != nil {
		first = context.Cause(ctx)
	}
	return first
}

// waitListening waits until addr accepts connections.
func waitListening(ctx context.Context, srv *server, addr string) error {
	for {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return nil
		}
		select {
		case <-srv.done:
			return fmt.Errorf("%s exited (%v):\n%s", srv.name, srv.err, srv.out)
		case <-ctx.Done():
			return fmt.Errorf("%s does not listen on %s: %w", srv.name, addr, context.Cause(ctx))
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// mosquittoVersion is "mosquitto version X" from its help text.
func mosquittoVersion(bin string) string {
	out, _ := exec.Command(bin, "-h").CombinedOutput()
	line, _, _ := strings.Cut(string(out), "\n")
	if !strings.HasPrefix(line, "mosquitto") {
		return "mosquitto"
	}
	return strings.TrimSpace(line)
}

// findMosquitto looks for the broker where Debian installs it, then on PATH.
func findMosquitto() (string, error) {
	if _, err := os.Stat("/usr/sbin/mosquitto"); err == nil {
		return "/usr/sbin/mosquitto", nil
	}
	p, err := exec.LookPath("mosquitto")
	if err != nil {
		return "", errors.New("mosquitto is not installed (apt-get install mosquitto)")
	}
	return p, nil
}
