package iot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/ota"
)

// CreateOTAUpdate, GetOTAUpdate, ListOTAUpdates and DeleteOTAUpdate: the
// reference composite. An update is created by otactl's own pipeline
// (ota.Pipeline over awscloud, the AWS SDK) pointed at this server's URL, so
// the composite makes exactly the calls `otactl create` makes, over the wire:
// signing, the raw copy over the signed object, CreateStream, CreateJob.

const tOTAUpdates = "iot.otaUpdates" // update id → otaUpdate

// OTA update statuses (OTAUpdateStatus).
const (
	OTACreatePending    = "CREATE_PENDING"
	OTACreateInProgress = "CREATE_IN_PROGRESS"
	OTACreateComplete   = "CREATE_COMPLETE"
	OTACreateFailed     = "CREATE_FAILED"
)

var otaStatuses = map[string]bool{OTACreatePending: true, OTACreateInProgress: true, OTACreateComplete: true,
	OTACreateFailed: true, "DELETE_IN_PROGRESS": true, "DELETE_FAILED": true}

// otaUpdate is the stored record of one update.
type otaUpdate struct {
	ID        string               `json:"id"`
	Arn       string               `json:"arn"`
	Request   ota.OTAUpdateRequest `json:"request"`
	Status    string               `json:"status"`
	CreatedAt time.Time            `json:"createdAt"`
	UpdatedAt time.Time            `json:"updatedAt"`
	JobID     string               `json:"jobId"`
	JobArn    string               `json:"jobArn"`
	// StreamID is the stream the pipeline made (empty when the files name
	// a stream of their own: DeleteOTAUpdate never deletes that one).
	StreamID string `json:"streamId,omitempty"`
	// SigningJobs are the Signer jobs that signed each file ("" = none).
	SigningJobs []string      `json:"signingJobs,omitempty"`
	Error       *otaErrorInfo `json:"errorInfo,omitempty"`
}

// otaErrorInfo is ErrorInfo: why an update failed.
type otaErrorInfo struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// OTAEndpoint tells the OTA-update pipeline where to reach this server and
// with which key pair. It is called when a pipeline starts, so it may return
// an empty URL until the server listens: the request's Host is used then.
type OTAEndpoint func() (baseURL, accessKeyID, secretAccessKey string)

// OTAUpdates serves the OTA-update operations under the IoT service and runs
// their pipelines in the background. Close cancels the pipelines still
// running and waits for them; it must run before the store is closed.
type OTAUpdates struct {
	svc      *Service
	endpoint OTAEndpoint
	// PollInterval is the pipeline's first wait between DescribeSigningJob
	// calls; it doubles. Local signing takes milliseconds: the pipeline's
	// default (200 ms, for AWS) would triple the time of a 1 MiB update.
	PollInterval time.Duration

	ctx    context.Context // canceled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	running  map[string]*otaRun
	cloudKey string
	cloud    ota.Cloud
}

type otaRun struct {
	cancel context.CancelFunc
	done   chan struct{}
}

// ServeOTAUpdates adds the OTA-update operations to svc. Updates a previous
// run of the server left in progress are settled first (see reconcile).
func ServeOTAUpdates(svc *Service, endpoint OTAEndpoint) (*OTAUpdates, error) {
	o := &OTAUpdates{svc: svc, endpoint: endpoint, PollInterval: 5 * time.Millisecond, running: map[string]*otaRun{}}
	o.ctx, o.cancel = context.WithCancel(context.Background())
	if err := o.reconcile(); err != nil {
		return nil, fmt.Errorf("iot: OTA updates: %w", err)
	}
	svc.HandleFunc("POST /otaUpdates/{otaUpdateId}", o.create)
	svc.HandleFunc("GET /otaUpdates/{otaUpdateId}", o.get)
	svc.HandleFunc("DELETE /otaUpdates/{otaUpdateId}", o.delete)
	svc.HandleFunc("GET /otaUpdates", o.list)
	return o, nil
}

