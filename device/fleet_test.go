package device_test

import (
	"context"
	"crypto/tls"
	"sync"
	"testing"
	"time"

	"github.com/otactl/otactl/device"
	"github.com/otactl/otactl/device/devicetest"
)

func TestFleet(t *testing.T) {
	e := devicetest.Start(t)
	things := []string{"f-0", "f-1", "f-2", "f-3", "f-4", "f-5"}
	e.Things(things...)
	img := devicetest.Firmware(64 * 1024)
	job := e.Job(devicetest.Update{ID: "fleet", Image: img, Retries: 1}, things...)
	base := e.Config("")
	base.KeepFiles = false
	var mu sync.Mutex
	var calls []device.Progress
	f := &device.Fleet{Things: things, Base: base, ProgressEvery: 20 * time.Millisecond,
		FaultsFor: func(thing string) device.Faults {
			switch thing {
			case "f-1":
				return device.Faults{FailFirst: 1}
			case "f-2":
				return device.Faults{DropRate: 0.1, Seed: 1}
			case "f-3":
				return device.Faults{FailFirst: 5} // more failures than retries
			}
			return device.Faults{}
		},
		Progress: func(p device.Progress) {
			mu.Lock()
			calls = append(calls, p)
			mu.Unlock()
		}}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	rep, err := f.Run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s := rep.Stats
	if s.Devices != 6 || s.Succeeded != 5 || s.Failed != 1 || s.Retried != 2 || s.ByStatus["FAILED"] != 1 {
		t.Fatalf("stats %+v", s)
	}
	if s.Bytes < int64(5*len(img)) || s.P50 <= 0 || s.P99 < s.P50 || s.MBps <= 0 || s.AllSucceeded() {
		t.Fatalf("stats %+v", s)
	}
	for _, r := range rep.Devices {
		if r.Thing == "f-3" {
			if r.Status != "FAILED" || r.Executions != 2 {
				t.Fatalf("f-3: %+v", r)
			}
			continue
		}
		if ex := e.Execution(job, r.Thing); ex.Status != "SUCCEEDED" {
			t.Fatalf("%s: %s", r.Thing, ex.Status)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if len(calls) == 0 || calls[len(calls)-1].Done != 6 || calls[len(calls)-1].Bytes != s.Bytes {
		t.Fatalf("progress %+v", calls)
	}
}

func TestFleetRefusesDuplicates(t *testing.T) {
	f := &device.Fleet{Things: []string{"a", "a"}, Base: device.Config{Endpoint: "127.0.0.1:1"}}
	if _, err := f.Run(context.Background()); err == nil {
		t.Fatal("no error")
	}
}

func TestPercentile(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	if p := device.Percentile(ds, 50); p != 50*time.Millisecond {
		t.Fatalf("p50 %v", p)
	}
	if p := device.Percentile(ds, 99); p != 99*time.Millisecond {
		t.Fatalf("p99 %v", p)
	}
	if p := device.Percentile(ds[:1], 99); p != 100*time.Millisecond {
		t.Fatalf("p99 of one %v", p)
	}
	if device.Percentile(nil, 50) != 0 {
		t.Fatal("empty")
	}
}

func TestCBORMessages(t *testing.T) {
	if _, err := device.DecodeData([]byte{0xa1, 0x61, 0x6c, 0x02}); err == nil {
		t.Fatal("a block with l=2 and no payload decoded")
	}
	if _, err := device.DecodeData([]byte{0xff}); err == nil {
		t.Fatal("bad CBOR decoded")
	}
}

func loadPair(crt, key string) ([]tls.Certificate, error) {
	c, err := tls.LoadX509KeyPair(crt, key)
	return []tls.Certificate{c}, err
}
