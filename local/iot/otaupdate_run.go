package iot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/otactl/otactl/awscloud"
	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/ota"
)

// start runs the pipeline of update id in the background:
// CREATE_PENDING → CREATE_IN_PROGRESS → CREATE_COMPLETE or CREATE_FAILED.
// host is the Host of the CreateOTAUpdate request, the address used when
// the endpoint does not know the server's URL.
func (o *OTAUpdates) start(id string, spec *ota.Spec, host string) {
	ctx, cancel := context.WithCancel(o.ctx)
	run := &otaRun{cancel: cancel, done: make(chan struct{})}
	o.mu.Lock()
	o.running[id] = run
	o.mu.Unlock()
	o.wg.Add(1)
	go func() {
		defer o.wg.Done()
		defer close(run.done)
		defer cancel()
		o.run(ctx, id, spec, host)
		o.mu.Lock()
		delete(o.running, id)
		o.mu.Unlock()
	}()
}

// stop cancels the pipeline of id, if one runs, and waits for it to return.
func (o *OTAUpdates) stop(id string) {
	o.mu.Lock()
	run := o.running[id]
	o.mu.Unlock()
	if run != nil {
		run.cancel()
		<-run.done
	}
}

func (o *OTAUpdates) run(ctx context.Context, id string, spec *ota.Spec, host string) {
	o.setStatus(id, func(u *otaUpdate) { u.Status = OTACreateInProgress })
	cloud, err := o.cloudFor(host)
	if err != nil {
		o.fail(id, err)
		return
	}
	p := &ota.Pipeline{Cloud: cloud, Now: o.svc.now, PollInterval: o.PollInterval}
	res, err := p.Run(ctx, spec)
	if err != nil {
		if o.interrupted(ctx, err) {
			if o.ctx.Err() == nil { // stopped by DeleteOTAUpdate, which may yet fail
				o.settle(id, "DeleteOTAUpdate stopped this update while it was being created.")
			}
			return // stopped by Close: the record stays in progress, the next start settles it
		}
		o.fail(id, err)
		return
	}
	o.setStatus(id, func(u *otaUpdate) {
		u.Status, u.JobArn, u.Error = OTACreateComplete, res.JobArn, nil
		u.StreamID = ""
		if !hasOwnStream(spec) {
			u.StreamID = res.StreamID
		}
		u.SigningJobs = make([]string, len(res.Files))
		for i, f := range res.Files {
			u.SigningJobs[i] = f.SigningJobID
		}
	})
}

func hasOwnStream(spec *ota.Spec) bool {
	for _, f := range spec.Files {
		if f.FileLocation.Stream != nil {
			return true
		}
	}
	return false
}

// interrupted tells a pipeline stopped by Close or DeleteOTAUpdate from one
// that failed. Close shuts the HTTP server before it cancels the pipelines,
// so a connection error may be the shutdown arriving first: it counts as an
// interruption when Close follows within a moment.
func (o *OTAUpdates) interrupted(ctx context.Context, err error) bool {
	if ctx.Err() != nil {
		return true
	}
	var ce interface{ ConnectionError() bool }
	if !errors.As(err, &ce) || !ce.ConnectionError() {
		return false
	}
	select {
	case <-ctx.Done():
		return true
	case <-time.After(2 * time.Second):
		return false
	}
}

func (o *OTAUpdates) fail(id string, err error) {
	info := errorInfoOf(err)
	o.setStatus(id, func(u *otaUpdate) { u.Status, u.Error = OTACreateFailed, &info })
}

// setStatus changes the record of id, unless it was deleted meanwhile.
func (o *OTAUpdates) setStatus(id string, change func(*otaUpdate)) {
	err := o.svc.st.Update(func(tx *store.Tx) error {
		var u otaUpdate
		if found, err := tx.Get(tOTAUpdates, id, &u); err != nil || !found {
			return err
		}
		change(&u)
		u.UpdatedAt = o.svc.now()
		return tx.Put(tOTAUpdates, id, &u)
	})
	_ = err // only a closed store fails here; the restart settles the record
}

