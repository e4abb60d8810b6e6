package campaign

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/otactl/otactl/ota"
)

// Runner performs a campaign's operations against a Cloud.
type Runner struct {
	Cloud Cloud
	// Publisher signs, streams and creates the first stage's job (an
	// *ota.Pipeline over the same cloud).
	Publisher Publisher
	// Now is the clock gates are evaluated at (default time.Now).
	Now func() time.Time
	// Progress, when set, hears what is being done.
	Progress func(string)
}

func (r *Runner) now() time.Time {
	if r.Now != nil {
		return r.Now()
	}
	return time.Now()
}

func (r *Runner) progress(s string) {
	if r.Progress != nil {
		r.Progress(s)
	}
}

// Report is what one operation found and did.
type Report struct {
	CampaignID string `json:"campaignId"`
	Operation  string `json:"operation"`
	// Action is what changed: none, started <stage>, paused, resumed,
	// aborted or completed.
	Action  string `json:"action"`
	Changed bool   `json:"changed"`
	// Message says why, in words.
	Message string  `json:"message"`
	Status  *Status `json:"status"`
}

// Plan is what start would do, and where the campaign stands.
type Plan struct {
	CampaignID string     `json:"campaignId"`
	Stages     []Resolved `json:"stages"`
	Status     *Status    `json:"status"`
}

// check validates the spec and resolves its stages: every problem at once,
// the spec's own and what AWS shows (missing groups, overlapping things).
func (r *Runner) check(ctx context.Context, s *Spec) ([]Resolved, error) {
	errs := Validate(s, r.now())
	stages, cerrs, err := Resolve(ctx, r.Cloud, s)
	if err != nil {
		return nil, err
	}
	if errs = append(errs, cerrs...); len(errs) > 0 {
		return nil, errs
	}
	return stages, nil
}

// Plan validates s, reads its stages' targets and the campaign's state;
// it changes nothing.
func (r *Runner) Plan(ctx context.Context, s *Spec) (*Plan, error) {
	stages, err := r.check(ctx, s)
	if err != nil {
		return nil, err
	}
	st, err := r.status(ctx, s.ID(), s, true)
	if err != nil {
		return nil, err
	}
	return &Plan{CampaignID: s.ID(), Stages: stages, Status: st}, nil
}

// Status reads the campaign: from the spec when given, else by its id.
func (r *Runner) Status(ctx context.Context, id string, s *Spec) (*Status, error) {
	return r.status(ctx, id, s, true)
}

// stageSpec is the update as stage i's job delivers it.
func (r *Runner) stageSpec(s *Spec, i int, stage Resolved) *ota.Spec {
	u := s.Update
	u.OTAUpdateID = s.StageUpdateID(i)
	u.Targets = nil
	for _, g := range stage.Groups {
		u.Targets = append(u.Targets, "thinggroup/"+g)
	}
	u.Tags = append(append([]ota.Tag(nil), s.Update.Tags...),
		ota.Tag{Key: TagCampaign, Value: s.ID()}, ota.Tag{Key: TagStage, Value: fmt.Sprint(i)},
		ota.Tag{Key: TagState, Value: Running}, ota.Tag{Key: TagThings, Value: fmt.Sprint(len(stage.Things))},
		ota.Tag{Key: TagUpdateHash, Value: UpdateHash(&s.Update)}, ota.Tag{Key: TagGate, Value: encodeGate(s.Stages[i].Gate)})
	return &u
}

// Start checks everything, materialises the share groups, then signs,
// streams and creates the first stage's job. Run again, it changes nothing.
func (r *Runner) Start(ctx context.Context, s *Spec) (*Report, error) {
	stages, err := r.check(ctx, s)
	if err != nil {
		return nil, err
	}
	rep := &Report{CampaignID: s.ID(), Operation: "start", Action: "none"}
	if _, _, ok, err := r.stageJob(ctx, s.ID(), s.StageJobID(0)); err != nil {
		return nil, err
	} else if ok {
		rep.Message = "already started; otactl campaign advance moves it on"
		rep.Status, err = r.status(ctx, s.ID(), s, true)
		return rep, err
	}
	if err := r.materialise(ctx, s, stages); err != nil {
		return nil, err
	}
	r.progress("starting stage " + s.Stages[0].Name)
	if _, err := r.Publisher.Run(ctx, r.stageSpec(s, 0, stages[0])); err != nil {
		return nil, err
	}
	rep.Action, rep.Changed = "started "+s.Stages[0].Name, true
	rep.Message = fmt.Sprintf("stage %s started: job %s on %d things", s.Stages[0].Name, s.StageJobID(0), len(stages[0].Things))
	rep.Status, err = r.status(ctx, s.ID(), s, true)
	return rep, err
}

