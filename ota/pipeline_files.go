package ota

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"
)

// placeFile signs files[i] (or reads its existing signature) and settles the
// exact object version devices download.
func (r *run) placeFile(ctx context.Context, i int) (*FileResult, error) {
	f := &r.spec.Files[i]
	fp := fmt.Sprintf("files[%d]", i)
	fr := &FileResult{FileID: i}
	if st := f.FileLocation.Stream; st != nil {
		fr.FileID = *st.FileID
	}
	var src *S3Location
	if loc := f.FileLocation.S3Location; loc != nil {
		pinned := *loc
		info, err := r.head(*loc).get(ctx)
		if err != nil {
			return nil, &StepError{Step: fmt.Sprintf("s3:HeadObject %s (s3://%s/%s)", fp, loc.Bucket, loc.Key), Err: err}
		}
		if info.VersionID == "" || info.VersionID == "null" {
			return nil, &StepError{Step: "s3:HeadObject " + fp, Err: fmt.Errorf("bucket %s is not versioned: enable versioning so the update can name an exact version", loc.Bucket)}
		}
		pinned.Version, fr.Size = info.VersionID, info.Size
		src = &pinned
	}
	cs := f.CodeSigning
	switch {
	case cs.StartSigningJobParameter != nil:
		return r.signWithProfile(ctx, fp, f, src, fr)
	case cs.AWSSignerJobID != "":
		return r.useSigningJob(ctx, fp, cs.AWSSignerJobID, src, fr)
	default:
		cc := cs.CustomCodeSigning
		fr.SigKey = CustomSignatureKey(cc.HashAlgorithm, cc.SignatureAlgorithm)
		fr.Signature, fr.CertFile, fr.Raw = cc.Signature.InlineDocument, cc.CertificateChain.CertificateName, src
		if src == nil { // a file of an existing stream: its size comes from the stream's object
			st, err := r.p.Cloud.DescribeStream(ctx, f.FileLocation.Stream.StreamID)
			if err != nil {
				return nil, &StepError{Step: "iot:DescribeStream " + fp, Err: err}
			}
			for _, sf := range st.Files {
				if sf.FileID == fr.FileID {
					info, err := r.p.Cloud.HeadObject(ctx, sf.S3.Bucket, sf.S3.Key, sf.S3.Version)
					if err != nil {
						return nil, &StepError{Step: "s3:HeadObject " + fp, Err: err}
					}
					fr.Size = info.Size
				}
			}
			if fr.Size == 0 {
				return nil, &StepError{Step: "iot:DescribeStream " + fp, Err: fmt.Errorf("stream %s has no fileId %d", st.ID, fr.FileID)}
			}
		}
		return fr, nil
	}
}

// clientToken makes StartSigningJob idempotent for one file version.
func clientToken(updateID string, i int, src *S3Location) string {
	h := sha256.Sum256([]byte(fmt.Sprintf("%s|%d|%s|%s|%s", updateID, i, src.Bucket, src.Key, src.Version)))
	return "otactl-" + hex.EncodeToString(h[:16])
}

