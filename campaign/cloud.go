package campaign

import (
	"context"

	"github.com/otactl/otactl/ota"
)

// Cloud is what a campaign needs from AWS IoT (or otactl local, or the
// simulation of otactl rehearse). Errors wrap ota.ErrNotFound and
// ota.ErrAlreadyExists as ota.Cloud's do. awscloud.Cloud implements it.
type Cloud interface {
	Region() string
	AccountID(ctx context.Context) (string, error)

	ThingGroupExists(ctx context.Context, name string) (bool, error)
	// ListThingsInThingGroup lists the things of a group and its child
	// groups (a job on the group reaches those too).
	ListThingsInThingGroup(ctx context.Context, group string) ([]string, error)
	// CreateThingGroup creates a static thing group with tags.
	CreateThingGroup(ctx context.Context, name, description string, tags []ota.Tag) error
	AddThingToThingGroup(ctx context.Context, group, thing string) error

	CreateJob(ctx context.Context, r ota.JobRequest) (jobArn string, err error)
	DescribeJob(ctx context.Context, jobID string) (ota.Job, error)
	GetJobDocument(ctx context.Context, jobID string) (string, error)
	ListJobs(ctx context.Context) ([]ota.JobSummary, error)
	ListJobExecutions(ctx context.Context, jobID string) ([]ota.Execution, error)
	CancelJob(ctx context.Context, jobID string, force bool) error

	ListTags(ctx context.Context, arn string) ([]ota.Tag, error)
	// TagResource adds or overwrites tags on a job or thing group.
	TagResource(ctx context.Context, arn string, tags []ota.Tag) error
}

// Publisher makes the first stage: it signs the firmware, makes the
// stream and creates the first stage's job (ota.Pipeline does). Later
// stages reuse that job's document, so the firmware is signed and streamed
// once for the whole campaign.
type Publisher interface {
	Run(ctx context.Context, s *ota.Spec) (*ota.Result, error)
}

var _ Publisher = (*ota.Pipeline)(nil)
