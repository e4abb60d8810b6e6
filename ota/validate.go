package ota

import (
	"encoding/base64"
	"fmt"
	"strings"
	"time"
)

// AWS limits and patterns, from the IoT and Signer API models and the
// FreeRTOS OTA library.
const (
	maxOTAUpdateIDLen   = 128
	maxJobIDLen         = 64
	maxDescriptionLen   = 2028
	maxFiles            = 50
	maxFileID           = 255
	maxStreamIDLen      = 128
	maxDeviceStreamLen  = 44 // FreeRTOS OTA agents subscribe with stream names up to 44 chars
	maxTags             = 50
	maxPackageVersions  = 25
	maxRetryTotal       = 10
	maxTimeoutMinutes   = 10080
	maxWindowMinutes    = 1430
	maxRolloutPerMinute = 1000
	minPresignSeconds   = 60
	maxPresignSeconds   = 3600
	minScheduleLead     = 30 * time.Minute
	maxScheduleLead     = 365 * 24 * time.Hour
	minScheduleSpan     = 30 * time.Minute
	maxScheduleSpan     = 2 * 365 * 24 * time.Hour
)

const scheduleTimeLayout = "2006-01-02T15:04"

// Validate checks every rule AWS enforces on CreateOTAUpdate and CreateJob,
// and those a FreeRTOS device needs, and returns all broken rules at once.
// now anchors the scheduling windows. The document-size rules need the built
// document and are checked by Plan.
func Validate(s *Spec, now time.Time) Errors {
	c := &checker{}
	c.spec(s, now)
	return c.errs
}

func (c *checker) spec(s *Spec, now time.Time) {
	switch {
	case s.OTAUpdateID == "":
		c.add("otaUpdateId", "is required")
	case len(s.OTAUpdateID) > maxOTAUpdateIDLen:
		c.add("otaUpdateId", "must be at most %d characters", maxOTAUpdateIDLen)
	case !idPattern.MatchString(s.OTAUpdateID):
		c.add("otaUpdateId", "must match [a-zA-Z0-9_-]+")
	case len(s.JobID()) > maxJobIDLen:
		c.add("otaUpdateId", "with the %q prefix the job id must fit %d characters: at most %d characters here, got %d",
			JobIDPrefix, maxJobIDLen, maxJobIDLen-len(JobIDPrefix), len(s.OTAUpdateID))
	}
	c.description("description", s.Description)
	c.targets("targets", s.Targets)
	c.targetSelection("targetSelection", s.TargetSelection)
	c.protocols(s)
	c.role("roleArn", s.RoleArn, true)
	if len(s.Files) == 0 {
		c.add("files", "at least one file is required")
	} else if len(s.Files) > maxFiles {
		c.add("files", "at most %d files, got %d", maxFiles, len(s.Files))
	}
	for i := range s.Files {
		c.file(index("files", i), &s.Files[i], s)
	}
	c.fileIDsUnique(s)
	c.oneStream(s)
	c.tags("tags", s.Tags)
	c.jobConfigAPI("", &s.JobConfig, now)
	c.packageVersionsSpec("destinationPackageVersions", s.DestinationPackageVersions)
	if s.HasProtocol(ProtocolHTTP) && s.PresignedURLConfig == nil {
		c.add("presignedUrlConfig", "is required when protocols include HTTP (expiresInSec 60-3600; the role signs the URL)")
	}
}

// description: ref: JobDescription, OTAUpdateDescription and Comment are at
// most 2028 characters of [^\p{C}]+: no control or format characters, not
// even a newline or a tab.
func (c *checker) description(path, d string) {
	if len(d) > maxDescriptionLen {
		c.add(path, "must be at most %d characters", maxDescriptionLen)
	}
	if d != "" && !noControlPattern.MatchString(d) {
		c.add(path, "must not contain control characters (not even a newline or tab)")
	}
}

// packageVersionsSpec: a spec names package versions by ARN or as
// package@version, which otactl turns into the ARN.
func (c *checker) packageVersionsSpec(path string, vs []string) {
	c.packageCount(path, vs)
	for i, v := range vs {
		if !packageArnPattern.MatchString(v) && !packageRefPattern.MatchString(v) {
			c.add(index(path, i), "must be a package version ARN or package@version, got %q", v)
		}
	}
}

func (c *checker) targets(path string, ts []string) {
	if len(ts) == 0 {
		c.add(path, "at least one target (thing or thing group) is required")
	}
	seen := map[string]bool{}
	for i, t := range ts {
		p := index(path, i)
		switch {
		case strings.HasPrefix(t, "arn:"):
			if !targetArnPattern.MatchString(t) {
				c.add(p, "%q is not a thing or thing group ARN (arn:aws:iot:REGION:ACCOUNT:thing/NAME or thinggroup/NAME)", t)
			}
		case strings.HasPrefix(t, "thing/") || strings.HasPrefix(t, "thinggroup/"):
			if !thingNamePattern.MatchString(t[strings.IndexByte(t, '/')+1:]) {
				c.add(p, "name must be 1-128 characters of [a-zA-Z0-9:_-]")
			}
		default:
			if !thingNamePattern.MatchString(t) {
				c.add(p, "must be a thing or thing group name (1-128 characters of [a-zA-Z0-9:_-]) or ARN")
			}
		}
		if seen[t] {
			c.add(p, "duplicate target %q", t)
		}
		seen[t] = true
	}
}

