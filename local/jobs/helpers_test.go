package jobs

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"
	"github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/otactl/otactl/local/iot"
	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/local/wire"
)

var (
	testEnv = wire.Env{Region: "us-east-1", AccountID: "123456789012"}
	bg      = context.Background()
	// t0 is a Monday at midnight UTC: the simulated clock's start.
	t0 = time.Date(2030, 1, 7, 0, 0, 0, 0, time.UTC)
)

// fx is an engine on a simulated clock over a store, with the IoT control
// plane served over HTTP to the AWS SDK.
type fx struct {
	t      *testing.T
	dir    string
	st     *store.Store
	svc    *iot.Service
	eng    *Engine
	clock  *SimClock
	srv    *httptest.Server
	client *sdkiot.Client
	events []Event
}

func newFx(t *testing.T) *fx { return openFx(t, t.TempDir(), NewSimClock(t0)) }

func openFx(t *testing.T, dir string, clock *SimClock) *fx {
	t.Helper()
	st, err := store.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	current = t
	f := &fx{t: t, dir: dir, st: st, clock: clock}
	f.svc = iot.New(st, testEnv, nil)
	f.eng = New(f.svc, st, clock)
	f.eng.OnEvent = func(ev Event) { f.events = append(f.events, ev) }
	if err := f.eng.Load(); err != nil {
		t.Fatal(err)
	}
	f.srv = httptest.NewServer(f.svc)
	f.client = sdkiot.NewFromConfig(aws.Config{
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDLOCAL", "secret", ""),
		BaseEndpoint: aws.String(f.srv.URL), RetryMaxAttempts: 1,
		HTTPClient: &http.Client{},
	})
	t.Cleanup(f.close)
	return f
}

// close stops serving and closes the store (a restart reopens the directory).
func (f *fx) close() {
	if f.srv != nil {
		f.srv.Close()
		f.st.Close()
		f.srv = nil
	}
}

// run moves the clock to now+d, jumping from one due moment to the next.
func (f *fx) run(d time.Duration) {
	f.runUntil(f.clock.Now().Add(d))
}

func (f *fx) runUntil(target time.Time) {
	f.eng.Tick()
	for {
		next := f.eng.NextAt()
		if next.IsZero() || next.After(target) {
			break
		}
		f.clock.Set(next)
		f.eng.Tick()
	}
	f.clock.Set(target)
	f.eng.Tick()
}

// current is the running test (tests here are not parallel).
var current *testing.T

func must[T any](v T, err error) T {
	current.Helper()
	if err != nil {
		current.Fatal(err)
	}
	return v
}

func groupArn(name string) string { return testEnv.ARN("iot", "thinggroup/"+name) }

// group creates a group of n things named <name>-NNNN.
func (f *fx) group(name string, n int) []string {
	f.t.Helper()
	must(f.client.CreateThingGroup(bg, &sdkiot.CreateThingGroupInput{ThingGroupName: aws.String(name)}))
	var things []string
	for i := 0; i < n; i++ {
		thing := fmt.Sprintf("%s-%04d", name, i)
		must(f.client.CreateThing(bg, &sdkiot.CreateThingInput{ThingName: aws.String(thing)}))
		must(f.client.AddThingToThingGroup(bg, &sdkiot.AddThingToThingGroupInput{ThingName: aws.String(thing), ThingGroupName: aws.String(name)}))
		things = append(things, thing)
	}
	return things
}

// job creates a job on group g with the options set by with.
func (f *fx) job(id, g string, with func(*sdkiot.CreateJobInput)) {
	f.t.Helper()
	in := &sdkiot.CreateJobInput{JobId: aws.String(id), Targets: []string{groupArn(g)}, Document: aws.String(`{"op":"update"}`)}
	if with != nil {
		with(in)
	}
	must(f.client.CreateJob(bg, in))
	f.eng.Tick()
}

func (f *fx) describe(id string) *types.Job {
	f.t.Helper()
	return must(f.client.DescribeJob(bg, &sdkiot.DescribeJobInput{JobId: aws.String(id)})).Job
}

// notifiedThings is how many things have an execution (were rolled out to).
func (f *fx) notifiedThings(id string) int {
	f.t.Helper()
	return len(must(f.svc.Executions(id, "")))
}

// visible is how many things see an execution of job id as pending.
func (f *fx) visible(things []string, id string) int {
	n := 0
	for _, th := range things {
		for _, x := range must(f.svc.PendingExecutions(th)) {
			if x.JobID == id {
				n++
			}
		}
	}
	return n
}

// startAll starts the next execution on each thing.
func (f *fx) startAll(things []string) {
	for _, th := range things {
		f.svc.StartNextExecution(th, nil, 0)
	}
}

func (f *fx) report(thing, id, status string) {
	f.t.Helper()
	must(f.svc.UpdateExecution(thing, id, iot.ExecutionUpdate{Status: status}))
	f.eng.Tick()
}

// checkCounts: jobProcessDetails (through the SDK) agree with the records.
func (f *fx) checkCounts(id string) {
	f.t.Helper()
	var want iot.ProcessDetails
	for _, x := range must(f.svc.Executions(id, "")) {
		addStatus(&want, x.Status)
	}
	pd := f.describe(id).JobProcessDetails
	got := iot.ProcessDetails{Queued: int(aws.ToInt32(pd.NumberOfQueuedThings)), InProgress: int(aws.ToInt32(pd.NumberOfInProgressThings)),
		Succeeded: int(aws.ToInt32(pd.NumberOfSucceededThings)), Failed: int(aws.ToInt32(pd.NumberOfFailedThings)),
		Rejected: int(aws.ToInt32(pd.NumberOfRejectedThings)), Canceled: int(aws.ToInt32(pd.NumberOfCanceledThings)),
		Removed: int(aws.ToInt32(pd.NumberOfRemovedThings)), TimedOut: int(aws.ToInt32(pd.NumberOfTimedOutThings))}
	if got != want {
		f.t.Fatalf("jobProcessDetails %+v, records %+v", got, want)
	}
}

func (f *fx) eventsOf(kind string) []Event {
	var out []Event
	for _, ev := range f.events {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

func sched(t time.Time) *string { return aws.String(t.UTC().Format("2006-01-02T15:04")) }

func windows(cron string, minutes int32) []types.MaintenanceWindow {
	return []types.MaintenanceWindow{{StartTime: aws.String(cron), DurationInMinutes: aws.Int32(minutes)}}
}

func iotUpdate(status string) iot.ExecutionUpdate { return iot.ExecutionUpdate{Status: status} }
