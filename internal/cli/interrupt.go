package cli

import (
	"errors"
	"fmt"
	"regexp"
)

// signingJobID finds the Signer job an interrupted create was waiting for.
var signingJobID = regexp.MustCompile(`[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}`)

// interruptedCreate is create's answer to Ctrl-C (exit 130): what keeps
// running and how to go on, instead of Go's "context canceled". A signing
// job cannot be stopped (Signer has no cancel); the next create with the
// same spec finds it and goes on from there.
func interruptedCreate(err error) error {
	msg := "interrupted; nothing more was created"
	if id := signingJobID.FindString(err.Error()); id != "" {
		msg = fmt.Sprintf("interrupted; signing job %s keeps running: run the same create again to resume (it is not signed twice)", id)
	} else {
		msg += "; run the same create again to resume"
	}
	return &exitError{exitInterrupted, errors.New(msg)}
}
