package s3

import "net/http"

// The wire of a bucket's Block Public Access settings (?publicAccessBlock):
// PutPublicAccessBlock (200, empty body), GetPublicAccessBlock (200 with
// the configuration), DeletePublicAccessBlock (204).

func (s *Service) servePublicAccessBlock(w http.ResponseWriter, r *http.Request, bucket string) error {
	switch r.Method {
	case http.MethodPut:
		var in publicAccessBlockConfiguration
		if err := decodeXML(r, &in); err != nil {
			return err
		}
		// S3 refuses a configuration that names none of the four settings.
		if !in.BlockPublicAcls.Set && !in.IgnorePublicAcls.Set && !in.BlockPublicPolicy.Set && !in.RestrictPublicBuckets.Set {
			return errorf(http.StatusBadRequest, "InvalidRequest",
				"Must specify at least one configuration: BlockPublicAcls, IgnorePublicAcls, BlockPublicPolicy or RestrictPublicBuckets")
		}
		p := PublicAccessBlock{BlockPublicAcls: in.BlockPublicAcls.Value, IgnorePublicAcls: in.IgnorePublicAcls.Value,
			BlockPublicPolicy: in.BlockPublicPolicy.Value, RestrictPublicBuckets: in.RestrictPublicBuckets.Value}
		if err := s.PutPublicAccessBlock(bucket, p); err != nil {
			return err
		}
		w.WriteHeader(http.StatusOK)
		return nil
	case http.MethodGet:
		p, err := s.GetPublicAccessBlock(bucket)
		if err != nil {
			return err
		}
		writeXML(w, http.StatusOK, publicAccessBlockConfiguration{Xmlns: xmlns,
			BlockPublicAcls: xsBool{Value: p.BlockPublicAcls}, IgnorePublicAcls: xsBool{Value: p.IgnorePublicAcls},
			BlockPublicPolicy: xsBool{Value: p.BlockPublicPolicy}, RestrictPublicBuckets: xsBool{Value: p.RestrictPublicBuckets}})
		return nil
	case http.MethodDelete:
		if err := s.DeletePublicAccessBlock(bucket); err != nil {
			return err
		}
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	return errMethod()
}
