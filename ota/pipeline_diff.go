package ota

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Change is one field whose value in the cloud differs from the spec's.
type Change struct {
	Path    string `json:"path"` // the spec's field path: abortConfig.criteriaList[0].thresholdPercentage
	Current any    `json:"current"`
	Desired any    `json:"desired"`
	// InPlace: UpdateJob (or TagResource, AssociateTargetsWithJob) makes it
	// on the running job; otherwise Why says why it cannot.
	InPlace bool   `json:"inPlace"`
	Why     string `json:"why,omitempty"`
}

// Diff is what would change if the spec were applied to the update that
// exists: the job that runs it now and each field that differs.
type Diff struct {
	UpdateID  string   `json:"otaUpdateId"`
	JobID     string   `json:"jobId"`
	JobArn    string   `json:"jobArn"`
	JobStatus string   `json:"jobStatus"`
	Replaced  []string `json:"replacedJobs,omitempty"` // earlier jobs of the update (--replace), oldest first
	Changes   []Change `json:"changes"`
	// NextJobID is the job id otactl create --replace would create.
	NextJobID string `json:"replaceWith"`

	update     JobUpdate
	addTargets []string
	tagsSet    []Tag
	tagsRemove []string
}

// Refused are the changes that cannot be made in place.
func (d *Diff) Refused() []Change {
	var out []Change
	for _, c := range d.Changes {
		if !c.InPlace {
			out = append(out, c)
		}
	}
	return out
}

// ChangeError refuses a spec whose changes cannot be made in place,
// naming each field and why; --replace makes them with a new job.
type ChangeError struct{ Diff *Diff }

func (e *ChangeError) Error() string {
	refused := e.Diff.Refused()
	var b strings.Builder
	fmt.Fprintf(&b, "update %s: %d change(s) cannot be made to job %s in place; nothing was changed", e.Diff.UpdateID, len(refused), e.Diff.JobID)
	for _, c := range refused {
		fmt.Fprintf(&b, "\n  %s: %s → %s: %s", c.Path, Show(c.Current), Show(c.Desired), c.Why)
	}
	fmt.Fprintf(&b, "\n--replace cancels job %s and creates job %s with the new spec", e.Diff.JobID, e.Diff.NextJobID)
	return b.String()
}

// Show renders a change's value compactly: JSON, "(none)" for nothing.
func Show(v any) string {
	if v == nil {
		return "(none)"
	}
	raw, _ := json.Marshal(v)
	return strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(raw))
}

// Why texts: what AWS lets change after CreateJob, and what not.
const (
	whyDocument   = "the job document (files, signatures, protocols, stream) cannot change after CreateJob"
	whySchedule   = "UpdateJob has no schedulingConfig: the schedule is fixed when the job is created"
	whySelection  = "targetSelection is fixed when the job is created"
	whySnapshot   = "a SNAPSHOT job's targets are fixed when it is created"
	whyRemoveTgt  = "no API removes a target from a job (AssociateTargetsWithJob only adds)"
	whyPackages   = "destinationPackageVersions are fixed when the job is created"
	whyStreamRole = "the stream's role is set when otactl creates the stream"
)

// diff reads what exists for the update (job, document, stream, tags,
// signing jobs) and compares it field by field with the spec.
func (r *run) diff(ctx context.Context, g *generation) (*Diff, error) {
	s, job := r.spec, g.Job
	d := &Diff{UpdateID: s.OTAUpdateID, JobID: job.JobID, JobArn: job.JobArn, JobStatus: job.Status, NextJobID: JobIDFor(s.OTAUpdateID, g.Gen+1)}
	for _, e := range g.Earlier {
		d.Replaced = append(d.Replaced, e.JobID)
	}
	res := resolver{env: PlanEnv{Region: r.region, AccountID: r.account}}
	want := res.jobRequest(s, "")
	r.configChanges(d, &job, &want.JobConfig, s.Description)

	d.fields("schedulingConfig", job.SchedulingConfig, s.SchedulingConfig, false, whySchedule)
	d.value("targetSelection", orDefault(job.TargetSelection, "SNAPSHOT"), orDefault(s.TargetSelection, "SNAPSHOT"), false, whySelection)
	targets, err := r.targets(ctx)
	if err != nil {
		return nil, err
	}
	d.targets(&job, targets)
	d.value("destinationPackageVersions", sortedOrNil(job.DestinationPackageVersions), sortedOrNil(want.DestinationPackageVersions), false, whyPackages)

	doc, err := r.p.Cloud.GetJobDocument(ctx, job.JobID)
	if err != nil {
		return nil, &StepError{Step: "iot:GetJobDocument " + job.JobID, Err: err}
	}
	if err := r.documentChanges(ctx, d, g, ParseJobDocument(doc)); err != nil {
		return nil, err
	}
	d.tags(g.Tags, s.Tags)
	return d, nil
}

