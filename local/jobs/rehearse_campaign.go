package jobs

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/otactl/otactl/campaign"
	"github.com/otactl/otactl/local/iot"
	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/local/wire"
	"github.com/otactl/otactl/ota"
)

// A campaign rehearsal runs the campaign package itself — the same Start
// and Advance that otactl campaign runs against AWS — over the engine, the
// simulated fleet and the simulated clock. advance runs every AdvanceEvery
// of simulated time, as a cron job would; the timeline records each stage's
// start, each change of a gate's verdict and each action.

// CampaignEvent is one line of a campaign rehearsal's timeline.
type CampaignEvent struct {
	At    time.Time `json:"at"`
	Stage string    `json:"stage"`
	// Kind is started, gate (the verdict changed), paused, aborted or completed.
	Kind       string               `json:"kind"`
	Detail     string               `json:"detail"`
	Evaluation *campaign.Evaluation `json:"gateEvaluation,omitempty"`
}

// CampaignStageOutcome is a stage's job at the end.
type CampaignStageOutcome struct {
	Name      string             `json:"name"`
	JobID     string             `json:"jobId"`
	Started   bool               `json:"started"`
	StartedAt time.Time          `json:"startedAt,omitempty"`
	Things    int                `json:"things"`
	Status    string             `json:"status,omitempty"`
	Counts    iot.ProcessDetails `json:"jobProcessDetails"`
}

// CampaignRehearsal is the outcome of RehearseCampaign.
type CampaignRehearsal struct {
	CampaignID   string        `json:"campaignId"`
	Devices      int           `json:"devices"`
	Offline      int           `json:"offlineDevices"`
	Start        time.Time     `json:"start"`
	End          time.Time     `json:"end"`
	AdvanceEvery time.Duration `json:"advanceEveryNanos"`
	State        string        `json:"state"`
	Finished     bool          `json:"finished"` // completed, aborted or paused before the time ran out
	// NotRolledOut is how many devices no stage's job reached (the stages
	// a pause or an abort left unstarted, the rollout an abort cut short).
	NotRolledOut int                    `json:"notRolledOut"`
	Advances     int                    `json:"advances"`
	Timeline     []CampaignEvent        `json:"timeline"`
	Stages       []CampaignStageOutcome `json:"stages"`
	Wall         time.Duration          `json:"wallNanos"`
}

