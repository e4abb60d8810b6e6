package ota

import "time"

// JobRequest is the input of IoT CreateJob as otactl models it: the job's
// identity, targets and document, plus the JobConfig. otactl builds one from
// a Spec, and otactl local decodes CreateJob calls into it so that both
// apply the same validation.
type JobRequest struct {
	JobID              string            `json:"jobId"`
	Targets            []string          `json:"targets"`
	Document           string            `json:"document,omitempty"`
	DocumentSource     string            `json:"documentSource,omitempty"`
	Description        string            `json:"description,omitempty"`
	TargetSelection    string            `json:"targetSelection,omitempty"`
	Tags               []Tag             `json:"tags,omitempty"`
	DocumentParameters map[string]string `json:"documentParameters,omitempty"`
	JobConfig
}

// ValidateJobRequest applies every rule AWS enforces on CreateJob to r; now
// anchors the scheduling windows. Field paths are CreateJob's field names.
func ValidateJobRequest(r *JobRequest, now time.Time) Errors {
	c := &checker{}
	c.jobRequest(r, now)
	return c.errs
}
