package jobs

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"time"

	"github.com/otactl/otactl/local/iot"
	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/local/wire"
	"github.com/otactl/otactl/ota"
)

// A rehearsal runs a spec's job configuration through the engine with a
// simulated clock and a simulated fleet that acts directly on the Go API
// (no MQTT), in a throwaway store: a week of campaign in well under a second.

// RehearsalConfig describes the simulated fleet and how long to run.
type RehearsalConfig struct {
	Devices     int           // things created in the target groups (default 1000)
	FailureRate float64       // chance an attempt ends FAILED
	TimeoutRate float64       // chance an attempt hangs IN_PROGRESS (never reports)
	OfflineRate float64       // share of devices that never come online
	Duration    time.Duration // simulated time to run at most (default 168h)
	Seed        int64
	// Start is the simulated start time (zero: now, to the minute); a
	// schedulingConfig.startTime must be at least 30 minutes after it.
	Start time.Time
	// Region and AccountID build the ARNs (defaults us-east-1 and
	// 000000000000, or those of the first destinationPackageVersions ARN).
	Region, AccountID string
}

// WindowUse is one stretch of rollout: the waves sent in one maintenance
// window (or, without windows, all of them).
type WindowUse struct {
	Window    *time.Time `json:"window,omitempty"`
	FirstWave time.Time  `json:"firstWave"`
	LastWave  time.Time  `json:"lastWave"`
	Waves     int        `json:"waves"`
	Things    int        `json:"things"`
	MinRate   int        `json:"minRatePerMinute"`
	MaxRate   int        `json:"maxRatePerMinute"`
}

// Rehearsal is the outcome of Rehearse.
type Rehearsal struct {
	JobID   string    `json:"jobId"`
	Devices int       `json:"devices"`
	Offline int       `json:"offlineDevices"`
	Start   time.Time `json:"start"`
	End     time.Time `json:"end"` // simulated time when the rehearsal stopped
	// Finished is false when the simulated duration ran out first.
	Finished bool `json:"finished"`
	// Status, ReasonCode and Counts are the job's record at the end.
	Status     string             `json:"status"`
	ReasonCode string             `json:"reasonCode,omitempty"`
	Comment    string             `json:"comment,omitempty"`
	Counts     iot.ProcessDetails `json:"jobProcessDetails"`
	// Recounted counts the execution records one by one; Consistent says
	// they agree with Counts.
	Recounted iot.ProcessDetails `json:"recounted"`
	// NotRolledOut is how many targets never got an execution.
	NotRolledOut int         `json:"notRolledOut"`
	Consistent   bool        `json:"consistent"`
	Windows      []WindowUse `json:"rollout"`
	Retries      int         `json:"retries"`
	TimedOut     int         `json:"timeouts"`
	Aborted      bool        `json:"aborted"`
	// Timeline is every engine event in order (waves, retries, timeouts, ...).
	Timeline []Event `json:"timeline"`
	// Packages counts the things per reported package version (pkg@version).
	Packages map[string]int `json:"packages,omitempty"`
	Wall     time.Duration  `json:"wallNanos"`
	// Progress is the job's counts by status over time, one sample per
	// minute with a change, and MaintenanceWindows the windows open during
	// the rehearsal (rehearse_series.go): what --report plots.
	Progress           []Sample `json:"progress"`
	MaintenanceWindows []Span   `json:"maintenanceWindows,omitempty"`
}