// RehearseCampaign runs spec's stages and gates on cfg.Devices simulated
// devices spread over the groups the stages name.
func RehearseCampaign(spec *campaign.Spec, cfg RehearsalConfig, every time.Duration) (*CampaignRehearsal, error) {
	began := time.Now()
	if cfg.Devices <= 0 {
		cfg.Devices = 1000
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 168 * time.Hour
	}
	if every <= 0 {
		every = 15 * time.Minute
	}
	if cfg.Start.IsZero() {
		cfg.Start = time.Now().UTC().Truncate(time.Minute)
	}
	if errs := campaign.Validate(spec, cfg.Start); len(errs) > 0 {
		return nil, errs
	}
	env := rehearsalEnv(&spec.Update, cfg)
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
	st.SetNoSync(true)
	svc := iot.New(st, env, nil)
	clock := NewSimClock(cfg.Start)
	eng := New(svc, st, clock)
	f := newFleet(svc, clock, cfg)
	svc.Subscribe(f.observe)
	things, err := setupCampaignFleet(svc, spec, cfg, f)
	if err != nil {
		return nil, err
	}
	if err := eng.Load(); err != nil {
		return nil, err
	}
	cloud := &simCloud{svc: svc, env: env}
	r := &campaign.Runner{Cloud: cloud, Publisher: simPublisher{cloud: cloud, now: clock.Now}, Now: clock.Now}
	out := &CampaignRehearsal{CampaignID: spec.ID(), Devices: cfg.Devices, Start: cfg.Start, AdvanceEvery: every}
	ctx := context.Background()
	rep, err := r.Start(ctx, spec)
	if err != nil {
		return nil, err
	}
	out.Timeline = append(out.Timeline, CampaignEvent{At: clock.Now(), Stage: spec.Stages[0].Name, Kind: "started", Detail: rep.Message})
	end := cfg.Start.Add(cfg.Duration)
	nextAdvance := clock.Now().Add(every)
	lastVerdict := map[string]string{}
	for {
		eng.Tick()
		f.notifyPending()
		if !clock.Now().Before(nextAdvance) {
			done, err := out.advance(ctx, r, spec, clock.Now(), lastVerdict)
			if err != nil {
				return nil, err
			}
			if done {
				out.Finished = true
				break
			}
			nextAdvance = clock.Now().Add(every)
		}
		next := nextAdvance
		if t := eng.NextAt(); !t.IsZero() && t.Before(next) {
			next = t
		}
		if t := f.nextAt(); !t.IsZero() && t.Before(next) {
			next = t
		}
		if next.After(end) {
			break
		}
		clock.Set(next)
		f.act(next)
		f.notifyPending()
	}
	out.End = clock.Now()
	status, err := r.Status(ctx, spec.ID(), spec)
	if err != nil {
		return nil, err
	}
	out.State, out.Offline = status.State, f.offlineCount
	reached := map[string]bool{}
	for _, ss := range status.Stages {
		if ss.Started {
			xs, err := svc.Executions(ss.JobID, "")
			if err != nil {
				return nil, err
			}
			for _, x := range xs {
				reached[x.ThingName] = true
			}
		}
	}
	for _, th := range things {
		if !reached[th] {
			out.NotRolledOut++
		}
	}
	for _, ss := range status.Stages {
		so := CampaignStageOutcome{Name: ss.Name, JobID: ss.JobID, Started: ss.Started, Things: ss.Things, Status: ss.JobStatus}
		if ss.Started {
			so.StartedAt = *ss.StartedAt
			if j, err := svc.Job(ss.JobID); err == nil {
				so.Counts = j.Counts
			}
		}
		out.Stages = append(out.Stages, so)
	}
	out.Wall = time.Since(began)
	return out, nil
}

// advance runs one campaign advance and records what changed; done is true
// once the campaign needs no more advances (completed, aborted, paused).
func (out *CampaignRehearsal) advance(ctx context.Context, r *campaign.Runner, spec *campaign.Spec, now time.Time, last map[string]string) (bool, error) {
	out.Advances++
	cur := ""
	if st, err := r.Status(ctx, spec.ID(), spec); err == nil && st.CurrentStage() != nil {
		cur = st.CurrentStage().Name
	}
	rep, err := r.Advance(ctx, spec)
	if err != nil {
		return false, err
	}
	var ev *campaign.Evaluation
	for _, ss := range rep.Status.Stages {
		if ss.Name == cur {
			ev = ss.Evaluation
		}
	}
	if ev != nil && last[cur] != ev.Verdict {
		last[cur] = ev.Verdict
		out.Timeline = append(out.Timeline, CampaignEvent{At: now, Stage: cur, Kind: "gate", Detail: gateDetail(ev), Evaluation: ev})
	}
	if !rep.Changed {
		return false, nil
	}
	kind := rep.Action
	stage := cur
	if next, ok := strings.CutPrefix(rep.Action, "started "); ok {
		kind, stage = "started", next
	}
	out.Timeline = append(out.Timeline, CampaignEvent{At: now, Stage: stage, Kind: kind, Detail: rep.Message})
	return kind != "started", nil
}

func gateDetail(ev *campaign.Evaluation) string {
	s := fmt.Sprintf("%s: %d of %d things finished, %.4g%% succeeded, %.4g%% failed", ev.Verdict, ev.Finished, ev.Things, ev.SuccessPercent, ev.FailurePercent)
	if len(ev.Reasons) > 0 {
		s += " (" + strings.Join(ev.Reasons, "; ") + ")"
	}
	return s
}

