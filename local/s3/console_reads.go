package s3

// Read-only Go methods for the web console (local/console).

// BucketNames returns every bucket's name, in order.
func (s *Service) BucketNames() ([]string, error) {
	bs, err := s.buckets()
	if err != nil {
		return nil, err
	}
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = b.Name
	}
	return out, nil
}
