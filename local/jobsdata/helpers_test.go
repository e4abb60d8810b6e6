package jobsdata_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"

	"github.com/otactl/otactl/local"
	"github.com/otactl/otactl/local/localtest"
)

var ctx = context.Background()

// fixture is a full otactl local (signatures checked) and an IoT client.
type fixture struct {
	t   *testing.T
	env *localtest.Env
	iot *sdkiot.Client
}

func start(t *testing.T) *fixture {
	t.Helper()
	env := localtest.StartWith(t, local.Config{StrictAuth: true})
	return &fixture{t: t, env: env, iot: sdkiot.NewFromConfig(env.Config)}
}

// things creates things; job creates a snapshot job on them with doc.
func (f *fixture) things(names ...string) {
	f.t.Helper()
	for _, n := range names {
		if _, err := f.iot.CreateThing(ctx, &sdkiot.CreateThingInput{ThingName: aws.String(n)}); err != nil {
			f.t.Fatalf("CreateThing %s: %v", n, err)
		}
	}
}

func (f *fixture) job(id, doc string, things ...string) {
	f.t.Helper()
	var targets []string
	for _, n := range things {
		targets = append(targets, "arn:aws:iot:us-east-1:"+local.DefaultAccountID+":thing/"+n)
	}
	if _, err := f.iot.CreateJob(ctx, &sdkiot.CreateJobInput{JobId: aws.String(id), Targets: targets, Document: aws.String(doc)}); err != nil {
		f.t.Fatalf("CreateJob %s: %v", id, err)
	}
}

// reply is one raw HTTP answer.
type reply struct {
	status int
	body   []byte
	header http.Header
}

// decode parses the body into v.
func (r reply) decode(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("response %s: %v", r.body, err)
	}
}

// call sends a SigV4-signed iot-jobs-data request, as the SDKs sign it.
func (f *fixture) call(method, path, body string) reply {
	f.t.Helper()
	r := f.env.Signed(f.t, "iot-jobs-data", method, path, body)
	return reply{r.Status, r.Body, r.Header}
}

// expectError checks an error reply's status, type header and body.
func (f *fixture) expectError(r reply, status int, code string) errorBody {
	f.t.Helper()
	if r.status != status || r.header.Get("X-Amzn-ErrorType") != code {
		f.t.Fatalf("got %d %s %s, want %d %s", r.status, r.header.Get("X-Amzn-ErrorType"), r.body, status, code)
	}
	var e errorBody
	r.decode(f.t, &e)
	if e.Message == "" {
		f.t.Fatalf("error without a message: %s", r.body)
	}
	return e
}

type errorBody struct {
	Message        string          `json:"message"`
	ExecutionState *executionState `json:"executionState"`
}

type executionState struct {
	Status        string            `json:"status"`
	StatusDetails map[string]string `json:"statusDetails"`
	VersionNumber int64             `json:"versionNumber"`
}

type execution struct {
	JobID                            string            `json:"jobId"`
	ThingName                        string            `json:"thingName"`
	Status                           string            `json:"status"`
	StatusDetails                    map[string]string `json:"statusDetails"`
	QueuedAt                         int64             `json:"queuedAt"`
	StartedAt                        *int64            `json:"startedAt"`
	LastUpdatedAt                    int64             `json:"lastUpdatedAt"`
	ApproximateSecondsBeforeTimedOut *int64            `json:"approximateSecondsBeforeTimedOut"`
	VersionNumber                    int64             `json:"versionNumber"`
	ExecutionNumber                  int64             `json:"executionNumber"`
	JobDocument                      *string           `json:"jobDocument"`
}

type summary struct {
	JobID           string `json:"jobId"`
	QueuedAt        int64  `json:"queuedAt"`
	StartedAt       *int64 `json:"startedAt"`
	VersionNumber   int64  `json:"versionNumber"`
	ExecutionNumber int64  `json:"executionNumber"`
}

type pending struct {
	InProgressJobs []summary `json:"inProgressJobs"`
	QueuedJobs     []summary `json:"queuedJobs"`
}

func ids(s []summary) []string {
	out := []string{}
	for _, x := range s {
		out = append(out, x.JobID)
	}
	return out
}
