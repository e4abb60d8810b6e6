package device

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strconv"
	"time"

	"github.com/otactl/otactl/internal/mqttwire"
)

// Outcome statuses besides the execution statuses SUCCEEDED and FAILED.
const (
	StatusNoJob     = "NO_JOB"    // the device never got a job
	StatusAbandoned = "ABANDONED" // the execution went away (canceled, removed, timed out)
	StatusError     = "ERROR"     // the device could not talk to the endpoint
)

// JobOutcome is what happened to one job execution on the device.
type JobOutcome struct {
	JobID           string `json:"jobId"`
	ExecutionNumber int64  `json:"executionNumber"`
	Status          string `json:"status"`
	Reason          string `json:"reason,omitempty"`
	Protocol        string `json:"protocol,omitempty"`
	Bytes           int64  `json:"bytes"`
	Rerequests      int    `json:"rerequests"`
	Reconnects      int    `json:"reconnects"`
	// VersionConflicts counts updates answered VersionMismatch and retried
	// at the execution's current version.
	VersionConflicts int           `json:"versionConflicts"`
	Duration         time.Duration `json:"durationNs"`
	// File is the downloaded file (Config.KeepFiles only).
	File []byte `json:"-"`
}

// Result is a device's run.
type Result struct {
	Thing string `json:"thing"`
	// Status is the last execution's outcome (SUCCEEDED, FAILED, ...), or
	// NO_JOB / ERROR.
	Status string       `json:"status"`
	Jobs   []JobOutcome `json:"jobs"`
	// Executions is how many executions the device worked on (retries included).
	Executions int   `json:"executions"`
	Bytes      int64 `json:"bytes"`
	Rerequests int   `json:"rerequests"`
	Reconnects int   `json:"reconnects"`
	// Duration runs from the start to the end of the last execution.
	Duration time.Duration `json:"durationNs"`
	Err      string        `json:"error,omitempty"`
}

// Agent is one simulated device running the OTA agent.
type Agent struct {
	cfg  Config
	log  *slog.Logger
	in   *inbox
	cn   *conn
	dice *dice
	seq  int

	executions   int
	streamTopics []string // re-subscribed after a reconnect
	reconnects   int
	conflicts    int
}

// NewAgent checks the configuration and fills in its defaults.
func NewAgent(cfg Config) (*Agent, error) {
	if err := cfg.defaults(); err != nil {
		return nil, err
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	return &Agent{cfg: cfg, log: log.With("thing", cfg.ThingName), in: newInbox(), dice: newDice(cfg.Faults.Seed, cfg.ThingName)}, nil
}

func (a *Agent) logf(msg string, args ...any) { a.log.Debug("agent: "+msg, args...) }

// Run connects and processes jobs until the context ends, the agent is idle
// (IdleTimeout, FirstJobTimeout) or, with ExitOnSuccess, a job succeeded and
// nothing else is pending.
func (a *Agent) Run(ctx context.Context) *Result {
	start := time.Now()
	res := &Result{Thing: a.cfg.ThingName, Status: StatusNoJob}
	defer func() {
		res.Reconnects = a.reconnects
		if a.cn != nil {
			a.cn.close(false)
		}
	}()
	if err := a.firstConnect(ctx); err != nil {
		res.Status, res.Err = StatusError, err.Error()
		return res
	}
	idleSince := start
	for {
		ex, err := a.nextJob(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return res
			}
			res.Status, res.Err = StatusError, err.Error()
			return res
		}
		if ex != nil {
			out := a.process(ctx, ex)
			res.Jobs = append(res.Jobs, out)
			res.Status = out.Status
			res.Bytes += out.Bytes
			res.Rerequests += out.Rerequests
			res.Executions = a.executions
			res.Duration = time.Since(start)
			idleSince = time.Now()
			if out.Status == StatusError || ctx.Err() != nil {
				return res
			}
			continue
		}
		if a.cfg.ExitOnSuccess && res.Status == "SUCCEEDED" {
			return res
		}
		limit := a.cfg.IdleTimeout
		if len(res.Jobs) == 0 {
			limit = a.cfg.FirstJobTimeout
		}
		if err := a.idle(ctx, limit, idleSince); err != nil {
			switch {
			case errors.Is(err, errIdle):
				if len(res.Jobs) == 0 {
					res.Err = fmt.Sprintf("no job within %s", limit)
				}
			case ctx.Err() != nil:
				if len(res.Jobs) == 0 {
					res.Err = "no job before the run ended"
				}
			default:
				res.Status, res.Err = StatusError, err.Error()
			}
			return res
		}
	}
}