func (c *checker) targetSelection(path, v string) {
	if v != "" && v != "SNAPSHOT" && v != "CONTINUOUS" {
		c.add(path, "must be SNAPSHOT or CONTINUOUS, got %q", v)
	}
}

func (c *checker) protocols(s *Spec) {
	if len(s.Protocols) > 2 {
		c.add("protocols", "at most 2 protocols (MQTT, HTTP)")
	}
	seen := map[string]bool{}
	for i, p := range s.Protocols {
		if p != ProtocolMQTT && p != ProtocolHTTP {
			c.add(index("protocols", i), "must be MQTT or HTTP, got %q", p)
		} else if seen[p] {
			c.add(index("protocols", i), "duplicate protocol %s", p)
		}
		seen[p] = true
	}
}

// role accepts an IAM role ARN or a role name (otactl builds the ARN).
func (c *checker) role(path, r string, required bool) {
	switch {
	case r == "":
		if required {
			c.add(path, "is required (the IAM role IoT uses to read the files and create the stream)")
		}
	case strings.HasPrefix(r, "arn:"):
		if len(r) < 20 || len(r) > 2048 || !roleArnPattern.MatchString(r) {
			c.add(path, "must be an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME) of 20-2048 characters")
		}
	case !roleNamePattern.MatchString(r):
		c.add(path, "must be a role name (1-64 characters of [A-Za-z0-9+=,.@_-]) or a role ARN")
	}
}

// tags: the API's rules (tagsAPI) and the IoT developer guide's limit of 50
// tags per resource. Duplicate keys are advice (tagAdvice).
func (c *checker) tags(path string, tags []Tag) {
	if len(tags) > maxTags {
		c.add(path, "at most %d tags", maxTags)
	}
	c.tagsAPI(path, tags)
}

func (c *checker) file(path string, f *File, s *Spec) {
	if f.FileType != nil && (*f.FileType < 0 || *f.FileType > 255) {
		c.add(join(path, "fileType"), "must be 0-255, got %d", *f.FileType)
	}
	for k, v := range f.Attributes {
		if len(v) > 4096 {
			c.add(join(path, "attributes."+k), "value must be at most 4096 characters")
		}
	}
	loc := join(path, "fileLocation")
	switch l := f.FileLocation; {
	case l.S3Location != nil && l.Stream != nil:
		c.add(loc, "exactly one of s3Location or stream, got both")
	case l.S3Location == nil && l.Stream == nil:
		c.add(loc, "exactly one of s3Location or stream is required")
	case l.S3Location != nil:
		c.s3Location(join(loc, "s3Location"), l.S3Location)
	default:
		c.streamFile(join(loc, "stream"), l.Stream)
		if s.HasProtocol(ProtocolHTTP) {
			c.add(join(loc, "stream"), "HTTP downloads need an s3Location: a stream is only served over MQTT")
		}
	}
	c.codeSigning(join(path, "codeSigning"), &f.CodeSigning, f.FileLocation.Stream != nil && f.FileLocation.S3Location == nil)
}

func (c *checker) s3Location(path string, l *S3Location) {
	if !bucketPattern.MatchString(l.Bucket) || strings.Contains(l.Bucket, "..") {
		c.add(join(path, "bucket"), "must be an S3 bucket name (3-63 characters of a-z 0-9 . -)")
	}
	if l.Key == "" || len(l.Key) > 1024 {
		c.add(join(path, "key"), "must be 1-1024 characters")
	}
	if len(l.Version) > 1024 {
		c.add(join(path, "version"), "must be at most 1024 characters")
	}
}

func (c *checker) streamFile(path string, st *StreamFile) {
	switch {
	case st.StreamID == "":
		c.add(join(path, "streamId"), "is required")
	case len(st.StreamID) > maxStreamIDLen || !idPattern.MatchString(st.StreamID):
		c.add(join(path, "streamId"), "must be 1-%d characters of [a-zA-Z0-9_-]", maxStreamIDLen)
	case len(st.StreamID) > maxDeviceStreamLen:
		c.add(join(path, "streamId"), "must be at most %d characters so that small devices can subscribe to its topics", maxDeviceStreamLen)
	}
	if st.FileID == nil {
		c.add(join(path, "fileId"), "is required")
	} else if *st.FileID < 0 || *st.FileID > maxFileID {
		c.add(join(path, "fileId"), "must be 0-%d, got %d", maxFileID, *st.FileID)
	}
}

