package iot

import (
	"github.com/otactl/otactl/local/store"
)

// IoT policies: named documents with up to five versions, one of them the
// default, attached to certificates and thing groups. The rules live here
// (CreatePolicy, CreatePolicyVersion, DeletePolicy...); the wire is in
// policies_http.go; attachments in policy_targets.go; what applies to a
// connection in principal.go.

// Tables of policies and their attachments. A target is a principal ARN
// (certificate) or a thing group ARN.
const (
	tPolicies       = "iot.policies"       // policy name → policyRec
	tPolicyVersions = "iot.policyversions" // policy name + "\x00" + versionKey(id) → versionRec
	tTargetPolicies = "iot.targetpolicies" // target ARN + "\x00" + policy name → "" (policies of a target)
	tPolicyTargets  = "iot.policytargets"  // policy name + "\x00" + target ARN → "" (targets of a policy)
)

// principalHasPolicies reports whether any policy is attached to the
// principal (a certificate ARN): DeleteCertificate refuses to delete it then.
func (s *Service) principalHasPolicies(tx *store.Tx, principalArn string) bool {
	found := false
	tx.List(tTargetPolicies, principalArn+"\x00", func(string, []byte) error {
		found = true
		return store.ErrStop
	})
	return found
}
