package awscloud_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/otactl/otactl/ota"
)

// BenchmarkCreate measures otactl create (the whole pipeline) against
// otactl local for a 1 MiB and a 16 MiB image, and where the time goes:
// each phase's share is reported as ms/op from the pipeline's progress events.
func BenchmarkCreate(b *testing.B) {
	for _, size := range []int{1 << 20, 16 << 20} {
		b.Run(fmt.Sprintf("%dMiB", size>>20), func(b *testing.B) {
			f := newFixture(b, size)
			phases := map[string]time.Duration{}
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				last, phase := time.Now(), "start"
				p := &ota.Pipeline{Cloud: f.cloud, PollInterval: 10 * time.Millisecond, Progress: func(ev string) {
					now := time.Now()
					phases[phase] += now.Sub(last)
					last, phase = now, strings.Fields(ev)[0]
				}}
				if _, err := p.Run(ctx, f.spec(fmt.Sprintf("bench-%d", i))); err != nil {
					b.Fatal(err)
				}
				phases[phase] += time.Since(last)
			}
			for name, d := range phases {
				b.ReportMetric(float64(d.Milliseconds())/float64(b.N), name+"-ms/op")
			}
			b.SetBytes(int64(size))
		})
	}
}
