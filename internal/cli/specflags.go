package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"

	"github.com/otactl/otactl/ota"
	"github.com/spf13/pflag"
)

// specFlags are the three ways in to a spec: a spec file, a CreateOTAUpdate
// request, or flags for the common case. Job-configuration flags also
// override what a file says.
type specFlags struct {
	file, request string

	// The six inputs of the original sample.
	updateID, fileKey, bucket, profile, role string
	groups, things                           []string

	fileVersion, fileName, description, targetSelection string
	protocols                                           []string
	retries                                             int
	retryOn                                             string
	timeout                                             time.Duration
	start, end, endBehavior                             string
	windows                                             []string
	rolloutRate                                         int
	packageVersions                                     []string
	presignExpires                                      time.Duration

	// noSchedule leaves out --start and --end (rehearse's --start is its
	// simulated clock; the spec's schedule is rehearsed as written).
	noSchedule bool

	fs *pflag.FlagSet
}

var fileFlagNames = []string{"update-id", "file-key", "bucket", "file-version", "file-name", "signing-profile", "role", "thing-group", "thing", "description"}

func (f *specFlags) register(fs *pflag.FlagSet) {
	f.fs = fs
	fs.StringVarP(&f.file, "file", "f", "", "spec file (YAML or JSON, AWS field names)")
	fs.StringVar(&f.request, "request", "", "CreateOTAUpdate request JSON (as aws iot create-ota-update --cli-input-json takes it), CreateJob-only fields beside it")
	fs.StringVar(&f.updateID, "update-id", "", "OTA update id (the job is AFR_OTA-<id>)")
	fs.StringVar(&f.fileKey, "file-key", "", "S3 key of the firmware binary")
	fs.StringVar(&f.bucket, "bucket", "", "S3 bucket of the firmware binary (versioning enabled)")
	fs.StringVar(&f.fileVersion, "file-version", "", "S3 version id of the binary (default: the latest, pinned at create time)")
	fs.StringVar(&f.fileName, "file-name", "", "path of the file on the device (filepath in the job document)")
	fs.StringVar(&f.profile, "signing-profile", "", "AWS Signer profile that signs the binary")
	fs.StringVar(&f.role, "role", "", "IAM role (name or ARN) IoT uses for the stream and pre-signed URLs")
	fs.StringSliceVar(&f.groups, "thing-group", nil, "target thing group (repeatable)")
	fs.StringSliceVar(&f.things, "thing", nil, "target thing (repeatable)")
	fs.StringVar(&f.description, "description", "", "description of the update")
	fs.StringVar(&f.targetSelection, "target-selection", "", "SNAPSHOT or CONTINUOUS")
	fs.StringSliceVar(&f.protocols, "protocol", nil, "MQTT, HTTP or both (repeatable; default MQTT)")
	fs.IntVar(&f.retries, "retries", 0, "retry failed executions up to N times, 0-10 (jobExecutionsRetryConfig numberOfRetries)")
	fs.StringVar(&f.retryOn, "retry-on", "", "failure type --retries applies to: FAILED, TIMED_OUT or ALL (default FAILED; alone, it changes the spec's failureType only)")
	fs.DurationVar(&f.timeout, "in-progress-timeout", 0, "per-device in-progress timeout, e.g. 30m (timeoutConfig, whole minutes)")
	fs.DurationVar(&f.timeout, "timeout", 0, "same as --in-progress-timeout")
	deprecate(fs, "timeout", "use --in-progress-timeout (--timeout means the whole run's time in fleet and demo)")
	if !f.noSchedule {
		fs.StringVar(&f.start, "start", "", "scheduled start: "+timeForms+", or relative like +1h")
		fs.StringVar(&f.end, "end", "", "scheduled end: "+timeForms+", or relative to the start like +48h")
	}
	fs.StringVar(&f.endBehavior, "end-behavior", "", "at the end time: STOP_ROLLOUT, CANCEL or FORCE_CANCEL")
	fs.StringArrayVar(&f.windows, "maintenance-window", nil, "recurring window 'cron(0 2 ? * SAT *)=2h' (repeatable)")
	fs.IntVar(&f.rolloutRate, "rollout-rate", 0, "at most N devices notified per minute (maximumPerMinute)")
	fs.StringSliceVar(&f.packageVersions, "package-version", nil, "Software Package Catalog version ARN or package@version (repeatable)")
	fs.DurationVar(&f.presignExpires, "presign-expires", 0, "HTTP: lifetime of pre-signed URLs, 60s-1h")
	completeEnums(fs, map[string][]string{
		"retry-on":         {"FAILED", "TIMED_OUT", "ALL"},
		"end-behavior":     {"STOP_ROLLOUT", "CANCEL", "FORCE_CANCEL"},
		"target-selection": {"SNAPSHOT", "CONTINUOUS"},
		"protocol":         {"MQTT", "HTTP"},
	})
}