// configChanges compares what UpdateJob can change. A member the spec
// drops cannot be removed (UpdateJob leaves an omitted member as it is),
// and an ended job cannot be updated at all.
func (r *run) configChanges(d *Diff, job *Job, want *JobConfig, desc string) {
	ended := job.Status == "COMPLETED" || job.Status == "CANCELED" || job.Status == "DELETION_IN_PROGRESS"
	whyEnded := fmt.Sprintf("job %s is %s: UpdateJob cannot change an ended job", job.JobID, job.Status)
	set := func(path string, cur, des any, apply func(), note string) {
		inPlace, why := true, note
		switch {
		case ended:
			inPlace, why = false, whyEnded
		case isNil(des):
			inPlace, why = false, "UpdateJob cannot remove "+path+": a member left out stays as it is"
		}
		if d.fields(path, cur, des, inPlace, why) && inPlace {
			apply()
		}
	}
	if job.Description != desc {
		set("description", nilIfEmpty(job.Description), nilIfEmpty(desc), func() { d.update.Description = &desc }, "")
	}
	set("presignedUrlConfig", job.PresignedURLConfig, want.PresignedURLConfig,
		func() { d.update.PresignedURLConfig = want.PresignedURLConfig }, "")
	set("jobExecutionsRolloutConfig", job.JobExecutionsRolloutConfig, want.JobExecutionsRolloutConfig,
		func() { d.update.JobExecutionsRolloutConfig = want.JobExecutionsRolloutConfig }, "the rate applies from the next wave of executions")
	set("abortConfig", job.AbortConfig, want.AbortConfig,
		func() { d.update.AbortConfig = want.AbortConfig }, "the criteria apply to the job's executions from the update on")
	set("timeoutConfig", job.TimeoutConfig, want.TimeoutConfig,
		func() { d.update.TimeoutConfig = want.TimeoutConfig }, "applies to executions that start from the update on")
	set("jobExecutionsRetryConfig", job.JobExecutionsRetryConfig, want.JobExecutionsRetryConfig,
		func() { d.update.JobExecutionsRetryConfig = want.JobExecutionsRetryConfig }, "")
}

// fields adds one change per leaf field that differs between cur and des
// (their JSON forms) and reports whether any did.
func (d *Diff) fields(path string, cur, des any, inPlace bool, why string) bool {
	a, b := leaves(path, cur), leaves(path, des)
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	var paths []string
	for k := range keys {
		if Show(a[k]) != Show(b[k]) {
			paths = append(paths, k)
		}
	}
	sort.Strings(paths)
	for _, p := range paths {
		d.Changes = append(d.Changes, Change{Path: p, Current: a[p], Desired: b[p], InPlace: inPlace, Why: why})
	}
	return len(paths) > 0
}

// value adds a change when cur and des differ as wholes.
func (d *Diff) value(path string, cur, des any, inPlace bool, why string) {
	if Show(cur) != Show(des) {
		d.Changes = append(d.Changes, Change{Path: path, Current: cur, Desired: des, InPlace: inPlace, Why: why})
	}
}

// leaves flattens v's JSON into path → scalar: abortConfig.criteriaList[0].action.
func leaves(prefix string, v any) map[string]any {
	out := map[string]any{}
	if isNil(v) {
		return out
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return out
	}
	var tree any
	json.Unmarshal(raw, &tree)
	var walk func(p string, t any)
	walk = func(p string, t any) {
		switch t := t.(type) {
		case map[string]any:
			for k, v := range t {
				walk(join(p, k), v)
			}
		case []any:
			for i, v := range t {
				walk(index(p, i), v)
			}
		case nil:
		default:
			out[p] = t
		}
	}
	walk(prefix, tree)
	return out
}

// isNil is true for nil and for a typed nil pointer inside an interface.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	raw, _ := json.Marshal(v)
	return string(raw) == "null"
}

func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func sortedOrNil(vs []string) []string {
	if len(vs) == 0 {
		return nil
	}
	out := append([]string(nil), vs...)
	sort.Strings(out)
	return out
}

