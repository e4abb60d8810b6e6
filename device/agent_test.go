package device_test

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/otactl/otactl/device"
	"github.com/otactl/otactl/device/devicetest"
	"github.com/otactl/otactl/local/iot"
)

func checkSucceeded(t *testing.T, e *devicetest.Env, res *device.Result, jobID, thing string, image []byte) {
	t.Helper()
	if res.Status != "SUCCEEDED" || len(res.Jobs) == 0 {
		t.Fatalf("device result %+v", res)
	}
	last := res.Jobs[len(res.Jobs)-1]
	if last.JobID != jobID || !bytes.Equal(last.File, image) {
		t.Fatalf("job %s: downloaded %d bytes, want the %d-byte image", last.JobID, len(last.File), len(image))
	}
	ex := e.Execution(jobID, thing)
	if ex.Status != types.JobExecutionStatusSucceeded || ex.StatusDetails.DetailsMap["reason"] != "accepted v1.0.1" {
		t.Fatalf("DescribeJobExecution: %s %v", ex.Status, ex.StatusDetails.DetailsMap)
	}
}

func TestAgentMQTTStream(t *testing.T) {
	e := devicetest.Start(t)
	e.Things("dev-1")
	img := devicetest.Firmware(100_003) // not a whole number of blocks
	job := e.Job(devicetest.Update{ID: "u1", Image: img}, "dev-1")
	res := e.Run(e.Config("dev-1"))
	checkSucceeded(t, e, res, job, "dev-1", img)
	if o := res.Jobs[0]; o.Protocol != "MQTT" || o.Bytes != int64(len(img)) || o.Rerequests != 0 {
		t.Fatalf("outcome %+v", o)
	}
}

func TestAgentHTTP(t *testing.T) {
	e := devicetest.Start(t)
	e.Things("dev-1")
	img := devicetest.Firmware(70_000)
	job := e.Job(devicetest.Update{ID: "u1", Image: img, Protocols: []string{"HTTP"}}, "dev-1")
	cfg := e.Config("dev-1")
	cfg.HTTPChunk = 16 * 1024
	res := e.Run(cfg)
	checkSucceeded(t, e, res, job, "dev-1", img)
	if res.Jobs[0].Protocol != "HTTP" {
		t.Fatalf("protocol %s", res.Jobs[0].Protocol)
	}
}

func TestAgentPrefersHTTPWhenAsked(t *testing.T) {
	e := devicetest.Start(t)
	e.Things("dev-1", "dev-2")
	img := devicetest.Firmware(20_000)
	job := e.Job(devicetest.Update{ID: "u1", Image: img, Protocols: []string{"MQTT", "HTTP"}}, "dev-1", "dev-2")
	cfg := e.Config("dev-1")
	cfg.PreferHTTP = true
	if res := e.Run(cfg); res.Status != "SUCCEEDED" || res.Jobs[0].Protocol != "HTTP" {
		t.Fatalf("prefer HTTP: %+v", res)
	}
	res := e.Run(e.Config("dev-2"))
	checkSucceeded(t, e, res, job, "dev-2", img)
	if res.Jobs[0].Protocol != "MQTT" {
		t.Fatalf("default: %s", res.Jobs[0].Protocol)
	}
}

func TestAgentMutualTLS(t *testing.T) {
	e := devicetest.Start(t)
	e.Things("dev-tls")
	img := devicetest.Firmware(30_000)
	job := e.Job(devicetest.Update{ID: "u1", Image: img}, "dev-tls")
	cfg := e.Config("dev-tls")
	cfg.Endpoint, cfg.TLS = e.Broker.TLSAddr(), e.DeviceTLS("dev-tls")
	checkSucceeded(t, e, e.Run(cfg), job, "dev-tls", img)

	// Another thing's certificate does not connect as this thing.
	e.Things("other")
	cfg.TLS = e.DeviceTLS("other")
	if res := e.Run(cfg); res.Status != device.StatusError || res.Err == "" {
		t.Fatalf("connected with another thing's certificate: %+v", res)
	}
}

func TestAgentRSASignature(t *testing.T) {
	e := devicetest.Start(t)
	e.Things("dev-1")
	e.Signer = devicetest.NewRSAKey(t)
	img := devicetest.Firmware(10_000)
	job := e.Job(devicetest.Update{ID: "u1", Image: img}, "dev-1")
	checkSucceeded(t, e, e.Run(e.Config("dev-1")), job, "dev-1", img)
}

func TestAgentDroppedBlocksAreAskedAgain(t *testing.T) {
	e := devicetest.Start(t)
	e.Things("dev-1")
	img := devicetest.Firmware(200_000)
	job := e.Job(devicetest.Update{ID: "u1", Image: img}, "dev-1")
	cfg := e.Config("dev-1")
	cfg.Faults = device.Faults{DropRate: 0.2, Seed: 3}
	res := e.Run(cfg)
	checkSucceeded(t, e, res, job, "dev-1", img)
	if res.Rerequests == 0 {
		t.Fatal("blocks were dropped but nothing was asked again")
	}
}

