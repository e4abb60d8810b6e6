package signer

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"strconv"

	"github.com/otactl/otactl/local/store"
)

// run signs one job and records how it ended.
func (s *Service) run(id string) {
	j, err := s.loadJob(id)
	if err != nil || j.Status != "InProgress" {
		return
	}
	if s.beforeSign != nil {
		s.beforeSign(id)
	}
	key, recorded, err := s.sign(j)
	if recorded {
		return
	}
	s.st.Update(func(tx *store.Tx) error { return s.finish(tx, id, key, err) })
}

// finish records in tx how job id ended: Succeeded with the signed
// object's key, or Failed with signErr as the reason.
func (s *Service) finish(tx *store.Tx, id, key string, signErr error) error {
	var cur job
	if found, err := tx.Get(jobsTable, id, &cur); !found || err != nil {
		return err
	}
	cur.CompletedAt = s.now().UTC()
	if signErr != nil {
		cur.Status, cur.StatusReason = "Failed", signErr.Error()
	} else {
		cur.Status, cur.StatusReason, cur.SignedKey = "Succeeded", "Signing Succeeded", key
	}
	return tx.Put(jobsTable, id, cur)
}

// thenPutter is an Objects that can record more in the transaction that
// stores an object (otactl local's S3 can): the job then ends Succeeded in
// the same commit as its signed object, one disk sync fewer, and no moment
// where the object exists while the job is still InProgress.
type thenPutter interface {
	PutThen(bucket, key string, body io.Reader, contentType string, then func(*store.Tx) error) error
}

// sign reads the source version, signs the digest of the whole file with
// the profile's key and writes the signed object to <prefix><jobId> in the
// destination bucket. The error, if any, is the job's statusReason.
// recorded says the job's end was committed with the signed object.
func (s *Service) sign(j *job) (string, bool, error) {
	pl := findPlatform(j.PlatformID)
	if pl == nil {
		return "", false, fmt.Errorf("Signing platform %s is not supported", j.PlatformID)
	}
	cert, key, err := s.certs.KeyPair(j.CertificateArn)
	if err != nil {
		return "", false, fmt.Errorf("Signing material %s could not be loaded: %v", j.CertificateArn, err)
	}
	if !pl.keyFits(cert.PublicKey) {
		return "", false, fmt.Errorf("Signing material %s does not fit platform %s", j.CertificateArn, pl.PlatformID)
	}
	src := j.Source
	v, err := s.objs.Versioning(src.BucketName)
	if err != nil {
		return "", false, fmt.Errorf("Source bucket %s could not be read: %v", src.BucketName, err)
	}
	if v != "Enabled" {
		return "", false, fmt.Errorf("Source bucket %s does not have versioning enabled; Signer signs only objects in versioning-enabled buckets", src.BucketName)
	}

	body, size, err := s.objs.Open(src.BucketName, src.Key, src.Version)
	if err != nil {
		return "", false, fmt.Errorf("Source object s3://%s/%s version %s could not be read: %v", src.BucketName, src.Key, src.Version, err)
	}
	defer func() { body.Close() }()
	if max := int64(pl.MaxSizeInMB) << 20; size > max {
		return "", false, fmt.Errorf("Source object is %d bytes; platform %s signs at most %d MB", size, pl.PlatformID, pl.MaxSizeInMB)
	}
	buf := make([]byte, readChunk)
	// The format puts the signature before the payload (readers stop
	// there), so the digest of the whole file comes first: from S3 when
	// the write that stored the version computed it (knownDigest), and the
	// payload is read once; otherwise from a first pass over the file.
	digest, n := knownDigest(body, pl.hash), size
	if digest == nil {
		h := pl.hash.New()
		if n, err = io.CopyBuffer(h, onlyReader{body}, buf); err != nil {
			return "", false, fmt.Errorf("Source object s3://%s/%s could not be read: %v", src.BucketName, src.Key, err)
		}
		digest = h.Sum(nil)
		// Second pass from the start.
		if sk, ok := body.(io.Seeker); ok {
			_, err = sk.Seek(0, io.SeekStart)
		} else {
			var again io.ReadCloser
			if again, _, err = s.objs.Open(src.BucketName, src.Key, src.Version); err == nil {
				body.Close()
				body = again
			}
		}
		if err != nil {
			return "", false, fmt.Errorf("Source object s3://%s/%s could not be read: %v", src.BucketName, src.Key, err)
		}
	}
	// ECDSA keys give an ASN.1 DER signature, RSA keys PKCS #1 v1.5.
	sig, err := key.Sign(rand.Reader, digest, pl.hash)
	if err != nil {
		return "", false, fmt.Errorf("Signing failed: %v", err)
	}

	// The signed object: the payload base64-encoded by a goroutine of its
	// own while S3 hashes and writes what it encoded before, so memory
	// does not grow with the file.
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		pw.CloseWithError(writeSigned(pw, body, buf, n, sig, pl.algorithm))
	}()
	dst := j.Destination.Prefix + j.ID
	var recorded bool
	if tp, ok := s.objs.(thenPutter); ok {
		err = tp.PutThen(j.Destination.BucketName, dst, pr, "application/json",
			func(tx *store.Tx) error { return s.finish(tx, j.ID, dst, nil) })
		recorded = err == nil
	} else {
		err = s.objs.Put(j.Destination.BucketName, dst, pr, "application/json")
	}
	pr.CloseWithError(io.ErrClosedPipe) // stops the writer if Put returned early
	<-done
	if err != nil {
		return "", false, fmt.Errorf("Signed object could not be written to s3://%s/%s: %v", j.Destination.BucketName, dst, err)
	}
	return dst, recorded, nil
}

