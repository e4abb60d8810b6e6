package iot_test

import (
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/service/iot/types"

	"github.com/otactl/otactl/local"
)

// BenchmarkCreateOTAUpdate times CreateOTAUpdate until CREATE_COMPLETE:
// signing, the raw copy, the stream and the job, all over the wire through
// the server's own SDK client.
func BenchmarkCreateOTAUpdate(b *testing.B) {
	for _, size := range []int{1 << 20, 16 << 20} {
		b.Run(fmt.Sprintf("%dMiB", size>>20), func(b *testing.B) {
			e := startOTAWith(b, local.Config{}, size)
			b.SetBytes(int64(size))
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				id := fmt.Sprintf("bench-%d", i)
				e.create(b, id, signedFile(otaBucket))
				if info := e.settle(b, id); info.OtaUpdateStatus != types.OTAUpdateStatusCreateComplete {
					b.Fatalf("%s: %+v", id, info.ErrorInfo)
				}
			}
		})
	}
}