// errIdle ends a run that had nothing to do for its idle limit.
var errIdle = errors.New("idle")

// idle waits, with nothing to do, until the next job may have changed: a
// notify-next arrived, or the connection was lost (notifications sent
// meanwhile are lost, so after reconnecting the agent must ask again). It
// never polls, as the FreeRTOS OTA agent does not: it asks $next/get at the
// start and after each job, and otherwise waits for notify-next. Each path
// by which the next job can change without the agent asking is announced
// on notify-next (new, retried, canceled, removed, timed-out executions).
// A periodic re-check would hide a missing notification, which a real
// device would not survive. limit > 0 bounds the wait since idleSince
// (errIdle).
func (a *Agent) idle(ctx context.Context, limit time.Duration, idleSince time.Time) error {
	var expired <-chan time.Time
	if limit > 0 {
		left := limit - time.Since(idleSince)
		if left <= 0 {
			return errIdle
		}
		t := time.NewTimer(left)
		defer t.Stop()
		expired = t.C
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-expired:
		return errIdle
	case <-a.in.notify:
		return nil
	case <-a.cn.dead:
		a.logf("connection lost while idle")
		return a.reconnect(ctx, false, 0)
	}
}

// firstConnect connects, trying again a few times when the network fails
// (a large fleet starting at once can overflow a listener's backlog), but
// not when the broker refuses the device.
func (a *Agent) firstConnect(ctx context.Context) error {
	var err error
	for try := 0; try < 5; try++ {
		if err = a.connect(ctx); err == nil || errors.Is(err, mqttwire.ErrRefused) {
			return err
		}
		if !sleep(ctx, time.Duration(100<<try)*time.Millisecond) {
			return err
		}
	}
	return err
}

func (a *Agent) connect(ctx context.Context) error {
	cn, err := dial(ctx, &a.cfg, a.in)
	if err != nil {
		return fmt.Errorf("connect %s as %s: %w", a.cfg.Endpoint, a.cfg.ThingName, err)
	}
	topics := append(a.jobTopics(), a.streamTopics...)
	if err := cn.subscribe(ctx, a.cfg.ReplyTimeout, topics...); err != nil {
		cn.close(false)
		return err
	}
	a.cn = cn
	return nil
}

// reconnect drops the connection (abruptly: as if the network went away),
// stays away for pause, and connects again, retrying with backoff.
func (a *Agent) reconnect(ctx context.Context, abrupt bool, pause time.Duration) error {
	a.reconnects++
	if a.cn != nil {
		a.cn.close(abrupt)
	}
	if !sleep(ctx, pause) {
		return ctx.Err()
	}
	var err error
	for try := 0; try < 8; try++ {
		if err = a.connect(ctx); err == nil {
			a.logf("reconnected")
			return nil
		}
		if !sleep(ctx, time.Duration(50<<try)*time.Millisecond) {
			return ctx.Err()
		}
	}
	return err
}

// failure is a download or verification failure with its reason code.
type failure struct {
	code uint32
	err  error
}

func (f *failure) Error() string { return f.err.Error() }
func (f *failure) Unwrap() error { return f.err }

