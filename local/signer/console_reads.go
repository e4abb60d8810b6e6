package signer

import (
	"encoding/json"
	"slices"
	"strings"
	"time"
)

// Read-only Go methods for the web console (local/console).

// JobSummary is a signing job as the console lists it.
type JobSummary struct {
	JobID, ProfileName, Status, StatusReason string
	// Source is the object version signed; SignedBucket/SignedKey where the
	// signed object went (empty until it succeeded).
	SourceBucket, SourceKey, SourceVersion string
	SignedBucket, SignedKey                string
	CreatedAt, CompletedAt                 time.Time
}

// SigningJobs returns every signing job, oldest first.
func (s *Service) SigningJobs() ([]JobSummary, error) {
	var jobs []*job
	err := s.st.List(jobsTable, "", func(_ string, raw []byte) error {
		j := new(job)
		if err := json.Unmarshal(raw, j); err != nil {
			return err
		}
		jobs = append(jobs, j)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(jobs, func(a, b *job) int { return strings.Compare(a.sortKey(), b.sortKey()) })
	out := make([]JobSummary, len(jobs))
	for i, j := range jobs {
		out[i] = JobSummary{JobID: j.ID, ProfileName: j.ProfileName, Status: j.Status, StatusReason: j.StatusReason,
			SourceBucket: j.Source.BucketName, SourceKey: j.Source.Key, SourceVersion: j.Source.Version,
			CreatedAt: j.CreatedAt, CompletedAt: j.CompletedAt}
		if j.SignedKey != "" {
			out[i].SignedBucket, out[i].SignedKey = j.Destination.BucketName, j.SignedKey
		}
	}
	return out, nil
}
