package campaign

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"sort"

	"github.com/otactl/otactl/ota"
)

// Resolved is a stage with its targets read from AWS.
type Resolved struct {
	Index int    `json:"index"`
	Name  string `json:"name"`
	JobID string `json:"jobId"`
	// Groups are the thing groups the stage's job targets (a share stage:
	// its materialised group).
	Groups []string `json:"thingGroups"`
	// Things are the stage's things, sorted.
	Things []string `json:"things"`
	// Share, for a share stage: the source group and percentage.
	Share *Share `json:"share,omitempty"`
	// Materialised says the share's group exists already (the campaign started).
	Materialised bool `json:"materialised,omitempty"`
}

// rank orders things for shares: by SHA-256 of the thing name, so a share
// is the same things on every run and does not follow naming patterns
// (the first devices registered, one site's prefix).
func rank(things []string) []string {
	out := append([]string(nil), things...)
	key := func(t string) string { h := sha256.Sum256([]byte(t)); return hex.EncodeToString(h[:]) }
	sort.Slice(out, func(i, j int) bool { return key(out[i]) < key(out[j]) })
	return out
}

// split cuts ranked things into consecutive shares by cumulative percentage
// (rounded), so the shares always add up to every thing exactly.
func split(ranked []string, percents []float64) [][]string {
	out := make([][]string, len(percents))
	cum, from := 0.0, 0
	for i, p := range percents {
		cum += p
		to := int(math.Round(float64(len(ranked)) * cum / 100))
		if i == len(percents)-1 || to > len(ranked) {
			to = len(ranked)
		}
		if to < from {
			to = from
		}
		out[i] = ranked[from:to]
		from = to
	}
	return out
}

// Resolve reads every stage's targets: groups must exist, share stages get
// their things (from the materialised group once the campaign started, else
// chosen now), no thing may be in two stages, and each gate must be
// reachable with the stage's things. Problems come back as field errors, all
// at once; err is for the cloud failing.
func Resolve(ctx context.Context, c Cloud, s *Spec) ([]Resolved, ota.Errors, error) {
	var errs ota.Errors
	add := func(path, format string, args ...any) {
		errs = append(errs, ota.FieldError{Path: path, Rule: fmt.Sprintf(format, args...)})
	}
	members := map[string][]string{} // group → things (nil: missing)
	exists := map[string]bool{}
	things := func(g string) ([]string, bool, error) {
		if _, seen := exists[g]; !seen {
			ok, err := c.ThingGroupExists(ctx, g)
			if err != nil {
				return nil, false, fmt.Errorf("iot:DescribeThingGroup %s: %w", g, err)
			}
			exists[g] = ok
			if ok {
				ts, err := c.ListThingsInThingGroup(ctx, g)
				if err != nil {
					return nil, false, fmt.Errorf("iot:ListThingsInThingGroup %s: %w", g, err)
				}
				members[g] = ts
			}
		}
		return members[g], exists[g], nil
	}
	out := make([]Resolved, len(s.Stages))
	shares := map[string][]int{}
	var order []string
	for i, st := range s.Stages {
		r := Resolved{Index: i, Name: st.Name, JobID: s.StageJobID(i), Share: st.Share}
		for k, t := range st.Targets {
			g, ok := GroupName(t)
			if !ok {
				continue // Validate reports it
			}
			ts, found, err := things(g)
			if err != nil {
				return nil, nil, err
			}
			if !found {
				add(fmt.Sprintf("stages[%d].targets[%d]", i, k), "thing group %s does not exist", g)
				continue
			}
			r.Groups = append(r.Groups, g)
			r.Things = append(r.Things, ts...)
		}
		if sh := st.Share; sh != nil {
			if g, ok := GroupName(sh.Group); ok {
				if len(shares[g]) == 0 {
					order = append(order, g)
				}
				shares[g] = append(shares[g], i)
			}
			r.Groups = []string{s.ShareGroupName(i)}
		}
		out[i] = r
	}
	for _, g := range order {
		idx := shares[g]
		ts, found, err := things(g)
		if err != nil {
			return nil, nil, err
		}
		if !found {
			for _, i := range idx {
				add(fmt.Sprintf("stages[%d].share.group", i), "thing group %s does not exist", g)
			}
			continue
		}
		percents := make([]float64, len(idx))
		for k, i := range idx {
			percents[k] = s.Stages[i].Share.Percent
		}
		parts := split(rank(ts), percents)
		for k, i := range idx {
			name := s.ShareGroupName(i)
			ok, err := c.ThingGroupExists(ctx, name)
			if err != nil {
				return nil, nil, fmt.Errorf("iot:DescribeThingGroup %s: %w", name, err)
			}
			if ok { // materialised when the campaign started: that is the stage
				got, err := c.ListThingsInThingGroup(ctx, name)
				if err != nil {
					return nil, nil, fmt.Errorf("iot:ListThingsInThingGroup %s: %w", name, err)
				}
				out[i].Things, out[i].Materialised = got, true
				continue
			}
			out[i].Things = append([]string(nil), parts[k]...)
			if len(parts[k]) == 0 {
				add(fmt.Sprintf("stages[%d].share.percent", i), "%v%% of the %d things of thing group %s is no thing: raise the share or use a larger group",
					percents[k], len(ts), g)
			}
		}
	}
	owner := map[string]int{}
	for i := range out {
		out[i].Things = dedupe(out[i].Things)
		var shared []string
		other := -1
		for _, t := range out[i].Things {
			if j, seen := owner[t]; seen && j != i {
				shared, other = append(shared, t), j
				continue
			}
			owner[t] = i
		}
		if len(shared) > 0 {
			add(fmt.Sprintf("stages[%d]", i), "stages overlap: %d of its things are also in stages[%d] (%s)", len(shared), other, sample(shared))
		}
		if g := s.Stages[i].Gate; g.MinFinished > len(out[i].Things) && len(out[i].Things) > 0 {
			add(fmt.Sprintf("stages[%d].gate.minFinished", i), "unreachable: the stage has %d things, fewer than %d", len(out[i].Things), g.MinFinished)
		}
		if len(out[i].Things) == 0 && s.Stages[i].Share == nil && len(out[i].Groups) > 0 {
			add(fmt.Sprintf("stages[%d].targets", i), "the stage's thing groups have no things")
		}
	}
	return out, errs, nil
}

