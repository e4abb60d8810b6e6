package s3

import "net/http"

// A bucket's S3 Block Public Access settings (?publicAccessBlock). Since
// April 2023 S3 creates every bucket with all four settings on, so
// CreateBucket does too; after DeletePublicAccessBlock the bucket has none
// and GetPublicAccessBlock answers NoSuchPublicAccessBlockConfiguration.
// otactl local has no ACLs and no bucket policies, and its buckets are
// private whatever the settings say (an unsigned request gets AccessDenied),
// so the settings are kept and reported, not enforced.

// PublicAccessBlock is a bucket's PublicAccessBlockConfiguration.
type PublicAccessBlock struct {
	BlockPublicAcls       bool `json:"blockAcls,omitempty"`
	IgnorePublicAcls      bool `json:"ignoreAcls,omitempty"`
	BlockPublicPolicy     bool `json:"blockPolicy,omitempty"`
	RestrictPublicBuckets bool `json:"restrict,omitempty"`
}

// blockAllPublicAccess is a new bucket's configuration.
var blockAllPublicAccess = PublicAccessBlock{BlockPublicAcls: true, IgnorePublicAcls: true,
	BlockPublicPolicy: true, RestrictPublicBuckets: true}

// PutPublicAccessBlock replaces a bucket's Block Public Access settings.
func (s *Service) PutPublicAccessBlock(bucket string, p PublicAccessBlock) error {
	return s.updateBucket(bucket, func(b *bucketRecord) { b.PublicAccessBlock = &p })
}

// DeletePublicAccessBlock removes a bucket's Block Public Access settings
// (no error when it has none, as in S3).
func (s *Service) DeletePublicAccessBlock(bucket string) error {
	return s.updateBucket(bucket, func(b *bucketRecord) { b.PublicAccessBlock = nil })
}

// GetPublicAccessBlock returns a bucket's Block Public Access settings:
// NoSuchPublicAccessBlockConfiguration when it has none.
func (s *Service) GetPublicAccessBlock(bucket string) (PublicAccessBlock, error) {
	b, err := s.bucket(bucket)
	if err != nil {
		return PublicAccessBlock{}, err
	}
	if b.PublicAccessBlock == nil {
		e := errorf(http.StatusNotFound, "NoSuchPublicAccessBlockConfiguration",
			"The public access block configuration was not found")
		e.BucketName = bucket
		return PublicAccessBlock{}, e
	}
	return *b.PublicAccessBlock, nil
}
