package ota

// JobRequest is the input of IoT CreateJob as otactl models it: the job's
// identity, targets and document, plus the JobConfig. otactl builds one from
// a Spec, and otactl local decodes CreateJob calls into it so that both
// apply the same validation (ValidateJobAPI; otactl's advice: AdviseJob).
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
