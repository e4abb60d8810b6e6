package ota

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Pipeline runs an update's plan against a Cloud: what CreateOTAUpdate does,
// step by step, with every CreateJob option. Before the first call that
// changes anything it checks every precondition it can read (check) and
// reports all that fail. It is safe to run twice: each step finds what an
// earlier run made (signing jobs by client token, the raw copy by its size,
// the stream by its id derived from the update id, the job by its tag), and
// a failed run removes what it created. On an update that exists it applies
// what UpdateJob can change and refuses the rest (existing), or with
// Replace creates the update's next job.
type Pipeline struct {
	Cloud Cloud
	// Now is the clock the scheduling rules are checked against.
	Now func() time.Time
	// SigningTimeout bounds the wait for each signing job (default 10 min).
	SigningTimeout time.Duration
	// PollInterval is the least wait before and between DescribeSigningJob calls;
	// waits grow with the job's age up to 5 s (default 5 ms: signingPoll
	// in poll.go).
	PollInterval time.Duration
	// CreatePackageVersions creates missing destination package versions.
	CreatePackageVersions bool
	// Progress, when set, hears what the pipeline is doing.
	Progress func(event string)
	// Replace: a changed update that cannot change in place gets a new job
	// (the running one is canceled) instead of being refused.
	Replace bool
}

// Result is what a run made (or found).
type Result struct {
	UpdateID  string       `json:"otaUpdateId"`
	JobID     string       `json:"jobId"`
	JobArn    string       `json:"jobArn"`
	StreamID  string       `json:"streamId,omitempty"`
	Unchanged bool         `json:"unchanged"`          // an earlier run made the job as the spec says; nothing was done
	Updated   bool         `json:"updated"`            // the running job was changed in place (Changes)
	Replaced  string       `json:"replaced,omitempty"` // the job --replace canceled
	Changes   []Change     `json:"changes,omitempty"`  // what differed from the existing update
	Files     []FileResult `json:"files,omitempty"`
	Created   []string     `json:"created,omitempty"`
	Document  string       `json:"jobDocument,omitempty"`
	Warnings  []string     `json:"warnings,omitempty"`
}

// FileResult is what signing and placement produced for one file.
type FileResult struct {
	SigningJobID string      `json:"signingJobId,omitempty"`
	SignedObject *S3Location `json:"signedObject,omitempty"` // the JSON Signer wrote (older version)
	Raw          *S3Location `json:"raw,omitempty"`          // the raw binary devices download
	Size         int64       `json:"size"`
	SigKey       string      `json:"signatureKey"`
	Signature    string      `json:"signature"`
	CertFile     string      `json:"certfile"`
	FileID       int         `json:"fileId"`
	rawSize      int64       // rawPayloadSize the signed object states
}

// StepError says which step failed and what was cleaned up after it.
type StepError struct {
	Step         string
	Err          error
	CleanedUp    []string
	CleanupFails []string
}

func (e *StepError) Error() string {
	msg := fmt.Sprintf("%s: %v", e.Step, e.Err)
	if len(e.CleanedUp) > 0 {
		msg += "; removed what this run created: " + strings.Join(e.CleanedUp, ", ")
	}
	if len(e.CleanupFails) > 0 {
		msg += "; could NOT remove: " + strings.Join(e.CleanupFails, ", ")
	}
	return msg
}

func (e *StepError) Unwrap() error { return e.Err }

// StreamIDFor is the stream id of an update: AFR_OTA- and a UUID derived
// from the account, region and update id, so a re-run finds its stream.
func StreamIDFor(account, region, updateID string) string {
	return JobIDPrefix + uuid.NewSHA1(uuid.NameSpaceURL, []byte("otactl:"+account+":"+region+":"+updateID)).String()
}

// run is the state of one Run.
type run struct {
	p        *Pipeline
	spec     *Spec
	account  string
	region   string
	jobID    string // the job this run creates: JobIDFor(update, gen)
	gen      int
	replaces string                                  // the job a replacement replaces
	created  []func(context.Context) (string, error) // undo steps, oldest first
	progress func(string)

	// The reads made before anything changes, started at once and each
	// asked once (pipeline_memo.go).
	seen memo
}

// start validates s and reads the account; with prefetch, the reads a
// create makes first go out beside the account's.
func (p *Pipeline) start(ctx context.Context, s *Spec, prefetch bool) (*run, error) {
	now := time.Now
	if p.Now != nil {
		now = p.Now
	}
	if errs := Validate(s, now()); len(errs) > 0 {
		return nil, errs
	}
	r := &run{p: p, spec: s, region: p.Cloud.Region(), jobID: s.JobID(), gen: 1, progress: func(string) {}}
	if p.Progress != nil {
		r.progress = p.Progress
	}
	if prefetch {
		r.prefetch(ctx)
	}
	var err error
	if r.account, err = p.Cloud.AccountID(ctx); err != nil {
		return nil, &StepError{Step: "sts:GetCallerIdentity", Err: err}
	}
	return r, nil
}

