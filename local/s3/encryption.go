package s3

import (
	"net/http"
	"slices"
)

// A bucket's default encryption (?encryption): the server-side encryption
// S3 applies to a new object whose request names none. Since January 2023
// every general purpose bucket has one: SSE-S3 (AES256) unless
// PutBucketEncryption chose otherwise, and DeleteBucketEncryption resets
// it to SSE-S3. So GetBucketEncryption always answers a configuration, and
// ServerSideEncryptionConfigurationNotFoundError (what S3 answered before
// for a bucket without one) is never sent. otactl local encrypts nothing;
// it keeps the configuration and reports it on objects, as S3 does.

// BucketEncryption is a bucket's default encryption rule.
type BucketEncryption struct {
	// SSEAlgorithm is AES256, aws:kms or aws:kms:dsse.
	SSEAlgorithm string `json:"alg"`
	// KMSMasterKeyID is the KMS key (id, ARN or alias) of aws:kms and
	// aws:kms:dsse; "" is the account's aws/s3 key.
	KMSMasterKeyID string `json:"kmsKey,omitempty"`
	// BucketKeyEnabled asks for an S3 Bucket Key with SSE-KMS.
	BucketKeyEnabled bool `json:"bucketKey,omitempty"`
	// BlockedEncryptionTypes are the encryption types new objects may not
	// use: NONE or SSE-C (kept and reported; otactl local has no SSE-C).
	BlockedEncryptionTypes []string `json:"blocked,omitempty"`
}

// defaultEncryption is every bucket's rule until PutBucketEncryption.
var defaultEncryption = BucketEncryption{SSEAlgorithm: "AES256"}

// Encryption types of BlockedEncryptionTypes.
var encryptionTypes = []string{"NONE", "SSE-C"}

// checkBucketEncryption applies S3's rules to a rule PutBucketEncryption
// sends: a known algorithm (the XML schema's enumeration, so MalformedXML),
// and a KMS key only with a KMS algorithm.
func checkBucketEncryption(e BucketEncryption) error {
	switch e.SSEAlgorithm {
	case "AES256", "aws:kms", "aws:kms:dsse":
	case "":
		return errorf(http.StatusBadRequest, "MalformedXML",
			"The XML you provided was not well-formed or did not validate against our published schema: Rule.ApplyServerSideEncryptionByDefault.SSEAlgorithm is required")
	default:
		return errorf(http.StatusBadRequest, "MalformedXML",
			"The XML you provided was not well-formed or did not validate against our published schema: SSEAlgorithm %q is not one of AES256, aws:kms, aws:kms:dsse", e.SSEAlgorithm)
	}
	if e.KMSMasterKeyID != "" && e.SSEAlgorithm == "AES256" {
		return errorf(http.StatusBadRequest, "InvalidArgument",
			"a KMSMasterKeyID is not applicable if the default sse algorithm is not aws:kms or aws:kms:dsse")
	}
	for _, t := range e.BlockedEncryptionTypes {
		if !slices.Contains(encryptionTypes, t) {
			return errorf(http.StatusBadRequest, "MalformedXML",
				"The XML you provided was not well-formed or did not validate against our published schema: EncryptionType %q is not one of NONE, SSE-C", t)
		}
	}
	return nil
}

// PutBucketEncryption sets a bucket's default encryption.
func (s *Service) PutBucketEncryption(bucket string, e BucketEncryption) error {
	if err := checkBucketEncryption(e); err != nil {
		return err
	}
	return s.updateBucket(bucket, func(b *bucketRecord) { b.Encryption = &e })
}

// DeleteBucketEncryption resets a bucket's default encryption to SSE-S3.
func (s *Service) DeleteBucketEncryption(bucket string) error {
	return s.updateBucket(bucket, func(b *bucketRecord) { b.Encryption = nil })
}

// GetBucketEncryption returns a bucket's default encryption: SSE-S3 when
// none was put.
func (s *Service) GetBucketEncryption(bucket string) (BucketEncryption, error) {
	b, err := s.bucket(bucket)
	if err != nil {
		return BucketEncryption{}, err
	}
	return b.encryption(), nil
}

func (b *bucketRecord) encryption() BucketEncryption {
	if b.Encryption == nil {
		return defaultEncryption
	}
	return *b.Encryption
}

// applyDefaultEncryption gives a new object that asked for no server-side
// encryption the bucket's default algorithm and KMS key.
func (b *bucketRecord) applyDefaultEncryption(sse, kmsKey *string) {
	if *sse != "" || b.Encryption == nil {
		return
	}
	*sse, *kmsKey = b.Encryption.SSEAlgorithm, b.Encryption.KMSMasterKeyID
}