// ErrUpdateChanged refuses to start a stage with another update than the
// campaign started with.
var ErrUpdateChanged = errors.New("the update changed since the campaign started")

// Advance evaluates the current stage's gate and acts on it: starts the
// next stage when it passed (or marks the campaign completed after the
// last), pauses or aborts when it failed, and otherwise changes nothing.
// It is idempotent: run twice in a row, the second run finds the next
// stage's gate waiting and does nothing.
func (r *Runner) Advance(ctx context.Context, s *Spec) (*Report, error) {
	if errs := Validate(s, r.now()); len(errs) > 0 {
		return nil, errs
	}
	st, err := r.status(ctx, s.ID(), s, true)
	if err != nil {
		return nil, err
	}
	rep := &Report{CampaignID: s.ID(), Operation: "advance", Action: "none", Status: st}
	cur := st.CurrentStage()
	switch {
	case cur == nil:
		return nil, fmt.Errorf("%w: campaign %s has not started (otactl campaign start)", ota.ErrNotFound, s.ID())
	case st.State != Running:
		rep.Message = fmt.Sprintf("campaign is %s: nothing to do", st.State)
		if st.State == Paused {
			rep.Message += " (otactl campaign resume to continue)"
		}
		return rep, nil
	}
	ev := cur.Evaluation
	switch ev.Verdict {
	case Waiting, Baking:
		rep.Message = fmt.Sprintf("stage %s: gate %s", cur.Name, ev.Verdict)
		for _, why := range ev.Reasons {
			rep.Message += "; " + why
		}
		return rep, nil
	case Failed:
		action := cur.Gate.onFailure()
		rep.Message = fmt.Sprintf("stage %s: gate failed", cur.Name)
		for _, why := range ev.Reasons {
			rep.Message += "; " + why
		}
		if action == OnFailureAbort {
			if err := r.abort(ctx, st, false); err != nil {
				return nil, err
			}
			rep.Action, rep.Changed, rep.Message = Aborted, true, rep.Message+"; onFailure abort: the campaign's jobs are canceled"
		} else {
			if err := r.setState(ctx, cur, Paused); err != nil {
				return nil, err
			}
			rep.Action, rep.Changed, rep.Message = Paused, true, rep.Message+"; onFailure pause: otactl campaign resume after a look"
		}
		st.State = rep.Action
		return rep, nil
	}
	// Passed.
	if cur.Index == len(s.Stages)-1 {
		if err := r.setState(ctx, cur, Completed); err != nil {
			return nil, err
		}
		st.State = Completed
		rep.Action, rep.Changed, rep.Message = Completed, true, fmt.Sprintf("stage %s: gate passed; the campaign is complete", cur.Name)
		return rep, nil
	}
	if cur.tags[TagUpdateHash] != UpdateHash(&s.Update) {
		return nil, fmt.Errorf("%w (campaign update %s, spec %s): every stage must deliver the same signed update; keep the update as it was, or start a new campaign with a new otaUpdateId",
			ErrUpdateChanged, cur.tags[TagUpdateHash], UpdateHash(&s.Update))
	}
	next := cur.Index + 1
	if err := r.startStage(ctx, s, next); err != nil {
		return nil, err
	}
	rep.Action, rep.Changed = "started "+s.Stages[next].Name, true
	rep.Message = fmt.Sprintf("stage %s: gate passed; stage %s started", cur.Name, s.Stages[next].Name)
	if rep.Status, err = r.status(ctx, s.ID(), s, true); err != nil {
		return nil, err
	}
	rep.Status.Stages[cur.Index].Evaluation = ev // the gate that let the new stage start
	return rep, nil
}