// Run creates the update described by s, or brings the update that exists
// to s (existing).
func (p *Pipeline) Run(ctx context.Context, s *Spec) (*Result, error) {
	ctx, cancel := context.WithCancel(ctx) // ends prefetched reads no step took
	defer cancel()
	r, err := p.start(ctx, s, true)
	if err != nil {
		return nil, err
	}
	res := &Result{UpdateID: s.OTAUpdateID, JobID: s.JobID()}

	// An update whose job exists was made by an earlier run; a job of that
	// id made otherwise is one of the problems check reports.
	g, err := findUpdate(ctx, memoCloud{p.Cloud, r}, s.OTAUpdateID)
	switch {
	case err == nil:
		return r.existing(ctx, res, g)
	case !errors.Is(err, ErrNotFound) && !errors.Is(err, ErrNotOurs):
		return nil, &StepError{Step: "iot:DescribeJob", Err: err}
	}
	if err := r.check(ctx, r.jobID); err != nil {
		return nil, err
	}
	res, err = r.create(ctx, res)
	if err != nil {
		var se *StepError
		if !errors.As(err, &se) {
			se = &StepError{Step: "create", Err: err}
		}
		r.cleanup(se)
		return nil, se
	}
	return res, nil
}

func tagValue(tags []Tag, key string) string {
	for _, t := range tags {
		if t.Key == key {
			return t.Value
		}
	}
	return ""
}

func (r *run) create(ctx context.Context, res *Result) (*Result, error) {
	s := r.spec
	arts := make([]FileArtifact, len(s.Files))
	for i := range s.Files {
		fr, err := r.placeFile(ctx, i)
		if err != nil {
			return nil, err
		}
		res.Files = append(res.Files, *fr)
		arts[i] = FileArtifact{FileID: fr.FileID, Size: fr.Size, SigKey: fr.SigKey, Signature: fr.Signature, CertFile: fr.CertFile, Raw: fr.Raw}
	}
	if s.HasProtocol(ProtocolMQTT) {
		id, err := r.stream(ctx, res.Files)
		if err != nil {
			return nil, err
		}
		res.StreamID = id
	}
	pkgs, err := r.packageVersions(ctx)
	if err != nil {
		return nil, err
	}
	targets, err := r.targets(ctx)
	if err != nil {
		return nil, err
	}
	doc, err := BuildJobDocument(s, DocumentInput{StreamID: res.StreamID, Region: r.region, Files: arts})
	if err != nil {
		return nil, &StepError{Step: "build job document", Err: err}
	}
	warnings, errs := CheckDocumentSize(doc)
	if len(errs) > 0 {
		return nil, &StepError{Step: "build job document", Err: errs}
	}
	res.Warnings, res.Document = warnings, string(doc)

	req := resolver{env: PlanEnv{Region: r.region, AccountID: r.account}}.jobRequest(s, string(doc))
	req.JobID, req.Targets, req.DestinationPackageVersions = r.jobID, targets, pkgs
	if res.StreamID != "" && existingStream(s) == "" {
		// Only a stream otactl made is named here: delete removes what this tag names.
		req.Tags = append(req.Tags, Tag{TagStreamID, res.StreamID})
	}
	if r.replaces != "" {
		req.Tags = append(req.Tags, Tag{TagReplaces, r.replaces})
	}
	r.progress("creating job " + req.JobID)
	arn, err := r.p.Cloud.CreateJob(ctx, req)
	if err != nil {
		return nil, &StepError{Step: "iot:CreateJob", Err: err}
	}
	res.JobArn = arn
	res.Created = append(res.Created, "job "+req.JobID)
	return res, nil
}