func (c *checker) codeSigning(path string, cs *CodeSigning, needsS3 bool) {
	n := 0
	if cs.AWSSignerJobID != "" {
		n++
		if !signerJobIDPattern.MatchString(cs.AWSSignerJobID) {
			c.add(join(path, "awsSignerJobId"), "must be a Signer job id (1-64 characters of [a-zA-Z0-9-])")
		}
	}
	if p := cs.StartSigningJobParameter; p != nil {
		n++
		if needsS3 {
			c.add(join(path, "startSigningJobParameter"), "needs fileLocation.s3Location: Signer signs an S3 object version")
		}
		pp := join(path, "startSigningJobParameter")
		if !profileNamePattern.MatchString(p.SigningProfileName) {
			c.add(join(pp, "signingProfileName"), "must be 2-64 characters of [a-zA-Z0-9_]")
		}
		if d := p.Destination; d != nil {
			if d.S3Destination == nil {
				c.add(join(pp, "destination.s3Destination"), "is required when destination is given")
			} else if !bucketPattern.MatchString(d.S3Destination.Bucket) {
				c.add(join(pp, "destination.s3Destination.bucket"), "must be an S3 bucket name (3-63 characters of a-z 0-9 . -)")
			}
		}
		if spp := p.SigningProfileParameter; spp != nil && spp.CertificateArn != "" && !strings.HasPrefix(spp.CertificateArn, "arn:") {
			c.add(join(pp, "signingProfileParameter.certificateArn"), "must be an ACM certificate ARN")
		}
	}
	if cc := cs.CustomCodeSigning; cc != nil {
		n++
		c.customSigning(join(path, "customCodeSigning"), cc)
	}
	if n != 1 {
		c.add(path, "exactly one of awsSignerJobId, startSigningJobParameter or customCodeSigning is required, got %d", n)
	}
}

func (c *checker) customSigning(path string, cc *CustomCodeSigning) {
	if cc.Signature == nil || cc.Signature.InlineDocument == "" {
		c.add(join(path, "signature.inlineDocument"), "is required (base64 of the signature)")
	} else if _, err := base64.StdEncoding.DecodeString(cc.Signature.InlineDocument); err != nil {
		c.add(join(path, "signature.inlineDocument"), "must be base64: %v", err)
	}
	if cc.CertificateChain == nil || cc.CertificateChain.CertificateName == "" {
		c.add(join(path, "certificateChain.certificateName"), "is required (the certificate path on the device, certfile)")
	}
	switch strings.ToUpper(cc.HashAlgorithm) {
	case "SHA256", "SHA1":
		if strings.Contains(cc.HashAlgorithm, "-") {
			c.add(join(path, "hashAlgorithm"), "must be written without a dash (SHA256, not SHA-256): devices fail otherwise")
		}
	case "":
		c.add(join(path, "hashAlgorithm"), "is required (SHA256 or SHA1)")
	default:
		c.add(join(path, "hashAlgorithm"), "must be SHA256 or SHA1 (without a dash), got %q", cc.HashAlgorithm)
	}
	switch strings.ToUpper(cc.SignatureAlgorithm) {
	case "ECDSA", "RSA":
	case "":
		c.add(join(path, "signatureAlgorithm"), "is required (ECDSA or RSA)")
	default:
		c.add(join(path, "signatureAlgorithm"), "must be ECDSA or RSA, got %q", cc.SignatureAlgorithm)
	}
}

// fileIDsUnique: two files of the same existing stream cannot share a fileId,
// and the job's stream gives each S3 file its own id.
func (c *checker) fileIDsUnique(s *Spec) {
	seen := map[string]int{}
	for i, f := range s.Files {
		st := f.FileLocation.Stream
		if st == nil || st.FileID == nil {
			continue
		}
		k := fmt.Sprintf("%s/%d", st.StreamID, *st.FileID)
		if j, ok := seen[k]; ok {
			c.add(index("files", i)+".fileLocation.stream.fileId", "same stream and fileId as files[%d]", j)
		}
		seen[k] = i
	}
}

// oneStream: a job document names one stream, so files in existing streams
// must all be in the same one, and cannot be mixed with S3 files over MQTT.
func (c *checker) oneStream(s *Spec) {
	first, firstIdx, s3Files := "", -1, 0
	for i, f := range s.Files {
		st := f.FileLocation.Stream
		if st == nil {
			if f.FileLocation.S3Location != nil {
				s3Files++
			}
			continue
		}
		if first == "" {
			first, firstIdx = st.StreamID, i
		} else if st.StreamID != first {
			c.add(index("files", i)+".fileLocation.stream.streamId", "a job has one stream: %q differs from files[%d]'s %q", st.StreamID, firstIdx, first)
		}
	}
	if first != "" && s3Files > 0 && s.HasProtocol(ProtocolMQTT) {
		c.add("files", "cannot mix files in an existing stream with S3 files: the job document names one stream")
	}
}