// spec builds the spec from whichever way in was used; now anchors relative times.
func (f *specFlags) spec(now time.Time) (*ota.Spec, error) {
	var s *ota.Spec
	var err error
	switch {
	case f.file != "" && f.request != "":
		return nil, fmt.Errorf("give either --file or --request, not both")
	case f.file != "" || f.request != "":
		for _, n := range fileFlagNames {
			if f.changed(n) {
				return nil, fmt.Errorf("--%s cannot be combined with --file or --request: the file describes the update", n)
			}
		}
		if f.file != "" {
			s, err = ota.LoadSpecFile(f.file)
		} else {
			s, err = ota.LoadRequestFile(f.request)
		}
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) {
			return nil, fmt.Errorf("%s %s: %w", f.fileFlag(), f.path(), errors.Unwrap(err))
		}
		if err != nil {
			return nil, err
		}
	default:
		s, err = f.baseSpec()
		if err != nil {
			return nil, err
		}
	}
	if err := f.applyJobFlags(s, now); err != nil {
		return nil, err
	}
	return s, nil
}

// baseSpec is the original sample's update: one S3 binary signed with a profile.
func (f *specFlags) baseSpec() (*ota.Spec, error) {
	s := &ota.Spec{OTAUpdateID: f.updateID, Description: f.description, RoleArn: f.role}
	for _, g := range f.groups {
		t, err := qualify("--thing-group", "thinggroup", g)
		if err != nil {
			return nil, err
		}
		s.Targets = append(s.Targets, t)
	}
	for _, th := range f.things {
		t, err := qualify("--thing", "thing", th)
		if err != nil {
			return nil, err
		}
		s.Targets = append(s.Targets, t)
	}
	file := ota.File{FileName: f.fileName}
	if f.bucket != "" || f.fileKey != "" {
		file.FileLocation.S3Location = &ota.S3Location{Bucket: f.bucket, Key: f.fileKey, Version: f.fileVersion}
	}
	if f.profile != "" {
		file.CodeSigning.StartSigningJobParameter = &ota.StartSigningJobParameter{SigningProfileName: f.profile}
	}
	s.Files = []ota.File{file}
	return s, nil
}

// qualify accepts the forms a spec's targets take: NAME, KIND/NAME or an
// ARN; the other kind's prefix is an input error naming the flag.
func qualify(flag, kind, name string) (string, error) {
	if strings.HasPrefix(name, "arn:") {
		return name, nil
	}
	other := map[string]string{"thing": "thinggroup", "thinggroup": "thing"}[kind]
	if strings.HasPrefix(name, other+"/") {
		return "", fmt.Errorf("%s %s: that is a %s; use --%s", flag, name, other, map[string]string{"thing": "thing", "thinggroup": "thing-group"}[other])
	}
	return kind + "/" + strings.TrimPrefix(name, kind+"/"), nil
}

// fileFlag names the flag that gave the file, for errors about it.
func (f *specFlags) fileFlag() string {
	if f.request != "" {
		return "--request"
	}
	return "--file"
}

func (f *specFlags) path() string {
	if f.request != "" {
		return f.request
	}
	return f.file
}