func (r *run) signWithProfile(ctx context.Context, fp string, f *File, src *S3Location, fr *FileResult) (*FileResult, error) {
	p := f.CodeSigning.StartSigningJobParameter
	prof, err := r.signingProfile(p.SigningProfileName).get(ctx)
	if errors.Is(err, ErrNotFound) && p.SigningProfileParameter != nil {
		// As CreateOTAUpdate does: make the profile the parameter describes.
		r.progress("creating signing profile " + p.SigningProfileName)
		if err := r.p.Cloud.PutSigningProfile(ctx, p.SigningProfileName, *p.SigningProfileParameter, []Tag{{TagUpdateID, r.spec.OTAUpdateID}}); err != nil {
			return nil, &StepError{Step: "signer:PutSigningProfile " + p.SigningProfileName, Err: err}
		}
		prof, err = r.p.Cloud.GetSigningProfile(ctx, p.SigningProfileName)
	}
	if err != nil {
		return nil, &StepError{Step: "signer:GetSigningProfile " + p.SigningProfileName, Err: err}
	}
	if prof.Status != "" && prof.Status != "Active" {
		return nil, &StepError{Step: "signer:GetSigningProfile " + p.SigningProfileName, Err: fmt.Errorf("profile is %s, not Active", prof.Status)}
	}
	dst := SignedObjectDestination(f)
	r.progress(fmt.Sprintf("signing %s s3://%s/%s (version %s) with %s", fp, src.Bucket, src.Key, src.Version, prof.Name))
	jobID, err := r.p.Cloud.StartSigningJob(ctx, SigningJobInput{Source: *src, Destination: dst, ProfileName: prof.Name,
		ClientToken: clientToken(r.spec.OTAUpdateID, fr.FileID, src)})
	if err != nil {
		return nil, &StepError{Step: "signer:StartSigningJob " + fp, Err: err}
	}
	job, err := r.waitSigning(ctx, jobID)
	if err != nil {
		return nil, &StepError{Step: "signer:DescribeSigningJob " + fp + " (job " + jobID + ")", Err: err}
	}
	fr.SigningJobID = jobID
	if err := r.readSignedObject(ctx, fp, job, prof, fr); err != nil {
		return nil, err
	}
	if fr.Size != 0 && fr.Size != fr.rawSize {
		return nil, &StepError{Step: "s3:GetObject " + fp, Err: fmt.Errorf("signed object says rawPayloadSize %d, the source version has %d bytes", fr.rawSize, fr.Size)}
	}
	fr.Size = fr.rawSize
	// Put the raw binary over the signed object, as CreateOTAUpdate does,
	// unless an earlier run already did.
	if fr.Raw == nil {
		r.progress(fmt.Sprintf("copying the raw binary over %s", job.SignedObject.Key))
		v, err := r.p.Cloud.CopyObject(ctx, *src, job.SignedObject.Bucket, job.SignedObject.Key)
		if err != nil {
			return nil, &StepError{Step: "s3:CopyObject " + fp, Err: err}
		}
		fr.Raw = &S3Location{Bucket: job.SignedObject.Bucket, Key: job.SignedObject.Key, Version: v}
	}
	return fr, nil
}

// useSigningJob reads the signature of a signing job that already finished;
// devices download the spec's own object version.
func (r *run) useSigningJob(ctx context.Context, fp, jobID string, src *S3Location, fr *FileResult) (*FileResult, error) {
	job, err := r.signingJob(jobID).get(ctx)
	if err != nil {
		return nil, &StepError{Step: "signer:DescribeSigningJob " + jobID, Err: err}
	}
	if job.Status != "Succeeded" {
		return nil, &StepError{Step: "signer:DescribeSigningJob " + jobID, Err: fmt.Errorf("signing job is %s: %s", job.Status, job.StatusReason)}
	}
	prof, err := r.p.Cloud.GetSigningProfile(ctx, job.ProfileName)
	if err != nil {
		return nil, &StepError{Step: "signer:GetSigningProfile " + job.ProfileName, Err: err}
	}
	fr.SigningJobID = jobID
	if err := r.readSignedObject(ctx, fp, job, prof, fr); err != nil {
		return nil, err
	}
	if src != nil {
		if fr.Size != fr.rawSize {
			return nil, &StepError{Step: "s3:HeadObject " + fp, Err: fmt.Errorf("the signing job signed %d bytes; s3://%s/%s version %s has %d", fr.rawSize, src.Bucket, src.Key, src.Version, fr.Size)}
		}
		fr.Raw = src
	}
	if fr.Raw == nil {
		return nil, &StepError{Step: fp, Err: fmt.Errorf("no raw binary: give fileLocation.s3Location, or sign with a profile")}
	}
	fr.Size = fr.rawSize
	return fr, nil
}

