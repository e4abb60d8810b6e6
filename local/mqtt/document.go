package mqtt

import (
	"encoding/json"

	"github.com/otactl/otactl/local/jobdoc"
)

// deviceDocument is the job document as a device receives it: JSON, with
// the presigned-URL placeholders replaced by URLs to the local S3
// (local/jobdoc, shared with the HTTPS Jobs API).
func (b *Broker) deviceDocument(e Execution) (json.RawMessage, error) {
	doc, expires, err := b.deps.Jobs.Document(e.JobID)
	if err != nil {
		return nil, err
	}
	var presign jobdoc.Presign
	if b.deps.Presigner != nil {
		presign = b.deps.Presigner.PresignGet
	}
	if doc, err = jobdoc.Expand(doc, expires, presign); err != nil {
		return nil, &JobError{Code: CodeInternalError, Message: "presigning the job document's URL: " + err.Error()}
	}
	if doc == "" {
		return nil, nil
	}
	if !json.Valid([]byte(doc)) {
		// Documents are JSON; anything else travels as a string.
		return mustJSON(doc), nil
	}
	return json.RawMessage(doc), nil
}