// errorInfoOf turns a pipeline error into ErrorInfo: the AWS error code the
// failing call met when it is known, and the whole message (which step
// failed, what was cleaned up).
func errorInfoOf(err error) otaErrorInfo {
	code := "InvalidRequestException" // the update cannot be made as asked
	var ce interface{ ConnectionError() bool }
	switch {
	case errors.Is(err, ota.ErrNotFound):
		code = "ResourceNotFoundException"
	case errors.Is(err, ota.ErrAlreadyExists):
		code = "ResourceAlreadyExistsException"
	case errors.As(err, &ce) && ce.ConnectionError(), errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		code = "InternalFailureException"
	}
	return otaErrorInfo{Code: code, Message: err.Error()}
}

// cloudFor is the Cloud the pipeline runs against: awscloud (the AWS SDK)
// at this server's own URL with its key pair. One is kept while the
// endpoint stays the same, so the SDK's connections are reused.
func (o *OTAUpdates) cloudFor(host string) (ota.Cloud, error) {
	var base, ak, sk string
	if o.endpoint != nil {
		base, ak, sk = o.endpoint()
	}
	if base == "" && host != "" {
		base = "http://" + host
	}
	if base == "" || ak == "" {
		return nil, errors.New("otactl local does not know its own address and credentials to run the OTA-update pipeline against")
	}
	key := fmt.Sprintf("%s\x00%s\x00%s", base, ak, sk)
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.cloudKey != key {
		o.cloudKey = key
		o.cloud = awscloud.FromConfig(aws.Config{
			Region:       o.svc.env.Region,
			Credentials:  credentials.NewStaticCredentialsProvider(ak, sk, ""),
			BaseEndpoint: aws.String(base),
			// Loopback to ourselves: a retry would only delay a shutdown.
			RetryMaxAttempts: 1,
		})
	}
	return o.cloud, nil
}

// reconcile settles the updates a previous run of the server left pending
// or in progress (it stopped, or was killed, mid-pipeline). They are not
// resumed: an update whose job exists (CreateJob was the last step, the
// job carries the otactl:update-id tag) is complete; any other failed.
// Creating it again after DeleteOTAUpdate reuses what the interrupted run
// made (the pipeline is idempotent: signing by client token, the raw copy
// by size, the stream by its id).
func (o *OTAUpdates) reconcile() error {
	var stale []otaUpdate
	err := o.svc.st.View(func(tx *store.Tx) error {
		return tx.List(tOTAUpdates, "", func(_ string, raw []byte) error {
			var u otaUpdate
			if err := json.Unmarshal(raw, &u); err != nil {
				return err
			}
			if u.Status == OTACreatePending || u.Status == OTACreateInProgress {
				stale = append(stale, u)
			}
			return nil
		})
	})
	if err != nil {
		return err
	}
	for _, u := range stale {
		if err := o.settle(u.ID, "otactl local stopped while this update was being created."); err != nil {
			return err
		}
	}
	return nil
}

// settle ends an update whose pipeline was stopped: complete when its job
// exists (CreateJob is the last step; the job carries the otactl:update-id
// tag), failed otherwise, with why.
func (o *OTAUpdates) settle(id, why string) error {
	u, err := o.load(id)
	if err != nil {
		return nil // deleted meanwhile
	}
	tags, err := o.svc.Tags(u.JobArn)
	if err != nil {
		return err
	}
	made := map[string]string{}
	for _, t := range tags {
		made[t.Key] = t.Value
	}
	if made[ota.TagUpdateID] == u.ID {
		o.setStatus(u.ID, func(r *otaUpdate) {
			r.Status, r.Error = OTACreateComplete, nil
			if !hasOwnStream(r.Request.Spec()) {
				r.StreamID = made[ota.TagStreamID]
			}
		})
		return nil
	}
	o.setStatus(u.ID, func(r *otaUpdate) {
		r.Status = OTACreateFailed
		r.Error = &otaErrorInfo{Code: "InternalFailureException", Message: why + " Delete it (deleteStream=true also removes " +
			"a stream the stopped run made) and create it again: what the stopped run made is reused."}
	})
	return nil
}
