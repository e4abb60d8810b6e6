package bootstrap

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// markerKey is the object that records the bucket's owner when the
// endpoint cannot tag buckets (S3 answers NotImplemented to ?tagging).
func (c *Config) markerKey() string { return ".otactl-bootstrap/" + c.Name }

// run is one Run: the configuration with every name resolved and what the
// checks found.
type run struct {
	cl      Cloud
	cfg     Config
	rep     *Report
	account string

	sig        *signing
	bucketHas  bool // ours already
	bucketMark bool // ownership by marker object (no bucket tagging)
	role       *Role
	certArn    string
	profile    *Profile // ours and Active; nil: to create
	policyHas  bool
	groupHas   bool
	things     []string // ours or to create
	thingHas   map[string]bool
}

// Run makes what cfg describes; what exists and is ours is reused. Every
// check that can stop it runs before the first create (see the package
// comment). A StepError says which step stopped and what to do.
func Run(ctx context.Context, cl Cloud, cfg Config) (*Report, error) {
	r := &run{cl: cl, cfg: cfg, rep: &Report{}, thingHas: map[string]bool{}}
	if err := r.check(ctx); err != nil {
		return r.rep, err
	}
	for _, step := range []func(context.Context) error{r.makeBucket, r.makeRole, r.makeSigning, r.makeProfile, r.makeDevices, r.writeSpec} {
		if err := step(ctx); err != nil {
			return r.rep, err
		}
	}
	return r.rep, nil
}

// check reads everything and decides; it creates nothing.
func (r *run) check(ctx context.Context) error {
	cl, c := r.cl, &r.cfg
	account, err := cl.AccountID(ctx)
	if err != nil {
		return stop("credentials", "check the AWS credentials and region (aws sts get-caller-identity)", err)
	}
	r.account = account
	if err := c.names(account, cl.Region()); err != nil {
		return invalidInput("input", "", err)
	}
	r.rep.Bucket = c.Bucket
	if r.sig, err = c.loadSigning(); err != nil {
		return invalidInput("code-signing certificate", "pass a --cert and --key that belong together (PEM), or neither to have one made", err)
	}
	plat, err := cl.SigningPlatform(ctx, c.Platform)
	if errors.Is(err, ErrNotFound) {
		return invalidInput("signing platform", "aws signer list-signing-platforms lists them; FreeRTOS devices use "+DefaultPlatform, fmt.Errorf("no Signer platform %q", c.Platform))
	}
	if err != nil {
		return stop("signing platform", "", err)
	}
	if r.sig != nil {
		if err := r.sig.fits(plat); err != nil {
			return invalidInput("code-signing certificate", "use a key the platform signs with (ECDSA P-256 for FreeRTOS)", err)
		}
	} else if !contains(plat.Algorithms, "ECDSA") {
		return invalidInput("code-signing certificate", "pass --cert/--key with an RSA pair for this platform", fmt.Errorf("platform %s does not sign with ECDSA, the key otactl makes", c.Platform))
	}
	if err := r.checkBucket(ctx); err != nil {
		return err
	}
	if err := r.checkRole(ctx); err != nil {
		return err
	}
	if r.certArn, err = cl.FindCertificate(ctx, TagKey, c.Name); err != nil {
		return stop("ACM certificate", "", err)
	}
	if r.certArn != "" && r.sig == nil {
		return stop("code-signing certificate", "restore "+c.signingDir()+" from the first run, or run --destroy and start again",
			fmt.Errorf("ACM holds this bootstrap's certificate %s but its key is not in %s", r.certArn, c.signingDir()))
	}
	if err := r.checkProfile(ctx); err != nil {
		return err
	}
	return r.checkDevices(ctx)
}

func (r *run) checkBucket(ctx context.Context) error {
	c := &r.cfg
	tags, err := r.cl.BucketTags(ctx, c.Bucket)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil
	case errors.Is(err, ErrNotYours):
		return stop("bucket "+c.Bucket, "bucket names are global and another account has this one: pass --bucket with another name", err)
	case errors.Is(err, ErrNotImplemented):
		r.bucketMark = true
		has, err := r.cl.ObjectExists(ctx, c.Bucket, c.markerKey())
		if err != nil {
			return stop("bucket "+c.Bucket, "", err)
		}
		tags = nil
		if has {
			tags = c.tags()
		}
	case err != nil:
		return stop("bucket "+c.Bucket, "", err)
	}
	if !c.ours(tags) {
		return stop("bucket "+c.Bucket, "pass --bucket with another name (bootstrap changes only what it made)",
			fmt.Errorf("the bucket exists in this account without the tag %s=%s", TagKey, c.Name))
	}
	r.bucketHas = true
	return nil
}

