package signer

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/otactl/otactl/local/store"
)

// job is what the store keeps for a signing job.
type job struct {
	ID                string            `json:"id"`
	Token             string            `json:"token"`
	ProfileName       string            `json:"profileName"`
	ProfileVersion    string            `json:"profileVersion"`
	PlatformID        string            `json:"platformId"`
	CertificateArn    string            `json:"certificateArn"`
	SigningParameters map[string]string `json:"signingParameters,omitempty"`
	Overrides         *overrides        `json:"overrides,omitempty"`
	Source            s3Source          `json:"source"`
	Destination       s3Destination     `json:"destination"`
	Status            string            `json:"status"` // InProgress | Succeeded | Failed
	StatusReason      string            `json:"statusReason,omitempty"`
	SignedKey         string            `json:"signedKey,omitempty"`
	RequestedBy       string            `json:"requestedBy"`
	CreatedAt         time.Time         `json:"createdAt"`
	CompletedAt       time.Time         `json:"completedAt,omitzero"`
}

type s3Source struct {
	BucketName string `json:"bucketName"`
	Key        string `json:"key"`
	Version    string `json:"version"`
}

type s3Destination struct {
	BucketName string `json:"bucketName"`
	Prefix     string `json:"prefix,omitempty"`
}

type s3Object struct {
	BucketName string `json:"bucketName"`
	Key        string `json:"key"`
}

type sourceView struct {
	S3 s3Source `json:"s3"`
}

type signedView struct {
	S3 s3Object `json:"s3"`
}

// jobView is DescribeSigningJob's answer; ListSigningJobs returns its
// summary fields.
type jobView struct {
	JobID               string            `json:"jobId"`
	Source              sourceView        `json:"source"`
	SigningMaterial     *material         `json:"signingMaterial,omitempty"`
	PlatformID          string            `json:"platformId"`
	PlatformDisplayName string            `json:"platformDisplayName,omitempty"`
	ProfileName         string            `json:"profileName"`
	ProfileVersion      string            `json:"profileVersion"`
	Overrides           *overrides        `json:"overrides,omitempty"`
	SigningParameters   map[string]string `json:"signingParameters,omitempty"`
	CreatedAt           *epoch            `json:"createdAt"`
	CompletedAt         *epoch            `json:"completedAt,omitempty"`
	RequestedBy         string            `json:"requestedBy,omitempty"`
	Status              string            `json:"status"`
	StatusReason        string            `json:"statusReason,omitempty"`
	SignedObject        *signedView       `json:"signedObject,omitempty"`
	JobOwner            string            `json:"jobOwner"`
	JobInvoker          string            `json:"jobInvoker"`
	IsRevoked           *bool             `json:"isRevoked,omitempty"`
}

func (s *Service) jobView(j *job) jobView {
	v := jobView{
		JobID: j.ID, Source: sourceView{j.Source}, PlatformID: j.PlatformID,
		ProfileName: j.ProfileName, ProfileVersion: j.ProfileVersion, Overrides: j.Overrides,
		SigningParameters: j.SigningParameters, CreatedAt: ts(j.CreatedAt), CompletedAt: ts(j.CompletedAt),
		RequestedBy: j.RequestedBy, Status: j.Status, StatusReason: j.StatusReason,
		JobOwner: s.env.AccountID, JobInvoker: s.env.AccountID,
	}
	if pl := findPlatform(j.PlatformID); pl != nil {
		v.PlatformDisplayName = pl.DisplayName
	}
	if j.CertificateArn != "" {
		v.SigningMaterial = &material{CertificateArn: j.CertificateArn}
	}
	if j.SignedKey != "" {
		v.SignedObject = &signedView{s3Object{BucketName: j.Destination.BucketName, Key: j.SignedKey}}
	}
	return v
}

// sortKey orders jobs by creation, then id; ListSigningJobs pages follow it.
func (j *job) sortKey() string {
	return fmt.Sprintf("%020d/%s", j.CreatedAt.UnixNano(), j.ID)
}

type startInput struct {
	Source *struct {
		S3 *s3Source `json:"s3"`
	} `json:"source"`
	Destination *struct {
		S3 *s3Destination `json:"s3"`
	} `json:"destination"`
	ProfileName        string `json:"profileName"`
	ProfileOwner       string `json:"profileOwner"`
	ClientRequestToken string `json:"clientRequestToken"`
}

func (in *startInput) check() error {
	switch {
	case in.Source == nil || in.Source.S3 == nil:
		return validation("1 validation error detected: Value null at 'source' failed to satisfy constraint: Member must not be null")
	case in.Source.S3.BucketName == "" || in.Source.S3.Key == "" || in.Source.S3.Version == "":
		return validation("source.s3 needs bucketName, key and version (the version of the object in a versioning-enabled bucket)")
	case in.Destination == nil || in.Destination.S3 == nil || in.Destination.S3.BucketName == "":
		return validation("1 validation error detected: Value null at 'destination' failed to satisfy constraint: destination.s3.bucketName must not be null")
	case in.ClientRequestToken == "":
		return validation("1 validation error detected: Value null at 'clientRequestToken' failed to satisfy constraint: Member must not be null")
	case len(in.ClientRequestToken) > 256:
		return validation("clientRequestToken is at most 256 characters")
	}
	return checkProfileName(in.ProfileName)
}

