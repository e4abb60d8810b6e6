// Package bootstrap makes every prerequisite of an AWS IoT OTA update in
// one idempotent run, the way `cdk bootstrap` prepares an account for CDK:
// a versioned, encrypted, private S3 bucket; the OTA update service role
// (trust for iot.amazonaws.com, AWS's AmazonFreeRTOSOTAUpdate managed
// policy, S3 access to this bucket, iam:GetRole/PassRole on itself); a
// code-signing key and certificate imported into ACM; a Signer profile;
// optionally devices (things in a group, keys made locally, certificates,
// a least-privilege IoT policy); a folder of files per device; and a spec
// that `otactl create -f` accepts. Destroy removes exactly that.
//
// Ownership is by tag: every resource carries otactl:bootstrap=<name>
// (things, which IoT does not tag, carry it as an attribute; device
// certificates, which IoT does not tag either, are the ones whose files
// bootstrap wrote in the device folders). A resource of the same name
// without the tag belongs to someone else: bootstrap never changes or
// deletes it.
//
// Every check that can stop a run (names, the certificate and key pair,
// the platform, IAM permission, a bucket name taken, a resource of ours
// owned by someone else) runs before anything is created; each create is
// followed by its tag before the next step, so a run that stops leaves
// only tagged, complete resources, and the next run picks up from there.
// The package talks to AWS only through Cloud.
package bootstrap

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
)

// TagKey marks what bootstrap made; its value is the bootstrap's name.
const TagKey = "otactl:bootstrap"

// ManagedPolicyArn is AWS's managed policy for the OTA update service role
// (FreeRTOS user guide, "Create an OTA Update service role").
const ManagedPolicyArn = "arn:aws:iam::aws:policy/service-role/AmazonFreeRTOSOTAUpdate"

// DefaultPlatform is the Signer platform FreeRTOS devices verify.
const DefaultPlatform = "AmazonFreeRTOS-Default"

// Config says what to make. Names left empty are derived from Name.
type Config struct {
	Name     string // 1-24 of [a-z0-9-], starting with a letter; default "otactl"
	Bucket   string // default otactl-<name>-<account>-<region>
	Role     string // default otactl-<name>-ota-role
	Profile  string // default otactl_<name> (with _N when a canceled one holds the name)
	Platform string // default AmazonFreeRTOS-Default
	CertName string // the certificate path on the device (certname); default code_sign.crt

	// CertFile and KeyFile are the user's own code-signing certificate
	// and key (PEM); otherwise an ECDSA P-256 pair is made in OutDir.
	CertFile, KeyFile string

	Devices int      // N things named <name>-device-1..N
	Things  []string // or these names
	Group   string   // default otactl-<name>-devices (when there are devices)
	Policy  string   // default otactl-<name>-device

	OutDir   string // default ./otactl-bootstrap-<name>
	RootCA   string // a root CA PEM file copied into each device folder (otactl local's ca.pem); "" = Amazon's, named only
	Firmware string // optional image uploaded to the bucket for the spec; else the spec names firmware/firmware.bin

	Force bool // Destroy: even while an update uses the resources
}

var nameRe = regexp.MustCompile(`^[a-z][a-z0-9-]{0,23}$`)

