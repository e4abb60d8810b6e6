package jobsdata

import (
	"fmt"

	"github.com/otactl/otactl/local/jobdoc"
)

// deviceDocument is the job document as a device receives it: its own
// characters, with each presigned-URL placeholder replaced by a presigned
// URL (local/jobdoc, shared with the MQTT Jobs topics).
func (s *Service) deviceDocument(jobID string) (string, error) {
	doc, expires, err := s.deps.Jobs.Document(jobID)
	if err != nil {
		return doc, err
	}
	var presign jobdoc.Presign
	if s.deps.Presigner != nil {
		presign = s.deps.Presigner.PresignGet
	}
	out, err := jobdoc.Expand(doc, expires, presign)
	if err != nil {
		return "", fmt.Errorf("presigning the URL of job %s's document: %w", jobID, err)
	}
	return out, nil
}