// process runs one execution through the OTA agent's states: parse, report,
// download, verify, self-test ready, reboot, self-test, SUCCEEDED; any
// failure is reported FAILED with the agent's reason.
func (a *Agent) process(ctx context.Context, ex *execution) (out JobOutcome) {
	start := time.Now()
	a.executions++
	out = JobOutcome{JobID: ex.JobID, ExecutionNumber: ex.ExecutionNumber}
	reconnects, conflicts := a.reconnects, a.conflicts
	defer func() {
		out.Duration = time.Since(start)
		out.Reconnects = a.reconnects - reconnects
		out.VersionConflicts = a.conflicts - conflicts
	}()
	a.logf("job", "job", ex.JobID, "execution", ex.ExecutionNumber, "status", ex.Status)
	// report ends the execution with a terminal status, or records why it could not.
	report := func(status string, details map[string]string) {
		out.Status, out.Reason = status, details["reason"]
		if err := a.update(ctx, ex, status, details); err != nil {
			a.giveUp(&out, err)
		}
	}
	fail := func(f *failure) {
		a.logf("failed", "job", ex.JobID, "error", f.err)
		report("FAILED", map[string]string{"reason": rejectedReason(f.code)})
		if out.Status == "FAILED" {
			out.Reason += " (" + f.err.Error() + ")"
		}
	}
	doc, err := ParseJobDocument(ex.JobDocument)
	if err != nil {
		fail(&failure{CodeJobParserError, err})
		return out
	}
	nblocks := int((doc.File.FileSize + int64(a.cfg.BlockSize) - 1) / int64(a.cfg.BlockSize))
	if err := a.update(ctx, ex, "IN_PROGRESS", map[string]string{"receive": "0/" + strconv.Itoa(nblocks)}); err != nil {
		a.giveUp(&out, err)
		return out
	}
	rcv, err := a.download(ctx, ex, doc, &out)
	if err != nil {
		var f *failure
		if errors.As(err, &f) {
			fail(f)
		} else {
			a.giveUp(&out, err)
		}
		return out
	}
	if a.cfg.KeepFiles {
		out.File = rcv.keep
	}
	if err := a.verify(doc, rcv); err != nil {
		fail(err)
		return out
	}
	if err := a.update(ctx, ex, "IN_PROGRESS", map[string]string{"self_test": "ready", "updatedBy": a.cfg.Version.hex()}); err != nil {
		a.giveUp(&out, err)
		return out
	}
	if a.cfg.Reboot {
		if err := a.reboot(ctx, ex); err != nil {
			a.giveUp(&out, err)
			return out
		}
	}
	if err := a.update(ctx, ex, "IN_PROGRESS", map[string]string{"self_test": "active"}); err != nil {
		a.giveUp(&out, err)
		return out
	}
	if a.executions <= a.cfg.Faults.FailFirst {
		fail(&failure{CodeSelfTestFailed, fmt.Errorf("self-test failed (injected: execution %d of the first %d)", a.executions, a.cfg.Faults.FailFirst)})
		return out
	}
	next := a.cfg.Version
	next.Build++
	report("SUCCEEDED", map[string]string{"reason": "accepted " + next.String()})
	if out.Status == "SUCCEEDED" {
		a.cfg.Version = next
	}
	return out
}

// giveUp records why an execution was left without a terminal report.
func (a *Agent) giveUp(out *JobOutcome, err error) {
	var gone *errGone
	if errors.As(err, &gone) {
		out.Status = StatusAbandoned
	} else {
		out.Status = StatusError
	}
	out.Reason = err.Error()
	a.logf("gave up", "job", out.JobID, "error", err)
}

// reboot reconnects as the device starting its new image does, and checks
// that the job still waits for the self-test.
func (a *Agent) reboot(ctx context.Context, ex *execution) error {
	if err := a.reconnect(ctx, false, 0); err != nil {
		return err
	}
	a.reconnects-- // a reboot is not a lost connection
	cur, err := a.nextJob(ctx)
	if err != nil {
		return err
	}
	if cur == nil || cur.JobID != ex.JobID || cur.ExecutionNumber != ex.ExecutionNumber {
		return &errGone{errors.New("after the reboot the job is no longer the next one")}
	}
	ex.VersionNumber = cur.VersionNumber
	return nil
}

