package ota

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// CheckError is every precondition of a create that does not hold, found
// before the first call that changes anything: nothing was signed, copied
// or created.
type CheckError struct {
	// Problems are what the spec names that is missing or unusable: the
	// input is wrong (a missing group, profile, object or bucket version).
	Problems Errors
	// Failures are checks the cloud could not answer (access denied, a
	// network error): the run failed, the input may be right.
	Failures []string
	// causes are the sentinels the problems amount to (a missing resource
	// is ErrNotFound, a job id taken ErrAlreadyExists), so that callers
	// such as CreateOTAUpdate's errorInfo can tell the AWS error code.
	causes []error
}

// Unwrap lets errors.Is find ErrNotFound or ErrAlreadyExists among the problems.
func (e *CheckError) Unwrap() []error { return e.causes }

func (e *CheckError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "nothing was created: %d precondition(s) do not hold", len(e.Problems)+len(e.Failures))
	for _, p := range e.Problems {
		b.WriteString("\n  " + p.Error())
	}
	for _, f := range e.Failures {
		b.WriteString("\n  could not check " + f)
	}
	return b.String()
}

// Invalid reports whether every check ran and the spec is what is wrong.
func (e *CheckError) Invalid() bool { return len(e.Failures) == 0 }

// preflight collects problems; each read is made once (a bucket named by
// several files is checked once, its problem reported at each path).
type preflight struct {
	r       *run
	errs    CheckError
	buckets map[string]string // bucket → problem ("" when fine)
}

func (c *preflight) problem(path, format string, args ...any) {
	c.errs.Problems = append(c.errs.Problems, FieldError{Path: path, Rule: fmt.Sprintf(format, args...)})
}

// missing is a problem that is a resource that does not exist.
func (c *preflight) missing(path, format string, args ...any) {
	c.cause(ErrNotFound)
	c.problem(path, format, args...)
}

func (c *preflight) cause(err error) {
	for _, e := range c.errs.causes {
		if e == err {
			return
		}
	}
	c.errs.causes = append(c.errs.causes, err)
}

func (c *preflight) failure(step string, err error) {
	c.errs.Failures = append(c.errs.Failures, fmt.Sprintf("%s: %v", step, err))
}

// check reads every precondition of creating the update as job jobID
// (bucket versioning, objects, profiles, signing jobs, the stream, targets,
// package versions, the job id) and reports all that fail at once.
func (r *run) check(ctx context.Context, jobID string) error {
	c := &preflight{r: r, buckets: map[string]string{}}
	s := r.spec
	c.jobID(ctx, jobID)
	for i := range s.Files {
		c.file(ctx, i)
	}
	if id := existingStream(s); id != "" {
		c.stream(ctx, id)
	}
	for i, t := range s.Targets {
		c.target(ctx, index("targets", i), t)
	}
	for i, v := range s.DestinationPackageVersions {
		name, ver, ok := strings.Cut(v, "@")
		if !ok || strings.HasPrefix(v, "arn:") {
			continue
		}
		err := r.p.Cloud.GetPackageVersion(ctx, name, ver)
		switch {
		case err == nil, errors.Is(err, ErrNotFound) && r.p.CreatePackageVersions:
		case errors.Is(err, ErrNotFound):
			c.missing(index("destinationPackageVersions", i), "package version %s does not exist (--create-package-version creates it)", v)
		default:
			c.failure("iot:GetPackageVersion "+v, err)
		}
	}
	if len(c.errs.Problems) == 0 && len(c.errs.Failures) == 0 {
		return nil
	}
	return &c.errs
}

// jobID: the job id must be free, or a job otactl made for this update.
func (c *preflight) jobID(ctx context.Context, jobID string) {
	if len(jobID) > 64 {
		c.problem("otaUpdateId", "the job id %s is longer than the 64 characters CreateJob accepts", jobID)
		return
	}
	job, err := c.r.describeJob(jobID).get(ctx)
	if errors.Is(err, ErrNotFound) {
		return
	} else if err != nil {
		c.failure("iot:DescribeJob "+jobID, err)
		return
	}
	tags, err := c.r.p.Cloud.ListTags(ctx, job.JobArn)
	if err != nil {
		c.failure("iot:ListTagsForResource "+job.JobArn, err)
		return
	}
	if tagValue(tags, TagUpdateID) != c.r.spec.OTAUpdateID {
		c.cause(ErrAlreadyExists)
		c.problem("otaUpdateId", "job %s exists and was not made by otactl for update %s", jobID, c.r.spec.OTAUpdateID)
	}
}

func (c *preflight) file(ctx context.Context, i int) {
	f := &c.r.spec.Files[i]
	fp := index("files", i)
	if loc := f.FileLocation.S3Location; loc != nil {
		lp := join(fp, "fileLocation.s3Location")
		if c.bucket(ctx, join(lp, "bucket"), loc.Bucket) {
			c.object(ctx, lp, loc)
		}
	}
	cs := f.CodeSigning
	switch {
	case cs.StartSigningJobParameter != nil:
		p := cs.StartSigningJobParameter
		pp := join(fp, "codeSigning.startSigningJobParameter")
		if d := p.Destination; d != nil && d.S3Destination != nil && f.FileLocation.S3Location != nil && d.S3Destination.Bucket != f.FileLocation.S3Location.Bucket {
			// The raw binary is copied over the signed object: that bucket needs versions too.
			c.bucket(ctx, join(pp, "destination.s3Destination.bucket"), d.S3Destination.Bucket)
		}
		c.profile(ctx, join(pp, "signingProfileName"), p)
	case cs.AWSSignerJobID != "":
		jp := join(fp, "codeSigning.awsSignerJobId")
		job, err := c.r.signingJob(cs.AWSSignerJobID).get(ctx)
		switch {
		case errors.Is(err, ErrNotFound):
			c.missing(jp, "signing job %s does not exist", cs.AWSSignerJobID)
		case err != nil:
			c.failure("signer:DescribeSigningJob "+cs.AWSSignerJobID, err)
		case job.Status != "Succeeded":
			c.problem(jp, "signing job %s is %s, not Succeeded: %s", cs.AWSSignerJobID, job.Status, job.StatusReason)
		}
	}
}