// readSignedObject reads signature, algorithm and size from the version
// Signer wrote (the oldest of its key), and notes a raw copy an earlier run
// already put over it.
func (r *run) readSignedObject(ctx context.Context, fp string, job SigningJob, prof SigningProfile, fr *FileResult) error {
	so := job.SignedObject
	step := fmt.Sprintf("s3:GetObject %s (signed object s3://%s/%s)", fp, so.Bucket, so.Key)
	// The latest version's first bytes are read beside the listing: in a
	// first run the signed object is the key's only version, and its
	// signature then costs no round trip of its own. They are used only
	// when the version read is the oldest listed, Signer's.
	var latest struct {
		head    SignedObject
		version string
		err     error
	}
	done := make(chan struct{})
	sr, ranged := r.p.Cloud.(ObjectStartReader)
	if ranged {
		go func() {
			defer close(done)
			latest.head, latest.version, latest.err = readStart(ctx, sr, so.Bucket, so.Key, "")
		}()
	} else {
		close(done)
	}
	versions, err := r.p.Cloud.ListObjectVersions(ctx, so.Bucket, so.Key)
	<-done
	if err != nil {
		return &StepError{Step: step, Err: err}
	}
	if len(versions) == 0 {
		return &StepError{Step: step, Err: fmt.Errorf("%w: the signing job's signed object is missing", ErrNotFound)}
	}
	signed := versions[len(versions)-1]
	head := latest.head
	if !ranged || latest.err != nil || latest.version == "" || latest.version != signed.VersionID {
		if head, err = r.readSignature(ctx, so.Bucket, so.Key, signed.VersionID); err != nil {
			return &StepError{Step: step, Err: err}
		}
	}
	fr.SignedObject = &S3Location{Bucket: so.Bucket, Key: so.Key, Version: signed.VersionID}
	fr.SigKey, fr.Signature, fr.CertFile, fr.rawSize = SignatureKey(head.SignatureAlgorithm), head.Signature, prof.CertName, head.RawPayloadSize
	if len(versions) > 1 && versions[0].Size == head.RawPayloadSize {
		fr.Raw = &S3Location{Bucket: so.Bucket, Key: so.Key, Version: versions[0].VersionID}
	}
	return nil
}

// signatureWindow is how much of a signed object readSignature asks for
// first. Signer writes rawPayloadSize, signature and signatureAlgorithm
// before the payload (DESIGN.md); an RSA-4096 signature is under 700
// base64 characters.
const signatureWindow = 8 << 10

// readSignature reads rawPayloadSize, signature and algorithm from a
// signed object. The object holds the whole payload again in base64 (1.4
// MB for a 1 MiB image): reading only its first bytes, whole, spares the
// transfer and keeps the connection for the next call (a body closed
// unread costs a new one). When the fields are not in those bytes (or the
// ranged read fails), the whole object is read, as before.
func (r *run) readSignature(ctx context.Context, bucket, key, version string) (SignedObject, error) {
	if sr, ok := r.p.Cloud.(ObjectStartReader); ok {
		if head, _, err := readStart(ctx, sr, bucket, key, version); err == nil {
			return head, nil
		}
	}
	body, err := r.p.Cloud.GetObject(ctx, bucket, key, version)
	if err != nil {
		return SignedObject{}, err
	}
	defer body.Close()
	return ReadSignedObject(body)
}

// readStart reads rawPayloadSize, signature and algorithm from the first
// signatureWindow bytes of an object version ("" = the latest) and says
// which version it read.
func readStart(ctx context.Context, sr ObjectStartReader, bucket, key, version string) (SignedObject, string, error) {
	body, read, err := sr.GetObjectStart(ctx, bucket, key, version, signatureWindow)
	if err != nil {
		return SignedObject{}, "", err
	}
	defer body.Close()
	head, err := ReadSignedObject(body)
	io.Copy(io.Discard, io.LimitReader(body, signatureWindow)) // the rest of the window: the connection stays usable
	return head, read, err
}

// waitSigning polls DescribeSigningJob with backoff until the job ends, the
// signing timeout passes or ctx is canceled (Ctrl-C).
func (r *run) waitSigning(ctx context.Context, jobID string) (SigningJob, error) {
	timeout, poll := r.p.SigningTimeout, signingPoll
	if timeout == 0 {
		timeout = 10 * time.Minute
	}
	if r.p.PollInterval > 0 {
		poll.First = r.p.PollInterval
	}
	started := time.Now()
	deadline := started.Add(timeout)
	// No call at once: a job is never done within the round trip that
	// started it (poll.go).
	select {
	case <-ctx.Done():
		return SigningJob{}, errors.Join(errors.New("interrupted while waiting for signing"), ctx.Err())
	case <-time.After(poll.Wait(0)):
	}
	for {
		job, err := r.p.Cloud.DescribeSigningJob(ctx, jobID)
		if err != nil {
			return job, err
		}
		switch job.Status {
		case "Succeeded":
			return job, nil
		case "Failed":
			return job, fmt.Errorf("signing failed: %s", job.StatusReason)
		}
		r.progress("signing job " + jobID + ": " + job.Status)
		wait := poll.Wait(time.Since(started)) // poll.go says why
		if time.Now().Add(wait).After(deadline) {
			return job, fmt.Errorf("signing job still %s after %s (--signing-timeout)", job.Status, timeout)
		}
		select {
		case <-ctx.Done():
			return job, errors.Join(errors.New("interrupted while waiting for signing"), ctx.Err())
		case <-time.After(wait):
		}
	}
}