// setupCampaignFleet creates every group the stages name and spreads the
// simulated things over them; it returns the things' names.
func setupCampaignFleet(svc *iot.Service, spec *campaign.Spec, cfg RehearsalConfig, f *fleet) ([]string, error) {
	var groups, things []string
	seen := map[string]bool{}
	addGroup := func(t string) {
		if g, ok := campaign.GroupName(t); ok && !seen[g] {
			seen[g] = true
			groups = append(groups, g)
		}
	}
	for _, st := range spec.Stages {
		for _, t := range st.Targets {
			addGroup(t)
		}
		if st.Share != nil {
			addGroup(st.Share.Group)
		}
	}
	for _, g := range groups {
		if err := call(svc, "POST", "/thing-groups/"+g, map[string]any{}); err != nil {
			return nil, err
		}
	}
	for i := 0; i < cfg.Devices && len(groups) > 0; i++ {
		g := groups[i%len(groups)]
		thing := fmt.Sprintf("%s-%04d", g, i)
		if err := call(svc, "POST", "/things/"+thing, map[string]any{}); err != nil {
			return nil, err
		}
		if err := call(svc, "PUT", "/thing-groups/addThingToThingGroup", map[string]string{"thingName": thing, "thingGroupName": g}); err != nil {
			return nil, err
		}
		f.add(thing)
		things = append(things, thing)
	}
	return things, nil
}

// simPublisher stands for signing and streaming: it creates the first
// stage's job with a placeholder document (a rehearsal downloads nothing).
type simPublisher struct {
	cloud *simCloud
	now   func() time.Time
}

func (p simPublisher) Run(ctx context.Context, s *ota.Spec) (*ota.Result, error) {
	plan, err := ota.NewPlan(s, ota.PlanEnv{Region: p.cloud.env.Region, AccountID: p.cloud.env.AccountID, StreamID: "AFR_OTA-rehearsal", Now: p.now()})
	if err != nil {
		return nil, err
	}
	req := plan.CreateJob
	req.Document = `{"afr_ota":{"protocols":["MQTT"],"streamname":"AFR_OTA-rehearsal","files":[{"filesize":1,"fileid":0}]}}`
	arn, err := p.cloud.CreateJob(ctx, req)
	if err != nil {
		return nil, err
	}
	return &ota.Result{UpdateID: s.OTAUpdateID, JobID: req.JobID, JobArn: arn}, nil
}

// simCloud is campaign.Cloud over the in-process IoT service: the wire
// (in process) for writes, so they take the paths the SDK's requests take,
// and the Go API for the reads advance repeats.
type simCloud struct {
	svc *iot.Service
	env wire.Env
}

var _ campaign.Cloud = (*simCloud)(nil)

// do runs one control-plane request in process and decodes its answer.
func (c *simCloud) do(method, path string, body, out any) error {
	var rd *bytes.Reader
	if body != nil {
		raw, _ := json.Marshal(body)
		rd = bytes.NewReader(raw)
	} else {
		rd = bytes.NewReader(nil)
	}
	req := httptest.NewRequest(method, path, rd)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	c.svc.ServeHTTP(rec, req)
	switch {
	case rec.Code == http.StatusNotFound:
		return fmt.Errorf("%w: %s", ota.ErrNotFound, strings.TrimSpace(rec.Body.String()))
	case rec.Code == http.StatusConflict:
		return fmt.Errorf("%w: %s", ota.ErrAlreadyExists, strings.TrimSpace(rec.Body.String()))
	case rec.Code >= 300:
		return fmt.Errorf("%s %s: %s", method, path, strings.TrimSpace(rec.Body.String()))
	}
	if out != nil {
		return json.Unmarshal(rec.Body.Bytes(), out)
	}
	return nil
}

func goErr(err error) error {
	var we *wire.Error
	if errors.As(err, &we) && we.Status == http.StatusNotFound {
		return fmt.Errorf("%w: %v", ota.ErrNotFound, err)
	}
	return err
}

func (c *simCloud) Region() string                            { return c.env.Region }
func (c *simCloud) AccountID(context.Context) (string, error) { return c.env.AccountID, nil }
func (c *simCloud) GetJobDocument(_ context.Context, id string) (string, error) {
	d, err := c.svc.JobDocument(id)
	return d, goErr(err)
}