// bucket checks a bucket exists and keeps versions; it reports whether
// the bucket exists (so its objects can be checked).
func (c *preflight) bucket(ctx context.Context, path, name string) bool {
	msg, seen := c.buckets[name]
	if !seen {
		status, err := c.r.versioning(name).get(ctx)
		switch {
		case errors.Is(err, ErrNotFound):
			msg = fmt.Sprintf("bucket %s does not exist", name)
		case err != nil:
			c.failure("s3:GetBucketVersioning "+name, err)
			msg = "-" // could not tell; reported once as a failure
		case status != "Enabled":
			msg = fmt.Sprintf("bucket %s is not versioned (versioning %s): enable versioning so the update can name an exact version", name, orNever(status))
		}
		c.buckets[name] = msg
	}
	switch {
	case strings.HasSuffix(msg, "does not exist"):
		c.missing(path, "%s", msg)
	case msg != "" && msg != "-":
		c.problem(path, "%s", msg)
	}
	return msg == "" || !strings.HasSuffix(msg, "does not exist")
}

func orNever(status string) string {
	if status == "" {
		return "never enabled"
	}
	return status
}

func (c *preflight) object(ctx context.Context, path string, loc *S3Location) {
	_, err := c.r.head(*loc).get(ctx)
	switch {
	case err == nil:
	case errors.Is(err, ErrNotFound) && loc.Version != "":
		c.missing(join(path, "version"), "s3://%s/%s has no version %s", loc.Bucket, loc.Key, loc.Version)
	case errors.Is(err, ErrNotFound):
		c.missing(join(path, "key"), "object s3://%s/%s does not exist", loc.Bucket, loc.Key)
	default:
		c.failure(fmt.Sprintf("s3:HeadObject s3://%s/%s", loc.Bucket, loc.Key), err)
	}
}

// profile: the profile exists and is Active, or signingProfileParameter
// will create it.
func (c *preflight) profile(ctx context.Context, path string, p *StartSigningJobParameter) {
	name := p.SigningProfileName
	prof, err := c.r.signingProfile(name).get(ctx)
	switch {
	case errors.Is(err, ErrNotFound) && p.SigningProfileParameter != nil:
		// created from signingProfileParameter, as CreateOTAUpdate does
	case errors.Is(err, ErrNotFound):
		c.missing(path, "signing profile %s does not exist (give signingProfileParameter to have it created)", name)
	case err != nil:
		c.failure("signer:GetSigningProfile "+name, err)
	case prof.Status != "" && prof.Status != "Active":
		c.problem(path, "signing profile %s is %s, not Active", name, prof.Status)
	}
}

// stream: a stream the files name exists and holds each file id.
func (c *preflight) stream(ctx context.Context, id string) {
	st, err := c.r.p.Cloud.DescribeStream(ctx, id)
	for i, f := range c.r.spec.Files {
		sf := f.FileLocation.Stream
		if sf == nil {
			continue
		}
		sp := join(index("files", i), "fileLocation.stream")
		switch {
		case errors.Is(err, ErrNotFound):
			c.missing(join(sp, "streamId"), "stream %s does not exist", id)
			return
		case err != nil:
			c.failure("iot:DescribeStream "+id, err)
			return
		case sf.FileID != nil && !streamHasFile(st, *sf.FileID):
			c.problem(join(sp, "fileId"), "stream %s has no fileId %d", id, *sf.FileID)
		}
	}
}

// target: a bare name is a thing group or a thing; thinggroup/NAME,
// thing/NAME and ARNs name their kind.
func (c *preflight) target(ctx context.Context, path, t string) {
	kind, name := targetKind(t)
	var found bool
	var err error
	switch kind {
	case "thinggroup":
		found, err = c.r.groupExists(name).get(ctx)
	case "thing":
		found, err = c.r.thingExists(name).get(ctx)
	case "":
		if found, err = c.r.groupExists(name).get(ctx); err == nil && !found {
			found, err = c.r.thingExists(name).get(ctx)
		}
		kind = "thing group or thing"
	default:
		return // the validation already refused other kinds
	}
	switch {
	case err != nil:
		c.failure("iot:Describe "+kind+" "+name, err)
	case !found:
		c.missing(path, "no %s named %s exists", strings.ReplaceAll(kind, "thinggroup", "thing group"), name)
	}
}

// targetKind splits a target: thinggroup/NAME, thing/NAME and ARNs name
// their kind; a bare name has none ("").
func targetKind(t string) (kind, name string) {
	kind, name = "", t
	if strings.HasPrefix(t, "arn:") {
		res := t[strings.LastIndex(t, ":")+1:]
		kind, name, _ = strings.Cut(res, "/")
	} else if k, n, ok := strings.Cut(t, "/"); ok {
		kind, name = k, n
	}
	return kind, name
}
