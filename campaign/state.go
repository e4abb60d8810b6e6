package campaign

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/otactl/otactl/ota"
)

// Tags are the campaign's only state. Values keep to the characters AWS IoT
// allows in tag values (letters, digits, spaces and _.:/=+-@).
const (
	TagCampaign     = "otactl:campaign"          // jobs and groups: the campaign id
	TagStage        = "otactl:campaign-stage"    // jobs and groups: the stage index (0-based)
	TagState        = "otactl:campaign-state"    // jobs: running, paused, aborted or completed (the latest stage's job rules)
	TagThings       = "otactl:campaign-things"   // jobs: the stage's things when it started (rates' denominator)
	TagUpdateHash   = "otactl:campaign-update"   // jobs: hash of the update, so a changed update is refused
	TagGate         = "otactl:campaign-gate"     // jobs: the stage's gate, for status without the spec
	TagShareOf      = "otactl:campaign-share-of" // groups: the source group of a share
	TagSharePercent = "otactl:campaign-share-percent"
)

// Campaign states.
const (
	NotStarted = "not-started"
	Running    = "running"
	Paused     = "paused"
	Aborted    = "aborted"
	Completed  = "completed"
)

// StageStatus is one stage as AWS shows it.
type StageStatus struct {
	Index   int    `json:"index"`
	Name    string `json:"name"`
	JobID   string `json:"jobId"`
	Started bool   `json:"started"`
	// Job fields, when started.
	JobArn     string         `json:"jobArn,omitempty"`
	JobStatus  string         `json:"jobStatus,omitempty"`
	StartedAt  *time.Time     `json:"startedAt,omitempty"`
	Things     int            `json:"things,omitempty"`
	Counts     map[string]int `json:"counts,omitempty"`
	Gate       Gate           `json:"gate"`
	Evaluation *Evaluation    `json:"gateEvaluation,omitempty"`
	tags       map[string]string
}

// Status is a campaign as AWS shows it.
type Status struct {
	CampaignID string        `json:"campaignId"`
	State      string        `json:"state"`
	Current    int           `json:"currentStage"` // index of the latest started stage; -1 before start
	At         time.Time     `json:"evaluatedAt"`
	Stages     []StageStatus `json:"stages"`
}

// CurrentStage is the latest started stage (nil before start).
func (s *Status) CurrentStage() *StageStatus {
	if s.Current < 0 {
		return nil
	}
	return &s.Stages[s.Current]
}

func tagMap(tags []ota.Tag) map[string]string {
	m := map[string]string{}
	for _, t := range tags {
		m[t.Key] = t.Value
	}
	return m
}

// UpdateHash identifies the update a campaign delivers: every stage must
// deliver this one.
func UpdateHash(u *ota.Spec) string {
	raw, _ := json.Marshal(u)
	h := sha256.Sum256(raw)
	return hex.EncodeToString(h[:8])
}

// encodeGate writes a gate as a tag value (no braces or quotes allowed).
func encodeGate(g Gate) string {
	parts := []string{"finished=" + strconv.Itoa(g.MinFinished),
		"success=" + strconv.FormatFloat(g.MinSuccessPercent, 'g', -1, 64)}
	if g.MaxFailurePercent != nil {
		parts = append(parts, "failure="+strconv.FormatFloat(*g.MaxFailurePercent, 'g', -1, 64))
	}
	parts = append(parts, "bake="+g.BakeDuration().String(), "from="+g.bakeFrom(), "onFailure="+g.onFailure())
	return strings.Join(parts, " ")
}

func decodeGate(v string) Gate {
	var g Gate
	for _, f := range strings.Fields(v) {
		k, val, _ := strings.Cut(f, "=")
		switch k {
		case "finished":
			g.MinFinished, _ = strconv.Atoi(val)
		case "success":
			g.MinSuccessPercent, _ = strconv.ParseFloat(val, 64)
		case "failure":
			x, _ := strconv.ParseFloat(val, 64)
			g.MaxFailurePercent = &x
		case "bake":
			g.Bake = val
		case "from":
			g.BakeFrom = val
		case "onFailure":
			g.OnFailure = val
		}
	}
	return g
}

// stageJob reads one stage's job and tags; ok is false when it does not exist.
func (r *Runner) stageJob(ctx context.Context, id, jobID string) (ota.Job, map[string]string, bool, error) {
	job, err := r.Cloud.DescribeJob(ctx, jobID)
	if errors.Is(err, ota.ErrNotFound) {
		return ota.Job{}, nil, false, nil
	}
	if err != nil {
		return ota.Job{}, nil, false, fmt.Errorf("iot:DescribeJob %s: %w", jobID, err)
	}
	tags, err := r.Cloud.ListTags(ctx, job.JobArn)
	if err != nil {
		return ota.Job{}, nil, false, fmt.Errorf("iot:ListTagsForResource %s: %w", job.JobArn, err)
	}
	m := tagMap(tags)
	if m[TagCampaign] != id {
		return ota.Job{}, nil, false, fmt.Errorf("%w: job %s exists but is not part of campaign %s", ota.ErrAlreadyExists, jobID, id)
	}
	return job, m, true, nil
}

