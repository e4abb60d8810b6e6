package cli

import (
	"fmt"
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
	fs.IntVar(&f.retries, "retries", 0, "retry failed executions up to N times (jobExecutionsRetryConfig)")
	fs.StringVar(&f.retryOn, "retry-on", "FAILED", "failure type the retries apply to: FAILED, TIMED_OUT or ALL")
	fs.DurationVar(&f.timeout, "timeout", 0, "in-progress timeout per device, e.g. 30m (timeoutConfig, whole minutes)")
	fs.StringVar(&f.start, "start", "", "scheduled start: YYYY-MM-DDTHH:MM (UTC) or relative like +1h")
	fs.StringVar(&f.end, "end", "", "scheduled end: YYYY-MM-DDTHH:MM (UTC) or relative to the start like +48h")
	fs.StringVar(&f.endBehavior, "end-behavior", "", "at the end time: STOP_ROLLOUT, CANCEL or FORCE_CANCEL")
	fs.StringArrayVar(&f.windows, "maintenance-window", nil, "recurring window 'cron(0 2 ? * SAT *)=2h' (repeatable)")
	fs.IntVar(&f.rolloutRate, "rollout-rate", 0, "at most N devices notified per minute (maximumPerMinute)")
	fs.StringSliceVar(&f.packageVersions, "package-version", nil, "Software Package Catalog version ARN or package@version (repeatable)")
	fs.DurationVar(&f.presignExpires, "presign-expires", 0, "HTTP: lifetime of pre-signed URLs, 60s-1h")
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
			if f.fs.Changed(n) {
				return nil, fmt.Errorf("--%s cannot be combined with --file or --request: the file describes the update", n)
			}
		}
		if f.file != "" {
			s, err = ota.LoadSpecFile(f.file)
		} else {
			s, err = ota.LoadRequestFile(f.request)
		}
		if err != nil {
			return nil, err
		}
	default:
		s = f.baseSpec()
	}
	if err := f.applyJobFlags(s, now); err != nil {
		return nil, err
	}
	return s, nil
}

// baseSpec is the original sample's update: one S3 binary signed with a profile.
func (f *specFlags) baseSpec() *ota.Spec {
	s := &ota.Spec{OTAUpdateID: f.updateID, Description: f.description, RoleArn: f.role}
	for _, g := range f.groups {
		s.Targets = append(s.Targets, qualify("thinggroup/", g))
	}
	for _, t := range f.things {
		s.Targets = append(s.Targets, qualify("thing/", t))
	}
	file := ota.File{FileName: f.fileName}
	if f.bucket != "" || f.fileKey != "" {
		file.FileLocation.S3Location = &ota.S3Location{Bucket: f.bucket, Key: f.fileKey, Version: f.fileVersion}
	}
	if f.profile != "" {
		file.CodeSigning.StartSigningJobParameter = &ota.StartSigningJobParameter{SigningProfileName: f.profile}
	}
	s.Files = []ota.File{file}
	return s
}

func qualify(prefix, name string) string {
	if strings.HasPrefix(name, "arn:") {
		return name
	}
	return prefix + name
}

// applyJobFlags overlays the job-configuration flags that were set.
func (f *specFlags) applyJobFlags(s *ota.Spec, now time.Time) error {
	ch := f.fs.Changed
	if ch("protocol") {
		s.Protocols = nil
		for _, p := range f.protocols {
			s.Protocols = append(s.Protocols, strings.ToUpper(p))
		}
	}
	if ch("target-selection") {
		s.TargetSelection = f.targetSelection
	}
	if ch("retries") || ch("retry-on") {
		s.JobExecutionsRetryConfig = &ota.RetryConfig{CriteriaList: []ota.RetryCriteria{{FailureType: strings.ToUpper(f.retryOn), NumberOfRetries: f.retries}}}
	}
	if ch("timeout") {
		if f.timeout%time.Minute != 0 || f.timeout < time.Minute {
			return fmt.Errorf("--timeout: must be a whole number of minutes, at least 1m, got %s", f.timeout)
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
			secs = int64(f.presignExpires / time.Second)
		}
		s.PresignedURLConfig = &ota.PresignedURLConfig{ExpiresInSec: secs}
	}
	return nil
}

// scheduleFlag accepts YYYY-MM-DDTHH:MM or +DURATION relative to from; a
// relative time is rounded up to the next whole minute so it never lands
// earlier than asked.
func scheduleFlag(name, v string, from time.Time) (string, error) {
	if rel, ok := strings.CutPrefix(v, "+"); ok {
		d, err := time.ParseDuration(rel)
		if err != nil {
			return "", fmt.Errorf("%s: %q is not a duration like +1h30m", name, v)
		}
		t := from.Add(d).UTC()
		if r := t.Truncate(time.Minute); !r.Equal(t) {
			t = r.Add(time.Minute)
		}
		return t.Format("2006-01-02T15:04"), nil
	}
	if _, err := ota.ParseScheduleTime(v); err != nil {
		return "", fmt.Errorf("%s: %v", name, err)
	}
	return v, nil
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
