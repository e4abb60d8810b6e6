package mqtt_test

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/fxamacker/cbor/v2"

	"github.com/otactl/otactl/local/mqtt"
)

// BenchmarkStreamFleet: devices download a 1 MiB file over the stream
// topics as the FreeRTOS agent does (CBOR, 4 KiB blocks, windows of 8),
// all at once. OTACTL_BENCH_DEVICES sets the fleet size (default 100).
//
//	go test -run x -bench StreamFleet -benchtime 1x ./local/mqtt
func BenchmarkStreamFleet(b *testing.B) {
	devices := 100
	if v, err := strconv.Atoi(os.Getenv("OTACTL_BENCH_DEVICES")); err == nil && v > 0 {
		devices = v
	}
	const size, block, window = 1 << 20, 4096, 8
	e := newEnv(b, mqtt.Config{})
	file := body(size)
	e.stream("fleet", file)
	var ds []*v311
	setup := time.Now()
	for i := 0; i < devices; i++ {
		// A bare 3.1.1 client: the answers come without a subscription, and
		// reading them costs the client little, so the broker is measured.
		d, code := dial311(b, e.broker.Addr(), fmt.Sprintf("dev-%d", i))
		if code != 0 {
			b.Fatalf("CONNACK %d", code)
		}
		d.conn.SetDeadline(time.Time{})
		ds = append(ds, d)
	}
	b.Logf("%d devices connected in %v", devices, time.Since(setup))
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		start := time.Now()
		var wg sync.WaitGroup
		errs := make(chan error, devices)
		for i, d := range ds {
			wg.Add(1)
			go func(i int, d *v311) {
				defer wg.Done()
				topic := fmt.Sprintf("$aws/things/dev-%d/streams/fleet/get/cbor", i)
				buf := make([]byte, 8<<10)
				for o := 0; o < size/block; o += window {
					req, _ := cbor.Marshal(map[string]any{"c": "rdy", "f": 0, "l": block, "o": o, "n": window})
					if _, err := d.conn.Write(appendPublish311(nil, topic, req)); err != nil {
						errs <- err
						return
					}
					for k := 0; k < window; k++ {
						if err := skipPacket(d.r, buf); err != nil {
							errs <- fmt.Errorf("device %d, block %d: %v", i, o+k, err)
							return
						}
					}
				}
			}(i, d)
		}
		wg.Wait()
		close(errs)
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
		el := time.Since(start)
		b.ReportMetric(float64(devices*size)/el.Seconds()/1e6, "MB/s")
		b.ReportMetric(float64(devices*size/block)/el.Seconds(), "blocks/s")
	}
}

// appendPublish311 frames a QoS 0 PUBLISH (MQTT 3.1.1).
func appendPublish311(dst []byte, topic string, payload []byte) []byte {
	rem := 2 + len(topic) + len(payload)
	dst = append(dst, 0x30)
	for {
		c := byte(rem & 0x7f)
		if rem >>= 7; rem > 0 {
			c |= 0x80
		}
		dst = append(dst, c)
		if rem == 0 {
			break
		}
	}
	dst = append(dst, byte(len(topic)>>8), byte(len(topic)))
	return append(append(dst, topic...), payload...)
}

// skipPacket reads one packet into buf and discards it.
func skipPacket(r *bufio.Reader, buf []byte) error {
	if _, err := r.ReadByte(); err != nil {
		return err
	}
	n, err := binary.ReadUvarint(r)
	if err != nil {
		return err
	}
	if int(n) > len(buf) {
		return fmt.Errorf("packet of %d bytes", n)
	}
	_, err = io.ReadFull(r, buf[:n])
	return err
}

// BenchmarkJobUpdates: devices report progress on their job executions at
// once (each update is a durable store transaction in the control plane).
//
//	go test -run x -bench JobUpdates -benchtime 1x ./local/mqtt
func BenchmarkJobUpdates(b *testing.B) {
	devices := 100
	if v, err := strconv.Atoi(os.Getenv("OTACTL_BENCH_DEVICES")); err == nil && v > 0 {
		devices = v
	}
	const updates = 8
	e := newEnv(b, mqtt.Config{})
	var names []string
	for i := 0; i < devices; i++ {
		names = append(names, fmt.Sprintf("dev-%d", i))
	}
	e.thing(names...)
	e.job("job-1", doc1, names...)
	var ds []*v311
	for _, n := range names {
		d, code := dial311(b, e.broker.Addr(), n)
		if code != 0 {
			b.Fatalf("CONNACK %d", code)
		}
		d.conn.SetDeadline(time.Time{})
		ds = append(ds, d)
	}
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for i, d := range ds {
		wg.Add(1)
		go func(name string, d *v311) {
			defer wg.Done()
			buf := make([]byte, 8<<10)
			for k := 1; k <= updates; k++ {
				msg := fmt.Sprintf(`{"status":"IN_PROGRESS","statusDetails":{"receive":"%d/%d"}}`, k, updates)
				d.conn.Write(appendPublish311(nil, "$aws/things/"+name+"/jobs/job-1/update", []byte(msg)))
				if err := skipPacket(d.r, buf); err != nil {
					b.Error(err)
					return
				}
			}
		}(names[i], d)
	}
	wg.Wait()
	b.ReportMetric(float64(devices*updates)/time.Since(start).Seconds(), "updates/s")
}
