package campaign

import (
	"fmt"
	"math"
	"regexp"
	"strings"
	"time"

	"github.com/otactl/otactl/ota"
)

const (
	maxStages   = 20
	maxJobIDLen = 64 // CreateJob's jobId: 1-64 of [a-zA-Z0-9_-]
)

var namePattern = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)

// Validate reports every rule s breaks at once, with field paths
// (stages[1].gate.minSuccessPercent); the update is checked by ota.Validate
// with its paths under update. It reads nothing from AWS: Check does what
// needs the cloud (groups exist, stages do not share things).
func Validate(s *Spec, now time.Time) ota.Errors {
	var errs ota.Errors
	add := func(path, format string, args ...any) {
		errs = append(errs, ota.FieldError{Path: path, Rule: fmt.Sprintf(format, args...)})
	}
	u := s.Update
	if len(u.Targets) > 0 {
		add("update.targets", "a campaign's stages give the targets: move them to stages[].targets or stages[].share")
	}
	if sc := u.SchedulingConfig; sc != nil && sc.StartTime != "" {
		add("update.schedulingConfig.startTime", "a campaign starts each stage when the gate before it passes: remove startTime (the first stage starts at otactl campaign start)")
	}
	// The update is checked as the first stage's job will be created.
	probe := u
	probe.Targets = []string{"thinggroup/campaign-stage"}
	if probe.SchedulingConfig != nil {
		sc := *probe.SchedulingConfig
		sc.StartTime = ""
		probe.SchedulingConfig = &sc
	}
	for _, e := range ota.Validate(&probe, now) {
		e.Path = "update." + e.Path
		errs = append(errs, e)
	}

	switch {
	case len(s.Stages) == 0:
		add("stages", "at least one stage is required")
	case len(s.Stages) > maxStages:
		add("stages", "at most %d stages, got %d", maxStages, len(s.Stages))
	}
	names := map[string]int{}
	groupStage := map[string]string{} // group → the path that targets it whole
	shareOf := map[string][]int{}     // group → stages taking a share of it
	var order []string                // groups with shares, in first-seen order
	for i := range s.Stages {
		st := &s.Stages[i]
		p := fmt.Sprintf("stages[%d]", i)
		switch {
		case st.Name == "":
			add(p+".name", "is required")
		case !namePattern.MatchString(st.Name):
			add(p+".name", "must match [a-zA-Z0-9_-]+ (it names the stage's job and group), got %q", st.Name)
		case u.OTAUpdateID != "" && len(s.StageJobID(i)) > maxJobIDLen:
			add(p+".name", "the stage's job id %s is %d characters; CreateJob allows %d: shorten the stage name or update.otaUpdateId",
				s.StageJobID(i), len(s.StageJobID(i)), maxJobIDLen)
		}
		if j, dup := names[st.Name]; dup && st.Name != "" {
			add(p+".name", "%q is also the name of stages[%d]", st.Name, j)
		} else {
			names[st.Name] = i
		}
		switch {
		case len(st.Targets) == 0 && st.Share == nil:
			add(p, "no targets: give targets (thing groups) or share (a percentage of a group's things)")
		case len(st.Targets) > 0 && st.Share != nil:
			add(p, "give targets or share, not both")
		}
		for k, t := range st.Targets {
			tp := fmt.Sprintf("%s.targets[%d]", p, k)
			g, ok := GroupName(t)
			if !ok {
				add(tp, "a stage targets thing groups (NAME, thinggroup/NAME or a thing group ARN), got %q", t)
				continue
			}
			if prev, seen := groupStage[g]; seen {
				add(tp, "stages overlap: thing group %s is also targeted by %s", g, prev)
				continue
			}
			groupStage[g] = tp
		}
		if sh := st.Share; sh != nil {
			g, ok := GroupName(sh.Group)
			switch {
			case sh.Group == "":
				add(p+".share.group", "is required")
			case !ok:
				add(p+".share.group", "must be a thing group, got %q", sh.Group)
			default:
				if len(shareOf[g]) == 0 {
					order = append(order, g)
				}
				shareOf[g] = append(shareOf[g], i)
			}
			if sh.Percent <= 0 || sh.Percent > 100 || math.IsNaN(sh.Percent) {
				add(p+".share.percent", "must be more than 0 and at most 100, got %v", sh.Percent)
			}
		}
		gatePath := p + ".gate"
		validateGate(gatePath, st.Gate, add)
	}
	// A group taken in shares must not also be a whole target, and its
	// shares must add up to 100 % (else some of its things are never updated,
	// or a share cannot be filled).
	for _, g := range order {
		idx := shareOf[g]
		if prev, whole := groupStage[g]; whole {
			for _, i := range idx {
				add(fmt.Sprintf("stages[%d].share.group", i), "stages overlap: thing group %s is also targeted whole by %s", g, prev)
			}
		}
		sum := 0.0
		for _, i := range idx {
			sum += s.Stages[i].Share.Percent
		}
		if math.Abs(sum-100) > 1e-9 {
			var parts []string
			for _, i := range idx {
				parts = append(parts, fmt.Sprintf("stages[%d] %v%%", i, s.Stages[i].Share.Percent))
			}
			last := idx[len(idx)-1]
			add(fmt.Sprintf("stages[%d].share.percent", last), "the shares of thing group %s add up to %v%% (%s), not 100%%",
				g, sum, strings.Join(parts, " + "))
		}
	}
	validateBakeWithinEnd(s, now, add)
	return errs
}