// startJob records a job InProgress and signs in the background. A token
// seen before returns the job it started, whatever the rest of the request.
func (s *Service) startJob(w http.ResponseWriter, r *http.Request) {
	var in startInput
	if err := decode(r, &in); err != nil {
		reply(w, nil, err)
		return
	}
	if err := in.check(); err != nil {
		reply(w, nil, err)
		return
	}
	if in.ProfileOwner != "" && in.ProfileOwner != s.env.AccountID {
		reply(w, nil, notFound("Signing profile %s of account %s does not exist.", in.ProfileName, in.ProfileOwner))
		return
	}
	var (
		id    string
		isNew bool
	)
	err := s.st.Update(func(tx *store.Tx) error {
		if found, err := tx.Get(tokensTable, in.ClientRequestToken, &id); found || err != nil {
			return err
		}
		var p profile
		found, err := tx.Get(profilesTable, in.ProfileName, &p)
		if err != nil {
			return err
		}
		if !found {
			return notFound("Signing profile %s does not exist.", in.ProfileName)
		}
		if p.Status != "Active" {
			return validation("Signing profile %s is %s; only an Active profile can start signing jobs.", p.Name, p.Status)
		}
		if pl := findPlatform(p.PlatformID); pl != nil && !pl.signs {
			return errCannotSign(pl)
		}
		j := job{
			ID: uuid.NewString(), Token: in.ClientRequestToken,
			ProfileName: p.Name, ProfileVersion: p.Version, PlatformID: p.PlatformID,
			CertificateArn: p.CertificateArn, SigningParameters: p.SigningParameters, Overrides: p.Overrides,
			Source: *in.Source.S3, Destination: *in.Destination.S3,
			Status: "InProgress", RequestedBy: "arn:aws:iam::" + s.env.AccountID + ":root",
			CreatedAt: s.now().UTC(),
		}
		if err := tx.Put(jobsTable, j.ID, j); err != nil {
			return err
		}
		id, isNew = j.ID, true
		return tx.Put(tokensTable, j.Token, j.ID)
	})
	if err != nil {
		reply(w, nil, err)
		return
	}
	if isNew {
		s.goRun(id)
	}
	reply(w, map[string]string{"jobId": id, "jobOwner": s.env.AccountID}, nil)
}

func (s *Service) loadJob(id string) (*job, error) {
	var j job
	found, err := s.st.Get(jobsTable, id, &j)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, notFound("Signing job %s does not exist.", id)
	}
	return &j, nil
}

func (s *Service) describeJob(w http.ResponseWriter, r *http.Request) {
	j, err := s.loadJob(r.PathValue("jobId"))
	if err != nil {
		reply(w, nil, err)
		return
	}
	reply(w, s.jobView(j), nil)
}

func (s *Service) listJobs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, err := maxResults(r, 25)
	if err != nil {
		reply(w, nil, err)
		return
	}
	revoked, err := boolParam(r, "isRevoked")
	if err != nil {
		reply(w, nil, err)
		return
	}
	status := q.Get("status")
	if status != "" && !slices.Contains([]string{"InProgress", "Failed", "Succeeded"}, status) {
		reply(w, nil, validation("status: %q is not one of InProgress, Failed, Succeeded", status))
		return
	}
	var jobs []*job
	err = s.st.List(jobsTable, "", func(_ string, raw []byte) error {
		j := new(job)
		if err := json.Unmarshal(raw, j); err != nil {
			return err
		}
		switch {
		case revoked, // no signature is ever revoked here
			status != "" && j.Status != status,
			q.Get("platformId") != "" && q.Get("platformId") != j.PlatformID,
			q.Get("requestedBy") != "" && q.Get("requestedBy") != j.RequestedBy,
			q.Get("jobInvoker") != "" && q.Get("jobInvoker") != s.env.AccountID:
			return nil
		}
		jobs = append(jobs, j)
		return nil
	})
	if err != nil {
		reply(w, nil, err)
		return
	}
	slices.SortFunc(jobs, func(a, b *job) int { return strings.Compare(a.sortKey(), b.sortKey()) })
	page, next, err := paginate(jobs, (*job).sortKey, q.Get("nextToken"), limit)
	if err != nil {
		reply(w, nil, err)
		return
	}
	views := make([]jobView, 0, len(page))
	no := false
	for _, j := range page {
		v := s.jobView(j)
		// ListSigningJobs returns the summary, not the full description.
		v.Overrides, v.SigningParameters, v.CompletedAt, v.RequestedBy, v.StatusReason = nil, nil, nil, "", ""
		v.IsRevoked = &no
		views = append(views, v)
	}
	out := map[string]any{"jobs": views}
	if next != "" {
		out["nextToken"] = next
	}
	reply(w, out, nil)
}

// resume restarts the jobs a stopped process left InProgress.
func (s *Service) resume() {
	var ids []string
	s.st.List(jobsTable, "", func(_ string, raw []byte) error {
		var j job
		if json.Unmarshal(raw, &j) == nil && j.Status == "InProgress" {
			ids = append(ids, j.ID)
		}
		return nil
	})
	for _, id := range ids {
		s.goRun(id)
	}
}