// names fills what Config leaves empty.
func (c *Config) names(account, region string) error {
	if c.Name == "" {
		c.Name = "otactl"
	}
	if !nameRe.MatchString(c.Name) {
		return fmt.Errorf("--name %q: use 1-24 lowercase letters, digits and -, starting with a letter (it becomes part of bucket, role and profile names)", c.Name)
	}
	def := func(p *string, v string) {
		if *p == "" {
			*p = v
		}
	}
	def(&c.Bucket, fmt.Sprintf("otactl-%s-%s-%s", c.Name, account, region))
	def(&c.Role, "otactl-"+c.Name+"-ota-role")
	def(&c.Profile, "otactl_"+strings.ReplaceAll(c.Name, "-", "_"))
	def(&c.Platform, DefaultPlatform)
	def(&c.CertName, "code_sign.crt")
	def(&c.Policy, "otactl-"+c.Name+"-device")
	def(&c.OutDir, "otactl-bootstrap-"+c.Name)
	if c.Devices < 0 {
		return fmt.Errorf("--devices must be 0 or more, got %d", c.Devices)
	}
	if c.Devices > 0 && len(c.Things) > 0 {
		return fmt.Errorf("use --devices N or --things a,b, not both")
	}
	if c.Devices > 0 {
		c.Things = nil
		for i := 1; i <= c.Devices; i++ {
			c.Things = append(c.Things, fmt.Sprintf("%s-device-%d", c.Name, i))
		}
	}
	if len(c.Things) > 0 {
		def(&c.Group, "otactl-"+c.Name+"-devices")
	}
	if len(c.Bucket) > 63 {
		return fmt.Errorf("bucket name %s is longer than 63 characters: pass --bucket", c.Bucket)
	}
	if (c.CertFile == "") != (c.KeyFile == "") {
		return fmt.Errorf("--cert and --key go together")
	}
	if strings.ContainsAny(c.CertName, `"\/`) || c.CertName == "" {
		return fmt.Errorf("--certname %q: a file name without quotes or slashes (the device opens it)", c.CertName)
	}
	return nil
}

func (c *Config) tags() map[string]string { return map[string]string{TagKey: c.Name} }

// Paths of what bootstrap writes in OutDir.
func (c *Config) signingDir() string            { return filepath.Join(c.OutDir, "signing") }
func (c *Config) signingCert() string           { return filepath.Join(c.signingDir(), c.CertName) }
func (c *Config) signingKey() string            { return filepath.Join(c.signingDir(), "code_sign.key") }
func (c *Config) DeviceDir(thing string) string { return filepath.Join(c.OutDir, "devices", thing) }
func (c *Config) SpecPath() string              { return filepath.Join(c.OutDir, "ota-update.yaml") }

// State is what a run decided, line by line.
type State int

const (
	Created   State = iota // made by this run
	Reused                 // made by an earlier run (tagged as ours)
	LeftAlone              // exists and belongs to someone else: not touched
	Deleted                // removed by Destroy
	Skipped                // not possible here (see Note)
)

func (s State) String() string {
	return [...]string{"created", "reused", "left alone", "deleted", "skipped"}[s]
}

// Line is one resource's outcome.
type Line struct {
	State State
	Kind  string // bucket, role, ...
	Name  string
	Note  string
}

// Report is a run's outcome, in the order of the steps.
type Report struct {
	Lines []Line
	// Things are the devices with a folder; Group their thing group ("" if
	// none is ours); RoleArn, Bucket, Profile what the spec uses.
	Things                          []string
	Group, RoleArn, Bucket, Profile string
	Endpoint                        string
	SpecPath                        string
	// AmazonCA is set when the device folders name Amazon's root CA
	// rather than holding one (no RootCA given).
	AmazonCA bool
}

func (r *Report) add(s State, kind, name, note string) {
	r.Lines = append(r.Lines, Line{s, kind, name, note})
}

// Count is how many lines are in state s.
func (r *Report) Count(s State) int {
	n := 0
	for _, l := range r.Lines {
		if l.State == s {
			n++
		}
	}
	return n
}

// ours reports whether tags mark the resource as this bootstrap's.
func (c *Config) ours(tags map[string]string) bool { return tags[TagKey] == c.Name }

// StepError is a run that stopped: the step, what to do, and the cause.
// Everything made before it is complete and tagged; a re-run continues.
type StepError struct {
	Step, Advice string
	Err          error
	// Invalid marks bad input found before anything was made (names, the
	// certificate and key, the platform).
	Invalid bool
}

func (e *StepError) Error() string {
	msg := e.Step + ": " + e.Err.Error()
	if e.Advice != "" {
		msg += "\n  → " + e.Advice
	}
	return msg
}

func (e *StepError) Unwrap() error { return e.Err }

func stop(step, advice string, err error) error {
	return &StepError{Step: step, Advice: advice, Err: err}
}

// invalidInput is a StepError for bad input.
func invalidInput(step, advice string, err error) error {
	return &StepError{Step: step, Advice: advice, Err: err, Invalid: true}
}
