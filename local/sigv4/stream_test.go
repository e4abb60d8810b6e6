package sigv4

import (
	"crypto/sha256"
	"strings"
	"testing"
)

// TestStreamingExample is the worked example of AWS's "Signature
// Calculations for the Authorization Header: Transferring Payload in
// Multiple Chunks" page: a 66560-byte object of 'a' in chunks of 65536 and
// 1024 bytes, then the empty chunk, chained from the page's seed signature.
// Each chunk signature must be the page's, and a wrong one must fail.
func TestStreamingExample(t *testing.T) {
	s := NewStream("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20130524T000000Z", "20130524/us-east-1/s3/aws4_request",
		"4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9", false)
	for _, c := range []struct {
		size int
		sig  string
	}{
		{65536, "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"},
		{1024, "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"},
		{0, "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"},
	} {
		sum := sha256.Sum256([]byte(strings.Repeat("a", c.size)))
		other := *s
		if other.Chunk(c.sig, make([]byte, 32)) == nil {
			t.Fatalf("chunk of %d bytes: a wrong data hash verified", c.size)
		}
		if other.Chunk(strings.Repeat("0", 64), sum[:]) == nil {
			t.Fatalf("chunk of %d bytes: a wrong signature verified", c.size)
		}
		if err := s.Chunk(c.sig, sum[:]); err != nil {
			t.Fatalf("chunk of %d bytes: %v", c.size, err)
		}
	}
	// The trailer chains from the final chunk's signature.
	tr := *s
	if tr.Trailer(strings.Repeat("0", 64), "x-amz-checksum-crc32c:sOO8/Q==\n") == nil {
		t.Fatal("a wrong trailer signature verified")
	}
}
