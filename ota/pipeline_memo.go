package ota

import "context"

// memo keeps what a run's check read that a later step of the same run
// reads again: the source object's HeadObject, the signing profile, an
// existing signing job, whether a bare target names a thing group, and
// that the job id is free. Each answer is used
// once, by the step that would have repeated the call; nothing the run
// changes is remembered (a profile the run creates is read afresh), and a
// new run starts empty. Before, `otactl create` made each of these calls
// twice within a few milliseconds.
type memo struct {
	freeJob     string // a job id DescribeJob answered NotFound for
	heads       map[S3Location]ObjectInfo
	profiles    map[string]SigningProfile
	signingJobs map[string]SigningJob // Succeeded jobs
	groups      map[string]bool       // ThingGroupExists of a bare target name
}

func (m *memo) group(name string, exists bool) {
	if m.groups == nil {
		m.groups = map[string]bool{}
	}
	m.groups[name] = exists
}

// thingGroupExists is check's answer for name, or ThingGroupExists.
func (m *memo) thingGroupExists(ctx context.Context, c Cloud, name string) (bool, error) {
	if ok, seen := m.groups[name]; seen {
		delete(m.groups, name)
		return ok, nil
	}
	return c.ThingGroupExists(ctx, name)
}

func (m *memo) head(loc S3Location, info ObjectInfo) {
	if m.heads == nil {
		m.heads = map[S3Location]ObjectInfo{}
	}
	m.heads[loc] = info
}

func (m *memo) profile(name string, p SigningProfile) {
	if m.profiles == nil {
		m.profiles = map[string]SigningProfile{}
	}
	m.profiles[name] = p
}

func (m *memo) signingJob(id string, j SigningJob) {
	if m.signingJobs == nil {
		m.signingJobs = map[string]SigningJob{}
	}
	m.signingJobs[id] = j
}

// headObject is check's answer for loc, or HeadObject.
func (m *memo) headObject(ctx context.Context, c Cloud, loc S3Location) (ObjectInfo, error) {
	if info, ok := m.heads[loc]; ok {
		delete(m.heads, loc)
		return info, nil
	}
	return c.HeadObject(ctx, loc.Bucket, loc.Key, loc.Version)
}

// getSigningProfile is check's answer for name, or GetSigningProfile.
func (m *memo) getSigningProfile(ctx context.Context, c Cloud, name string) (SigningProfile, error) {
	if p, ok := m.profiles[name]; ok {
		delete(m.profiles, name)
		return p, nil
	}
	return c.GetSigningProfile(ctx, name)
}

// describeSigningJob is check's answer for a Succeeded job, or DescribeSigningJob.
func (m *memo) describeSigningJob(ctx context.Context, c Cloud, id string) (SigningJob, error) {
	if j, ok := m.signingJobs[id]; ok {
		delete(m.signingJobs, id)
		return j, nil
	}
	return c.DescribeSigningJob(ctx, id)
}