// applyJobFlags overlays the job-configuration flags that were set.
func (f *specFlags) applyJobFlags(s *ota.Spec, now time.Time) error {
	ch := f.changed
	if ch("protocol") {
		s.Protocols = nil
		for _, p := range f.protocols {
			p = strings.ToUpper(p)
			if !oneOf(p, ota.ProtocolMQTT, ota.ProtocolHTTP) {
				return fmt.Errorf("--protocol must be MQTT or HTTP, got %q", p)
			}
			s.Protocols = append(s.Protocols, p)
		}
	}
	if ch("target-selection") {
		s.TargetSelection = strings.ToUpper(f.targetSelection)
		if !oneOf(s.TargetSelection, "SNAPSHOT", "CONTINUOUS") {
			return fmt.Errorf("--target-selection must be SNAPSHOT or CONTINUOUS, got %q", f.targetSelection)
		}
	}
	if err := f.applyRetries(s); err != nil {
		return err
	}
	if ch("in-progress-timeout") || ch("timeout") {
		if f.timeout%time.Minute != 0 || f.timeout < time.Minute || f.timeout > 10080*time.Minute {
			return fmt.Errorf("--in-progress-timeout must be whole minutes from 1m to 168h (10080 minutes), got %s", f.timeout)
		}
		s.TimeoutConfig = &ota.TimeoutConfig{InProgressTimeoutInMinutes: int64(f.timeout / time.Minute)}
	}
	if ch("start") || ch("end") || ch("end-behavior") || ch("maintenance-window") {
		if s.SchedulingConfig == nil {
			s.SchedulingConfig = &ota.SchedulingConfig{}
		}
		sc := s.SchedulingConfig
		if ch("start") {
			t, err := scheduleFlag("--start", f.start, now)
			if err != nil {
				return err
			}
			sc.StartTime = t
		}
		if ch("end") {
			from := now
			if st, err := ota.ParseScheduleTime(sc.StartTime); err == nil {
				from = st
			}
			t, err := scheduleFlag("--end", f.end, from)
			if err != nil {
				return err
			}
			sc.EndTime = t
		}
		if ch("end-behavior") {
			sc.EndBehavior = strings.ToUpper(f.endBehavior)
			if !oneOf(sc.EndBehavior, "STOP_ROLLOUT", "CANCEL", "FORCE_CANCEL") {
				return fmt.Errorf("--end-behavior must be STOP_ROLLOUT, CANCEL or FORCE_CANCEL, got %q", f.endBehavior)
			}
		}
		if ch("maintenance-window") {
			sc.MaintenanceWindows = nil
			for _, w := range f.windows {
				mw, err := parseWindowFlag(w)
				if err != nil {
					return err
				}
				sc.MaintenanceWindows = append(sc.MaintenanceWindows, mw)
			}
		}
	}
	if ch("rollout-rate") {
		if f.rolloutRate < 1 {
			return fmt.Errorf("--rollout-rate must be at least 1 device per minute, got %d", f.rolloutRate)
		}
		if s.JobExecutionsRolloutConfig == nil {
			s.JobExecutionsRolloutConfig = &ota.RolloutConfig{}
		}
		s.JobExecutionsRolloutConfig.MaximumPerMinute = f.rolloutRate
	}
	if ch("package-version") {
		s.DestinationPackageVersions = f.packageVersions
	}
	if ch("presign-expires") || (s.HasProtocol(ota.ProtocolHTTP) && s.PresignedURLConfig == nil && f.file == "" && f.request == "") {
		secs := int64(ota.DefaultPresignSeconds)
		if ch("presign-expires") {
			if f.presignExpires < time.Minute || f.presignExpires > time.Hour || f.presignExpires%time.Second != 0 {
				return fmt.Errorf("--presign-expires must be whole seconds from 60s to 1h, got %s", f.presignExpires)
			}
			secs = int64(f.presignExpires / time.Second)
		}
		s.PresignedURLConfig = &ota.PresignedURLConfig{ExpiresInSec: secs}
	}
	return nil
}

// timeForms are the absolute times every time flag takes.
const timeForms = "YYYY-MM-DDTHH:MM (UTC) or RFC 3339 like 2026-12-01T03:00:00Z"