// Close cancels running pipelines and waits for them to return. Their
// records stay in progress; the next start settles them.
func (o *OTAUpdates) Close() error {
	o.cancel()
	o.wg.Wait()
	return nil
}

func (o *OTAUpdates) arn(id string) string { return o.svc.env.ARN("iot", "otaupdate/"+id) }

func (o *OTAUpdates) create(w http.ResponseWriter, r *http.Request) {
	var req ota.OTAUpdateRequest
	if err := decode(r, &req); err != nil {
		writeErr(w, err)
		return
	}
	req.OTAUpdateID = r.PathValue("otaUpdateId") // the path names the update
	if err := createJobOnly(&req.CreateJobOnly); err != nil {
		writeErr(w, err)
		return
	}
	spec := req.Spec()
	now := o.svc.now()
	if errs := ota.Validate(spec, now); len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, e := range errs {
			msgs[i] = e.Error()
		}
		writeErr(w, invalid("%d invalid field(s): %s", len(errs), strings.Join(msgs, "; ")))
		return
	}
	u := &otaUpdate{ID: req.OTAUpdateID, Arn: o.arn(req.OTAUpdateID), Request: req, Status: OTACreatePending,
		CreatedAt: now, UpdatedAt: now, JobID: spec.JobID(), JobArn: o.svc.jobArn(spec.JobID())}
	err := o.svc.st.Update(func(tx *store.Tx) error {
		if tx.Has(tOTAUpdates, u.ID) {
			return alreadyExists(u.ID, u.Arn, "OTA update %s already exists.", u.ID)
		}
		return tx.Put(tOTAUpdates, u.ID, u)
	})
	if err != nil {
		writeErr(w, err)
		return
	}
	o.start(u.ID, spec, r.Host)
	writeJSON(w, map[string]string{"otaUpdateId": u.ID, "otaUpdateArn": u.Arn, "awsIotJobId": u.JobID,
		"awsIotJobArn": u.JobArn, "otaUpdateStatus": u.Status})
}

// createJobOnly rejects the CreateJob fields ota.OTAUpdateRequest accepts
// beside CreateOTAUpdate's own: AWS's CreateOTAUpdate has none of them.
func createJobOnly(c *ota.CreateJobOnly) error {
	var named []string
	if c.JobExecutionsRetryConfig != nil {
		named = append(named, "jobExecutionsRetryConfig")
	}
	if c.SchedulingConfig != nil {
		named = append(named, "schedulingConfig")
	}
	if len(c.DestinationPackageVersions) > 0 {
		named = append(named, "destinationPackageVersions")
	}
	if c.NamespaceID != "" {
		named = append(named, "namespaceId")
	}
	if c.JobTemplateArn != "" {
		named = append(named, "jobTemplateArn")
	}
	if len(named) > 0 {
		return invalid("CreateOTAUpdate has no field %s (CreateJob does: `otactl create` passes them)", strings.Join(named, ", "))
	}
	return nil
}

// otaUpdateInfo is GetOTAUpdate's OTAUpdateInfo.
type otaUpdateInfo struct {
	OTAUpdateID          string                  `json:"otaUpdateId"`
	OTAUpdateArn         string                  `json:"otaUpdateArn"`
	CreationDate         *float64                `json:"creationDate,omitempty"`
	LastModifiedDate     *float64                `json:"lastModifiedDate,omitempty"`
	Description          string                  `json:"description,omitempty"`
	Targets              []string                `json:"targets"`
	Protocols            []string                `json:"protocols"`
	RolloutConfig        *ota.RolloutConfig      `json:"awsJobExecutionsRolloutConfig,omitempty"`
	PresignedURLConfig   *ota.AWSJobPresignedURL `json:"awsJobPresignedUrlConfig,omitempty"`
	TargetSelection      string                  `json:"targetSelection"`
	Files                []ota.File              `json:"otaUpdateFiles"`
	Status               string                  `json:"otaUpdateStatus"`
	JobID                string                  `json:"awsIotJobId,omitempty"`
	JobArn               string                  `json:"awsIotJobArn,omitempty"`
	ErrorInfo            *otaErrorInfo           `json:"errorInfo,omitempty"`
	AdditionalParameters map[string]string       `json:"additionalParameters,omitempty"`
}

