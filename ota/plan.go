package ota

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Placeholders stand, in a plan, for what only running it can know.
const (
	PlaceholderAccount = "${account}"
	PlaceholderRegion  = "${region}"
	PlaceholderUUID    = "${uuid}"
)

// DefaultSignedPrefix is where Signer writes signed objects when the spec
// names no destination (the prefix CreateOTAUpdate examples use).
const DefaultSignedPrefix = "SignedImages/"

// DefaultPresignSeconds is the URL lifetime when HTTP is used without one.
const DefaultPresignSeconds = 3600

// TagUpdateID tags every resource otactl creates with the update id, so that
// a re-run finds what an earlier one made; TagStreamID records the job's stream.
const (
	TagUpdateID = "otactl:update-id"
	TagStreamID = "otactl:stream-id"
)

// PlanEnv is where a plan will run. Unknown values stay placeholders.
type PlanEnv struct {
	Region    string // "" → ${region}
	AccountID string // "" → ${account}
	StreamID  string // "" → AFR_OTA-${uuid}
	Now       time.Time
}

// Step is one AWS call the pipeline makes, with its input.
type Step struct {
	Service   string `json:"service"`
	Operation string `json:"operation"`
	Input     any    `json:"input,omitempty"`
	Why       string `json:"why"`
}

// Plan is everything otactl create would do for a spec, in order.
type Plan struct {
	UpdateID    string          `json:"otaUpdateId"`
	JobID       string          `json:"jobId"`
	StreamID    string          `json:"streamId,omitempty"`
	Steps       []Step          `json:"steps"`
	JobDocument json.RawMessage `json:"jobDocument"`
	CreateJob   JobRequest      `json:"createJob"`
	Warnings    []string        `json:"warnings,omitempty"`
	// Diff is what would change on the update that exists (plan --diff).
	Diff *Diff `json:"diff,omitempty"`
}

// NewPlan validates s and returns the plan of calls that creates it; the job
// document carries ${...} placeholders for what signing produces.
func NewPlan(s *Spec, env PlanEnv) (*Plan, error) {
	if env.Now.IsZero() {
		env.Now = time.Now()
	}
	if errs := Validate(s, env.Now); len(errs) > 0 {
		return nil, errs
	}
	r := resolver{env: env}
	p := &Plan{UpdateID: s.OTAUpdateID, JobID: s.JobID()}
	if s.HasProtocol(ProtocolMQTT) {
		p.StreamID = existingStream(s)
		if p.StreamID == "" {
			p.StreamID = env.StreamID
			if p.StreamID == "" {
				p.StreamID = JobIDPrefix + PlaceholderUUID
			}
		}
	}
	arts := make([]FileArtifact, len(s.Files))
	var streamFiles []map[string]any
	for i := range s.Files {
		steps, art, sf := r.fileSteps(s, i)
		p.Steps = append(p.Steps, steps...)
		arts[i] = art
		if sf != nil {
			streamFiles = append(streamFiles, sf)
		}
	}
	if s.HasProtocol(ProtocolMQTT) {
		if existingStream(s) != "" {
			p.Steps = append(p.Steps, Step{"iot", "DescribeStream", map[string]any{"streamId": p.StreamID},
				"check that the existing stream holds the files' fileIds"})
		} else {
			p.Steps = append(p.Steps, Step{"iot", "CreateStream", map[string]any{
				"streamId": p.StreamID, "description": "otactl " + s.OTAUpdateID, "files": streamFiles,
				"roleArn": r.roleArn(s.RoleArn), "tags": []Tag{{TagUpdateID, s.OTAUpdateID}},
			}, "the MQTT file stream devices download from"})
		}
	}
	for _, pv := range s.DestinationPackageVersions {
		if name, ver, ok := strings.Cut(pv, "@"); ok && !strings.HasPrefix(pv, "arn:") {
			p.Steps = append(p.Steps, Step{"iot", "GetPackageVersion", map[string]string{"packageName": name, "versionName": ver},
				"check the destination package version exists"})
		}
	}
	doc, err := BuildJobDocument(s, DocumentInput{StreamID: p.StreamID, Region: r.region(), Files: arts})
	if err != nil {
		return nil, err
	}
	p.JobDocument = doc
	warnings, errs := CheckDocumentSize(estimateDocument(s, p.StreamID, r.region(), arts))
	if len(errs) > 0 {
		return nil, errs
	}
	p.Warnings = append(p.Warnings, warnings...)
	p.CreateJob = r.jobRequest(s, string(doc))
	p.Steps = append(p.Steps, Step{"iot", "CreateJob", p.CreateJob, "the job that delivers the update"})
	return p, nil
}

// existingStream is the stream named by the files, if they use one.
func existingStream(s *Spec) string {
	for _, f := range s.Files {
		if st := f.FileLocation.Stream; st != nil {
			return st.StreamID
		}
	}
	return ""
}