// knownDigest is the source's digest under hash when S3 already knows it
// (an object that says its hex SHA-256: otactl local's S3 keeps the one it
// checked against x-amz-content-sha256 on upload); nil when the file must
// be read to get it. writeSigned still checks the size it reads.
func knownDigest(body io.Reader, hash crypto.Hash) []byte {
	o, ok := body.(interface{ SHA256() string })
	if !ok || hash != crypto.SHA256 {
		return nil
	}
	d, err := hex.DecodeString(o.SHA256())
	if err != nil || len(d) != sha256.Size {
		return nil
	}
	return d
}

// readChunk is how much of the source one read takes: large sequential
// reads, a multiple of 3 so that each chunk encodes to base64 on its own.
const readChunk = 3 << 18 // 768 KiB → 1 MiB of base64

// onlyReader hides a file's WriterTo, so io.CopyBuffer uses the buffer
// (os.File's WriteTo would copy through a 32 KiB one).
type onlyReader struct{ io.Reader }

// writeSigned writes the signed object CreateOTAUpdate reads:
// {"rawPayloadSize":N,"signature":"<base64 DER>","signatureAlgorithm":"...","payload":"<base64 file>"}
// buf (readChunk bytes) holds the payload read in turn; each chunk is
// encoded whole and written in one call.
func writeSigned(w io.Writer, payload io.Reader, buf []byte, size int64, sig []byte, algorithm string) error {
	head := `{"rawPayloadSize":` + strconv.FormatInt(size, 10) +
		`,"signature":"` + base64.StdEncoding.EncodeToString(sig) +
		`","signatureAlgorithm":"` + algorithm + // a fixed name: nothing to escape
		`","payload":"`
	if _, err := io.WriteString(w, head); err != nil {
		return err
	}
	out := make([]byte, base64.StdEncoding.EncodedLen(len(buf)))
	var copied int64
	for {
		n, err := io.ReadFull(payload, buf)
		if n > 0 {
			copied += int64(n)
			base64.StdEncoding.Encode(out, buf[:n])
			if _, werr := w.Write(out[:base64.StdEncoding.EncodedLen(n)]); werr != nil {
				return werr
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if copied != size {
		return fmt.Errorf("source object changed size while signing (%d, then %d bytes)", size, copied)
	}
	_, err := io.WriteString(w, `"}`)
	return err
}
