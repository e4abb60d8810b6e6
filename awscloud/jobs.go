package awscloud

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"
	"github.com/otactl/otactl/ota"
)

// ThingGroupExists tells a thing group's name from a thing's.
func (c *Cloud) ThingGroupExists(ctx context.Context, name string) (bool, error) {
	_, err := c.iot.DescribeThingGroup(ctx, &iot.DescribeThingGroupInput{ThingGroupName: &name})
	if err == nil {
		return true, nil
	}
	if err = wrap(err); errors.Is(err, ota.ErrNotFound) {
		return false, nil
	}
	return false, err
}

// ThingExists reports whether a thing of that name exists.
func (c *Cloud) ThingExists(ctx context.Context, name string) (bool, error) {
	_, err := c.iot.DescribeThing(ctx, &iot.DescribeThingInput{ThingName: &name})
	if err == nil {
		return true, nil
	}
	if err = wrap(err); errors.Is(err, ota.ErrNotFound) {
		return false, nil
	}
	return false, err
}

// DescribeStream reads a stream's files.
func (c *Cloud) DescribeStream(ctx context.Context, id string) (ota.Stream, error) {
	out, err := c.iot.DescribeStream(ctx, &iot.DescribeStreamInput{StreamId: &id})
	if err != nil {
		return ota.Stream{}, wrap(err)
	}
	si := out.StreamInfo
	st := ota.Stream{ID: id, Description: aws.ToString(si.Description), Version: int(aws.ToInt32(si.StreamVersion)), RoleArn: aws.ToString(si.RoleArn)}
	for _, f := range si.Files {
		sf := ota.StreamFileLocation{FileID: int(aws.ToInt32(f.FileId))}
		if l := f.S3Location; l != nil {
			sf.S3 = ota.S3Location{Bucket: aws.ToString(l.Bucket), Key: aws.ToString(l.Key), Version: aws.ToString(l.Version)}
		}
		st.Files = append(st.Files, sf)
	}
	return st, nil
}

// CreateStream creates an MQTT file stream over exact object versions.
func (c *Cloud) CreateStream(ctx context.Context, s ota.Stream, roleArn string, tags []ota.Tag) error {
	in := &iot.CreateStreamInput{StreamId: &s.ID, Description: str(s.Description), RoleArn: &roleArn, Tags: iotTags(tags)}
	for _, f := range s.Files {
		in.Files = append(in.Files, types.StreamFile{FileId: aws.Int32(int32(f.FileID)),
			S3Location: &types.S3Location{Bucket: aws.String(f.S3.Bucket), Key: aws.String(f.S3.Key), Version: str(f.S3.Version)}})
	}
	_, err := c.iot.CreateStream(ctx, in)
	return wrap(err)
}

// DeleteStream deletes a stream.
func (c *Cloud) DeleteStream(ctx context.Context, id string) error {
	_, err := c.iot.DeleteStream(ctx, &iot.DeleteStreamInput{StreamId: &id})
	return wrap(err)
}

// GetPackageVersion checks that a Software Package Catalog version exists.
func (c *Cloud) GetPackageVersion(ctx context.Context, pkg, version string) error {
	_, err := c.iot.GetPackageVersion(ctx, &iot.GetPackageVersionInput{PackageName: &pkg, VersionName: &version})
	return wrap(err)
}

// CreatePackageVersion creates a package version, and its package when missing.
func (c *Cloud) CreatePackageVersion(ctx context.Context, pkg, version string, tags []ota.Tag) error {
	tagMap := map[string]string{}
	for _, t := range tags {
		tagMap[t.Key] = t.Value
	}
	if _, err := c.iot.GetPackage(ctx, &iot.GetPackageInput{PackageName: &pkg}); err != nil {
		if !errors.Is(wrap(err), ota.ErrNotFound) {
			return wrap(err)
		}
		if _, err := c.iot.CreatePackage(ctx, &iot.CreatePackageInput{PackageName: &pkg, Tags: tagMap}); err != nil && !errors.Is(wrap(err), ota.ErrAlreadyExists) {
			return wrap(err)
		}
	}
	_, err := c.iot.CreatePackageVersion(ctx, &iot.CreatePackageVersionInput{PackageName: &pkg, VersionName: &version, Tags: tagMap})
	return wrap(err)
}