func (u *otaUpdate) info() otaUpdateInfo {
	req := u.Request
	spec := req.Spec()
	in := otaUpdateInfo{OTAUpdateID: u.ID, OTAUpdateArn: u.Arn, CreationDate: at(u.CreatedAt), LastModifiedDate: at(u.UpdatedAt),
		Description: req.Description, Targets: req.Targets, Protocols: spec.EffectiveProtocols(),
		RolloutConfig: req.AWSJobExecutionsRolloutConfig, PresignedURLConfig: req.AWSJobPresignedURLConfig,
		TargetSelection: req.TargetSelection, Status: u.Status, ErrorInfo: u.Error, AdditionalParameters: req.AdditionalParameters}
	if in.TargetSelection == "" {
		in.TargetSelection = "SNAPSHOT"
	}
	// A failed update has no job: naming one would send users looking for it.
	if u.Status != OTACreateFailed {
		in.JobID, in.JobArn = u.JobID, u.JobArn
	}
	// The files as given, with the Signer job that signed each one.
	in.Files = make([]ota.File, len(req.Files))
	copy(in.Files, req.Files)
	for i := range in.Files {
		if i < len(u.SigningJobs) && u.SigningJobs[i] != "" {
			in.Files[i].CodeSigning.AWSSignerJobID = u.SigningJobs[i]
		}
	}
	return in
}

func (o *OTAUpdates) load(id string) (*otaUpdate, error) {
	var u otaUpdate
	found, err := o.svc.st.Get(tOTAUpdates, id, &u)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, notFound("OTA update %s cannot be found.", id)
	}
	return &u, nil
}

func (o *OTAUpdates) get(w http.ResponseWriter, r *http.Request) {
	u, err := o.load(r.PathValue("otaUpdateId"))
	if err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, map[string]any{"otaUpdateInfo": u.info()})
}

type otaUpdateSummary struct {
	OTAUpdateID  string   `json:"otaUpdateId"`
	OTAUpdateArn string   `json:"otaUpdateArn"`
	CreationDate *float64 `json:"creationDate,omitempty"`
}

func (o *OTAUpdates) list(w http.ResponseWriter, r *http.Request) {
	p, err := parsePage(r)
	if err != nil {
		writeErr(w, err)
		return
	}
	status := r.URL.Query().Get("otaUpdateStatus")
	if status != "" && !otaStatuses[status] {
		writeErr(w, invalid("otaUpdateStatus must be one of CREATE_PENDING, CREATE_IN_PROGRESS, CREATE_COMPLETE, CREATE_FAILED, DELETE_IN_PROGRESS, DELETE_FAILED, got %q", status))
		return
	}
	out := []otaUpdateSummary{}
	var token string
	err = o.svc.st.View(func(tx *store.Tx) (err error) {
		token, err = listPage(tx, tOTAUpdates, "", p, func(_ string, raw []byte) (bool, error) {
			var u otaUpdate
			if err := json.Unmarshal(raw, &u); err != nil {
				return false, err
			}
			if status != "" && u.Status != status {
				return false, nil
			}
			out = append(out, otaUpdateSummary{OTAUpdateID: u.ID, OTAUpdateArn: u.Arn, CreationDate: at(u.CreatedAt)})
			return true, nil
		})
		return err
	})
	if err != nil {
		writeErr(w, err)
		return
	}
	resp := map[string]any{"otaUpdates": out}
	if token != "" {
		resp["nextToken"] = token
	}
	writeJSON(w, resp)
}

