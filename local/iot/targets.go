package iot

import (
	"sort"
	"strings"

	"github.com/otactl/otactl/local/store"
)

// expandTargets returns the things a job's targets name, groups expanded
// with their descendants: sorted, without duplicates.
func (s *Service) expandTargets(tx *store.Tx, targets []string) ([]string, error) {
	var things []string
	mine := s.env.ARN("iot", "")
	for _, t := range targets {
		if !strings.HasPrefix(t, mine) {
			return nil, notFound("target %s is not in this account and region (%s...)", t, mine)
		}
		switch kind, name := targetOf(t); kind {
		case "thing":
			if _, err := s.getThing(tx, name); err != nil {
				return nil, err
			}
			things = append(things, name)
		case "thinggroup":
			if _, err := s.getGroup(tx, name); err != nil {
				return nil, err
			}
			things = append(things, s.groupThings(tx, name, true)...)
		default:
			return nil, invalid("target %q is not a thing or thing group ARN", t)
		}
	}
	sort.Strings(things)
	return dedupSorted(things), nil
}

// targetOf splits a target ARN into its kind (thing, thinggroup) and name.
func targetOf(arn string) (kind, name string) {
	if n := arnName(arn, "thinggroup/"); n != "" {
		return "thinggroup", n
	}
	if n := arnName(arn, "thing/"); n != "" {
		return "thing", n
	}
	return "", ""
}

// joinContinuousJobs queues executions of the continuous jobs that target
// group (or an ancestor of it) for a thing that just joined it.
func (s *Service) joinContinuousJobs(tx *store.Tx, thing, group string) ([]Event, error) {
	var evs []Event
	for _, j := range s.jobsTargeting(tx, group) {
		if !j.Continuous() || j.Status != JobInProgress {
			continue
		}
		if s.DeferRollout != nil && s.DeferRollout(j) && !tx.Has(tExecs, j.JobID+"/"+thing) {
			// The job engine rolls the newcomer out (rate, windows).
			j.RolloutPending = true
			evs = append(evs, Event{Kind: JobChanged, JobID: j.JobID})
			if err := tx.Put(tJobs, j.JobID, j); err != nil {
				return nil, err
			}
			continue
		}
		created, err := s.createExecutions(tx, j, []string{thing}, false)
		if err != nil {
			return nil, err
		}
		if len(created) > 0 {
			evs = append(evs, Event{Kind: ExecutionsCreated, JobID: j.JobID, Things: created})
			if err := tx.Put(tJobs, j.JobID, j); err != nil {
				return nil, err
			}
		}
	}
	return evs, nil
}

// leaveContinuousJobs marks REMOVED the pending executions of continuous
// jobs that no longer target a thing that left group.
func (s *Service) leaveContinuousJobs(tx *store.Tx, thing, group string) ([]Event, error) {
	var evs []Event
	for _, j := range s.jobsTargeting(tx, group) {
		if !j.Continuous() {
			continue
		}
		if still, err := s.expandTargets(tx, j.Targets); err == nil && containsSorted(still, thing) {
			continue
		}
		e, err := loadExec(tx, j.JobID, thing)
		if err != nil || Terminal(e.Status) {
			continue
		}
		prev := e.Status
		e.Status = StatusRemoved
		s.stamp(j, prev, e)
		if err := saveExec(tx, j, prev, e); err != nil {
			return nil, err
		}
		if err := tx.Put(tJobs, j.JobID, j); err != nil {
			return nil, err
		}
		evs = append(evs, Event{Kind: ExecutionChanged, JobID: j.JobID, Execution: e, PreviousStatus: prev})
	}
	return evs, nil
}

func containsSorted(xs []string, x string) bool {
	i := sort.SearchStrings(xs, x)
	return i < len(xs) && xs[i] == x
}

// jobsTargeting returns the jobs that target group or one of its ancestors.
func (s *Service) jobsTargeting(tx *store.Tx, group string) []*Job {
	var out []*Job
	seen := map[string]bool{}
	for g, depth := group, 0; g != "" && depth < 8; depth++ {
		for _, id := range keysUnder(tx, tGroupJobs, g+"/") {
			if seen[id] {
				continue
			}
			seen[id] = true
			if j, err := s.loadJob(tx, id); err == nil {
				out = append(out, j)
			}
		}
		gr, err := s.getGroup(tx, g)
		if err != nil {
			break
		}
		g = gr.Parent
	}
	return out
}