// Rehearse runs spec's job against a simulated fleet.
func Rehearse(spec *ota.Spec, cfg RehearsalConfig) (*Rehearsal, error) {
	began := time.Now()
	if cfg.Devices <= 0 {
		cfg.Devices = 1000
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 168 * time.Hour
	}
	if cfg.Start.IsZero() {
		cfg.Start = time.Now().UTC().Truncate(time.Minute)
	}
	env := rehearsalEnv(spec, cfg)
	dir, err := os.MkdirTemp("", "otactl-rehearse-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	st, err := store.Open(dir)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	st.SetNoSync(true) // a throwaway store: no fsync per change
	svc := iot.New(st, env, nil)
	clock := NewSimClock(cfg.Start)
	eng := New(svc, st, clock)
	out := &Rehearsal{JobID: spec.JobID(), Devices: cfg.Devices, Start: cfg.Start}
	eng.OnEvent = func(ev Event) { out.Timeline = append(out.Timeline, ev) }

	f := newFleet(svc, clock, cfg)
	svc.Subscribe(f.observe)
	prog := &progress{jobID: out.JobID, now: clock.Now}
	svc.Subscribe(prog.observe)
	if err := setupRehearsal(svc, env, spec, cfg, f); err != nil {
		return nil, err
	}
	if err := eng.Load(); err != nil {
		return nil, err
	}
	end := cfg.Start.Add(cfg.Duration)
	for {
		eng.Tick()
		f.notifyPending()
		if j, err := svc.Job(out.JobID); err == nil && (j.Status == iot.JobCompleted || j.Status == iot.JobCanceled) && f.idle() {
			out.Finished = true
			end = clock.Now()
			break
		}
		next := eng.NextAt()
		if t := f.nextAt(); !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
		if next.IsZero() || next.After(end) {
			break // (zero: nothing will change any more until the end)
		}
		clock.Set(next)
		f.act(next)
		f.notifyPending()
	}
	out.End = end
	if err := summarize(out, svc, eng, f); err != nil {
		return nil, err
	}
	prog.record(end, out.Counts) // the record's counts close the series
	out.Progress = prog.samples
	out.MaintenanceWindows = WindowSpans(spec.SchedulingConfig, cfg.Start, end)
	out.Wall = time.Since(began)
	return out, nil
}

func rehearsalEnv(spec *ota.Spec, cfg RehearsalConfig) wire.Env {
	env := wire.Env{Region: "us-east-1", AccountID: "000000000000"}
	if len(spec.DestinationPackageVersions) > 0 {
		// arn:aws:iot:REGION:ACCOUNT:package/...
		if p := strings.Split(spec.DestinationPackageVersions[0], ":"); len(p) > 5 {
			env.Region, env.AccountID = p[3], p[4]
		}
	}
	if cfg.Region != "" {
		env.Region = cfg.Region
	}
	if cfg.AccountID != "" {
		env.AccountID = cfg.AccountID
	}
	return env
}

// call runs one IoT control-plane request in process.
func call(svc *iot.Service, method, path string, body any) error {
	raw, _ := json.Marshal(body)
	req := httptest.NewRequest(method, path, bytes.NewReader(raw))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	svc.ServeHTTP(rec, req)
	if rec.Code >= 300 {
		return fmt.Errorf("%s %s: %s", method, path, strings.TrimSpace(rec.Body.String()))
	}
	return nil
}

// setupRehearsal creates the target groups with the fleet's things, the
// destination package versions, and the job.
func setupRehearsal(svc *iot.Service, env wire.Env, spec *ota.Spec, cfg RehearsalConfig, f *fleet) error {
	var targets, groups []string
	for _, t := range spec.Targets {
		arn := ota.TargetArn(t, env.Region, env.AccountID, false)
		targets = append(targets, arn)
		_, res, _ := strings.Cut(arn, ":"+env.AccountID+":")
		kind, name, _ := strings.Cut(res, "/")
		if kind == "thing" {
			if err := call(svc, "POST", "/things/"+name, map[string]any{}); err != nil {
				return err
			}
			f.add(name)
			continue
		}
		groups = append(groups, name)
		if err := call(svc, "POST", "/thing-groups/"+name, map[string]any{}); err != nil {
			return err
		}
	}
	for i := 0; i < cfg.Devices && len(groups) > 0; i++ {
		g := groups[i%len(groups)]
		thing := fmt.Sprintf("%s-%04d", g, i)
		if err := call(svc, "POST", "/things/"+thing, map[string]any{}); err != nil {
			return err
		}
		if err := call(svc, "PUT", "/thing-groups/addThingToThingGroup", map[string]string{"thingName": thing, "thingGroupName": g}); err != nil {
			return err
		}
		f.add(thing)
	}
	for _, arn := range spec.DestinationPackageVersions {
		pkg, v, ok := parsePackageVersionArn(arn)
		if !ok {
			continue
		}
		call(svc, "PUT", "/packages/"+pkg, map[string]any{}) // exists already: fine
		if err := call(svc, "PUT", "/packages/"+pkg+"/versions/"+v, map[string]any{}); err != nil {
			return err
		}
	}
	sel := spec.TargetSelection
	req := ota.JobRequest{JobID: spec.JobID(), Targets: targets, Description: spec.Description, TargetSelection: sel,
		Document: `{"afr_ota":{"protocols":["MQTT"],"files":[{"filesize":1,"fileid":0}]}}`, JobConfig: spec.JobConfig}
	return call(svc, "PUT", "/jobs/"+req.JobID, req)
}

// summarize fills the outcome from the engine's records.
func summarize(out *Rehearsal, svc *iot.Service, eng *Engine, f *fleet) error {
	j, err := svc.Job(out.JobID)
	if err != nil {
		return err
	}
	out.Status, out.ReasonCode, out.Comment, out.Counts = j.Status, j.ReasonCode, j.Comment, j.Counts
	xs, err := svc.Executions(out.JobID, "")
	if err != nil {
		return err
	}
	var rc iot.ProcessDetails
	for _, x := range xs {
		addStatus(&rc, x.Status)
		if pk, err := eng.ThingPackages(x.ThingName); err == nil {
			for p, v := range pk {
				if out.Packages == nil {
					out.Packages = map[string]int{}
				}
				out.Packages[p+"@"+v]++
			}
		}
	}
	out.Recounted = rc
	out.NotRolledOut = f.things - len(xs)
	out.Consistent = rc == j.Counts
	out.Offline = f.offlineCount
	var cur *WindowUse
	for _, ev := range out.Timeline {
		switch ev.Kind {
		case EventRetry:
			out.Retries++
		case EventTimedOut:
			out.TimedOut++
		case EventAborted:
			out.Aborted = true
		case EventWave:
			if cur == nil || !sameWindow(cur.Window, ev.Window) {
				out.Windows = append(out.Windows, WindowUse{Window: ev.Window, FirstWave: ev.At, MinRate: ev.Rate})
				cur = &out.Windows[len(out.Windows)-1]
			}
			cur.LastWave = ev.At
			cur.Waves++
			cur.Things += ev.Things
			cur.MinRate = min(cur.MinRate, ev.Rate)
			cur.MaxRate = max(cur.MaxRate, ev.Rate)
		}
	}
	return nil
}

func sameWindow(a, b *time.Time) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Equal(*b)
}

func addStatus(p *iot.ProcessDetails, status string) {
	switch status {
	case iot.StatusQueued:
		p.Queued++
	case iot.StatusInProgress:
		p.InProgress++
	case iot.StatusSucceeded:
		p.Succeeded++
	case iot.StatusFailed:
		p.Failed++
	case iot.StatusRejected:
		p.Rejected++
	case iot.StatusCanceled:
		p.Canceled++
	case iot.StatusRemoved:
		p.Removed++
	case iot.StatusTimedOut:
		p.TimedOut++
	}
}