func TestAgentCorruptBlockFailsSignature(t *testing.T) {
	e := devicetest.Start(t)
	e.Things("dev-1")
	job := e.Job(devicetest.Update{ID: "u1", Image: devicetest.Firmware(50_000)}, "dev-1")
	cfg := e.Config("dev-1")
	cfg.Faults = device.Faults{CorruptRate: 1}
	cfg.IdleTimeout = 200 * time.Millisecond
	res := e.Run(cfg)
	if res.Status != "FAILED" || !strings.HasPrefix(res.Jobs[0].Reason, "rejected: 0xe3000000") {
		t.Fatalf("result %+v", res)
	}
	ex := e.Execution(job, "dev-1")
	if ex.Status != types.JobExecutionStatusFailed || ex.StatusDetails.DetailsMap["reason"] != "rejected: 0xe3000000" {
		t.Fatalf("DescribeJobExecution: %s %v", ex.Status, ex.StatusDetails.DetailsMap)
	}
}

func TestAgentFailFirstIsRetried(t *testing.T) {
	e := devicetest.Start(t)
	e.Things("dev-1")
	img := devicetest.Firmware(12_345)
	job := e.Job(devicetest.Update{ID: "u1", Image: img, Retries: 2}, "dev-1")
	cfg := e.Config("dev-1")
	cfg.Faults = device.Faults{FailFirst: 1}
	res := e.Run(cfg)
	if res.Executions != 2 || len(res.Jobs) != 2 || res.Jobs[0].Status != "FAILED" ||
		res.Jobs[0].Reason[:len("rejected: 0x")] != "rejected: 0x" || res.Jobs[1].ExecutionNumber != 2 {
		t.Fatalf("result %+v", res)
	}
	checkSucceeded(t, e, res, job, "dev-1", img)
}

func TestAgentOfflineResumes(t *testing.T) {
	e := devicetest.Start(t)
	e.Things("dev-1")
	img := devicetest.Firmware(150_000)
	job := e.Job(devicetest.Update{ID: "u1", Image: img}, "dev-1")
	cfg := e.Config("dev-1")
	cfg.Faults = device.Faults{OfflineRate: 1, OfflineFor: 50 * time.Millisecond, Seed: 9}
	res := e.Run(cfg)
	checkSucceeded(t, e, res, job, "dev-1", img)
	if res.Reconnects != 1 || res.Jobs[0].Reconnects != 1 || res.Jobs[0].Duration <= 0 || res.Bytes != int64(len(img)) {
		t.Fatalf("reconnects %d, bytes %d (a resumed download fetches each block once)", res.Reconnects, res.Bytes)
	}
}

func TestAgentRejectSignatureAndBadDocuments(t *testing.T) {
	e := devicetest.Start(t)
	cases := []struct {
		name, reason string
		u            devicetest.Update
		faults       device.Faults
	}{
		{"reject", "rejected: 0xe3000000", devicetest.Update{}, device.Faults{RejectSignature: true}},
		{"nosize", "rejected: 0x0000000c", devicetest.Update{Mutate: func(d string) string { return strings.Replace(d, `"filesize":4000,`, "", 1) }}, device.Faults{}},
		{"noproto", "rejected: 0x0000000c", devicetest.Update{Mutate: func(d string) string { return strings.Replace(d, `"protocols":["MQTT"],`, "", 1) }}, device.Faults{}},
		{"nofileid", "rejected: 0x0000000c", devicetest.Update{Mutate: func(d string) string { return strings.Replace(d, `"fileid":0,`, "", 1) }}, device.Faults{}},
		{"badsig", "rejected: 0xe3000000", devicetest.Update{Mutate: func(d string) string { return strings.Replace(d, `"sig-sha256-ecdsa":"M`, `"sig-sha256-ecdsa":"N`, 1) }}, device.Faults{}},
		{"nostream", "rejected: 0x00000008", devicetest.Update{Mutate: func(d string) string { return strings.Replace(d, `AFR_OTA-nostream"`, `AFR_OTA-missing"`, 1) }}, device.Faults{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			thing := "dev-" + c.name
			e.Things(thing)
			c.u.ID, c.u.Image = c.name, devicetest.Firmware(4000)
			job := e.Job(c.u, thing)
			cfg := e.Config(thing)
			cfg.Faults, cfg.IdleTimeout = c.faults, 100*time.Millisecond
			res := e.Run(cfg)
			if res.Status != "FAILED" || !strings.HasPrefix(res.Jobs[0].Reason, c.reason) {
				t.Fatalf("result %+v", res)
			}
			if ex := e.Execution(job, thing); ex.StatusDetails.DetailsMap["reason"] != c.reason {
				t.Fatalf("DescribeJobExecution: %s %v", ex.Status, ex.StatusDetails.DetailsMap)
			}
		})
	}
}