// CreateJob creates the job with every field of r. ota.JobRequest uses
// CreateJob's own JSON field names, which encoding/json matches to the SDK
// input's Go field names, so no option can be dropped by a hand mapping.
func (c *Cloud) CreateJob(ctx context.Context, r ota.JobRequest) (string, error) {
	raw, err := json.Marshal(r)
	if err != nil {
		return "", err
	}
	var in iot.CreateJobInput
	if err := json.Unmarshal(raw, &in); err != nil {
		return "", fmt.Errorf("mapping the CreateJob request: %w", err)
	}
	out, err := c.iot.CreateJob(ctx, &in)
	if err != nil {
		return "", wrap(err)
	}
	return aws.ToString(out.JobArn), nil
}

// DescribeJob reads a job and its execution counts.
func (c *Cloud) DescribeJob(ctx context.Context, id string) (ota.Job, error) {
	out, err := c.iot.DescribeJob(ctx, &iot.DescribeJobInput{JobId: &id})
	if err != nil {
		return ota.Job{}, wrap(err)
	}
	j := out.Job
	job := ota.Job{JobID: aws.ToString(j.JobId), JobArn: aws.ToString(j.JobArn), Status: string(j.Status),
		Description: aws.ToString(j.Description), TargetSelection: string(j.TargetSelection), Targets: j.Targets,
		CreatedAt: aws.ToTime(j.CreatedAt), LastUpdatedAt: aws.ToTime(j.LastUpdatedAt), CompletedAt: aws.ToTime(j.CompletedAt),
		Counts: map[string]int{}, DestinationPackageVersions: j.DestinationPackageVersions, Raw: j}
	if d := j.JobProcessDetails; d != nil {
		for status, n := range map[string]*int32{
			"QUEUED": d.NumberOfQueuedThings, "IN_PROGRESS": d.NumberOfInProgressThings, "SUCCEEDED": d.NumberOfSucceededThings,
			"FAILED": d.NumberOfFailedThings, "REJECTED": d.NumberOfRejectedThings, "CANCELED": d.NumberOfCanceledThings,
			"REMOVED": d.NumberOfRemovedThings, "TIMED_OUT": d.NumberOfTimedOutThings,
		} {
			job.Counts[status] = int(aws.ToInt32(n))
		}
	}
	// The SDK's configuration types carry CreateJob's member names as Go
	// field names, which encoding/json matches to ota's JSON names.
	for _, m := range [][2]any{{j.PresignedUrlConfig, &job.PresignedURLConfig}, {j.JobExecutionsRolloutConfig, &job.JobExecutionsRolloutConfig},
		{j.AbortConfig, &job.AbortConfig}, {j.TimeoutConfig, &job.TimeoutConfig}, {j.JobExecutionsRetryConfig, &job.JobExecutionsRetryConfig}} {
		if err := viaJSON(m[0], m[1]); err != nil {
			return ota.Job{}, fmt.Errorf("reading DescribeJob's configuration: %w", err)
		}
	}
	if sc := j.SchedulingConfig; sc != nil {
		job.SchedulingConfig = &ota.SchedulingConfig{StartTime: aws.ToString(sc.StartTime), EndTime: aws.ToString(sc.EndTime), EndBehavior: string(sc.EndBehavior)}
		for _, w := range sc.MaintenanceWindows {
			job.SchedulingConfig.MaintenanceWindows = append(job.SchedulingConfig.MaintenanceWindows,
				ota.MaintenanceWindow{StartTime: aws.ToString(w.StartTime), DurationInMinutes: int(aws.ToInt32(w.DurationInMinutes))})
		}
	}
	return job, nil
}

// viaJSON copies an SDK value into ota's type of the same shape; a nil
// pointer leaves dst nil.
func viaJSON(src, dst any) error {
	raw, err := json.Marshal(src)
	if err != nil || string(raw) == "null" {
		return err
	}
	return json.Unmarshal(raw, dst)
}

// UpdateJob changes the members u sets, with UpdateJob's own JSON names
// mapped as CreateJob's are.
func (c *Cloud) UpdateJob(ctx context.Context, id string, u ota.JobUpdate) error {
	var in iot.UpdateJobInput
	if err := viaJSON(u, &in); err != nil {
		return fmt.Errorf("mapping the UpdateJob request: %w", err)
	}
	in.JobId = &id
	_, err := c.iot.UpdateJob(ctx, &in)
	return wrap(err)
}

// AssociateTargetsWithJob adds targets to a continuous job.
func (c *Cloud) AssociateTargetsWithJob(ctx context.Context, id string, targets []string, comment string) error {
	_, err := c.iot.AssociateTargetsWithJob(ctx, &iot.AssociateTargetsWithJobInput{JobId: &id, Targets: targets, Comment: str(comment)})
	return wrap(err)
}

