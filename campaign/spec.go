// Package campaign is otactl's staged release: one OTA update rolled out in
// ordered stages (thing groups, or a deterministic share of a group's
// things), each stage its own AWS IoT job with the same signed document, and
// a gate after each stage that says when the next may start.
//
// A campaign keeps no state of its own: what has started, and whether the
// campaign is paused, aborted or done, lives in tags on the stage jobs and
// on the thing groups it materialises. Any machine with credentials and the
// spec file can run status or advance, and advance is idempotent, so a cron
// job or a CI schedule can drive it. Like ota, it has no AWS SDK import: it
// reaches AWS (or otactl local, or otactl rehearse's simulation) through the
// Cloud interface.
package campaign

import (
	"bytes"
	"fmt"
	"os"
	"strings"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/otactl/otactl/ota"
)

// Spec is a campaign: the update (today's ota.Spec, without targets: the
// stages give them) and its stages in order.
type Spec struct {
	// Update is the OTA update every stage delivers. Its otaUpdateId names
	// the campaign; stage jobs are AFR_OTA-<otaUpdateId>-<stage name>.
	Update ota.Spec `json:"update" yaml:"update"`
	Stages []Stage  `json:"stages" yaml:"stages"`
}

// Stage is one step of the rollout: exactly one of Targets or Share.
type Stage struct {
	Name string `json:"name" yaml:"name"`
	// Targets are thing groups (names, thinggroup/NAME or ARNs).
	Targets []string `json:"targets,omitempty" yaml:"targets,omitempty"`
	// Share is a percentage of one group's things, chosen by a hash of
	// the thing name (the same things on every run), materialised as a
	// static thing group <otaUpdateId>-<stage name>.
	Share *Share `json:"share,omitempty" yaml:"share,omitempty"`
	// Gate says when the next stage may start (after the last stage: when
	// the campaign is complete).
	Gate Gate `json:"gate" yaml:"gate"`
}

// Share is Percent % of Group's things.
type Share struct {
	Group   string  `json:"group" yaml:"group"`
	Percent float64 `json:"percent" yaml:"percent"`
}

// Gate is the health check after a stage. Rates are percentages of the
// stage's things (as hawkBit's thresholds are of a group's targets), so
// that they only grow as devices report and the moment they were reached
// can be read back from the executions' timestamps.
type Gate struct {
	// MinFinished is how many executions must have finished
	// (SUCCEEDED, FAILED, TIMED_OUT or REJECTED).
	MinFinished int `json:"minFinished,omitempty" yaml:"minFinished,omitempty"`
	// MinSuccessPercent: at least this share of the stage's things SUCCEEDED.
	MinSuccessPercent float64 `json:"minSuccessPercent,omitempty" yaml:"minSuccessPercent,omitempty"`
	// MaxFailurePercent: the failed share (FAILED, TIMED_OUT, REJECTED)
	// must stay below this; reaching it fails the gate. Unset: no limit.
	MaxFailurePercent *float64 `json:"maxFailurePercent,omitempty" yaml:"maxFailurePercent,omitempty"`
	// Bake is how long to wait (Go duration: 30m, 2h) from BakeFrom.
	Bake string `json:"bake,omitempty" yaml:"bake,omitempty"`
	// BakeFrom is stageStart (default) or thresholdMet.
	BakeFrom string `json:"bakeFrom,omitempty" yaml:"bakeFrom,omitempty"`
	// OnFailure is pause (default) or abort.
	OnFailure string `json:"onFailure,omitempty" yaml:"onFailure,omitempty"`
}

// Gate choices.
const (
	BakeFromStageStart   = "stageStart"
	BakeFromThresholdMet = "thresholdMet"
	OnFailurePause       = "pause"
	OnFailureAbort       = "abort"
)

// BakeDuration is the parsed Bake (0 when unset or invalid; Validate reports it).
func (g Gate) BakeDuration() time.Duration {
	if g.Bake == "" {
		return 0
	}
	d, _ := time.ParseDuration(g.Bake)
	return d
}

func (g Gate) bakeFrom() string {
	if g.BakeFrom == "" {
		return BakeFromStageStart
	}
	return g.BakeFrom
}

func (g Gate) onFailure() string {
	if g.OnFailure == "" {
		return OnFailurePause
	}
	return g.OnFailure
}

// ID is the campaign's id (the update's otaUpdateId).
func (s *Spec) ID() string { return s.Update.OTAUpdateID }

// StageUpdateID is the otaUpdateId of stage i's job.
func (s *Spec) StageUpdateID(i int) string { return s.ID() + "-" + s.Stages[i].Name }

// StageJobID is the job id of stage i.
func (s *Spec) StageJobID(i int) string { return ota.JobIDPrefix + s.StageUpdateID(i) }

// ShareGroupName is the static thing group a share stage is materialised as.
func (s *Spec) ShareGroupName(i int) string { return s.StageUpdateID(i) }

// LoadFile reads a campaign spec (YAML or JSON), refusing unknown fields.
func LoadFile(path string) (*Spec, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(path, raw)
}

// Parse decodes a campaign spec; name is used in error messages.
func Parse(name string, raw []byte) (*Spec, error) {
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	var s Spec
	if err := dec.Decode(&s); err != nil {
		return nil, fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	return &s, nil
}

// IsCampaign reports whether raw is a campaign spec (it has stages) rather
// than an update spec, so that one command can take either.
func IsCampaign(raw []byte) bool {
	var probe struct {
		Stages yaml.Node `yaml:"stages"`
		Update yaml.Node `yaml:"update"`
	}
	if err := yaml.Unmarshal(raw, &probe); err != nil {
		return false
	}
	return probe.Stages.Kind != 0 || probe.Update.Kind != 0
}
