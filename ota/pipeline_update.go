package ota

import (
	"context"
	"errors"
	"fmt"
	"strconv"
)

// An update's jobs: the first is AFR_OTA-<id>; each --replace cancels the
// current one and creates the next, AFR_OTA-<id>-r2, -r3, ... ("-r" and not
// a bare "-2": update ids such as fw-1-2 are common, and AFR_OTA-fw-1-2
// would be both fw-1-2's first job and fw-1's second). Every job carries
// the update's tag; the newest that exists runs the update, the others
// stay as its history.

// TagReplaces names, on a replacement job, the job it replaced.
const TagReplaces = "otactl:replaces"

// JobIDFor is the job id of an update's gen-th job (1 is the first).
func JobIDFor(updateID string, gen int) string {
	if gen <= 1 {
		return JobIDPrefix + updateID
	}
	return JobIDPrefix + updateID + "-r" + strconv.Itoa(gen)
}

// generation is the job that runs an update now, and the ones it replaced.
type generation struct {
	Job     Job
	Tags    []Tag
	Gen     int
	Earlier []Job // replaced jobs, oldest first
}

// findUpdate reads the update's jobs. The first missing is ErrNotFound; a
// first job without the update's tag is ErrNotOurs.
func findUpdate(ctx context.Context, cloud Cloud, updateID string) (*generation, error) {
	var g *generation
	for gen := 1; ; gen++ {
		id := JobIDFor(updateID, gen)
		job, err := cloud.DescribeJob(ctx, id)
		if errors.Is(err, ErrNotFound) && g != nil {
			return g, nil
		} else if err != nil {
			return nil, fmt.Errorf("iot:DescribeJob %s: %w", id, err)
		}
		tags, err := cloud.ListTags(ctx, job.JobArn)
		if err != nil {
			return nil, fmt.Errorf("iot:ListTagsForResource %s: %w", job.JobArn, err)
		}
		if tagValue(tags, TagUpdateID) != updateID {
			if g != nil {
				return g, nil // a job of another update that happens to have this id
			}
			return nil, fmt.Errorf("job %s: %w for update %s (its %s tag is %q)", id, ErrNotOurs, updateID, TagUpdateID, tagValue(tags, TagUpdateID))
		}
		if g == nil {
			g = &generation{}
		} else {
			g.Earlier = append(g.Earlier, g.Job)
		}
		g.Job, g.Tags, g.Gen = job, tags, gen
	}
}

// existing handles a spec whose update exists: nothing differs → unchanged;
// only what UpdateJob can change → changed in place; anything else →
// refused with each field named, or with Replace a new job.
func (r *run) existing(ctx context.Context, res *Result, g *generation) (*Result, error) {
	d, err := r.diff(ctx, g)
	if err != nil {
		return nil, err
	}
	res.JobID, res.JobArn, res.StreamID = g.Job.JobID, g.Job.JobArn, tagValue(g.Tags, TagStreamID)
	res.Changes = d.Changes
	if len(d.Changes) == 0 {
		res.Unchanged = true
		if doc, err := r.p.Cloud.GetJobDocument(ctx, g.Job.JobID); err == nil {
			res.Document = doc
		}
		return res, nil
	}
	if r.p.Replace {
		return r.replace(ctx, res, g)
	}
	if len(d.Refused()) > 0 {
		return nil, &ChangeError{Diff: d}
	}
	if err := r.apply(ctx, d); err != nil {
		return nil, err
	}
	res.Updated = true
	return res, nil
}

// apply makes the in-place changes of d: one UpdateJob with every changed
// member, then targets and tags.
func (r *run) apply(ctx context.Context, d *Diff) error {
	cloud := r.p.Cloud
	if d.update != (JobUpdate{}) {
		r.progress("updating job " + d.JobID)
		if err := cloud.UpdateJob(ctx, d.JobID, d.update); err != nil {
			return &StepError{Step: "iot:UpdateJob " + d.JobID, Err: err}
		}
	}
	if len(d.addTargets) > 0 {
		if err := cloud.AssociateTargetsWithJob(ctx, d.JobID, d.addTargets, "otactl create: targets added to the spec"); err != nil {
			return &StepError{Step: "iot:AssociateTargetsWithJob " + d.JobID, Err: err}
		}
	}
	if len(d.tagsSet) > 0 {
		if err := cloud.TagResource(ctx, d.JobArn, d.tagsSet); err != nil {
			return &StepError{Step: "iot:TagResource " + d.JobArn, Err: err}
		}
	}
	if len(d.tagsRemove) > 0 {
		if err := cloud.UntagResource(ctx, d.JobArn, d.tagsRemove); err != nil {
			return &StepError{Step: "iot:UntagResource " + d.JobArn, Err: err}
		}
	}
	return nil
}

// replace checks every precondition of the new job, cancels the running
// one (executions in progress finish: a device mid-flash is not cut off)
// and creates the next job with the whole pipeline. Signing is idempotent
// per object version, so an unchanged file keeps its signature.
func (r *run) replace(ctx context.Context, res *Result, g *generation) (*Result, error) {
	r.gen, r.jobID, r.replaces = g.Gen+1, JobIDFor(r.spec.OTAUpdateID, g.Gen+1), g.Job.JobID
	if err := r.check(ctx, r.jobID); err != nil {
		return nil, err
	}
	old := g.Job
	if old.Status == "IN_PROGRESS" || old.Status == "SCHEDULED" {
		r.progress("canceling job " + old.JobID)
		if err := r.p.Cloud.CancelJob(ctx, old.JobID, false); err != nil {
			return nil, &StepError{Step: "iot:CancelJob " + old.JobID, Err: err}
		}
	}
	res.Replaced, res.JobID, res.StreamID, res.JobArn = old.JobID, r.jobID, "", ""
	out, err := r.create(ctx, res)
	if err != nil {
		var se *StepError
		if !errors.As(err, &se) {
			se = &StepError{Step: "create", Err: err}
		}
		r.cleanup(se)
		se.CleanedUp = append(se.CleanedUp, "(job "+old.JobID+" stays canceled)")
		return nil, se
	}
	return out, nil
}

// Diff reads the update s describes and what would change if s were
// applied; nil when the update does not exist (the plan is the whole story).
func (p *Pipeline) Diff(ctx context.Context, s *Spec) (*Diff, error) {
	r, err := p.start(ctx, s, false)
	if err != nil {
		return nil, err
	}
	g, err := findUpdate(ctx, p.Cloud, s.OTAUpdateID)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return r.diff(ctx, g)
}