// TagResource adds or replaces tags of an IoT resource.
func (c *Cloud) TagResource(ctx context.Context, arn string, tags []ota.Tag) error {
	_, err := c.iot.TagResource(ctx, &iot.TagResourceInput{ResourceArn: &arn, Tags: iotTags(tags)})
	return wrap(err)
}

// UntagResource removes tags of an IoT resource.
func (c *Cloud) UntagResource(ctx context.Context, arn string, keys []string) error {
	_, err := c.iot.UntagResource(ctx, &iot.UntagResourceInput{ResourceArn: &arn, TagKeys: keys})
	return wrap(err)
}

// GetJobDocument reads a job's document.
func (c *Cloud) GetJobDocument(ctx context.Context, id string) (string, error) {
	out, err := c.iot.GetJobDocument(ctx, &iot.GetJobDocumentInput{JobId: &id})
	if err != nil {
		return "", wrap(err)
	}
	return aws.ToString(out.Document), nil
}

// ListJobs lists the jobs whose id has the OTA prefix.
func (c *Cloud) ListJobs(ctx context.Context) ([]ota.JobSummary, error) {
	var out []ota.JobSummary
	p := iot.NewListJobsPaginator(c.iot, &iot.ListJobsInput{})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, wrap(err)
		}
		for _, j := range page.Jobs {
			if !strings.HasPrefix(aws.ToString(j.JobId), ota.JobIDPrefix) {
				continue
			}
			out = append(out, ota.JobSummary{JobID: aws.ToString(j.JobId), JobArn: aws.ToString(j.JobArn), Status: string(j.Status),
				TargetSelection: string(j.TargetSelection), CreatedAt: aws.ToTime(j.CreatedAt)})
		}
	}
	return out, nil
}

// ListTags lists a resource's tags.
func (c *Cloud) ListTags(ctx context.Context, arn string) ([]ota.Tag, error) {
	var tags []ota.Tag
	p := iot.NewListTagsForResourcePaginator(c.iot, &iot.ListTagsForResourceInput{ResourceArn: &arn})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, wrap(err)
		}
		for _, t := range page.Tags {
			tags = append(tags, ota.Tag{Key: aws.ToString(t.Key), Value: aws.ToString(t.Value)})
		}
	}
	return tags, nil
}

// CancelJob cancels a job; force also cancels in-progress executions.
func (c *Cloud) CancelJob(ctx context.Context, id string, force bool) error {
	_, err := c.iot.CancelJob(ctx, &iot.CancelJobInput{JobId: &id, Force: force, Comment: aws.String("canceled with otactl")})
	return wrap(err)
}

// DeleteJob deletes a job; force deletes one with executions in progress.
func (c *Cloud) DeleteJob(ctx context.Context, id string, force bool) error {
	_, err := c.iot.DeleteJob(ctx, &iot.DeleteJobInput{JobId: &id, Force: force})
	return wrap(err)
}

// ListJobExecutions lists every device's execution of a job.
func (c *Cloud) ListJobExecutions(ctx context.Context, id string) ([]ota.Execution, error) {
	var out []ota.Execution
	p := iot.NewListJobExecutionsForJobPaginator(c.iot, &iot.ListJobExecutionsForJobInput{JobId: &id})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			return nil, wrap(err)
		}
		for _, e := range page.ExecutionSummaries {
			x := ota.Execution{ThingArn: aws.ToString(e.ThingArn)}
			if s := e.JobExecutionSummary; s != nil {
				x.Status, x.ExecutionNumber, x.RetryAttempt = string(s.Status), aws.ToInt64(s.ExecutionNumber), int(aws.ToInt32(s.RetryAttempt))
				x.QueuedAt, x.StartedAt, x.LastUpdt = aws.ToTime(s.QueuedAt), aws.ToTime(s.StartedAt), aws.ToTime(s.LastUpdatedAt)
			}
			out = append(out, x)
		}
	}
	return out, nil
}

// ExecutionDetails reads the status details a device reported.
func (c *Cloud) ExecutionDetails(ctx context.Context, jobID, thing string) (map[string]string, error) {
	out, err := c.iot.DescribeJobExecution(ctx, &iot.DescribeJobExecutionInput{JobId: &jobID, ThingName: &thing})
	if err != nil {
		return nil, wrap(err)
	}
	if out.Execution == nil || out.Execution.StatusDetails == nil {
		return nil, nil
	}
	return out.Execution.StatusDetails.DetailsMap, nil
}

func iotTags(tags []ota.Tag) []types.Tag {
	var out []types.Tag
	for _, t := range tags {
		out = append(out, types.Tag{Key: aws.String(t.Key), Value: aws.String(t.Value)})
	}
	return out
}