type resolver struct{ env PlanEnv }

func (r resolver) region() string {
	if r.env.Region == "" {
		return PlaceholderRegion
	}
	return r.env.Region
}

func (r resolver) account() string {
	if r.env.AccountID == "" {
		return PlaceholderAccount
	}
	return r.env.AccountID
}

// roleArn turns a role name into its ARN.
func (r resolver) roleArn(role string) string {
	if role == "" || strings.HasPrefix(role, "arn:") {
		return role
	}
	return fmt.Sprintf("arn:aws:iam::%s:role/%s", r.account(), role)
}

// TargetArn turns a target into an ARN: ARNs stay, thing/NAME and
// thinggroup/NAME are built; a bare name is a thing group (the usual OTA
// target) unless isThing says it is a thing.
func TargetArn(target, region, account string, isThing bool) string {
	switch {
	case strings.HasPrefix(target, "arn:"):
		return target
	case strings.HasPrefix(target, "thing/"), strings.HasPrefix(target, "thinggroup/"):
		return fmt.Sprintf("arn:aws:iot:%s:%s:%s", region, account, target)
	case isThing:
		return fmt.Sprintf("arn:aws:iot:%s:%s:thing/%s", region, account, target)
	default:
		return fmt.Sprintf("arn:aws:iot:%s:%s:thinggroup/%s", region, account, target)
	}
}

// PackageVersionArn turns package@version into its ARN; ARNs stay.
func PackageVersionArn(v, region, account string) string {
	name, ver, ok := strings.Cut(v, "@")
	if !ok || strings.HasPrefix(v, "arn:") {
		return v
	}
	return fmt.Sprintf("arn:aws:iot:%s:%s:package/%s/version/%s", region, account, name, ver)
}

// SignedObjectDestination is where Signer writes the signed object of a file.
func SignedObjectDestination(f *File) S3Destination {
	p := f.CodeSigning.StartSigningJobParameter
	if p != nil && p.Destination != nil && p.Destination.S3Destination != nil {
		return *p.Destination.S3Destination
	}
	return S3Destination{Bucket: f.FileLocation.S3Location.Bucket, Prefix: DefaultSignedPrefix}
}

// fileSteps returns the calls for files[i], the artifact with placeholders for
// what they produce, and the file's entry in a new stream (nil if none).
func (r resolver) fileSteps(s *Spec, i int) ([]Step, FileArtifact, map[string]any) {
	f := &s.Files[i]
	fp := fmt.Sprintf("files[%d]", i)
	art := FileArtifact{FileID: i, SizePlaceholder: fmt.Sprintf("${files[%d].rawPayloadSize}", i)}
	var steps []Step
	ph := func(what string) string { return fmt.Sprintf("${%s.%s}", fp, what) }
	loc := f.FileLocation.S3Location
	version := ""
	if loc != nil {
		version = loc.Version
		if version == "" {
			version = ph("versionId")
			steps = append(steps, Step{"s3", "HeadObject", map[string]string{"Bucket": loc.Bucket, "Key": loc.Key},
				fp + ": pin the latest version of the binary, so every later step uses that exact version"})
		}
	}
	raw := loc
	cs := f.CodeSigning
	switch {
	case cs.StartSigningJobParameter != nil:
		p := cs.StartSigningJobParameter
		dst := SignedObjectDestination(f)
		steps = append(steps,
			Step{"signer", "GetSigningProfile", map[string]string{"profileName": p.SigningProfileName},
				fp + ": the profile's certname becomes the document's certfile" + createsProfile(p)},
			Step{"signer", "StartSigningJob", map[string]any{
				"source":             map[string]any{"s3": map[string]string{"bucketName": loc.Bucket, "key": loc.Key, "version": version}},
				"destination":        map[string]any{"s3": map[string]string{"bucketName": dst.Bucket, "prefix": dst.Prefix}},
				"profileName":        p.SigningProfileName,
				"clientRequestToken": fmt.Sprintf("%s-%d", s.OTAUpdateID, i),
			}, fp + ": sign the exact version"},
			Step{"signer", "DescribeSigningJob", map[string]string{"jobId": ph("signingJobId")},
				fp + ": poll until Succeeded or Failed"},
			Step{"s3", "GetObject", map[string]string{"Bucket": dst.Bucket, "Key": dst.Prefix + ph("signingJobId")},
				fp + ": read the signed object (signature, algorithm, rawPayloadSize)"},
			Step{"s3", "CopyObject", map[string]string{"Bucket": dst.Bucket, "Key": dst.Prefix + ph("signingJobId"),
				"CopySource": fmt.Sprintf("%s/%s?versionId=%s", loc.Bucket, loc.Key, version)},
				fp + ": put the raw binary over the signed object, as CreateOTAUpdate does (newest version = raw binary)"},
		)
		raw = &S3Location{Bucket: dst.Bucket, Key: dst.Prefix + ph("signingJobId"), Version: ph("rawVersionId")}
		art.SigKey, art.Signature, art.CertFile = ph("sigKey"), ph("signature"), ph("certname")
	case cs.AWSSignerJobID != "":
		steps = append(steps,
			Step{"signer", "DescribeSigningJob", map[string]string{"jobId": cs.AWSSignerJobID},
				fp + ": the finished signing job names the signed object and profile"},
			Step{"signer", "GetSigningProfile", map[string]string{"profileName": ph("profileName")},
				fp + ": the profile's certname becomes certfile"},
			Step{"s3", "GetObject", map[string]string{"Bucket": ph("signedObject.bucket"), "Key": ph("signedObject.key")},
				fp + ": read the signature and rawPayloadSize"},
		)
		art.SigKey, art.Signature, art.CertFile = ph("sigKey"), ph("signature"), ph("certname")
	default:
		cc := cs.CustomCodeSigning
		art.SigKey = CustomSignatureKey(cc.HashAlgorithm, cc.SignatureAlgorithm)
		art.Signature = cc.Signature.InlineDocument
		art.CertFile = cc.CertificateChain.CertificateName
		if loc != nil && loc.Version != "" { // an unpinned version's HeadObject already gave the size
			steps = append(steps, Step{"s3", "HeadObject", map[string]string{"Bucket": loc.Bucket, "Key": loc.Key, "VersionId": version},
				fp + ": the file size (custom signing: no Signer call)"})
		}
	}
	if raw != nil {
		v := raw.Version
		if v == "" {
			v = version
		}
		art.Raw = &S3Location{Bucket: raw.Bucket, Key: raw.Key, Version: v}
	}
	var sf map[string]any
	if st := f.FileLocation.Stream; st != nil {
		art.FileID = *st.FileID
	} else if s.HasProtocol(ProtocolMQTT) {
		sf = map[string]any{"fileId": i, "s3Location": map[string]string{"bucket": art.Raw.Bucket, "key": art.Raw.Key, "version": art.Raw.Version}}
	}
	return steps, art, sf
}