func TestAgentProcessesJobsInTurn(t *testing.T) {
	e := devicetest.Start(t)
	e.Things("dev-1")
	j1 := e.Job(devicetest.Update{ID: "u1", Image: devicetest.Firmware(5000)}, "dev-1")
	j2 := e.Job(devicetest.Update{ID: "u2", Image: devicetest.Firmware(6000)}, "dev-1")
	cfg := e.Config("dev-1")
	res := e.Run(cfg)
	if len(res.Jobs) != 2 || res.Jobs[0].JobID != j1 || res.Jobs[1].JobID != j2 || res.Status != "SUCCEEDED" {
		t.Fatalf("result %+v", res)
	}
	if ex := e.Execution(j2, "dev-1"); ex.StatusDetails.DetailsMap["reason"] != "accepted v1.0.2" {
		t.Fatalf("second update: %v", ex.StatusDetails.DetailsMap)
	}
}

func TestAgentVersionMismatchIsRetried(t *testing.T) {
	e := devicetest.Start(t)
	e.Things("dev-1")
	img := devicetest.Firmware(100_000)
	job := e.Job(devicetest.Update{ID: "u1", Image: img}, "dev-1")
	cfg := e.Config("dev-1")
	var once sync.Once
	cfg.OnBytes = func(int) {
		// Someone else changes the execution under the device: its next
		// update carries an old expectedVersion.
		once.Do(func() {
			if _, err := e.IoT.UpdateExecution("dev-1", job, iot.ExecutionUpdate{Status: "IN_PROGRESS", StatusDetails: map[string]string{"note": "operator"}}); err != nil {
				t.Error(err)
			}
		})
	}
	res := e.Run(cfg)
	checkSucceeded(t, e, res, job, "dev-1", img)
	if res.Jobs[0].VersionConflicts != 1 {
		t.Fatalf("version conflicts %d", res.Jobs[0].VersionConflicts)
	}
}

func TestAgentLeavesCanceledJob(t *testing.T) {
	e := devicetest.Start(t)
	e.Things("dev-1")
	img := devicetest.Firmware(200_000)
	job := e.Job(devicetest.Update{ID: "u1", Image: img}, "dev-1")
	cfg := e.Config("dev-1")
	cfg.IdleTimeout = 200 * time.Millisecond
	var once sync.Once
	cfg.OnBytes = func(int) {
		once.Do(func() {
			if _, err := e.API.CancelJob(devicetest.Ctx, &sdkiot.CancelJobInput{JobId: aws.String(job), Force: true}); err != nil {
				t.Error(err)
			}
		})
	}
	res := e.Run(cfg)
	if res.Status != device.StatusAbandoned || res.Bytes >= int64(len(img)) {
		t.Fatalf("result %+v", res)
	}
	if ex := e.Execution(job, "dev-1"); ex.Status != types.JobExecutionStatusCanceled {
		t.Fatalf("execution %s", ex.Status)
	}
}

func TestAgentSlowWithOtherBlockSizes(t *testing.T) {
	e := devicetest.Start(t)
	e.Things("dev-1")
	img := devicetest.Firmware(20_000)
	job := e.Job(devicetest.Update{ID: "u1", Image: img}, "dev-1")
	cfg := e.Config("dev-1")
	cfg.BlockSize, cfg.Window, cfg.ProgressEvery = 1024, 3, 5
	cfg.Faults = device.Faults{Slow: time.Millisecond}
	res := e.Run(cfg)
	checkSucceeded(t, e, res, job, "dev-1", img)
}

// reports records the status updates an agent makes (its debug log).
type reports struct {
	mu  sync.Mutex
	got []string
}

func (r *reports) Enabled(context.Context, slog.Level) bool { return true }
func (r *reports) WithAttrs([]slog.Attr) slog.Handler       { return r }
func (r *reports) WithGroup(string) slog.Handler            { return r }
func (r *reports) Handle(_ context.Context, rec slog.Record) error {
	if rec.Message != "agent: update" {
		return nil
	}
	var line string
	rec.Attrs(func(a slog.Attr) bool {
		switch a.Key {
		case "status":
			line = a.Value.String() + line
		case "details":
			line += fmt.Sprintf(" %v", a.Value.Any())
		}
		return true
	})
	r.mu.Lock()
	r.got = append(r.got, line)
	r.mu.Unlock()
	return nil
}

func TestAgentReportsLikeFreeRTOS(t *testing.T) {
	e := devicetest.Start(t)
	e.Things("dev-1")
	job := e.Job(devicetest.Update{ID: "u1", Image: devicetest.Firmware(40_000)}, "dev-1")
	cfg := e.Config("dev-1")
	cfg.ProgressEvery = 4
	rep := &reports{}
	cfg.Logger = slog.New(rep)
	checkSucceeded(t, e, e.Run(cfg), job, "dev-1", devicetest.Firmware(40_000))
	want := []string{
		"IN_PROGRESS map[receive:0/10]",
		"IN_PROGRESS map[receive:4/10]",
		"IN_PROGRESS map[receive:8/10]",
		"IN_PROGRESS map[self_test:ready updatedBy:0x1000000]",
		"IN_PROGRESS map[self_test:active]",
		"SUCCEEDED map[reason:accepted v1.0.1]",
	}
	if strings.Join(rep.got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("reports:\n%s\nwant:\n%s", strings.Join(rep.got, "\n"), strings.Join(want, "\n"))
	}
}