// stream creates the update's MQTT stream, or checks the one the files name.
func (r *run) stream(ctx context.Context, files []FileResult) (string, error) {
	if id := existingStream(r.spec); id != "" {
		st, err := r.p.Cloud.DescribeStream(ctx, id)
		if err != nil {
			return "", &StepError{Step: "iot:DescribeStream " + id, Err: err}
		}
		for i, f := range r.spec.Files {
			if !streamHasFile(st, *f.FileLocation.Stream.FileID) {
				return "", &StepError{Step: "iot:DescribeStream " + id, Err: fmt.Errorf("files[%d]: stream %s has no fileId %d", i, id, *f.FileLocation.Stream.FileID)}
			}
		}
		return id, nil
	}
	seed := r.spec.OTAUpdateID
	if r.gen > 1 { // a replacement's stream is its own: the old job keeps its stream
		seed = fmt.Sprintf("%s#r%d", seed, r.gen)
	}
	id := StreamIDFor(r.account, r.region, seed)
	want := Stream{ID: id, Description: "otactl update " + r.spec.OTAUpdateID}
	for _, f := range files {
		want.Files = append(want.Files, StreamFileLocation{FileID: f.FileID, S3: *f.Raw})
	}
	r.progress("creating stream " + id)
	role := resolver{env: PlanEnv{AccountID: r.account}}.roleArn(r.spec.RoleArn)
	err := r.p.Cloud.CreateStream(ctx, want, role, []Tag{{TagUpdateID, r.spec.OTAUpdateID}})
	if errors.Is(err, ErrAlreadyExists) {
		// Left by an earlier run that could not clean up: reuse it if it
		// is the same. Asked only after the conflict, so a usual run makes
		// no DescribeStream.
		st, err := r.p.Cloud.DescribeStream(ctx, id)
		switch {
		case err != nil:
			return "", &StepError{Step: "iot:DescribeStream " + id, Err: err}
		case sameStreamFiles(st.Files, want.Files):
			r.progress("reusing stream " + id)
			return id, nil
		}
		return "", &StepError{Step: "iot:CreateStream " + id, Err: fmt.Errorf("%w: stream %s exists with other files; delete it (otactl delete %s) and retry", ErrAlreadyExists, id, r.spec.OTAUpdateID)}
	}
	if err != nil {
		return "", &StepError{Step: "iot:CreateStream", Err: err}
	}
	r.created = append(r.created, func(ctx context.Context) (string, error) {
		return "stream " + id, r.p.Cloud.DeleteStream(ctx, id)
	})
	return id, nil
}

func streamHasFile(st Stream, fileID int) bool {
	for _, f := range st.Files {
		if f.FileID == fileID {
			return true
		}
	}
	return false
}

func sameStreamFiles(a, b []StreamFileLocation) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// packageVersions turns destinationPackageVersions into ARNs, checking that
// package@version references exist (or creating them when asked).
func (r *run) packageVersions(ctx context.Context) ([]string, error) {
	var arns []string
	for _, v := range r.spec.DestinationPackageVersions {
		arns = append(arns, PackageVersionArn(v, r.region, r.account))
		name, ver, ok := strings.Cut(v, "@")
		if !ok || strings.HasPrefix(v, "arn:") {
			continue
		}
		err := r.p.Cloud.GetPackageVersion(ctx, name, ver)
		switch {
		case err == nil:
		case errors.Is(err, ErrNotFound) && r.p.CreatePackageVersions:
			r.progress("creating package version " + v)
			if err := r.p.Cloud.CreatePackageVersion(ctx, name, ver, []Tag{{TagUpdateID, r.spec.OTAUpdateID}}); err != nil {
				return nil, &StepError{Step: "iot:CreatePackageVersion " + v, Err: err}
			}
		case errors.Is(err, ErrNotFound):
			return nil, &StepError{Step: "iot:GetPackageVersion " + v, Err: fmt.Errorf("package version %s does not exist (--create-package-version creates it)", v)}
		default:
			return nil, &StepError{Step: "iot:GetPackageVersion " + v, Err: err}
		}
	}
	return arns, nil
}

// targets turns the spec's targets into ARNs; a bare name is a thing group
// when one of that name exists, otherwise a thing.
func (r *run) targets(ctx context.Context) ([]string, error) {
	out := make([]string, len(r.spec.Targets))
	for i, t := range r.spec.Targets {
		isThing := false
		if !strings.HasPrefix(t, "arn:") && !strings.Contains(t, "/") {
			ok, err := r.groupExists(t).get(ctx)
			if err != nil {
				return nil, &StepError{Step: "iot:DescribeThingGroup " + t, Err: err}
			}
			isThing = !ok
		}
		out[i] = TargetArn(t, r.region, r.account, isThing)
	}
	return out, nil
}

// cleanup undoes what this run created, newest first, even if ctx was canceled.
func (r *run) cleanup(se *StepError) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for i := len(r.created) - 1; i >= 0; i-- {
		what, err := r.created[i](ctx)
		if err != nil {
			se.CleanupFails = append(se.CleanupFails, fmt.Sprintf("%s (%v)", what, err))
		} else {
			se.CleanedUp = append(se.CleanedUp, what)
		}
	}
}