// delete removes the update record and, through the same Cloud the pipeline
// used, its job (only the one the pipeline made for this update) and,
// with deleteStream, the stream the pipeline made. A job still IN_PROGRESS
// needs forceDeleteAWSJob: without it nothing is deleted (AWS deletes
// asynchronously and reports DELETE_FAILED; failing the call says the same
// at once). An update still being created is stopped first; its pipeline
// removes what it had made.
func (o *OTAUpdates) delete(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("otaUpdateId")
	deleteStream, err := boolQuery(r, "deleteStream")
	if err != nil {
		writeErr(w, err)
		return
	}
	force, err := boolQuery(r, "forceDeleteAWSJob")
	if err != nil {
		writeErr(w, err)
		return
	}
	if _, err := o.load(id); err != nil {
		writeErr(w, err)
		return
	}
	o.stop(id)
	u, err := o.load(id) // as the stopped pipeline left it
	if err != nil {
		writeErr(w, err)
		return
	}
	cloud, err := o.cloudFor(r.Host)
	if err != nil {
		writeErr(w, err)
		return
	}
	if err := o.deleteJob(r.Context(), cloud, u, force); err != nil {
		writeErr(w, err)
		return
	}
	if deleteStream {
		if sid := o.ownStream(u); sid != "" {
			if err := cloud.DeleteStream(r.Context(), sid); err != nil && !errors.Is(err, ota.ErrNotFound) {
				writeErr(w, otaCallError("iot:DeleteStream "+sid, err))
				return
			}
		}
	}
	if err := o.svc.st.Delete(tOTAUpdates, id); err != nil {
		writeErr(w, err)
		return
	}
	writeJSON(w, struct{}{})
}

// deleteJob deletes the update's job if there is one and the pipeline made
// it for this update (its otactl:update-id tag says so): a job of that id
// made by anyone else is left alone, whatever the flags.
func (o *OTAUpdates) deleteJob(ctx context.Context, cloud ota.Cloud, u *otaUpdate, force bool) error {
	job, err := cloud.DescribeJob(ctx, u.JobID)
	if errors.Is(err, ota.ErrNotFound) {
		return nil
	}
	if err != nil {
		return otaCallError("iot:DescribeJob "+u.JobID, err)
	}
	tags, err := cloud.ListTags(ctx, job.JobArn)
	if err != nil {
		return otaCallError("iot:ListTagsForResource "+job.JobArn, err)
	}
	ours := false
	for _, t := range tags {
		ours = ours || (t.Key == ota.TagUpdateID && t.Value == u.ID)
	}
	switch {
	case !ours:
		return nil
	case (job.Status == JobInProgress || job.Status == JobScheduled) && !force:
		return invalid("the OTA update's job %s is %s: set forceDeleteAWSJob to delete it with the update", u.JobID, job.Status)
	}
	if err := cloud.DeleteJob(ctx, u.JobID, force); err != nil && !errors.Is(err, ota.ErrNotFound) {
		return otaCallError("iot:DeleteJob "+u.JobID, err)
	}
	return nil
}

// ownStream is the stream DeleteOTAUpdate may delete: the one the pipeline
// made, or would have made (an interrupted run may have left it), never a
// stream the files name.
func (o *OTAUpdates) ownStream(u *otaUpdate) string {
	spec := u.Request.Spec()
	for _, f := range spec.Files {
		if f.FileLocation.Stream != nil {
			return ""
		}
	}
	if u.StreamID != "" {
		return u.StreamID
	}
	if !spec.HasProtocol(ota.ProtocolMQTT) {
		return ""
	}
	return ota.StreamIDFor(o.svc.env.AccountID, o.svc.env.Region, u.ID)
}

// otaCallError reports a failed call of the Cloud as AWS's error shape.
func otaCallError(step string, err error) error {
	info := errorInfoOf(err)
	e := invalid("%s: %s", step, info.Message)
	e.Code = info.Code
	switch info.Code {
	case "ResourceNotFoundException":
		e.Status = http.StatusNotFound
	case "InternalFailureException":
		e.Status = http.StatusInternalServerError
	}
	return e
}