// parseTimeFlag reads the one family of times otactl takes: what
// schedulingConfig takes (YYYY-MM-DDTHH:MM, UTC), RFC 3339 with a zone, or
// +DURATION relative to from.
func parseTimeFlag(name, v string, from time.Time) (time.Time, error) {
	if rel, ok := strings.CutPrefix(v, "+"); ok {
		d, err := time.ParseDuration(rel)
		if err != nil || d < 0 {
			return time.Time{}, fmt.Errorf("%s %q: a relative time is + and a duration with a unit, like +1h30m", name, v)
		}
		return from.Add(d).UTC(), nil
	}
	if t, err := ota.ParseScheduleTime(v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, fmt.Errorf("%s %q: want %s, or +1h", name, v, timeForms)
}

// scheduleFlag gives schedulingConfig's form of a time flag; a time with
// seconds is rounded up to the next whole minute so it never lands earlier
// than asked.
func scheduleFlag(name, v string, from time.Time) (string, error) {
	t, err := parseTimeFlag(name, v, from)
	if err != nil {
		return "", err
	}
	if r := t.Truncate(time.Minute); !r.Equal(t) {
		t = r.Add(time.Minute)
	}
	return t.Format("2006-01-02T15:04"), nil
}

func oneOf(v string, set ...string) bool {
	for _, s := range set {
		if v == s {
			return true
		}
	}
	return false
}

// parseWindowFlag reads 'cron(...)=DURATION' where DURATION is 2h, 90m or minutes.
func parseWindowFlag(v string) (ota.MaintenanceWindow, error) {
	i := strings.LastIndex(v, "=")
	if i < 0 {
		return ota.MaintenanceWindow{}, fmt.Errorf("--maintenance-window: %q must be 'cron(...)=DURATION', e.g. 'cron(0 2 ? * SAT *)=2h'", v)
	}
	expr, dur := v[:i], v[i+1:]
	mins, err := strconv.Atoi(dur)
	if err != nil {
		d, derr := time.ParseDuration(dur)
		if derr != nil || d%time.Minute != 0 {
			return ota.MaintenanceWindow{}, fmt.Errorf("--maintenance-window: duration %q must be whole minutes (90, 90m or 1h30m)", dur)
		}
		mins = int(d / time.Minute)
	}
	return ota.MaintenanceWindow{StartTime: expr, DurationInMinutes: mins}, nil
}

// applyRetries overlays --retries and --retry-on. Each changes only its own
// field of the spec's jobExecutionsRetryConfig: --retries the
// numberOfRetries, --retry-on the failureType. --retry-on with nothing to
// take a count from is an input error, never a silent 0.
func (f *specFlags) applyRetries(s *ota.Spec) error {
	ch := f.changed
	if !ch("retries") && !ch("retry-on") {
		return nil
	}
	on := strings.ToUpper(f.retryOn)
	if ch("retry-on") && !oneOf(on, "FAILED", "TIMED_OUT", "ALL") {
		return fmt.Errorf("--retry-on must be FAILED, TIMED_OUT or ALL, got %q", f.retryOn)
	}
	if ch("retries") && (f.retries < 0 || f.retries > 10) {
		return fmt.Errorf("--retries must be 0-10, got %d", f.retries)
	}
	if s.JobExecutionsRetryConfig == nil {
		s.JobExecutionsRetryConfig = &ota.RetryConfig{}
	}
	cl := s.JobExecutionsRetryConfig.CriteriaList
	types := make([]string, len(cl))
	for i, c := range cl {
		types[i] = c.FailureType
	}
	switch {
	case ch("retries") && ch("retry-on"):
		for i := range cl {
			if strings.EqualFold(cl[i].FailureType, on) {
				cl[i].NumberOfRetries = f.retries
				return nil
			}
		}
		s.JobExecutionsRetryConfig.CriteriaList = append(cl, ota.RetryCriteria{FailureType: on, NumberOfRetries: f.retries})
	case ch("retries"):
		switch len(cl) {
		case 0:
			s.JobExecutionsRetryConfig.CriteriaList = []ota.RetryCriteria{{FailureType: "FAILED", NumberOfRetries: f.retries}}
		case 1:
			cl[0].NumberOfRetries = f.retries
		default:
			return fmt.Errorf("--retries: the spec retries %s separately; say which with --retry-on", strings.Join(types, " and "))
		}
	default: // --retry-on alone
		switch len(cl) {
		case 0:
			s.JobExecutionsRetryConfig = nil
			return fmt.Errorf("--retry-on needs --retries: there is no numberOfRetries in the spec to apply it to")
		case 1:
			cl[0].FailureType = on
		default:
			return fmt.Errorf("--retry-on alone is ambiguous: the spec retries %s separately; give --retries too", strings.Join(types, " and "))
		}
	}
	return nil
}

// warnings are what the input leaves out that AWS accepts but devices or
// users likely did not mean.
func (f *specFlags) warnings(s *ota.Spec) []string {
	var out []string
	for i, file := range s.Files {
		if file.FileName == "" {
			how := "pass --file-name"
			if f.path() != "" {
				how = fmt.Sprintf("set files[%d].fileName", i)
			}
			out = append(out, fmt.Sprintf("files[%d] has no fileName: devices get no file path (filepath null in the job document); %s", i, how))
		}
	}
	return out
}

// changed says whether the user set one of these flags (a command that
// registers its own --start, as rehearse does, does not set the schedule).
func (f *specFlags) changed(name string) bool {
	if f.noSchedule && (name == "start" || name == "end") {
		return false
	}
	return f.fs.Changed(name)
}
