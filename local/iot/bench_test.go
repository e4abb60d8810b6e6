package iot

import (
	"context"
	"fmt"
	"net/http/httptest"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	sdkiot "github.com/aws/aws-sdk-go-v2/service/iot"

	"github.com/otactl/otactl/local/store"
	"github.com/otactl/otactl/local/wire"
)

// BenchmarkCreateJob10kThings measures CreateJob over the wire for a group
// of 10,000 things: when the call returns, every execution exists (they are
// written in the same transaction as the job).
func BenchmarkCreateJob10kThings(b *testing.B) {
	const n = 10000
	st, err := store.Open(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	env := wire.Env{Region: "us-east-1", AccountID: "123456789012"}
	s := New(st, env, nil)
	// Registering 10,000 things over HTTP is not what is measured: write
	// the same records directly.
	err = st.Update(func(tx *store.Tx) error {
		g := groupRec{Name: "fleet", ID: "g-1", Arn: s.groupArn("fleet"), Version: 1}
		if err := tx.Put(tGroups, "fleet", g); err != nil {
			return err
		}
		for i := 0; i < n; i++ {
			name := fmt.Sprintf("dev-%05d", i)
			if err := tx.Put(tThings, name, thingRec{Name: name, ID: name, Arn: s.thingArn(name), Version: 1}); err != nil {
				return err
			}
			if err := tx.Put(tMembers, "fleet/"+name, ""); err != nil {
				return err
			}
			if err := tx.Put(tThingGroups, name+"/fleet", ""); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	srv := httptest.NewServer(s)
	defer srv.Close()
	c := sdkiot.NewFromConfig(aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("AKIDLOCAL", "secret", "")},
		func(o *sdkiot.Options) { o.BaseEndpoint = aws.String(srv.URL) })
	ctx := context.Background()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := fmt.Sprintf("job-%d", i)
		_, err := c.CreateJob(ctx, &sdkiot.CreateJobInput{JobId: aws.String(id), Targets: []string{s.groupArn("fleet")},
			Document: aws.String(`{"afr_ota":{"protocols":["MQTT"]}}`)})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	j, err := s.Job(fmt.Sprintf("job-%d", b.N-1))
	if err != nil || j.Counts.Queued != n {
		b.Fatalf("executions: %+v %v", j.Counts, err)
	}
	b.ReportMetric(float64(n), "executions/op")
}