// startStage creates stage i's job with the first stage's document: same
// files, signature and stream, so nothing is signed or streamed again.
func (r *Runner) startStage(ctx context.Context, s *Spec, i int) error {
	stages, errs, err := Resolve(ctx, r.Cloud, s)
	if err != nil {
		return err
	}
	if len(errs) > 0 {
		return errs
	}
	first := s.StageJobID(0)
	doc, err := r.Cloud.GetJobDocument(ctx, first)
	if err != nil {
		return fmt.Errorf("iot:GetJobDocument %s: %w", first, err)
	}
	account, err := r.Cloud.AccountID(ctx)
	if err != nil {
		return fmt.Errorf("sts:GetCallerIdentity: %w", err)
	}
	plan, err := ota.NewPlan(r.stageSpec(s, i, stages[i]), ota.PlanEnv{Region: r.Cloud.Region(), AccountID: account, StreamID: "-", Now: r.now()})
	if err != nil {
		return err
	}
	req := plan.CreateJob
	req.Document = doc
	r.progress("creating job " + req.JobID)
	if _, err := r.Cloud.CreateJob(ctx, req); err != nil {
		if errors.Is(err, ota.ErrAlreadyExists) {
			return nil // another advance (cron on two machines) got there first
		}
		return fmt.Errorf("iot:CreateJob %s: %w", req.JobID, err)
	}
	return nil
}

// Pause stops the campaign from advancing. The running stage's job goes on
// (AWS IoT jobs cannot be paused); abort cancels it.
func (r *Runner) Pause(ctx context.Context, id string, s *Spec) (*Report, error) {
	return r.setCampaignState(ctx, id, s, "pause", Paused, Running)
}

// Resume lets a paused campaign advance again.
func (r *Runner) Resume(ctx context.Context, id string, s *Spec) (*Report, error) {
	return r.setCampaignState(ctx, id, s, "resume", Running, Paused)
}

func (r *Runner) setCampaignState(ctx context.Context, id string, s *Spec, op, to, from string) (*Report, error) {
	st, err := r.status(ctx, id, s, false)
	if err != nil {
		return nil, err
	}
	cur := st.CurrentStage()
	if cur == nil {
		return nil, fmt.Errorf("%w: campaign %s has not started", ota.ErrNotFound, id)
	}
	rep := &Report{CampaignID: id, Operation: op, Action: "none", Status: st}
	switch st.State {
	case to:
		rep.Message = "campaign is already " + to
	case from:
		if err := r.setState(ctx, cur, to); err != nil {
			return nil, err
		}
		st.State = to
		rep.Action, rep.Changed, rep.Message = to, true, "campaign is "+to
	default:
		rep.Message = fmt.Sprintf("campaign is %s: cannot %s it", st.State, op)
	}
	return rep, nil
}

// Abort cancels every stage job still running and marks the campaign
// aborted; no later stage starts. force also cancels executions in progress.
func (r *Runner) Abort(ctx context.Context, id string, s *Spec, force bool) (*Report, error) {
	st, err := r.status(ctx, id, s, false)
	if err != nil {
		return nil, err
	}
	if st.CurrentStage() == nil {
		return nil, fmt.Errorf("%w: campaign %s has not started", ota.ErrNotFound, id)
	}
	rep := &Report{CampaignID: id, Operation: "abort", Action: "none", Status: st}
	if st.State == Aborted && !anyRunning(st) {
		rep.Message = "campaign is already aborted"
		return rep, nil
	}
	if err := r.abort(ctx, st, force); err != nil {
		return nil, err
	}
	rep.Action, rep.Changed, rep.Message = Aborted, true, "campaign aborted: its running jobs are canceled"
	rep.Status, err = r.status(ctx, id, s, false)
	return rep, err
}

func anyRunning(st *Status) bool {
	for _, ss := range st.Stages {
		if ss.Started && (ss.JobStatus == "IN_PROGRESS" || ss.JobStatus == "SCHEDULED") {
			return true
		}
	}
	return false
}

func (r *Runner) abort(ctx context.Context, st *Status, force bool) error {
	// The state first: a crash half-way leaves an aborted campaign whose
	// abort can be run again, never a running one with canceled jobs.
	if err := r.setState(ctx, st.CurrentStage(), Aborted); err != nil {
		return err
	}
	st.State = Aborted
	for _, ss := range st.Stages {
		if !ss.Started || (ss.JobStatus != "IN_PROGRESS" && ss.JobStatus != "SCHEDULED") {
			continue
		}
		r.progress("canceling job " + ss.JobID)
		if err := r.Cloud.CancelJob(ctx, ss.JobID, force); err != nil {
			return fmt.Errorf("iot:CancelJob %s: %w", ss.JobID, err)
		}
	}
	return nil
}