// targets: a CONTINUOUS job gains targets in place; nothing else changes them.
func (d *Diff) targets(job *Job, want []string) {
	have := map[string]bool{}
	for _, t := range job.Targets {
		have[t] = true
	}
	var added []string
	removed := false
	wanted := map[string]bool{}
	for _, t := range want {
		wanted[t] = true
		if !have[t] {
			added = append(added, t)
		}
	}
	for _, t := range job.Targets {
		removed = removed || !wanted[t]
	}
	if len(added) == 0 && !removed {
		return
	}
	inPlace, why := false, whySnapshot
	switch {
	case orDefault(job.TargetSelection, "SNAPSHOT") == "SNAPSHOT":
	case removed:
		why = whyRemoveTgt
	case job.Status != "IN_PROGRESS":
		why = fmt.Sprintf("job %s is %s: AssociateTargetsWithJob needs an IN_PROGRESS job", job.JobID, job.Status)
	default:
		inPlace, why, d.addTargets = true, "AssociateTargetsWithJob adds them to the continuous job", added
	}
	d.Changes = append(d.Changes, Change{Path: "targets", Current: sortedOrNil(job.Targets), Desired: sortedOrNil(want), InPlace: inPlace, Why: why})
}

// tags: the spec's tags are set with TagResource and removed with
// UntagResource; otactl's own tags are left alone.
func (d *Diff) tags(have, want []Tag) {
	cur, des := map[string]string{}, map[string]string{}
	for _, t := range have {
		if !strings.HasPrefix(t.Key, "otactl:") {
			cur[t.Key] = t.Value
		}
	}
	for _, t := range want {
		des[t.Key] = t.Value
	}
	keys := map[string]bool{}
	for k := range cur {
		keys[k] = true
	}
	for k := range des {
		keys[k] = true
	}
	var sorted []string
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	for _, k := range sorted {
		c, inC := cur[k]
		w, inW := des[k]
		switch {
		case inC && inW && c == w:
			continue
		case inW:
			d.tagsSet = append(d.tagsSet, Tag{k, w})
		default:
			d.tagsRemove = append(d.tagsRemove, k)
		}
		ch := Change{Path: "tags." + k, InPlace: true, Why: "TagResource/UntagResource on the job"}
		if inC {
			ch.Current = c
		}
		if inW {
			ch.Desired = w
		}
		d.Changes = append(d.Changes, ch)
	}
}

// documentChanges compares the files, signatures and protocols the job's
// document and stream hold with the spec's; none can change in place.
func (r *run) documentChanges(ctx context.Context, d *Diff, g *generation, doc DocumentSummary) error {
	s := r.spec
	d.value("protocols", doc.Protocols, s.EffectiveProtocols(), false, whyDocument)
	var st *Stream
	if id := doc.StreamName; id != "" {
		if got, err := r.p.Cloud.DescribeStream(ctx, id); err == nil {
			st = &got
		} else if !errors.Is(err, ErrNotFound) {
			return &StepError{Step: "iot:DescribeStream " + id, Err: err}
		}
	}
	if st != nil && tagValue(g.Tags, TagStreamID) == st.ID && existingStream(s) == "" && st.RoleArn != "" {
		role := resolver{env: PlanEnv{AccountID: r.account}}.roleArn(s.RoleArn)
		d.value("roleArn", st.RoleArn, role, false, whyStreamRole)
	}
	if len(doc.Files) != len(s.Files) {
		d.value("files", fmt.Sprintf("%d file(s)", len(doc.Files)), fmt.Sprintf("%d file(s)", len(s.Files)), false, whyDocument)
	}
	for i := range s.Files {
		if i >= len(doc.Files) {
			break
		}
		if err := r.fileChanges(ctx, d, i, doc, st); err != nil {
			return err
		}
	}
	return nil
}

// deployed is what the cloud holds for one file: where devices download
// it and, when Signer made its signature, the signing job's source and profile.
type deployed struct {
	source  *S3Location
	profile string
}