func (c *simCloud) ThingGroupExists(_ context.Context, name string) (bool, error) {
	err := c.do("GET", "/thing-groups/"+url.PathEscape(name), nil, nil)
	if errors.Is(err, ota.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

func (c *simCloud) ListThingsInThingGroup(_ context.Context, group string) ([]string, error) {
	var things []string
	token := ""
	for {
		var page struct {
			Things    []string `json:"things"`
			NextToken string   `json:"nextToken"`
		}
		q := url.Values{"recursive": {"true"}, "maxResults": {"250"}}
		if token != "" {
			q.Set("nextToken", token)
		}
		if err := c.do("GET", "/thing-groups/"+url.PathEscape(group)+"/things?"+q.Encode(), nil, &page); err != nil {
			return nil, err
		}
		things = append(things, page.Things...)
		if token = page.NextToken; token == "" {
			return things, nil
		}
	}
}

func (c *simCloud) CreateThingGroup(_ context.Context, name, description string, tags []ota.Tag) error {
	return c.do("POST", "/thing-groups/"+url.PathEscape(name), map[string]any{
		"thingGroupProperties": map[string]string{"thingGroupDescription": description}, "tags": tags}, nil)
}

func (c *simCloud) AddThingToThingGroup(_ context.Context, group, thing string) error {
	return c.do("PUT", "/thing-groups/addThingToThingGroup", map[string]string{"thingName": thing, "thingGroupName": group}, nil)
}

func (c *simCloud) CreateJob(_ context.Context, r ota.JobRequest) (string, error) {
	var out struct {
		JobArn string `json:"jobArn"`
	}
	err := c.do("PUT", "/jobs/"+url.PathEscape(r.JobID), r, &out)
	return out.JobArn, err
}

func (c *simCloud) DescribeJob(_ context.Context, id string) (ota.Job, error) {
	j, err := c.svc.Job(id)
	if err != nil {
		return ota.Job{}, goErr(err)
	}
	p := j.Counts
	return ota.Job{JobID: j.JobID, JobArn: j.JobArn, Status: j.Status, CreatedAt: j.CreatedAt, LastUpdatedAt: j.LastUpdatedAt,
		CompletedAt: j.CompletedAt, Targets: j.Targets, Counts: map[string]int{"QUEUED": p.Queued, "IN_PROGRESS": p.InProgress,
			"SUCCEEDED": p.Succeeded, "FAILED": p.Failed, "REJECTED": p.Rejected, "CANCELED": p.Canceled, "REMOVED": p.Removed, "TIMED_OUT": p.TimedOut}}, nil
}

func (c *simCloud) ListJobs(context.Context) ([]ota.JobSummary, error) {
	js, err := c.svc.Jobs("")
	var out []ota.JobSummary
	for _, j := range js {
		out = append(out, ota.JobSummary{JobID: j.JobID, JobArn: j.JobArn, Status: j.Status, CreatedAt: j.CreatedAt})
	}
	return out, err
}

func (c *simCloud) ListJobExecutions(_ context.Context, id string) ([]ota.Execution, error) {
	xs, err := c.svc.Executions(id, "")
	if err != nil {
		return nil, goErr(err)
	}
	out := make([]ota.Execution, len(xs))
	for i, x := range xs {
		out[i] = ota.Execution{ThingArn: c.env.ARN("iot", "thing/"+x.ThingName), Status: x.Status, LastUpdt: x.LastUpdatedAt}
	}
	return out, nil
}

func (c *simCloud) CancelJob(_ context.Context, id string, force bool) error {
	_, err := c.svc.CancelJob(id, force, "", "canceled by otactl campaign")
	return goErr(err)
}

func (c *simCloud) ListTags(_ context.Context, arn string) ([]ota.Tag, error) {
	tags, err := c.svc.Tags(arn)
	return tags, goErr(err)
}

func (c *simCloud) TagResource(_ context.Context, arn string, tags []ota.Tag) error {
	return c.do("POST", "/tags", map[string]any{"resourceArn": arn, "tags": tags}, nil)
}