func (r *run) checkRole(ctx context.Context) error {
	c := &r.cfg
	role, err := r.cl.Role(ctx, c.Role)
	switch {
	case errors.Is(err, ErrNotFound):
		return nil
	case errors.Is(err, ErrAccessDenied):
		return stop("IAM role "+c.Role, "these credentials may not use IAM; bootstrap needs iam:GetRole, iam:CreateRole, iam:TagRole, iam:AttachRolePolicy, iam:PutRolePolicy (and for --destroy iam:DetachRolePolicy, iam:DeleteRolePolicy, iam:DeleteRole): ask an administrator, then run bootstrap again", err)
	case err != nil:
		return stop("IAM role "+c.Role, "", err)
	}
	if !c.ours(role.Tags) {
		return stop("IAM role "+c.Role, "pass --role with another name", fmt.Errorf("the role exists without the tag %s=%s", TagKey, c.Name))
	}
	r.role = &role
	return nil
}

// checkProfile finds the profile name to use: a canceled profile's name
// cannot be reused in Signer, so after a --destroy the next run takes
// <profile>_2, _3, ...
func (r *run) checkProfile(ctx context.Context) error {
	c := &r.cfg
	base := c.Profile
	for i := 1; i <= 50; i++ {
		name := base
		if i > 1 {
			name = base + "_" + strconv.Itoa(i)
		}
		p, err := r.cl.SigningProfile(ctx, name)
		switch {
		case errors.Is(err, ErrNotFound):
			c.Profile = name
			return nil
		case err != nil:
			return stop("signing profile "+name, "", err)
		case !c.ours(p.Tags):
			return stop("signing profile "+name, "pass --profile with another name", fmt.Errorf("the profile exists without the tag %s=%s", TagKey, c.Name))
		case p.Status == "Active":
			// (moto returns no signingParameters: an empty certname is not
			// a different one.)
			if p.PlatformID != c.Platform || (p.CertName != "" && p.CertName != c.CertName) {
				return stop("signing profile "+name, "run --destroy first to change the platform or certname",
					fmt.Errorf("the profile has platform %s and certname %s, not %s and %s", p.PlatformID, p.CertName, c.Platform, c.CertName))
			}
			c.Profile = name
			r.profile = &p
			return nil
		}
	}
	return stop("signing profile "+base, "pass --profile with another name", errors.New("50 canceled profiles hold the name"))
}

func (r *run) checkDevices(ctx context.Context) error {
	c := &r.cfg
	if len(c.Things) == 0 {
		return nil
	}
	tags, err := r.cl.PolicyTags(ctx, c.Policy)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return stop("IoT policy "+c.Policy, "", err)
	case !c.ours(tags):
		return stop("IoT policy "+c.Policy, "pass --policy with another name", fmt.Errorf("the policy exists without the tag %s=%s", TagKey, c.Name))
	default:
		r.policyHas = true
	}
	tags, err = r.cl.ThingGroupTags(ctx, c.Group)
	switch {
	case errors.Is(err, ErrNotFound):
	case err != nil:
		return stop("thing group "+c.Group, "", err)
	case !c.ours(tags):
		r.rep.add(LeftAlone, "thing group", c.Group, "not made by this bootstrap: the devices join no group")
		c.Group = ""
	default:
		r.groupHas = true
	}
	for _, th := range c.Things {
		attrs, err := r.cl.ThingAttributes(ctx, th)
		switch {
		case errors.Is(err, ErrNotFound):
			r.things = append(r.things, th)
		case err != nil:
			return stop("thing "+th, "", err)
		case !c.ours(attrs):
			r.rep.add(LeftAlone, "thing", th, "exists without the attribute "+TagKey+"="+c.Name+": no credentials made for it")
		default:
			r.thingHas[th] = true
			r.things = append(r.things, th)
		}
	}
	return nil
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// state is Reused when has, else Created.
func state(has bool) State {
	if has {
		return Reused
	}
	return Created
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func rel(base, p string) string {
	if r, err := filepath.Rel(base, p); err == nil {
		return r
	}
	return p
}
