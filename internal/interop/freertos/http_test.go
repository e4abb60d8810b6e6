package freertos_test

import (
	"strings"
	"testing"

	"github.com/otactl/otactl/internal/interop/freertos"
	"github.com/otactl/otactl/local"
	"github.com/otactl/otactl/local/localtest"
	"github.com/otactl/otactl/ota"
)

// The HTTP demo needs what AWS gives a device: the presigned URL in the job
// document is https://<host>/<bucket>/<key>?... with no port (the agent
// takes everything between "://" and the first "/" as the host name, dials
// AWS_HTTPS_PORT, always speaks TLS and verifies the server certificate
// against ca.pem and that host name, without SNI), and its & characters
// reach the device as they are. otactl local offers it with an HTTPS
// listener (Config.HTTPSAddr, certificate from <data dir>/ca.pem) and a
// public endpoint presigned URLs carry (Config.PublicEndpoint "localhost":
// https://localhost/...).
func httpsConfig(cfg local.Config) local.Config {
	cfg.HTTPSAddr, cfg.PublicEndpoint = "127.0.0.1:0", "localhost"
	return cfg
}

// TestHTTPDemoOTA: the Embedded C SDK's HTTP OTA demo (job over MQTT,
// image over HTTPS from the job document's presigned S3 URL, one ranged
// GET per 4 KiB block) completes an OTA against otactl local.
func TestHTTPDemoOTA(t *testing.T) {
	src := sources(t)
	// Built before the gate, so that the build is proven while the server
	// feature is missing.
	build(t, src, freertos.HTTPDemo, "freertos-http-1", versionN)
	build(t, src, freertos.HTTPDemo, "freertos-http-1", versionN1)
	modes(t, func(t *testing.T, cfg local.Config) {
		cfg = httpsConfig(cfg)
		runDemoOTA(t, src, demoCase{demo: freertos.HTTPDemo, thing: "freertos-http-1", id: "freertos-http", cfg: cfg,
			spec: func(s *ota.Spec) {
				s.Protocols = []string{"HTTP"}
				s.PresignedURLConfig = &ota.PresignedURLConfig{RoleArn: "ota-role", ExpiresInSec: 3600}
			},
			checkRun1: func(t *testing.T, out string) {
				if !strings.Contains(out, "update_data_url: https://localhost/"+bucket+"/") {
					t.Errorf("the agent did not receive a presigned URL of the form https://localhost/%s/...", bucket)
				}
			},
			agentEnv: func(env *localtest.Env) []string {
				return []string{freertos.HTTPSPortEnv + "=" + port(t, env.Server.HTTPSAddr())}
			},
		})
	})
}
