package s3

import "net/http"

// The wire of a bucket's default encryption (?encryption):
// PutBucketEncryption (200, empty body), GetBucketEncryption (200 with the
// configuration), DeleteBucketEncryption (204). Content-MD5 and the SDK's
// checksum headers are not checked, as for the other bucket sub-resources.

func (s *Service) serveBucketEncryption(w http.ResponseWriter, r *http.Request, bucket string) error {
	switch r.Method {
	case http.MethodPut:
		var in serverSideEncryptionConfiguration
		if err := decodeXML(r, &in); err != nil {
			return err
		}
		e, err := in.rule()
		if err != nil {
			return err
		}
		if err := s.PutBucketEncryption(bucket, e); err != nil {
			return err
		}
		w.WriteHeader(http.StatusOK)
		return nil
	case http.MethodGet:
		e, err := s.GetBucketEncryption(bucket)
		if err != nil {
			return err
		}
		writeXML(w, http.StatusOK, encryptionConfigurationOf(e))
		return nil
	case http.MethodDelete:
		if err := s.DeleteBucketEncryption(bucket); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return errMethod()
}

// rule reads the one rule of a PutBucketEncryption body.
func (c serverSideEncryptionConfiguration) rule() (BucketEncryption, error) {
	if len(c.Rules) != 1 {
		return BucketEncryption{}, errorf(http.StatusBadRequest, "MalformedXML",
			"The XML you provided was not well-formed or did not validate against our published schema: ServerSideEncryptionConfiguration takes exactly one Rule, got %d", len(c.Rules))
	}
	x := c.Rules[0]
	if x.Default == nil {
		return BucketEncryption{}, errorf(http.StatusBadRequest, "MalformedXML",
			"The XML you provided was not well-formed or did not validate against our published schema: Rule.ApplyServerSideEncryptionByDefault is required")
	}
	e := BucketEncryption{SSEAlgorithm: x.Default.SSEAlgorithm, KMSMasterKeyID: x.Default.KMSMasterKeyID,
		BucketKeyEnabled: x.BucketKeyEnabled.Value}
	if x.Blocked != nil {
		e.BlockedEncryptionTypes = x.Blocked.EncryptionType
	}
	return e, nil
}

func encryptionConfigurationOf(e BucketEncryption) serverSideEncryptionConfiguration {
	x := encryptionRule{Default: &encryptionByDefault{SSEAlgorithm: e.SSEAlgorithm, KMSMasterKeyID: e.KMSMasterKeyID},
		BucketKeyEnabled: xsBool{Value: e.BucketKeyEnabled}}
	if len(e.BlockedEncryptionTypes) > 0 {
		x.Blocked = &blockedTypes{EncryptionType: e.BlockedEncryptionTypes}
	}
	return serverSideEncryptionConfiguration{Xmlns: xmlns, Rules: []encryptionRule{x}}
}