// estimateDocument builds the document with realistic lengths for what
// signing produces (an RSA-2048 signature is the longest common one), so the
// size limits can be checked before anything runs.
func estimateDocument(s *Spec, streamID, region string, arts []FileArtifact) []byte {
	est := make([]FileArtifact, len(arts))
	for i, a := range arts {
		est[i] = a
		if strings.HasPrefix(a.Signature, "${") {
			est[i].Signature = strings.Repeat("A", 344)
			est[i].SigKey = "sig-sha256-ecdsa"
		}
		if strings.HasPrefix(a.CertFile, "${") {
			est[i].CertFile = strings.Repeat("c", 32)
		}
		est[i].Size, est[i].SizePlaceholder = 4_000_000_000, ""
	}
	doc, _ := BuildJobDocument(s, DocumentInput{StreamID: strings.Replace(streamID, PlaceholderUUID, strings.Repeat("0", 36), 1), Region: region, Files: est})
	return doc
}

// jobRequest is the CreateJob input for s with document doc.
func (r resolver) jobRequest(s *Spec, doc string) JobRequest {
	targets := make([]string, len(s.Targets))
	for i, t := range s.Targets {
		targets[i] = TargetArn(t, r.region(), r.account(), false)
	}
	jr := JobRequest{
		JobID:           s.JobID(),
		Targets:         targets,
		Document:        doc,
		Description:     s.Description,
		TargetSelection: s.TargetSelection,
		Tags:            append([]Tag{{TagUpdateID, s.OTAUpdateID}}, s.Tags...),
		JobConfig:       s.JobConfig,
	}
	if s.HasProtocol(ProtocolHTTP) {
		pc := PresignedURLConfig{RoleArn: r.roleArn(s.RoleArn), ExpiresInSec: DefaultPresignSeconds}
		if s.PresignedURLConfig != nil {
			if s.PresignedURLConfig.RoleArn != "" {
				pc.RoleArn = r.roleArn(s.PresignedURLConfig.RoleArn)
			}
			if s.PresignedURLConfig.ExpiresInSec != 0 {
				pc.ExpiresInSec = s.PresignedURLConfig.ExpiresInSec
			}
		}
		jr.PresignedURLConfig = &pc
	}
	if len(s.DestinationPackageVersions) > 0 {
		jr.DestinationPackageVersions = make([]string, len(s.DestinationPackageVersions))
		for i, v := range s.DestinationPackageVersions {
			jr.DestinationPackageVersions[i] = PackageVersionArn(v, r.region(), r.account())
		}
	}
	return jr
}

// createsProfile notes that a missing profile is created from signingProfileParameter.
func createsProfile(p *StartSigningJobParameter) string {
	if p.SigningProfileParameter == nil {
		return ""
	}
	return " (missing: signer:PutSigningProfile from signingProfileParameter)"
}
