package iam

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Document kinds: a trust policy names who may assume the role (every
// statement has a Principal); a permissions policy names what the role may
// do (no statement has one).
const (
	trustPolicy = iota
	permissionsPolicy
)

// IAM's quotas on policy text (IAM and STS quotas page): a role's trust
// policy 2,048 characters, a role's inline policies 10,240 in total.
const (
	maxTrustChars  = 2048
	maxInlineChars = 10240
)

// checkDocument checks what IAM's MalformedPolicyDocument checks: JSON
// with a Statement of one object or a list of them, each with Effect
// Allow|Deny, an Action or NotAction, and a Principal exactly when the
// document is a trust policy (and then Action sts:AssumeRole* as trust
// policies allow). Version, when present, is 2012-10-17 or 2008-10-17.
func checkDocument(doc string, kind int) error {
	if strings.TrimSpace(doc) == "" {
		return malformedPolicy("Syntax errors in policy.")
	}
	if !utf8.ValidString(doc) {
		return malformedPolicy("Policy document is not valid UTF-8.")
	}
	var d struct {
		Version   *string
		Statement json.RawMessage
	}
	if err := json.Unmarshal([]byte(doc), &d); err != nil {
		return malformedPolicy("Syntax errors in policy.")
	}
	if d.Version != nil && *d.Version != "2012-10-17" && *d.Version != "2008-10-17" {
		return malformedPolicy("The policy must contain a valid version string")
	}
	var stmts []map[string]json.RawMessage
	if len(d.Statement) > 0 && d.Statement[0] == '{' {
		var one map[string]json.RawMessage
		if err := json.Unmarshal(d.Statement, &one); err != nil {
			return malformedPolicy("Syntax errors in policy.")
		}
		stmts = append(stmts, one)
	} else if err := json.Unmarshal(d.Statement, &stmts); err != nil || len(stmts) == 0 {
		return malformedPolicy("Policy document must contain a Statement of one or more statements.")
	}
	for i, st := range stmts {
		if err := checkStatement(st, kind); err != nil {
			return malformedPolicy("Statement %d: %s", i+1, err)
		}
	}
	return nil
}

func checkStatement(st map[string]json.RawMessage, kind int) error {
	var effect string
	if raw, ok := st["Effect"]; !ok || json.Unmarshal(raw, &effect) != nil || (effect != "Allow" && effect != "Deny") {
		return fmt.Errorf("Effect must be Allow or Deny")
	}
	_, action := st["Action"]
	_, notAction := st["NotAction"]
	if action == notAction {
		return fmt.Errorf("a statement has exactly one of Action and NotAction")
	}
	_, principal := st["Principal"]
	_, notPrincipal := st["NotPrincipal"]
	switch kind {
	case trustPolicy:
		if !principal && !notPrincipal {
			return fmt.Errorf("Has prohibited field Resource, or misses Principal: a trust policy names a Principal")
		}
		if _, ok := st["Resource"]; ok {
			return fmt.Errorf("Has prohibited field Resource: a trust policy has none")
		}
		if action {
			for _, a := range strings1(st["Action"]) {
				if !strings.HasPrefix(strings.ToLower(a), "sts:") {
					return fmt.Errorf("AssumeRole policy may only specify STS AssumeRole actions, not %s", a)
				}
			}
		}
	case permissionsPolicy:
		if principal || notPrincipal {
			return fmt.Errorf("Policy document should not specify a principal.")
		}
		_, res := st["Resource"]
		_, notRes := st["NotResource"]
		if !res && !notRes {
			return fmt.Errorf("Policy statement must contain resources.")
		}
	}
	return nil
}

// strings1 reads a string-or-list member.
func strings1(raw json.RawMessage) []string {
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}
	}
	var many []string
	json.Unmarshal(raw, &many)
	return many
}
