package local

import (
	"github.com/otactl/otactl/local/iot"
	"github.com/otactl/otactl/local/jobs"
)

// startJobs runs the job engine (local/jobs) on the wall clock over the IoT
// service: scheduled starts and ends, maintenance windows, rollout rates,
// timeouts, retries and abort criteria. It resumes every timer from the
// store, so a restart of otactl local picks up where it stopped. Package
// versions go to the $package shadows of local/shadow (shadow_wiring.go).
func (s *Server) startJobs(things *iot.Service) error {
	packages, err := s.packageShadows()
	if err != nil {
		return err
	}
	eng := jobs.New(things, s.st, jobs.RealClock{}, packages)
	eng.OnEvent = s.consoleTimeline // the console's rollout timeline
	if err := eng.Start(); err != nil {
		return err
	}
	s.OnClose(eng)
	return nil
}
