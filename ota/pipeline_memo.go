package ota

import "context"

// memo holds the reads a create run makes before it changes anything: the
// job id, buckets' versioning, source objects, signing profiles, given
// signing jobs and thing groups. prefetch starts them all at once, so that
// they cost about one round trip instead of one each, and check and the
// steps after it (placeFile, targets) take each answer from here instead of
// asking again. Before, `otactl create` made these calls one after another,
// and DescribeJob, HeadObject, GetSigningProfile and DescribeThingGroup
// twice each. Only reads of what the run does not change are kept: a
// profile the run creates is read afresh (signWithProfile), and each run
// starts empty.
type memo struct {
	reads map[readKey]*future
}

// readKey names one read: the operation and its input.
type readKey struct {
	op      string
	a, b, c string
}

// future is a read's answer, ready once done is closed.
type future struct {
	done chan struct{}
	v    any
	err  error
}

// reader is one read of the memo: its key and the Cloud call.
type reader[T any] struct {
	m    *memo
	key  readKey
	call func(context.Context) (T, error)
}

// start begins the read in the background unless it has begun. ctx bounds
// the call (the run's: prefetch cancels what is left when Run returns).
func (x reader[T]) start(ctx context.Context) {
	if _, ok := x.m.reads[x.key]; ok {
		return
	}
	f := &future{done: make(chan struct{})}
	x.m.put(x.key, f)
	go func() {
		f.v, f.err = x.call(ctx)
		close(f.done)
	}()
}

// get is the answer: of the read begun earlier, or of a call made now.
func (x reader[T]) get(ctx context.Context) (T, error) {
	f, ok := x.m.reads[x.key]
	if !ok {
		v, err := x.call(ctx)
		f = &future{done: make(chan struct{}), v: v, err: err}
		close(f.done)
		x.m.put(x.key, f)
	}
	select {
	case <-f.done:
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
	v, _ := f.v.(T) // a failed read's v is T's zero value
	return v, f.err
}

func (m *memo) put(k readKey, f *future) {
	if m.reads == nil {
		m.reads = map[readKey]*future{}
	}
	m.reads[k] = f
}

// The reads, one per Cloud method the run repeats.

func (r *run) describeJob(id string) reader[Job] {
	return reader[Job]{&r.seen, readKey{op: "DescribeJob", a: id}, func(ctx context.Context) (Job, error) { return r.p.Cloud.DescribeJob(ctx, id) }}
}

func (r *run) versioning(bucket string) reader[string] {
	return reader[string]{&r.seen, readKey{op: "GetBucketVersioning", a: bucket}, func(ctx context.Context) (string, error) {
		return r.p.Cloud.BucketVersioning(ctx, bucket)
	}}
}

func (r *run) head(l S3Location) reader[ObjectInfo] {
	return reader[ObjectInfo]{&r.seen, readKey{op: "HeadObject", a: l.Bucket, b: l.Key, c: l.Version}, func(ctx context.Context) (ObjectInfo, error) {
		return r.p.Cloud.HeadObject(ctx, l.Bucket, l.Key, l.Version)
	}}
}

func (r *run) signingProfile(name string) reader[SigningProfile] {
	return reader[SigningProfile]{&r.seen, readKey{op: "GetSigningProfile", a: name}, func(ctx context.Context) (SigningProfile, error) {
		return r.p.Cloud.GetSigningProfile(ctx, name)
	}}
}

func (r *run) signingJob(id string) reader[SigningJob] {
	return reader[SigningJob]{&r.seen, readKey{op: "DescribeSigningJob", a: id}, func(ctx context.Context) (SigningJob, error) {
		return r.p.Cloud.DescribeSigningJob(ctx, id)
	}}
}

func (r *run) groupExists(name string) reader[bool] {
	return reader[bool]{&r.seen, readKey{op: "DescribeThingGroup", a: name}, func(ctx context.Context) (bool, error) {
		return r.p.Cloud.ThingGroupExists(ctx, name)
	}}
}

func (r *run) thingExists(name string) reader[bool] {
	return reader[bool]{&r.seen, readKey{op: "DescribeThing", a: name}, func(ctx context.Context) (bool, error) {
		return r.p.Cloud.ThingExists(ctx, name)
	}}
}

// prefetch starts every read check will make whatever the answers (a
// thing named by a bare target is asked only when no group has that name),
// the job id's DescribeJob that findUpdate makes first, and the account.
func (r *run) prefetch(ctx context.Context) {
	s := r.spec
	r.describeJob(JobIDFor(s.OTAUpdateID, 1)).start(ctx)
	for _, f := range s.Files {
		if loc := f.FileLocation.S3Location; loc != nil {
			r.versioning(loc.Bucket).start(ctx)
			r.head(*loc).start(ctx)
		}
		cs := f.CodeSigning
		switch {
		case cs.StartSigningJobParameter != nil:
			p := cs.StartSigningJobParameter
			if d := p.Destination; d != nil && d.S3Destination != nil {
				r.versioning(d.S3Destination.Bucket).start(ctx)
			}
			r.signingProfile(p.SigningProfileName).start(ctx)
		case cs.AWSSignerJobID != "":
			r.signingJob(cs.AWSSignerJobID).start(ctx)
		}
	}
	for _, t := range s.Targets {
		switch kind, name := targetKind(t); kind {
		case "thinggroup", "":
			r.groupExists(name).start(ctx)
		case "thing":
			r.thingExists(name).start(ctx)
		}
	}
}

// memoCloud is the Cloud findUpdate reads through: its first DescribeJob
// is the one prefetch started.
type memoCloud struct {
	Cloud
	r *run
}

func (c memoCloud) DescribeJob(ctx context.Context, id string) (Job, error) {
	return c.r.describeJob(id).get(ctx)
}