func (r *run) fileChanges(ctx context.Context, d *Diff, i int, doc DocumentSummary, st *Stream) error {
	f, df := &r.spec.Files[i], doc.Files[i]
	fp := index("files", i)
	d.value(join(fp, "fileName"), nilIfEmpty(df.FilePath), nilIfEmpty(f.FileName), false, whyDocument)
	var curType, wantType any
	if df.FileType != nil {
		curType = *df.FileType
	}
	if f.FileType != nil {
		wantType = *f.FileType
	}
	d.value(join(fp, "fileType"), curType, wantType, false, whyDocument)

	if sf := f.FileLocation.Stream; sf != nil {
		d.value(join(fp, "fileLocation.stream.streamId"), nilIfEmpty(doc.StreamName), sf.StreamID, false, whyDocument)
		d.value(join(fp, "fileLocation.stream.fileId"), df.FileID, *sf.FileID, false, whyDocument)
	}
	dep, err := r.deployedFile(ctx, df, st)
	if err != nil {
		return err
	}
	if loc := f.FileLocation.S3Location; loc != nil && dep.source != nil {
		want := *loc
		if want.Version == "" { // the latest version now: a newer upload is a change
			if info, err := r.p.Cloud.HeadObject(ctx, loc.Bucket, loc.Key, ""); err == nil {
				want.Version = info.VersionID
			} else if !errors.Is(err, ErrNotFound) {
				return &StepError{Step: "s3:HeadObject " + fp, Err: err}
			}
		}
		lp := join(fp, "fileLocation.s3Location")
		d.value(join(lp, "bucket"), dep.source.Bucket, want.Bucket, false, whyDocument)
		d.value(join(lp, "key"), dep.source.Key, want.Key, false, whyDocument)
		if dep.source.Version != "" {
			d.value(join(lp, "version"), dep.source.Version, nilIfEmpty(want.Version), false, whyDocument)
		}
	}
	cs := f.CodeSigning
	switch {
	case cs.StartSigningJobParameter != nil:
		d.value(join(fp, "codeSigning.startSigningJobParameter.signingProfileName"), nilIfEmpty(dep.profile), cs.StartSigningJobParameter.SigningProfileName, false, whyDocument)
	case cs.CustomCodeSigning != nil:
		cc := cs.CustomCodeSigning
		cp := join(fp, "codeSigning.customCodeSigning")
		if dep.profile != "" {
			d.value(join(fp, "codeSigning"), "startSigningJobParameter ("+dep.profile+")", "customCodeSigning", false, whyDocument)
		}
		d.value(join(cp, "signature.inlineDocument"), nilIfEmpty(df.Signature), cc.Signature.InlineDocument, false, whyDocument)
		d.value(join(cp, "signatureKey"), nilIfEmpty(df.SigKey), CustomSignatureKey(cc.HashAlgorithm, cc.SignatureAlgorithm), false, whyDocument)
		d.value(join(cp, "certificateChain.certificateName"), nilIfEmpty(df.CertFile), nilIfEmpty(cc.CertificateChain.CertificateName), false, whyDocument)
	}
	return nil
}

// deployedFile finds the object devices download for a document file (the
// stream's file, or the HTTP URL's object) and, when its key is a signed
// object, the signing job that made it.
func (r *run) deployedFile(ctx context.Context, df DocumentFile, st *Stream) (deployed, error) {
	var dep deployed
	if st != nil {
		for _, sf := range st.Files {
			if sf.FileID == df.FileID {
				loc := sf.S3
				dep.source = &loc
			}
		}
	}
	if dep.source == nil && df.UpdateDataURL != "" {
		dep.source = urlLocation(df.UpdateDataURL)
	}
	if dep.source == nil {
		return dep, nil
	}
	if id := signingJobKey.FindString(dep.source.Key); id != "" {
		sj, err := r.p.Cloud.DescribeSigningJob(ctx, id)
		if err == nil && sj.SignedObject.Key == dep.source.Key {
			src := sj.Source
			dep.source, dep.profile = &src, sj.ProfileName
		} else if err != nil && !errors.Is(err, ErrNotFound) {
			return dep, &StepError{Step: "signer:DescribeSigningJob " + id, Err: err}
		}
	}
	return dep, nil
}

// urlLocation reads bucket and key from the document's presigned-URL
// placeholder (${aws:iot:s3-presigned-url:https://s3.REGION.amazonaws.com/BUCKET/KEY}).
func urlLocation(u string) *S3Location {
	rest, ok := strings.CutPrefix(u, "${aws:iot:s3-presigned-url:https://")
	if !ok {
		return nil
	}
	rest = strings.TrimSuffix(rest, "}")
	_, path, _ := strings.Cut(rest, "/")
	bucket, key, ok := strings.Cut(path, "/")
	if !ok {
		return nil
	}
	return &S3Location{Bucket: bucket, Key: key}
}
