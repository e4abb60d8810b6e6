package bootstrap

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/otactl/otactl/ota"
)

// InUseError is Destroy refusing while updates use the resources.
type InUseError struct{ Jobs []string }

func (e *InUseError) Error() string {
	return fmt.Sprintf("updates in progress use this bootstrap's resources: %s (cancel them with otactl cancel, or pass --force)", strings.Join(e.Jobs, ", "))
}

// Destroy removes what Run made (checked by its tag), in the order that
// lets each go: devices (certificates, then things), group, policy,
// signing profile, ACM certificate, role, bucket, then the files in
// OutDir. It refuses while a job in progress or scheduled targets its
// things or group or streams from its bucket, unless cfg.Force. A resource
// of the same name without the tag is left alone.
func Destroy(ctx context.Context, cl Cloud, cfg Config) (*Report, error) {
	rep := &Report{}
	account, err := cl.AccountID(ctx)
	if err != nil {
		return rep, stop("credentials", "check the AWS credentials and region", err)
	}
	c := &cfg
	c.Devices, c.Things = 0, nil
	if err := c.names(account, cl.Region()); err != nil {
		return rep, invalidInput("input", "", err)
	}
	if c.Group == "" {
		c.Group = "otactl-" + c.Name + "-devices"
	}
	things, err := cl.ThingsWithAttribute(ctx, TagKey, c.Name)
	if err != nil {
		return rep, stop("things", "", err)
	}
	d := &destroyer{cl: cl, c: c, rep: rep}
	groupTags, groupErr := cl.ThingGroupTags(ctx, c.Group)
	if groupErr != nil && !errors.Is(groupErr, ErrNotFound) {
		d.fail("thing group", c.Group, groupErr)
	}
	groupOurs := groupErr == nil && c.ours(groupTags)
	if !c.Force {
		if err := inUse(ctx, cl, c, things, groupOurs); err != nil {
			return rep, err
		}
	}
	for _, th := range things {
		d.thing(ctx, th)
	}
	if groupOurs {
		d.del("thing group", c.Group, func() error { return cl.DeleteThingGroup(ctx, c.Group) })
	} else if groupErr == nil {
		rep.add(LeftAlone, "thing group", c.Group, "not made by this bootstrap")
	}
	d.tagged("IoT policy", c.Policy, func() (map[string]string, error) { return cl.PolicyTags(ctx, c.Policy) },
		func() error { return cl.DeletePolicy(ctx, c.Policy) })
	d.profiles(ctx)
	if arn, err := cl.FindCertificate(ctx, TagKey, c.Name); err != nil {
		d.fail("ACM certificate", "", err)
	} else if arn != "" {
		d.del("ACM certificate", arn, func() error { return cl.DeleteCertificate(ctx, arn) })
	}
	d.tagged("IAM role", c.Role, func() (map[string]string, error) {
		r, err := cl.Role(ctx, c.Role)
		return r.Tags, err
	}, func() error { return cl.DeleteRole(ctx, c.Role) })
	d.bucket(ctx)
	if len(d.errs) == 0 {
		d.files()
	}
	return rep, errors.Join(d.errs...)
}

// destroyer deletes one resource after another; a failure is reported and
// the rest still goes (what is left is ours and tagged: a re-run retries).
type destroyer struct {
	cl   Cloud
	c    *Config
	rep  *Report
	errs []error
}

func (d *destroyer) fail(kind, name string, err error) {
	d.errs = append(d.errs, fmt.Errorf("%s %s: %w", kind, name, err))
}

func (d *destroyer) del(kind, name string, fn func() error) {
	if err := fn(); err != nil && !errors.Is(err, ErrNotFound) {
		d.fail(kind, name, err)
		return
	}
	d.rep.add(Deleted, kind, name, "")
}

// tagged deletes the resource if its tags say it is ours.
func (d *destroyer) tagged(kind, name string, tags func() (map[string]string, error), fn func() error) {
	t, err := tags()
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		d.fail(kind, name, err)
	case !d.c.ours(t):
		d.rep.add(LeftAlone, kind, name, "not made by this bootstrap")
	default:
		d.del(kind, name, fn)
	}
}

// thing deletes a device: the certificate bootstrap wrote into its folder
// (matched by id, the SHA-256 of its DER), then the thing.
func (d *destroyer) thing(ctx context.Context, th string) {
	var own []string
	if raw, err := os.ReadFile(d.c.DeviceCert(th)); err == nil {
		if b, _ := pem.Decode(raw); b != nil {
			sum := sha256.Sum256(b.Bytes)
			own = append(own, hex.EncodeToString(sum[:]))
		}
	}
	note := "and its certificate"
	if len(own) == 0 {
		note = "its certificate is not in " + d.c.DeviceDir(th) + ": left alone"
	}
	if err := d.cl.DeleteThing(ctx, th, own); err != nil && !errors.Is(err, ErrNotFound) {
		d.fail("thing", th, err)
		return
	}
	d.rep.add(Deleted, "thing", th, note)
}

