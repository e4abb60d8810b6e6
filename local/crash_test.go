package local_test

import (
	"bufio"
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iot"
	sdks3 "github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/otactl/otactl/local"
	"github.com/otactl/otactl/local/localtest"
)

// startBinary runs `otactl local` on a free port and returns its URL.
func startBinary(t *testing.T, bin, dir string) (*exec.Cmd, string) {
	t.Helper()
	cmd := exec.Command(bin, "local", "--addr", "127.0.0.1:0", "--data-dir", dir, "--mqtt-addr", "127.0.0.1:0", "--mqtts-addr", "")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "export AWS_ENDPOINT_URL="); ok {
			go io.Copy(io.Discard, stdout)
			return cmd, u
		}
	}
	t.Fatalf("otactl local printed no AWS_ENDPOINT_URL (%v)", sc.Err())
	return nil, ""
}

type acked struct {
	key, version, md5 string
}

// TestKillDuringWrites SIGKILLs `otactl local` in the middle of a burst of
// concurrent PutObjects, restarts it on the same data directory and finds
// every acknowledged object version with its exact bytes, no listed
// version whose body is not whole, and every acknowledged job with its
// document and executions.
func TestKillDuringWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the otactl binary")
	}
	t.Parallel()
	bin := filepath.Join(t.TempDir(), "otactl")
	build := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, "github.com/otactl/otactl/cmd/otactl")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dir := t.TempDir()
	proc, url := startBinary(t, bin, dir)
	cfg := localtest.Config(url, local.DefaultRegion, local.DefaultAccessKeyID, local.DefaultSecretAccessKey)
	c := sdks3.NewFromConfig(cfg, func(o *sdks3.Options) { o.UsePathStyle = true })
	if _, err := c.CreateBucket(ctx, &sdks3.CreateBucketInput{Bucket: aws.String("burst")}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutBucketVersioning(ctx, &sdks3.PutBucketVersioningInput{Bucket: aws.String("burst"),
		VersioningConfiguration: &types.VersioningConfiguration{Status: "Enabled"}}); err != nil {
		t.Fatal(err)
	}

	ic := iot.NewFromConfig(cfg)
	if _, err := ic.CreateThing(ctx, &iot.CreateThingInput{ThingName: aws.String("crash-thing")}); err != nil {
		t.Fatal(err)
	}
	thingArn := "arn:aws:iot:" + local.DefaultRegion + ":000000000000:thing/crash-thing"

	const writers, jobWriters, killAfter = 6, 2, 60
	var jobAcks []string
	var mu sync.Mutex
	var acks []acked
	killed := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				// Keys repeat so that keys gain several versions.
				key := fmt.Sprintf("w%d/obj%d", w, i%7)
				body := bytes.Repeat([]byte(fmt.Sprintf("%d-%d;", w, i)), 1000+w*4000+i*50)
				out, err := c.PutObject(ctx, &sdks3.PutObjectInput{Bucket: aws.String("burst"), Key: aws.String(key), Body: bytes.NewReader(body)})
				if err != nil {
					select {
					case <-killed:
						return // the server is gone
					default:
						t.Errorf("PutObject before the kill: %v", err)
						return
					}
				}
				sum := md5.Sum(body)
				mu.Lock()
				acks = append(acks, acked{key, *out.VersionId, hex.EncodeToString(sum[:])})
				n := len(acks)
				mu.Unlock()
				if n >= killAfter { // >=: the copier's acknowledgements count too
					// Writes of the other writers are in flight right now.
					// killed is closed before the signal: a writer whose
					// request the kill breaks must find it closed, or it
					// would take the reset for a failure before the kill.
					once.Do(func() {
						close(killed)
						proc.Process.Signal(syscall.SIGKILL)
					})
				}
			}
		}(w)
	}
	// A copier copies acknowledged versions to keys of their own: a copy
	// shares its source's blob, so the kill also lands between copies'
	// commits and the sweep at restart must keep every shared blob.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			mu.Lock()
			var src acked
			if len(acks) > 0 {
				src = acks[(i*7)%len(acks)]
			}
			mu.Unlock()
			if strings.HasPrefix(src.key, "copies/") {
				continue // a copy onto its own key, unchanged, is not a copy S3 makes
			}
			if src.key == "" {
				select {
				case <-killed:
					return
				default:
					runtime.Gosched()
					continue
				}
			}
			key := fmt.Sprintf("copies/c%d", i%5)
			out, err := c.CopyObject(ctx, &sdks3.CopyObjectInput{Bucket: aws.String("burst"), Key: aws.String(key),
				CopySource: aws.String("burst/" + src.key + "?versionId=" + src.version)})
			if err != nil {
				select {
				case <-killed:
					return
				default:
					t.Errorf("CopyObject before the kill: %v", err)
					return
				}
			}
			mu.Lock()
			acks = append(acks, acked{key, *out.VersionId, src.md5})
			mu.Unlock()
		}
	}()
	for w := 0; w < jobWriters; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; ; i++ {
				id := fmt.Sprintf("crash-job-%d-%d", w, i)
				_, err := ic.CreateJob(ctx, &iot.CreateJobInput{JobId: aws.String(id), Targets: []string{thingArn},
					Document: aws.String(fmt.Sprintf(`{"n":%d}`, i))})
				if err != nil {
					select {
					case <-killed:
						return
					default:
						t.Errorf("CreateJob before the kill: %v", err)
						return
					}
				}
				mu.Lock()
				jobAcks = append(jobAcks, id)
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	proc.Wait()
	if len(acks) < killAfter {
		t.Fatalf("only %d writes acknowledged", len(acks))
	}

	_, url = startBinary(t, bin, dir)
	c = sdks3.NewFromConfig(localtest.Config(url, local.DefaultRegion, local.DefaultAccessKeyID, local.DefaultSecretAccessKey),
		func(o *sdks3.Options) { o.UsePathStyle = true })
	read := func(key, version string) string {
		t.Helper()
		out, err := c.GetObject(ctx, &sdks3.GetObjectInput{Bucket: aws.String("burst"), Key: aws.String(key), VersionId: aws.String(version)})
		if err != nil {
			t.Fatalf("acknowledged %s@%s lost: %v", key, version, err)
		}
		defer out.Body.Close()
		h := md5.New()
		if _, err := io.Copy(h, out.Body); err != nil {
			t.Fatal(err)
		}
		return hex.EncodeToString(h.Sum(nil))
	}
	if v, err := c.GetBucketVersioning(ctx, &sdks3.GetBucketVersioningInput{Bucket: aws.String("burst")}); err != nil || v.Status != "Enabled" {
		t.Fatalf("bucket versioning after restart: %v %v", v, err)
	}
	for _, a := range acks {
		if got := read(a.key, a.version); got != a.md5 {
			t.Fatalf("%s@%s: body md5 %s, acknowledged %s", a.key, a.version, got, a.md5)
		}
	}
	// Every version the restarted server lists is whole.
	p := sdks3.NewListObjectVersionsPaginator(c, &sdks3.ListObjectVersionsInput{Bucket: aws.String("burst")})
	listed := 0
	bodies := map[string]bool{} // copies share their source's body (and blob)
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range page.Versions {
			listed++
			bodies[*v.ETag] = true
			if got := read(*v.Key, *v.VersionId); `"`+got+`"` != *v.ETag {
				t.Fatalf("%s@%s: half-written body (md5 %s, ETag %s)", *v.Key, *v.VersionId, got, *v.ETag)
			}
		}
	}
	if listed < len(acks) {
		t.Fatalf("%d versions listed, %d acknowledged", listed, len(acks))
	}
	// Bodies written but never committed when the process died were swept:
	// one blob file per distinct body (every put writes its own).
	entries, _ := os.ReadDir(filepath.Join(dir, "blobs"))
	files := 0
	for _, e := range entries {
		if !e.IsDir() {
			files++
		}
	}
	if files != len(bodies) {
		t.Fatalf("%d blob files for %d versions with %d distinct bodies after restart", files, listed, len(bodies))
	}
	ic = iot.NewFromConfig(localtest.Config(url, local.DefaultRegion, local.DefaultAccessKeyID, local.DefaultSecretAccessKey))
	for _, id := range jobAcks {
		doc, err := ic.GetJobDocument(ctx, &iot.GetJobDocumentInput{JobId: aws.String(id)})
		if err != nil {
			t.Fatalf("acknowledged job %s lost: %v", id, err)
		}
		var n int
		if _, err := fmt.Sscanf(aws.ToString(doc.Document), `{"n":%d}`, &n); err != nil {
			t.Fatalf("job %s document %q", id, aws.ToString(doc.Document))
		}
		ex, err := ic.DescribeJobExecution(ctx, &iot.DescribeJobExecutionInput{JobId: aws.String(id), ThingName: aws.String("crash-thing")})
		if err != nil || ex.Execution == nil {
			t.Fatalf("job %s lost its execution: %v", id, err)
		}
	}
	if len(jobAcks) == 0 {
		t.Fatal("no job acknowledged before the kill")
	}
	t.Logf("%d objects and %d jobs acknowledged before SIGKILL, %d versions (%d bodies) after restart", len(acks), len(jobAcks), listed, len(bodies))
}