// status reads a campaign's stages. With a spec, stage jobs are found by
// their ids and gates come from the spec; with only an id, the jobs are
// found by listing (tags name the stage) and gates come from their tags.
func (r *Runner) status(ctx context.Context, id string, s *Spec, evaluate bool) (*Status, error) {
	st := &Status{CampaignID: id, State: NotStarted, Current: -1, At: r.now()}
	if s != nil {
		for i, stage := range s.Stages {
			ss := StageStatus{Index: i, Name: stage.Name, JobID: s.StageJobID(i), Gate: stage.Gate}
			job, tags, ok, err := r.stageJob(ctx, id, ss.JobID)
			if err != nil {
				return nil, err
			}
			if ok {
				fill(&ss, job, tags)
				st.Current = i
			}
			st.Stages = append(st.Stages, ss)
		}
	} else {
		jobs, err := r.Cloud.ListJobs(ctx)
		if err != nil {
			return nil, fmt.Errorf("iot:ListJobs: %w", err)
		}
		prefix := ota.JobIDPrefix + id + "-"
		for _, js := range jobs {
			if !strings.HasPrefix(js.JobID, prefix) {
				continue
			}
			job, tags, ok, err := r.stageJob(ctx, id, js.JobID)
			if err != nil || !ok {
				continue // not one of this campaign's: a job with a similar name
			}
			idx, err := strconv.Atoi(tags[TagStage])
			if err != nil {
				continue
			}
			ss := StageStatus{Index: idx, Name: strings.TrimPrefix(js.JobID, prefix), JobID: js.JobID, Gate: decodeGate(tags[TagGate])}
			fill(&ss, job, tags)
			st.Stages = append(st.Stages, ss)
		}
		sort.Slice(st.Stages, func(i, j int) bool { return st.Stages[i].Index < st.Stages[j].Index })
		if len(st.Stages) > 0 {
			st.Current = len(st.Stages) - 1
		}
	}
	if cur := st.CurrentStage(); cur != nil {
		st.State = cur.tags[TagState]
		if st.State == "" {
			st.State = Running
		}
		if evaluate {
			ev, err := r.evaluate(ctx, cur)
			if err != nil {
				return nil, err
			}
			cur.Evaluation = ev
		}
	}
	return st, nil
}

func fill(ss *StageStatus, job ota.Job, tags map[string]string) {
	t := job.CreatedAt
	ss.Started, ss.JobArn, ss.JobStatus, ss.StartedAt, ss.Counts, ss.tags = true, job.JobArn, job.Status, &t, job.Counts, tags
	ss.Things, _ = strconv.Atoi(tags[TagThings])
}

// evaluate reads the stage job's executions and applies its gate.
func (r *Runner) evaluate(ctx context.Context, ss *StageStatus) (*Evaluation, error) {
	xs, err := r.Cloud.ListJobExecutions(ctx, ss.JobID)
	if err != nil {
		return nil, fmt.Errorf("iot:ListJobExecutionsForJob %s: %w", ss.JobID, err)
	}
	o := Observation{Things: ss.Things, JobStatus: ss.JobStatus, StartedAt: *ss.StartedAt}
	for _, x := range xs {
		o.Executions = append(o.Executions, Outcome{Status: x.Status, At: x.LastUpdt})
	}
	ev := Evaluate(ss.Gate, o, r.now())
	return &ev, nil
}

// setState tags the latest stage's job with the campaign's state.
func (r *Runner) setState(ctx context.Context, ss *StageStatus, state string) error {
	if err := r.Cloud.TagResource(ctx, ss.JobArn, []ota.Tag{{Key: TagState, Value: state}}); err != nil {
		return fmt.Errorf("iot:TagResource %s: %w", ss.JobArn, err)
	}
	ss.tags[TagState] = state
	return nil
}

// owned checks that a resource carries this campaign's tag.
func (r *Runner) owned(ctx context.Context, arn, id string) error {
	tags, err := r.Cloud.ListTags(ctx, arn)
	if err != nil {
		return fmt.Errorf("iot:ListTagsForResource %s: %w", arn, err)
	}
	if got := tagMap(tags)[TagCampaign]; got != id {
		return fmt.Errorf("%w: %s exists and is not part of campaign %s (tag %s=%q)", ota.ErrAlreadyExists, arn, id, TagCampaign, got)
	}
	return nil
}

func (r *Runner) groupArn(ctx context.Context, name string) string {
	account, _ := r.Cloud.AccountID(ctx)
	return fmt.Sprintf("arn:aws:iot:%s:%s:thinggroup/%s", r.Cloud.Region(), account, name)
}
