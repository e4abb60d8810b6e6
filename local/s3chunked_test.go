package local_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	sdks3 "github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/otactl/otactl/local"
	"github.com/otactl/otactl/local/localtest"
)

// streamUpload is a signed aws-chunked PUT built the way AWS's "Transferring
// Payload in Multiple Chunks" page describes: the SDK's signer makes the
// seed signature over the headers, and the chunk and trailer signatures
// are chained from it here (written independently of local/sigv4). The
// knobs break one part of it.
type streamUpload struct {
	ak, secret string
	payload    []byte
	chunk      int
	trailer    bool // STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER with a CRC32 trailer

	badChunk       int  // index of the chunk whose signature is replaced (-1 none; the final empty chunk is the last index)
	tamperData     int  // index of a data chunk whose bytes change after signing (-1 none)
	badTrailerSig  bool // a wrong x-amz-trailer-signature
	tamperChecksum bool // the trailer's checksum changes after signing
	expect100      bool // Expect: 100-continue, as boto3 sends
}

func hmacHex(key []byte, s string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(s))
	return m.Sum(nil)
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func (u streamUpload) do(t *testing.T, method, target string) (int, string) {
	t.Helper()
	now := time.Now().UTC()
	amzDate, day := now.Format("20060102T150405Z"), now.Format("20060102")
	scope := day + "/us-east-1/s3/aws4_request"
	mode := "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
	if u.trailer {
		mode += "-TRAILER"
	}
	var chunks [][]byte
	for p := u.payload; len(p) > 0; {
		n := min(u.chunk, len(p))
		chunks = append(chunks, p[:n])
		p = p[n:]
	}
	chunks = append(chunks, nil) // the final, empty chunk
	sum := crc32.ChecksumIEEE(u.payload)
	checksum := base64.StdEncoding.EncodeToString([]byte{byte(sum >> 24), byte(sum >> 16), byte(sum >> 8), byte(sum)})
	trailerLine := "x-amz-checksum-crc32:" + checksum

	// The body's length does not depend on the signatures' values.
	sig64 := strings.Repeat("0", 64)
	build := func(sigs []string, trailerSig string) []byte {
		var b bytes.Buffer
		for i, c := range chunks {
			data := c
			if i == u.tamperData {
				data = bytes.ToUpper(c)
				data[0] ^= 0x20
			}
			fmt.Fprintf(&b, "%x;chunk-signature=%s\r\n%s\r\n", len(c), sigs[i], data)
		}
		if u.trailer {
			b.Truncate(b.Len() - 2) // the empty chunk's data CRLF becomes the trailer section
			line := trailerLine
			if u.tamperChecksum {
				line = "x-amz-checksum-crc32:AAAAAA=="
			}
			fmt.Fprintf(&b, "%s\r\nx-amz-trailer-signature:%s\r\n\r\n", line, trailerSig)
		}
		return b.Bytes()
	}
	placeholder := make([]string, len(chunks))
	for i := range placeholder {
		placeholder[i] = sig64
	}
	length := len(build(placeholder, sig64))

	req, _ := http.NewRequest(method, target, nil)
	req.ContentLength = int64(length)
	req.Header.Set("Content-Encoding", "aws-chunked")
	req.Header.Set("X-Amz-Content-Sha256", mode)
	req.Header.Set("X-Amz-Decoded-Content-Length", fmt.Sprint(len(u.payload)))
	if u.trailer {
		req.Header.Set("X-Amz-Trailer", "x-amz-checksum-crc32")
	}
	if err := v4.NewSigner().SignHTTP(ctx, aws.Credentials{AccessKeyID: u.ak, SecretAccessKey: u.secret}, req, mode, "s3", "us-east-1", now); err != nil {
		t.Fatal(err)
	}
	auth := req.Header.Get("Authorization")
	seed := auth[strings.LastIndex(auth, "Signature=")+len("Signature="):]

	key := hmacHex([]byte("AWS4"+u.secret), day)
	for _, p := range []string{"us-east-1", "s3", "aws4_request"} {
		key = hmacHex(key, p)
	}
	prev := seed
	sigs := make([]string, len(chunks))
	for i, c := range chunks {
		sts := strings.Join([]string{"AWS4-HMAC-SHA256-PAYLOAD", amzDate, scope, prev, sha256Hex(nil), sha256Hex(c)}, "\n")
		sigs[i] = hex.EncodeToString(hmacHex(key, sts))
		prev = sigs[i]
		if i == u.badChunk {
			sigs[i] = sha256Hex([]byte("forged")) // well-formed, wrong; the chain goes on from it as a forger's would
			prev = sigs[i]
		}
	}
	sts := strings.Join([]string{"AWS4-HMAC-SHA256-TRAILER", amzDate, scope, prev, sha256Hex([]byte(trailerLine + "\n"))}, "\n")
	trailerSig := hex.EncodeToString(hmacHex(key, sts))
	if u.badTrailerSig {
		trailerSig = sha256Hex([]byte("forged"))
	}
	body := build(sigs, trailerSig)
	if len(body) != length {
		t.Fatalf("body is %d bytes, declared %d", len(body), length)
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	if u.expect100 {
		req.Header.Set("Expect", "100-continue")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestStrictChunkedSignatures: under --strict-auth each chunk signature and
// the trailer signature of an aws-chunked upload are verified; a bad one is
// 403 SignatureDoesNotMatch and stores nothing (no object, no version, no
// body file), on a new key and on an existing one alike.
func TestStrictChunkedSignatures(t *testing.T) {
	const ak, secret = "AKIDCHUNK", "chunk/secret+key"
	dir := t.TempDir()
	env := localtest.StartWith(t, local.Config{StrictAuth: true, DataDir: dir, Credentials: map[string]string{ak: secret}})
	c := env.S3()
	if _, err := c.CreateBucket(ctx, &sdks3.CreateBucketInput{Bucket: aws.String("chunks")}); err != nil {
		t.Fatal(err)
	}
	c.PutBucketVersioning(ctx, &sdks3.PutBucketVersioningInput{Bucket: aws.String("chunks"),
		VersioningConfiguration: &s3types.VersioningConfiguration{Status: "Enabled"}})
	payload := bytes.Repeat([]byte("0123456789abcdef"), 150000/16) // 3 chunks of 64 KiB and the empty one
	up := func() streamUpload {
		return streamUpload{ak: ak, secret: secret, payload: payload, chunk: 64 << 10, badChunk: -1, tamperData: -1}
	}
	ok := func(name string, u streamUpload) {
		t.Helper()
		if status, body := u.do(t, "PUT", env.URL+"/chunks/"+name); status != 200 {
			t.Fatalf("%s: %d %s", name, status, body)
		}
		obj, err := env.Server.S3().OpenObject("chunks", name, "")
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(obj)
		obj.Close()
		if !bytes.Equal(got, payload) {
			t.Fatalf("%s: stored %d bytes, want the %d-byte payload", name, len(got), len(payload))
		}
	}
	ok("plain", up())
	withTrailer := up()
	withTrailer.trailer = true
	ok("trailer", withTrailer)
	expect := up()
	expect.expect100 = true
	ok("expect", expect)

	refused := map[string]streamUpload{}
	for _, i := range []int{0, 1, 3} { // first, middle, the final empty chunk
		u := up()
		u.badChunk = i
		refused[fmt.Sprintf("bad signature on chunk %d", i)] = u
		u.trailer = true
		refused[fmt.Sprintf("bad signature on chunk %d, with trailer", i)] = u
	}
	u := up()
	u.tamperData = 2
	refused["data changed after signing"] = u
	u = up()
	u.trailer, u.badTrailerSig = true, true
	refused["bad trailer signature"] = u
	u = up()
	u.trailer, u.tamperChecksum = true, true
	refused["trailer changed after signing"] = u
	u = up()
	u.badChunk, u.expect100 = 1, true
	refused["bad chunk with Expect: 100-continue"] = u
	u = up()
	u.secret = "not-the-secret"
	refused["bad seed signature"] = u

	blobs := blobCount(t, dir)
	for name, u := range refused {
		for _, key := range []string{"fresh", "plain"} {
			status, body := u.do(t, "PUT", env.URL+"/chunks/"+key)
			wantS3Error(t, name+" on "+key, status, body, 403, "SignatureDoesNotMatch")
		}
	}
	if _, err := env.Server.S3().HeadObject("chunks", "fresh", ""); err == nil {
		t.Fatal("a refused upload created an object")
	}
	if vs, err := env.Server.S3().ListVersions("chunks", "plain"); err != nil || len(vs) != 1 {
		t.Fatalf("refused uploads added versions: %d %v", len(vs), err)
	}
	if got := blobCount(t, dir); got != blobs {
		t.Fatalf("refused uploads left %d body files", got-blobs)
	}

	// UploadPart is held to the same rule: the bad part is not recorded,
	// so completing the upload with it fails.
	cu, err := c.CreateMultipartUpload(ctx, &sdks3.CreateMultipartUploadInput{Bucket: aws.String("chunks"), Key: aws.String("mp")})
	if err != nil {
		t.Fatal(err)
	}
	part := env.URL + "/chunks/mp?partNumber=1&uploadId=" + *cu.UploadId
	bad := up()
	bad.badChunk = 2
	status, body := bad.do(t, "PUT", part)
	wantS3Error(t, "bad part", status, body, 403, "SignatureDoesNotMatch")
	_, err = c.CompleteMultipartUpload(ctx, &sdks3.CompleteMultipartUploadInput{Bucket: aws.String("chunks"), Key: aws.String("mp"),
		UploadId: cu.UploadId, MultipartUpload: &s3types.CompletedMultipartUpload{Parts: []s3types.CompletedPart{
			{PartNumber: aws.Int32(1), ETag: aws.String(`"00000000000000000000000000000000"`)}}}})
	wantCode(t, err, "InvalidPart", 400)
	if status, body := up().do(t, "PUT", part); status != 200 {
		t.Fatalf("good part: %d %s", status, body)
	}
}

// TestDefaultModeChunkedFraming: without strict auth chunk signatures are
// not verified, but the framing still is.
func TestDefaultModeChunkedFraming(t *testing.T) {
	env := localtest.Start(t)
	env.S3().CreateBucket(ctx, &sdks3.CreateBucketInput{Bucket: aws.String("frames")})
	u := streamUpload{ak: local.DefaultAccessKeyID, secret: "any", payload: []byte("hello chunked world"), chunk: 8, badChunk: -1, tamperData: -1, trailer: true}
	if status, body := u.do(t, "PUT", env.URL+"/frames/ok"); status != 200 {
		t.Fatalf("signed streaming upload: %d %s", status, body)
	}
	status, body := send(t, "PUT", env.URL+"/frames/bad", []byte("5\r\nhello\r\n0\r\n\r\n"), map[string]string{
		"Authorization":        "AWS4-HMAC-SHA256 Credential=AKIDLOCAL/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00",
		"X-Amz-Content-Sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "Content-Encoding": "aws-chunked"})
	wantS3Error(t, "chunks without signatures", status, body, 400, "IncompleteBody")
	if _, err := env.Server.S3().HeadObject("frames", "bad", ""); err == nil {
		t.Fatal("a malformed body was stored")
	}
}

// TestStrictSDKChunkedUpload: the Go SDK v2 sends PutObject over HTTPS as
// aws-chunked with a trailing checksum (STREAMING-UNSIGNED-PAYLOAD-TRAILER,
// its seed signature over the headers); strict auth accepts it, and
// refuses the same upload signed with a wrong secret without storing it.
func TestStrictSDKChunkedUpload(t *testing.T) {
	dir := t.TempDir()
	env := localtest.StartWith(t, local.Config{StrictAuth: true, DataDir: dir})
	var mu sync.Mutex
	var seen http.Header // the last PUT's headers as the server got them
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			mu.Lock()
			seen = r.Header.Clone()
			mu.Unlock()
		}
		env.Server.ServeHTTP(w, r)
	}))
	defer tlsSrv.Close()
	client := func(secret string) *sdks3.Client {
		cfg := localtest.Config(tlsSrv.URL, "us-east-1", local.DefaultAccessKeyID, secret)
		cfg.HTTPClient = tlsSrv.Client()
		cfg.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenSupported
		return sdks3.NewFromConfig(cfg, func(o *sdks3.Options) { o.UsePathStyle = true })
	}
	good := client(local.DefaultSecretAccessKey)
	if _, err := good.CreateBucket(ctx, &sdks3.CreateBucketInput{Bucket: aws.String("sdk")}); err != nil {
		t.Fatal(err)
	}
	payload := bytes.Repeat([]byte("firmware"), 300000)
	if _, err := good.PutObject(ctx, &sdks3.PutObjectInput{Bucket: aws.String("sdk"), Key: aws.String("fw.bin"),
		Body: io.MultiReader(bytes.NewReader(payload)), ContentLength: aws.Int64(int64(len(payload))), ChecksumAlgorithm: "CRC32"}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	got := seen
	mu.Unlock()
	if got.Get("Content-Encoding") != "aws-chunked" || got.Get("X-Amz-Content-Sha256") != "STREAMING-UNSIGNED-PAYLOAD-TRAILER" {
		t.Fatalf("the SDK did not send aws-chunked: %v", got)
	}
	obj, err := env.Server.S3().OpenObject("sdk", "fw.bin", "")
	if err != nil || obj.Size != int64(len(payload)) {
		t.Fatalf("stored: %+v %v", obj, err)
	}
	obj.Close()
	blobs := blobCount(t, dir)
	// Small enough for the server to drain after refusing it (net/http
	// drops the connection under a large unread body, and the client then
	// sees a reset instead of the answer).
	small := payload[:100000]
	_, err = client("wrong").PutObject(ctx, &sdks3.PutObjectInput{Bucket: aws.String("sdk"), Key: aws.String("evil.bin"),
		Body: io.MultiReader(bytes.NewReader(small)), ContentLength: aws.Int64(int64(len(small))), ChecksumAlgorithm: "CRC32"})
	wantCode(t, err, "SignatureDoesNotMatch", 403)
	if got := blobCount(t, dir); got != blobs {
		t.Fatal("a refused SDK upload stored a body")
	}
}