func dedupe(ts []string) []string {
	sort.Strings(ts)
	out := ts[:0]
	for i, t := range ts {
		if i == 0 || t != ts[i-1] {
			out = append(out, t)
		}
	}
	return out
}

func sample(ts []string) string {
	if len(ts) <= 3 {
		return fmt.Sprint(ts)
	}
	return fmt.Sprintf("%v and %d more", ts[:3], len(ts)-3)
}

// materialise creates the static thing group of each share stage and adds
// its things; a group left by an earlier run is completed, one that another
// campaign owns is refused.
func (r *Runner) materialise(ctx context.Context, s *Spec, stages []Resolved) error {
	for _, st := range stages {
		if st.Share == nil {
			continue
		}
		name := s.ShareGroupName(st.Index)
		tags := []ota.Tag{{Key: TagCampaign, Value: s.ID()}, {Key: TagStage, Value: fmt.Sprint(st.Index)},
			{Key: TagShareOf, Value: st.Share.Group}, {Key: TagSharePercent, Value: fmt.Sprint(st.Share.Percent)}}
		desc := fmt.Sprintf("otactl campaign %s, stage %s: %v%% of %s", s.ID(), st.Name, st.Share.Percent, st.Share.Group)
		have := map[string]bool{}
		err := r.Cloud.CreateThingGroup(ctx, name, desc, tags)
		switch {
		case err == nil:
			r.progress("created thing group " + name)
		case errors.Is(err, ota.ErrAlreadyExists):
			if err := r.owned(ctx, r.groupArn(ctx, name), s.ID()); err != nil {
				return err
			}
			got, err := r.Cloud.ListThingsInThingGroup(ctx, name)
			if err != nil {
				return fmt.Errorf("iot:ListThingsInThingGroup %s: %w", name, err)
			}
			for _, t := range got {
				have[t] = true
			}
		default:
			return fmt.Errorf("iot:CreateThingGroup %s: %w", name, err)
		}
		for _, t := range st.Things {
			if have[t] {
				continue
			}
			if err := r.Cloud.AddThingToThingGroup(ctx, name, t); err != nil {
				return fmt.Errorf("iot:AddThingToThingGroup %s %s: %w", name, t, err)
			}
		}
	}
	return nil
}
