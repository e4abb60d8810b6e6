package local

import (
	"github.com/otactl/otactl/local/acm"
	"github.com/otactl/otactl/local/iam"
	"github.com/otactl/otactl/local/iot"
	"github.com/otactl/otactl/local/signer"
	"github.com/otactl/otactl/local/sts"
)

// registerServices wires every service of the environment to its SigV4
// signing name. Adding a service is one line here: build it from s.Store(),
// s.Env() and s.S3() (through an adapter of adapters.go when its package
// declares its own interface) and Handle it. Handlers that are io.Closers
// are closed before the store.
func (s *Server) registerServices() error {
	s.Handle("s3", s.s3)
	s.Handle("sts", sts.New(s.env))
	s.Handle("iam", iam.New(s.st, s.env))
	certs := acm.New(s.st, s.env)
	s.Handle("acm", certs)
	s.Handle("signer", signer.New(s.st, s.env, signerObjects{s.s3}, certs))
	things := iot.New(s.st, s.env, iotObjects{s.s3})
	s.Handle("iot", things)
	s.registerConsole(things)
	s.Handle("iot-jobs-data", s.jobsData(things))
	s.Handle("iotdata", s.newShadows())
	if err := s.startJobs(things); err != nil {
		return err
	}
	// CreateOTAUpdate runs otactl's pipeline (awscloud) against this server:
	// its URL is read when an update starts, by then the server listens.
	updates, err := iot.ServeOTAUpdates(things, func() (string, string, string) {
		ak, sk := s.PresignCredentials()
		return s.URL(), ak, sk
	})
	if err != nil {
		return err
	}
	s.OnClose(updates)
	return nil
}
