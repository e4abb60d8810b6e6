package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// createArgs is `otactl create` with the sample's job configuration.
func createArgs(j Job, updateID string) []string {
	return []string{"create", "--update-id", updateID, "--bucket", j.Bucket, "--file-key", j.Key,
		"--signing-profile", j.Profile, "--role", j.Role, "--thing-group", j.Group,
		"--target-selection", "SNAPSHOT", "--retries", "3", "--retry-on", "TIMED_OUT", "--timeout", "10m",
		"--start", "+1h", "--end", "+1h", "--end-behavior", "CANCEL", "--output", "json"}
}

// clientEnv is the environment both sides load their AWS configuration
// from: otactl local's endpoint and credentials, no profile files. Anything
// else (AWS_CA_BUNDLE, say) comes from the benchmark's own environment and
// costs both the same.
func clientEnv(endpoint string) []string {
	return []string{"AWS_ENDPOINT_URL=" + endpoint, "AWS_ACCESS_KEY_ID=AKIDLOCAL",
		"AWS_SECRET_ACCESS_KEY=secret", "AWS_REGION=us-east-1", "AWS_PROFILE=", "AWS_CONFIG_FILE=/dev/null",
		"AWS_SHARED_CREDENTIALS_FILE=/dev/null"}
}

// runCreate runs `otactl create` as its own process, as a user would, and
// returns its wall time (exec to exit) and CPU time (user + system).
func runCreate(ctx context.Context, bin, endpoint string, args []string) (wall, cpu time.Duration, err error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), clientEnv(endpoint)...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	t0 := time.Now()
	err = cmd.Run()
	wall = time.Since(t0)
	if cmd.ProcessState != nil {
		cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	if err != nil {
		return wall, cpu, fmt.Errorf("otactl %s: %w\n%s", strings.Join(args, " "), err, out.String())
	}
	return wall, cpu, nil
}