func validateGate(p string, g Gate, add func(path, format string, args ...any)) {
	if g.MinFinished < 0 {
		add(p+".minFinished", "must be 0 or more, got %d", g.MinFinished)
	}
	switch {
	case g.MinSuccessPercent > 100:
		add(p+".minSuccessPercent", "unreachable: %v%% is above 100%%", g.MinSuccessPercent)
	case g.MinSuccessPercent < 0:
		add(p+".minSuccessPercent", "must be 0-100, got %v", g.MinSuccessPercent)
	}
	if m := g.MaxFailurePercent; m != nil {
		switch {
		case *m > 100:
			add(p+".maxFailurePercent", "unreachable: %v%% is above 100%%, so the gate could never fail on it (omit it for no limit)", *m)
		case *m <= 0:
			add(p+".maxFailurePercent", "must be more than 0 (failures must stay below it), got %v", *m)
		}
	}
	if g.Bake != "" {
		d, err := time.ParseDuration(g.Bake)
		switch {
		case err != nil:
			add(p+".bake", "must be a duration such as 30m or 24h, got %q", g.Bake)
		case d < 0:
			add(p+".bake", "must not be negative, got %s", g.Bake)
		}
	}
	switch g.BakeFrom {
	case "", BakeFromStageStart, BakeFromThresholdMet:
	default:
		add(p+".bakeFrom", "must be %s or %s, got %q", BakeFromStageStart, BakeFromThresholdMet, g.BakeFrom)
	}
	switch g.OnFailure {
	case "", OnFailurePause, OnFailureAbort:
	default:
		add(p+".onFailure", "must be %s or %s, got %q", OnFailurePause, OnFailureAbort, g.OnFailure)
	}
}

// validateBakeWithinEnd refuses gates that cannot pass before the jobs'
// schedulingConfig.endTime (every stage's job has the same end time): the
// earliest stage k's gate can pass is now plus every bake up to it.
func validateBakeWithinEnd(s *Spec, now time.Time, add func(path, format string, args ...any)) {
	sc := s.Update.SchedulingConfig
	if sc == nil || sc.EndTime == "" {
		return
	}
	end, err := time.Parse("2006-01-02T15:04", sc.EndTime)
	if err != nil {
		return // ota.Validate reported it
	}
	at := now
	for i, st := range s.Stages {
		at = at.Add(st.Gate.BakeDuration())
		if at.After(end) {
			add(fmt.Sprintf("stages[%d].gate.bake", i), "unreachable: with the bakes before it this gate cannot pass before %s UTC, after update.schedulingConfig.endTime %s ends the stage jobs",
				at.UTC().Format("2006-01-02T15:04"), sc.EndTime)
			return
		}
	}
}

// GroupName returns the thing group a target names: NAME, thinggroup/NAME
// or arn:aws:iot:REGION:ACCOUNT:thinggroup/NAME; ok is false for things.
func GroupName(target string) (string, bool) {
	switch {
	case strings.HasPrefix(target, "arn:"):
		_, res, found := strings.Cut(target, ":thinggroup/")
		return res, found && res != ""
	case strings.HasPrefix(target, "thinggroup/"):
		n := strings.TrimPrefix(target, "thinggroup/")
		return n, n != "" && !strings.Contains(n, "/")
	case target == "" || strings.Contains(target, "/"):
		return "", false
	}
	return target, true
}