// verify checks the downloaded file's signature with the certificate its
// certfile names.
func (a *Agent) verify(doc *JobDocument, rcv *receiver) *failure {
	cert := a.cfg.Trust.Lookup(doc.File.CertFile)
	if cert == nil {
		return &failure{CodeBadSignerCert, fmt.Errorf("no certificate for certfile %q", doc.File.CertFile)}
	}
	if a.cfg.Faults.RejectSignature {
		return &failure{CodeSignatureCheck, errors.New("signature rejected (injected)")}
	}
	err := VerifyDigest(cert, doc.File.SigKey, rcv.digest(), doc.File.Signature)
	switch {
	case errors.Is(err, ErrSignatureCheck):
		return &failure{CodeSignatureCheck, err}
	case err != nil:
		return &failure{CodeBadSignerCert, err}
	}
	return nil
}

// download fetches files[0] over the protocol the document and the
// configuration choose.
func (a *Agent) download(ctx context.Context, ex *execution, doc *JobDocument, out *JobOutcome) (*receiver, error) {
	h, _, err := newHash(doc.File.SigKey)
	if err != nil {
		return nil, &failure{CodeJobParserError, err}
	}
	rcv := newReceiver(doc.File.FileSize, a.cfg.BlockSize, h, a.cfg.KeepFiles)
	df := a.dice.forDownload(a.cfg.Faults, rcv.nblocks)
	mqtt := doc.HasProtocol("MQTT") && doc.StreamName != ""
	http := doc.HasProtocol("HTTP") && doc.File.UpdateDataURL != ""
	switch {
	case http && (a.cfg.PreferHTTP || !mqtt):
		out.Protocol = "HTTP"
		err = a.downloadHTTP(ctx, ex, doc, rcv, &df, out)
	case mqtt:
		out.Protocol = "MQTT"
		err = a.downloadMQTT(ctx, ex, doc, rcv, &df, out)
	default:
		return nil, &failure{CodeInvalidDataProtocol, fmt.Errorf("no usable protocol in %v (MQTT needs streamname, HTTP update_data_url)", doc.Protocols)}
	}
	out.Bytes = rcv.bytes
	if err != nil {
		return nil, err
	}
	return rcv, nil
}

// arrived takes one received block through the faults and into the
// receiver, reports progress, and goes offline when the faults say so.
// offline reports that the connection was dropped and re-established.
func (a *Agent) arrived(ctx context.Context, ex *execution, rcv *receiver, df *downloadFaults, i int, p []byte) (offline bool, err error) {
	if a.cfg.Faults.Slow > 0 && !sleep(ctx, a.cfg.Faults.Slow) {
		return false, ctx.Err()
	}
	if i == df.corruptBlock {
		p = append([]byte(nil), p...)
		p[len(p)/2] ^= 0x5a
		df.corruptBlock = -1
	}
	isNew, err := rcv.add(i, p)
	if err != nil {
		a.logf("bad block", "error", err) // ignored, as the agent does: it is asked for again
		return false, nil
	}
	if !isNew {
		return false, nil
	}
	if a.cfg.OnBytes != nil {
		a.cfg.OnBytes(len(p))
	}
	got := rcv.received()
	if a.cfg.ProgressEvery > 0 && got%a.cfg.ProgressEvery == 0 && got < rcv.nblocks {
		if err := a.update(ctx, ex, "IN_PROGRESS", map[string]string{"receive": fmt.Sprintf("%d/%d", got, rcv.nblocks)}); err != nil {
			return false, err
		}
	}
	if got == df.offlineAt {
		df.offlineAt = -1
		a.logf("going offline", "for", a.cfg.Faults.OfflineFor)
		if err := a.reconnect(ctx, true, a.cfg.Faults.OfflineFor); err != nil {
			return true, err
		}
		return true, nil
	}
	return false, nil
}