// profiles cancels the profile and the _N ones later runs made.
func (d *destroyer) profiles(ctx context.Context) {
	base := d.c.Profile
	for i := 1; i <= 50; i++ {
		name := base
		if i > 1 {
			name = base + "_" + strconv.Itoa(i)
		}
		p, err := d.cl.SigningProfile(ctx, name)
		switch {
		case errors.Is(err, ErrNotFound):
			return
		case err != nil:
			d.fail("signing profile", name, err)
			return
		case !d.c.ours(p.Tags):
			d.rep.add(LeftAlone, "signing profile", name, "not made by this bootstrap")
			return
		case p.Status == "Active":
			d.del("signing profile", name, func() error { return d.cl.CancelSigningProfile(ctx, name) })
		}
	}
}

func (d *destroyer) bucket(ctx context.Context) {
	c := d.c
	tags, err := d.cl.BucketTags(ctx, c.Bucket)
	if errors.Is(err, ErrNotImplemented) {
		has, herr := d.cl.ObjectExists(ctx, c.Bucket, c.markerKey())
		tags, err = nil, herr
		if has {
			tags = c.tags()
		}
	}
	switch {
	case errors.Is(err, ErrNotFound):
	case errors.Is(err, ErrNotYours):
		d.rep.add(LeftAlone, "bucket", c.Bucket, "owned by another account")
	case err != nil:
		d.fail("bucket", c.Bucket, err)
	case !c.ours(tags):
		d.rep.add(LeftAlone, "bucket", c.Bucket, "not made by this bootstrap")
	default:
		d.del("bucket", c.Bucket, func() error { return d.cl.DeleteBucket(ctx, c.Bucket) })
	}
}

// files removes what Run wrote in OutDir (never the user's --cert/--key).
func (d *destroyer) files() {
	c := d.c
	for _, p := range []string{c.SpecPath(), c.signingCert(), c.signingKey()} {
		if p == c.CertFile || p == c.KeyFile {
			continue
		}
		os.Remove(p)
	}
	os.Remove(c.signingDir())
	if ents, err := os.ReadDir(c.OutDir + "/devices"); err == nil {
		for _, e := range ents {
			os.RemoveAll(c.DeviceDir(e.Name()))
		}
	}
	os.Remove(c.OutDir + "/devices")
	if os.Remove(c.OutDir) == nil {
		d.rep.add(Deleted, "folder", c.OutDir, "")
	}
}

// inUse finds jobs in progress or scheduled that target the things or the
// group, or stream a file from the bucket.
func inUse(ctx context.Context, cl Cloud, c *Config, things []string, group bool) error {
	jobs, err := cl.ListJobs(ctx)
	if err != nil {
		return stop("updates in progress", "", err)
	}
	var using []string
	for _, j := range jobs {
		if j.Status != "IN_PROGRESS" && j.Status != "SCHEDULED" {
			continue
		}
		job, err := cl.DescribeJob(ctx, j.JobID)
		if err != nil {
			return stop("updates in progress", "", err)
		}
		hit := slices.ContainsFunc(job.Targets, func(t string) bool {
			return (group && strings.HasSuffix(t, ":thinggroup/"+c.Group)) ||
				slices.ContainsFunc(things, func(th string) bool { return strings.HasSuffix(t, ":thing/"+th) })
		})
		if !hit {
			hit = streamsFrom(ctx, cl, j.JobID, c.Bucket)
		}
		if hit {
			using = append(using, j.JobID)
		}
	}
	if len(using) > 0 {
		return &InUseError{Jobs: using}
	}
	return nil
}

// streamsFrom reports whether an afr_ota job's files come from bucket.
func streamsFrom(ctx context.Context, cl Cloud, jobID, bucket string) bool {
	doc, err := cl.GetJobDocument(ctx, jobID)
	if err != nil {
		return false
	}
	var d struct {
		AfrOta struct {
			Streamname string `json:"streamname"`
			Files      []struct {
				URL string `json:"update_data_url"`
			} `json:"files"`
		} `json:"afr_ota"`
	}
	if json.Unmarshal([]byte(doc), &d) != nil {
		return false
	}
	for _, f := range d.AfrOta.Files {
		if strings.Contains(f.URL, "/"+bucket+"/") || strings.Contains(f.URL, "//"+bucket+".") {
			return true
		}
	}
	if d.AfrOta.Streamname == "" {
		return false
	}
	s, err := cl.DescribeStream(ctx, d.AfrOta.Streamname)
	if err != nil {
		return false
	}
	return slices.ContainsFunc(s.Files, func(f ota.StreamFileLocation) bool { return f.S3.Bucket == bucket })
}
